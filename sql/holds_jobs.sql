-- Budget holds and job records (0.3.0). Written by grse's functions only:
-- reserve_budget / settle_budget_hold / release_budget_hold / expire_budget_holds
-- and admit_job / start_job / finish_job / cancel_job / migrate_jobs.

-- A hold reserves budget for an operation that runs outside the transaction:
-- the amount leaves ai_budget_remaining when it is reserved and is counted in
-- ai_budget_held until the hold resolves, exactly once: settled (charged, up to
-- its amount), released, or expired.
CREATE TABLE grse.budget_holds (
    id               uuid PRIMARY KEY,
    region_id        uuid NOT NULL REFERENCES grse.regions (id),
    agency_id        uuid,
    job_type         text CONSTRAINT holds_job_type_valid CHECK (job_type IN ('posting', 'orchestration', 'creative', 'intel')),
    amount           bigint NOT NULL CONSTRAINT holds_amount_positive CHECK (amount > 0),
    status           text NOT NULL DEFAULT 'held'
                     CONSTRAINT holds_status_valid CHECK (status IN ('held', 'settled', 'released', 'expired')),
    settled_amount   bigint CONSTRAINT holds_settled_within_amount CHECK (settled_amount BETWEEN 0 AND amount),
    idempotency_key  text CONSTRAINT holds_idempotency_key_length CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    resolved_at      timestamptz,
    CONSTRAINT holds_expire_after_creation CHECK (expires_at > created_at),
    CONSTRAINT holds_resolved_iff_not_held CHECK ((status = 'held') = (resolved_at IS NULL)),
    CONSTRAINT holds_settled_amount_iff_settled CHECK ((status = 'settled') = (settled_amount IS NOT NULL))
);
COMMENT ON TABLE grse.budget_holds IS
    'Budget holds (reserve_budget): held until settled, released or expired, exactly once. The region''s ai_budget_held is the sum of the amounts of its held ones; every move in and out is a hold or release ledger row.';
COMMENT ON COLUMN grse.budget_holds.settled_amount IS 'What settle_budget_hold charged (status settled); the rest went back to remaining.';
COMMENT ON COLUMN grse.budget_holds.idempotency_key IS
    'The idempotency key of the reserve_budget call that made the hold (unique per region).';
CREATE UNIQUE INDEX budget_holds_idempotency_key ON grse.budget_holds (region_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX budget_holds_open_idx ON grse.budget_holds (region_id, expires_at) WHERE status = 'held';

-- An admitted job (admit_job): queued, then running, then finished
-- (succeeded/failed), cancelled, or expired by the sweeper at expires_at.
-- Queued and running jobs count in their region's jobs_in_queue.
-- Rules (checked by grse.job_guard on every row written, 23514 naming the rule; no CHECKs,
-- which PostgreSQL would read and plan again for every statement that writes a job):
--   jobs_job_type_valid (posting, orchestration, creative, intel), jobs_priority_range (1..1000),
--   jobs_estimated_cost_nonneg, jobs_status_valid (queued, running, succeeded, failed, cancelled,
--   expired), jobs_actual_cost_nonneg, jobs_run_after_creation (run_after >= created_at),
--   jobs_expire_after_creation (expires_at > created_at), jobs_finished_iff_done (queued and
--   running jobs have no finished_at, the others have one), jobs_started_if_running.
-- No foreign keys to regions (PostgreSQL would run a query and lock the region row for each
-- job written): grse writes a job only for a region whose state row it holds, requested for
-- one it read; verify_invariants checks job_region and job_requested_region.
CREATE TABLE grse.jobs (
    id                   uuid PRIMARY KEY,
    region_id            uuid NOT NULL,
    requested_region_id  uuid,
    job_type             text NOT NULL,
    tenant_id            uuid,
    shard_key            text NOT NULL,
    priority             integer NOT NULL,
    estimated_cost       bigint NOT NULL DEFAULT 0,
    hold_id              uuid REFERENCES grse.budget_holds (id),
    status               text NOT NULL DEFAULT 'queued',
    created_at           timestamptz NOT NULL DEFAULT now(),
    run_after            timestamptz NOT NULL,
    started_at           timestamptz,
    finished_at          timestamptz,
    expires_at           timestamptz NOT NULL,
    actual_cost          bigint
);
COMMENT ON TABLE grse.jobs IS
    'Admitted jobs (admit_job): queued -> running -> succeeded/failed, or cancelled, or expired at expires_at (policy.job_ttl). Queued and running jobs count in jobs_in_queue.';
COMMENT ON COLUMN grse.jobs.run_after IS 'When the job may run: created_at plus the admission''s delay_seconds (cautious regions).';
COMMENT ON COLUMN grse.jobs.hold_id IS 'The budget hold of the estimated cost (admit_job with hold_budget), settled or released when the job ends.';
CREATE INDEX jobs_open_idx ON grse.jobs (region_id, expires_at) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_hold_idx ON grse.jobs (hold_id) WHERE hold_id IS NOT NULL;

-- Written by grse's functions only, for every role (ENABLE ALWAYS: also under
-- session_replication_role = replica); the jobs' guard also checks their rules.
CREATE TRIGGER budget_holds_internal_only
    BEFORE INSERT OR UPDATE OR DELETE ON grse.budget_holds
    FOR EACH ROW EXECUTE FUNCTION grse.internal_write_guard();
CREATE TRIGGER budget_holds_no_truncate
    BEFORE TRUNCATE ON grse.budget_holds
    FOR EACH STATEMENT EXECUTE FUNCTION grse.internal_write_guard();
ALTER TABLE grse.budget_holds
    ENABLE ALWAYS TRIGGER budget_holds_internal_only,
    ENABLE ALWAYS TRIGGER budget_holds_no_truncate;
CREATE TRIGGER jobs_internal_only
    BEFORE INSERT OR UPDATE OR DELETE ON grse.jobs
    FOR EACH ROW EXECUTE FUNCTION grse.job_guard();
CREATE TRIGGER jobs_no_truncate
    BEFORE TRUNCATE ON grse.jobs
    FOR EACH STATEMENT EXECUTE FUNCTION grse.internal_write_guard();
ALTER TABLE grse.jobs
    ENABLE ALWAYS TRIGGER jobs_internal_only,
    ENABLE ALWAYS TRIGGER jobs_no_truncate;

SELECT pg_catalog.pg_extension_config_dump('grse.budget_holds', '');
SELECT pg_catalog.pg_extension_config_dump('grse.jobs', '');
