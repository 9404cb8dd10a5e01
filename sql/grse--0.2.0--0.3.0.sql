-- grse 0.2.0 -> 0.3.0.
-- Applied by ALTER EXTENSION grse UPDATE TO '0.3.0', after installing 0.3.0 and restarting the
-- server (README, "Upgrading"). tests/upgrade/run.sh checks that an upgraded database has the same
-- catalog as a fresh 0.3.0 install. Each section below belongs to one change of 0.3.0 (CHANGELOG.md).
\echo Use "ALTER EXTENSION grse UPDATE TO '0.3.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Policy: new columns (modes, holds, jobs)
-- ---------------------------------------------------------------------------
ALTER TABLE grse.policy
    ADD COLUMN cautious_delay_seconds integer NOT NULL DEFAULT 30
        CONSTRAINT policy_cautious_delay_range CHECK (cautious_delay_seconds BETWEEN 0 AND 86400),
    ADD COLUMN mode_recovery_margin numeric(5,2) NOT NULL DEFAULT 0
        CONSTRAINT policy_mode_recovery_margin_range CHECK (mode_recovery_margin BETWEEN 0 AND 100),
    ADD COLUMN mode_min_dwell interval NOT NULL DEFAULT '0'
        CONSTRAINT policy_mode_min_dwell_range
        CHECK (mode_min_dwell >= interval '0' AND mode_min_dwell <= interval '1 day'),
    ADD COLUMN hold_ttl interval NOT NULL DEFAULT '15 minutes'
        CONSTRAINT policy_hold_ttl_range CHECK (hold_ttl > interval '0' AND hold_ttl <= interval '7 days'),
    ADD COLUMN job_ttl interval NOT NULL DEFAULT '1 hour'
        CONSTRAINT policy_job_ttl_range CHECK (job_ttl > interval '0' AND job_ttl <= interval '30 days');
COMMENT ON COLUMN grse.policy.cautious_delay_seconds IS
    'Seconds a cautious region delays each job it admits (delay_seconds of route_* and admit_job rows, added to estimated_wait); 0 to 86400.';
COMMENT ON COLUMN grse.policy.mode_recovery_margin IS
    'Hysteresis: a region moves to a better mode only when its capacity and pressure clear that mode''s thresholds by this many points; 0 to 100 (0 = the plain thresholds).';
COMMENT ON COLUMN grse.policy.mode_min_dwell IS
    'Hysteresis: a region moves to a better mode only after holding its current mode this long (worse modes apply at once); 0 to 1 day.';
COMMENT ON COLUMN grse.policy.hold_ttl IS 'Lifetime of a budget hold reserved without a ttl; more than 0, at most 7 days.';
COMMENT ON COLUMN grse.policy.job_ttl IS
    'Lifetime of an admitted job record: jobs not finished by created_at + job_ttl are expired; more than 0, at most 30 days.';

-- ---------------------------------------------------------------------------
-- Budget holds, idempotency keys, job records, migration
-- ---------------------------------------------------------------------------
-- (at the end of this file: its state columns follow the modes' ones)

-- ---------------------------------------------------------------------------
-- Modes: cautious delays, hysteresis, pins; forecasting, alert rules, geographic routing, trends
-- ---------------------------------------------------------------------------

-- Hysteresis and pins: state columns, transition causes, the transition trigger.
ALTER TABLE grse.region_scaling_state
    ADD COLUMN mode_held_until timestamptz,
    ADD COLUMN pinned_mode text
        CONSTRAINT state_pinned_mode_valid CHECK (pinned_mode IN ('normal', 'cautious', 'throttled', 'frozen')),
    ADD COLUMN pinned_until timestamptz,
    ADD COLUMN pin_reason text,
    ADD COLUMN pinned_at timestamptz,
    ADD CONSTRAINT state_pin_complete CHECK (
        (pinned_mode IS NULL) = (pinned_at IS NULL)
        AND (pinned_mode IS NOT NULL OR (pinned_until IS NULL AND pin_reason IS NULL)));
COMMENT ON COLUMN grse.region_scaling_state.mode_held_until IS
    'While a better mode waits for policy.mode_min_dwell: when the dwell ends (the next write or monitor run after it re-judges the region); else NULL.';
COMMENT ON COLUMN grse.region_scaling_state.pinned_mode IS
    'The mode an operator pinned the region to (grse.pin_scaling_mode); NULL when not pinned. While pinned, metric writes update every score but not the mode.';
COMMENT ON COLUMN grse.region_scaling_state.pinned_until IS
    'When the pin ends (the first write or monitor run after it unpins); NULL = until grse.unpin_scaling_mode.';
COMMENT ON COLUMN grse.region_scaling_state.pin_reason IS 'The reason given with the pin.';
COMMENT ON COLUMN grse.region_scaling_state.pinned_at IS 'When the pin was set.';

ALTER TABLE grse.region_mode_transitions
    ADD COLUMN cause text NOT NULL DEFAULT 'metrics'
        CONSTRAINT transition_cause_valid CHECK (cause IN ('metrics', 'pin', 'unpin', 'pin_expired')),
    DROP CONSTRAINT transition_changes_mode,
    ADD CONSTRAINT transition_changes_mode CHECK (from_mode <> to_mode OR cause <> 'metrics');
COMMENT ON TABLE grse.region_mode_transitions IS
    'Every change of a region''s scaling_mode, and every pin, unpin and pin expiry (which may keep the mode), written by the state trigger.';
COMMENT ON COLUMN grse.region_mode_transitions.cause IS
    'metrics (the thresholds and hysteresis moved the mode), pin, unpin or pin_expired.';

-- Mode changes and pin events are recorded by the state trigger itself, in the writing
-- statement (no AFTER trigger: no event queue, no WHEN clause compiled per statement);
-- dropped before anything below writes a state row (its C function is gone from the library).
DROP TRIGGER region_scaling_state_mode_changed ON grse.region_scaling_state;
DROP FUNCTION grse.state_after_mode_change();

-- The index on scaling_mode goes: four values over a few thousand rows are read by scanning,
-- and it made every mode-changing metric write a non-HOT update.
DROP INDEX grse.region_scaling_state_mode_idx;

CREATE  FUNCTION grse."pin_scaling_mode"(
	"region_id" uuid, /* Option < Uuid > */
	"mode" TEXT, /* Option < & str > */
	"until" timestamp with time zone DEFAULT NULL, /* Option < TimestampWithTimeZone > */
	"reason" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TEXT /* GResult < String > */
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'pin_scaling_mode_wrapper';

CREATE  FUNCTION grse."unpin_scaling_mode"(
	"region_id" uuid /* Option < Uuid > */
) RETURNS TEXT /* GResult < String > */
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'unpin_scaling_mode_wrapper';

-- The summary (pin, dwell hold, pressure trend) is redefined once, at the end of this file.

DROP FUNCTION grse.get_regions_by_metric(text, text);
DROP FUNCTION grse.list_region_health();
CREATE FUNCTION grse.list_region_health()
RETURNS TABLE (region_id uuid, region_name text, region_slug text, scaling_mode text,
               capacity_score numeric, overall_pressure numeric, budget_percent_remaining numeric,
               warning_index numeric, fatigue_score numeric, posting_pressure numeric,
               orchestration_pressure numeric, creative_pressure numeric, intel_pressure numeric,
               ai_budget_monthly bigint, ai_budget_remaining bigint, ai_spend_today bigint,
               jobs_in_queue integer, mode_since timestamptz, updated_at timestamptz,
               pinned_mode text, pinned_until timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT r.id, r.name, r.slug, s.scaling_mode, s.capacity_score, s.overall_pressure,
           grse.budget_percent_remaining(s.ai_budget_remaining, s.ai_budget_monthly),
           s.warning_index, s.fatigue_score, s.posting_pressure, s.orchestration_pressure,
           s.creative_pressure, s.intel_pressure, s.ai_budget_monthly, s.ai_budget_remaining,
           s.ai_spend_today, s.jobs_in_queue, s.mode_since, s.updated_at, s.pinned_mode, s.pinned_until
      FROM grse.regions r
      JOIN grse.region_scaling_state s0 ON s0.region_id = r.id
     CROSS JOIN LATERAL grse.with_slots(s0) s
     WHERE r.active
     ORDER BY r.name, r.id
$$;

CREATE FUNCTION grse.get_regions_by_metric(metric text, sort_order text DEFAULT 'desc')
RETURNS TABLE (region_id uuid, region_name text, region_slug text, scaling_mode text,
               capacity_score numeric, overall_pressure numeric, budget_percent_remaining numeric,
               warning_index numeric, fatigue_score numeric, posting_pressure numeric,
               orchestration_pressure numeric, creative_pressure numeric, intel_pressure numeric,
               ai_budget_monthly bigint, ai_budget_remaining bigint, ai_spend_today bigint,
               jobs_in_queue integer, mode_since timestamptz, updated_at timestamptz,
               pinned_mode text, pinned_until timestamptz)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    sign integer;
BEGIN
    IF metric IS NULL THEN
        RAISE EXCEPTION 'metric must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF sort_order IS NULL THEN
        RAISE EXCEPTION 'sort_order must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF metric NOT IN ('capacity', 'pressure', 'budget', 'warning') THEN
        RAISE EXCEPTION 'unknown metric "%"', metric USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use capacity, pressure, budget or warning.';
    END IF;
    sign := CASE sort_order WHEN 'asc' THEN 1 WHEN 'desc' THEN -1 END;
    IF sign IS NULL THEN
        RAISE EXCEPTION 'unknown sort order "%"', sort_order USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use asc or desc.';
    END IF;
    RETURN QUERY
        SELECT h.* FROM grse.list_region_health() h
         ORDER BY sign * CASE metric
                             WHEN 'capacity' THEN h.capacity_score
                             WHEN 'pressure' THEN h.overall_pressure
                             WHEN 'budget' THEN h.budget_percent_remaining
                             ELSE h.warning_index END,
                  h.region_name, h.region_id;
END
$$;

ALTER FUNCTION grse.pin_scaling_mode(uuid, text, timestamptz, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION grse.pin_scaling_mode(uuid, text, timestamptz, text) SECURITY DEFINER;
ALTER FUNCTION grse.unpin_scaling_mode(uuid) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION grse.unpin_scaling_mode(uuid) SECURITY DEFINER;
ALTER FUNCTION grse.list_region_health() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION grse.get_regions_by_metric(text, text) SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION grse.pin_scaling_mode(uuid, text, timestamptz, text), grse.unpin_scaling_mode(uuid),
    grse.list_region_health(), grse.get_regions_by_metric(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION grse.list_region_health(), grse.get_regions_by_metric(text, text) TO grse_reader, grse_tenant;
GRANT EXECUTE ON FUNCTION grse.pin_scaling_mode(uuid, text, timestamptz, text), grse.unpin_scaling_mode(uuid)
    TO grse_operator;

-- Budget forecasting.
CREATE  FUNCTION grse."forecast_budget"(
	"region_id" uuid, /* Option < Uuid > */
	"window" interval DEFAULT '7 days' /* Option < Interval > */
) RETURNS jsonb /* GResult < JsonB > */
STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'forecast_budget_wrapper';
ALTER FUNCTION grse.forecast_budget(uuid, interval) SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION grse.forecast_budget(uuid, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION grse.forecast_budget(uuid, interval) TO grse_reader, grse_tenant;

-- Custom alert rules: alert_critical_issues() raises an alert (alert_type = the rule's
-- name) for every region where `metric comparison threshold` has held for for_duration.
CREATE TABLE grse.alert_rules (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE
                  CONSTRAINT alert_rules_name_valid CHECK (btrim(name) <> '' AND length(name) <= 100)
                  CONSTRAINT alert_rules_name_not_builtin
                  CHECK (name NOT IN ('mode_frozen', 'capacity_critical', 'budget_exceeded', 'global_risk_critical')),
    metric        text NOT NULL
                  CONSTRAINT alert_rules_metric_valid CHECK (metric IN ('capacity', 'pressure', 'budget_percent',
                                                                      'warning', 'fatigue', 'queue', 'forecast_days_left')),
    comparison    text NOT NULL CONSTRAINT alert_rules_comparison_valid CHECK (comparison IN ('<', '<=', '>', '>=')),
    threshold     numeric(14,2) NOT NULL,
    severity      text NOT NULL DEFAULT 'warning'
                  CONSTRAINT alert_rules_severity_valid CHECK (severity IN ('warning', 'critical')),
    region_id     uuid REFERENCES grse.regions (id),
    for_duration  interval NOT NULL DEFAULT '0'
                  CONSTRAINT alert_rules_for_duration_range
                  CHECK (for_duration >= interval '0' AND for_duration <= interval '30 days'),
    enabled       boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT alert_rules_threshold_in_range CHECK (
        threshold <> 'NaN' AND CASE WHEN metric IN ('queue', 'forecast_days_left') THEN threshold >= 0
                                    ELSE threshold BETWEEN 0 AND 100 END)
);
COMMENT ON TABLE grse.alert_rules IS
    'Custom alert rules: an alert (alert_type = name) per region where metric comparison threshold has held for for_duration; region_id NULL = every active region.';
COMMENT ON COLUMN grse.alert_rules.metric IS
    'capacity, pressure, warning, fatigue (scores 0-100), budget_percent (percent of the monthly budget remaining), queue (jobs_in_queue), forecast_days_left (days until the budget runs out at its 7-day net spend rate; never = +infinity).';
COMMENT ON COLUMN grse.alert_rules.for_duration IS
    'How long the condition must hold, from the first evaluation that finds it, before it alerts (0: at once).';

-- Since when each enabled rule has held for each region (written by alert_critical_issues()).
CREATE TABLE grse.alert_rule_pending (
    rule_id    bigint NOT NULL REFERENCES grse.alert_rules (id) ON DELETE CASCADE,
    region_id  uuid NOT NULL REFERENCES grse.regions (id),
    since      timestamptz NOT NULL,
    PRIMARY KEY (rule_id, region_id)
);
COMMENT ON TABLE grse.alert_rule_pending IS
    'Since when a rule''s condition has held for a region, as of the last evaluation; written by alert_critical_issues() only (no role may write it).';
CREATE TRIGGER alert_rules_touch BEFORE UPDATE ON grse.alert_rules
    FOR EACH ROW EXECUTE FUNCTION grse.touch_updated_at();
SELECT pg_catalog.pg_extension_config_dump('grse.alert_rules', '');
SELECT pg_catalog.pg_extension_config_dump('grse.alert_rule_pending', '');
SELECT pg_catalog.pg_extension_config_dump('grse.alert_rules_id_seq', '');
REVOKE ALL ON grse.alert_rules, grse.alert_rule_pending FROM PUBLIC;
GRANT SELECT ON grse.alert_rules, grse.alert_rule_pending TO grse_reader;
GRANT INSERT, UPDATE, DELETE ON grse.alert_rules TO grse_admin;
ALTER TABLE grse.alert_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE grse.alert_rule_pending ENABLE ROW LEVEL SECURITY;
CREATE POLICY staff_read ON grse.alert_rules FOR SELECT TO grse_reader USING (true);
CREATE POLICY staff_read ON grse.alert_rule_pending FOR SELECT TO grse_reader USING (true);
CREATE POLICY admin_write ON grse.alert_rules FOR ALL TO grse_admin USING (true) WITH CHECK (true);

-- Predictive scaling: the pressure trend of the recorded hourly snapshots.
CREATE  FUNCTION grse."pressure_trend"(
	"region_id" uuid, /* Option < Uuid > */
	"periods" INT DEFAULT 24 /* Option < i32 > */
) RETURNS TABLE (
	"slope_per_hour" NUMERIC,  /* Option < AnyNumeric > */
	"projected_pressure" NUMERIC(5, 2),  /* Option < Score > */
	"snapshots" INT  /* i32 */
)
STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'pressure_trend_wrapper';
DROP FUNCTION grse.get_region_health_trend(uuid, integer);
CREATE FUNCTION grse.get_region_health_trend(region_id uuid, periods integer DEFAULT 24)
RETURNS TABLE (created_at timestamptz, period_type text, avg_capacity numeric, peak_pressure numeric,
               budget_used bigint, scaling_mode text, warning_index numeric, pressure_slope_per_hour numeric)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    slope numeric;
BEGIN
    IF get_region_health_trend.region_id IS NULL THEN
        RAISE EXCEPTION 'region_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF periods IS NULL THEN
        RAISE EXCEPTION 'periods must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF periods < 1 OR periods > 1000 THEN
        RAISE EXCEPTION 'periods must lie in [1, 1000], got %', periods USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM grse.regions r WHERE r.id = get_region_health_trend.region_id) THEN
        RAISE EXCEPTION 'region % not found', get_region_health_trend.region_id USING ERRCODE = 'no_data_found';
    END IF;
    slope := (SELECT t.slope_per_hour FROM grse.pressure_trend(get_region_health_trend.region_id, periods) t);
    RETURN QUERY
        SELECT t.created_at, t.period_type, t.avg_capacity, t.peak_pressure, t.budget_used,
               t.snapshot ->> 'scaling_mode', (t.snapshot ->> 'warning_index')::numeric, slope
          FROM (SELECT * FROM grse.region_scaling_history h
                 WHERE h.region_id = get_region_health_trend.region_id AND h.period_type = 'hourly'
                 ORDER BY h.created_at DESC, h.id DESC
                 LIMIT periods) t
         ORDER BY t.created_at, t.id;
END
$$;
ALTER FUNCTION grse.pressure_trend(uuid, integer) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION grse.get_region_health_trend(uuid, integer) SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION grse.pressure_trend(uuid, integer), grse.get_region_health_trend(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION grse.pressure_trend(uuid, integer), grse.get_region_health_trend(uuid, integer)
    TO grse_reader, grse_tenant;

-- ---------------------------------------------------------------------------
-- Operations: backups, replication, standby reads, input checks, privileges
-- ---------------------------------------------------------------------------
-- (at the end of this file: its functions read the state columns of holds and jobs)

-- ---------------------------------------------------------------------------
-- Budget holds, idempotency keys, job records, migration (after the modes' state columns)
-- ---------------------------------------------------------------------------
ALTER TABLE grse.region_scaling_state
    ADD COLUMN ai_budget_held bigint NOT NULL DEFAULT 0 CONSTRAINT state_budget_held_nonneg CHECK (ai_budget_held >= 0),
    ADD COLUMN jobs_queued_manually integer NOT NULL DEFAULT 0
        CONSTRAINT state_jobs_queued_manually_nonneg CHECK (jobs_queued_manually >= 0),
    ADD COLUMN next_expiry_at timestamptz;
COMMENT ON COLUMN grse.region_scaling_state.ai_budget_held IS
    'Budget reserved by open holds (grse.budget_holds with status held), cents: already out of ai_budget_remaining.';
COMMENT ON COLUMN grse.region_scaling_state.jobs_queued_manually IS
    'The part of jobs_in_queue counted by grse.update_job_queue (apps without job records); the rest are grse.jobs queued or running.';
COMMENT ON COLUMN grse.region_scaling_state.next_expiry_at IS
    'No open hold or job of the region expires before this instant (NULL: none open); budget calls sweep expired ones once it has passed.';
-- every job counted so far was counted by hand (0.2.0 has no job records)
ALTER TABLE grse.region_scaling_state DISABLE TRIGGER region_scaling_state_derive;
UPDATE grse.region_scaling_state SET jobs_queued_manually = jobs_in_queue;
ALTER TABLE grse.region_scaling_state ENABLE TRIGGER region_scaling_state_derive;

ALTER TABLE grse.region_budget_transactions
    ADD COLUMN idempotency_key text
        CONSTRAINT ledger_idempotency_key_length CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    ADD COLUMN hold_id uuid,
    DROP CONSTRAINT ledger_type_valid,
    ADD CONSTRAINT ledger_type_valid
        CHECK (transaction_type IN ('allocation', 'spend', 'refund', 'reset', 'transfer', 'hold', 'release')),
    DROP CONSTRAINT ledger_delta_sign,
    ADD CONSTRAINT ledger_delta_sign CHECK (
        (transaction_type IN ('spend', 'hold') AND delta < 0)
        OR (transaction_type IN ('refund', 'release') AND delta > 0)
        OR transaction_type IN ('allocation', 'reset', 'transfer'));
COMMENT ON COLUMN grse.region_budget_transactions.idempotency_key IS
    'The idempotency key of the call that wrote the row (unique per region): a retry with it returns the first answer.';
COMMENT ON COLUMN grse.region_budget_transactions.hold_id IS
    'The budget hold a hold, release or settled spend row belongs to (grse.budget_holds).';
CREATE UNIQUE INDEX region_budget_transactions_idempotency_key
    ON grse.region_budget_transactions (region_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

ALTER TYPE grse.job_route ADD ATTRIBUTE delay_seconds integer;
COMMENT ON TYPE grse.job_route IS
    'Where a job goes: region, shard key, priority, estimated wait (seconds, the delay included), the region''s mode and the delay before the job may run (cautious regions).';

-- Budget holds and job records (sql/holds_jobs.sql). Written by grse's functions only:
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

-- the jobs' guard (no SET search_path, like the other row guards: it runs no query)
CREATE FUNCTION grse.job_guard() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'job_guard_wrapper';
REVOKE ALL ON FUNCTION grse.job_guard() FROM PUBLIC;

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

-- Rust functions: new ones, and those whose arguments or results changed
DROP FUNCTION grse.check_and_decrement_budget(uuid, numeric, uuid, text);
DROP FUNCTION grse.decrement_budget(uuid, numeric, uuid, text, text);
DROP FUNCTION grse.refund_budget(uuid, numeric, text);
DROP FUNCTION grse.check_budget(uuid, numeric);
DROP FUNCTION grse.admit_job(text, uuid, uuid, uuid, numeric, integer, boolean);
DROP FUNCTION grse.route_job(text, uuid, uuid, integer, numeric, boolean);
DROP FUNCTION grse.get_best_region_for_job(text, uuid);

CREATE  FUNCTION grse."check_and_decrement_budget"(
	"region_id" uuid, /* Option < Uuid > */
	"amount" NUMERIC, /* Option < AnyNumeric > */
	"agency_id" uuid DEFAULT NULL, /* Option < Uuid > */
	"job_type" TEXT DEFAULT NULL, /* Option < & str > */
	"idempotency_key" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* GResult < bool > */
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'check_and_decrement_budget_wrapper';

CREATE  FUNCTION grse."decrement_budget"(
	"region_id" uuid, /* Option < Uuid > */
	"amount" NUMERIC, /* Option < AnyNumeric > */
	"agency_id" uuid DEFAULT NULL, /* Option < Uuid > */
	"job_type" TEXT DEFAULT NULL, /* Option < & str > */
	"description" TEXT DEFAULT NULL, /* Option < & str > */
	"idempotency_key" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bool /* GResult < bool > */
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'decrement_budget_wrapper';

CREATE  FUNCTION grse."refund_budget"(
	"region_id" uuid, /* Option < Uuid > */
	"amount" NUMERIC, /* Option < AnyNumeric > */
	"reason" TEXT DEFAULT NULL, /* Option < & str > */
	"idempotency_key" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS bigint /* GResult < i64 > */
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'refund_budget_wrapper';

CREATE  FUNCTION grse."check_budget"(
	"region_id" uuid, /* Option < Uuid > */
	"cost" NUMERIC /* Option < AnyNumeric > */
) RETURNS TABLE (
	"allowed" bool,  /* bool */
	"remaining" bigint,  /* i64 */
	"requested" bigint,  /* i64 */
	"message" TEXT  /* String */
)
STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'check_budget_wrapper';

CREATE  FUNCTION grse."reserve_budget"(
	"region_id" uuid, /* Option < Uuid > */
	"amount" NUMERIC, /* Option < AnyNumeric > */
	"agency_id" uuid DEFAULT NULL, /* Option < Uuid > */
	"job_type" TEXT DEFAULT NULL, /* Option < & str > */
	"ttl" interval DEFAULT NULL, /* Option < Interval > */
	"idempotency_key" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TABLE (
	"allowed" bool,  /* bool */
	"hold_id" uuid,  /* Option < Uuid > */
	"remaining" bigint,  /* i64 */
	"requested" bigint,  /* i64 */
	"expires_at" timestamp with time zone,  /* Option < TimestampWithTimeZone > */
	"message" TEXT  /* String */
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'reserve_budget_wrapper';

CREATE  FUNCTION grse."settle_budget_hold"(
	"hold_id" uuid, /* Option < Uuid > */
	"actual_amount" NUMERIC /* Option < AnyNumeric > */
) RETURNS bigint /* GResult < i64 > */
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'settle_budget_hold_wrapper';

CREATE  FUNCTION grse."release_budget_hold"(
	"hold_id" uuid /* Option < Uuid > */
) RETURNS bigint /* GResult < i64 > */
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'release_budget_hold_wrapper';

CREATE  FUNCTION grse."expire_budget_holds"(
	"region_id" uuid DEFAULT NULL /* Option < Uuid > */
) RETURNS INT /* GResult < i32 > */
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'expire_budget_holds_wrapper';

CREATE  FUNCTION grse."start_job"(
	"job_id" uuid /* Option < Uuid > */
) RETURNS jsonb /* GResult < JsonB > */
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'start_job_wrapper';

CREATE  FUNCTION grse."finish_job"(
	"job_id" uuid, /* Option < Uuid > */
	"actual_cost" NUMERIC DEFAULT NULL, /* Option < AnyNumeric > */
	"succeeded" bool DEFAULT true /* Option < bool > */
) RETURNS jsonb /* GResult < JsonB > */
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'finish_job_wrapper';

CREATE  FUNCTION grse."cancel_job"(
	"job_id" uuid /* Option < Uuid > */
) RETURNS jsonb /* GResult < JsonB > */
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'cancel_job_wrapper';

CREATE  FUNCTION grse."migrate_jobs"(
	"from_region" uuid, /* Option < Uuid > */
	"to_region" uuid DEFAULT NULL, /* Option < Uuid > */
	"job_type" TEXT DEFAULT NULL /* Option < & str > */
) RETURNS TABLE (
	"job_id" uuid,  /* Uuid */
	"from_region" uuid,  /* Uuid */
	"to_region" uuid,  /* Uuid */
	"shard_key" TEXT  /* String */
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'migrate_jobs_wrapper';

CREATE  FUNCTION grse."admit_job"(
	"job_type" TEXT, /* Option < & str > */
	"tenant_id" uuid DEFAULT NULL, /* Option < Uuid > */
	"region_id" uuid DEFAULT NULL, /* Option < Uuid > */
	"client_id" uuid DEFAULT NULL, /* Option < Uuid > */
	"estimated_cost" NUMERIC DEFAULT 0, /* Option < AnyNumeric > */
	"priority" INT DEFAULT NULL, /* Option < i32 > */
	"allow_fallback" bool DEFAULT true, /* Option < bool > */
	"hold_budget" bool DEFAULT false, /* Option < bool > */
	"near_latitude" double precision DEFAULT NULL, /* Option < f64 > */
	"near_longitude" double precision DEFAULT NULL /* Option < f64 > */
) RETURNS TABLE (
	"admitted" bool,  /* bool */
	"region_id" uuid,  /* Option < Uuid > */
	"requested_region_id" uuid,  /* Option < Uuid > */
	"shard_key" TEXT,  /* Option < String > */
	"priority" INT,  /* Option < i32 > */
	"estimated_wait" INT,  /* Option < i32 > */
	"scaling_mode" TEXT,  /* Option < String > */
	"queue_depth" INT,  /* Option < i32 > */
	"fallback_used" bool,  /* bool */
	"reason" TEXT,  /* String */
	"delay_seconds" INT,  /* Option < i32 > */
	"job_id" uuid,  /* Option < Uuid > */
	"hold_id" uuid  /* Option < Uuid > */
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'admit_job_wrapper';

CREATE  FUNCTION grse."route_job"(
	"job_type" TEXT, /* Option < & str > */
	"region_id" uuid DEFAULT NULL, /* Option < Uuid > */
	"tenant_id" uuid DEFAULT NULL, /* Option < Uuid > */
	"priority" INT DEFAULT NULL, /* Option < i32 > */
	"estimated_cost" NUMERIC DEFAULT 0, /* Option < AnyNumeric > */
	"allow_fallback" bool DEFAULT false /* Option < bool > */
) RETURNS TABLE (
	"region_id" uuid,  /* Uuid */
	"shard_key" TEXT,  /* String */
	"priority" INT,  /* i32 */
	"estimated_wait" INT,  /* i32 */
	"scaling_mode" TEXT,  /* String */
	"delay_seconds" INT  /* i32 */
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'route_job_wrapper';

CREATE  FUNCTION grse."get_best_region_for_job"(
	"job_type" TEXT, /* Option < & str > */
	"preferred_region" uuid DEFAULT NULL, /* Option < Uuid > */
	"near_latitude" double precision DEFAULT NULL, /* Option < f64 > */
	"near_longitude" double precision DEFAULT NULL /* Option < f64 > */
) RETURNS uuid /* GResult < Option < Uuid > > */
STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'get_best_region_for_job_wrapper';

DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'grse'::regnamespace
                AND p.proname IN ('check_and_decrement_budget', 'decrement_budget', 'refund_budget', 'check_budget',
                                  'reserve_budget', 'settle_budget_hold', 'release_budget_hold', 'expire_budget_holds',
                                  'start_job', 'finish_job', 'cancel_job', 'migrate_jobs', 'admit_job', 'route_job',
                                  'get_best_region_for_job') LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f);
        IF (SELECT p.proname FROM pg_catalog.pg_proc p WHERE p.oid = f) <> ALL (ARRAY['route_job', 'get_best_region_for_job']) THEN
            EXECUTE pg_catalog.format('ALTER FUNCTION %s SECURITY DEFINER', f);
        END IF;
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;
GRANT EXECUTE ON FUNCTION grse.get_best_region_for_job(text, uuid, double precision, double precision)
    TO grse_reader, grse_tenant;
GRANT EXECUTE ON FUNCTION
    grse.check_budget(uuid, numeric), grse.check_and_decrement_budget(uuid, numeric, uuid, text, text),
    grse.decrement_budget(uuid, numeric, uuid, text, text, text), grse.refund_budget(uuid, numeric, text, text),
    grse.reserve_budget(uuid, numeric, uuid, text, interval, text), grse.settle_budget_hold(uuid, numeric),
    grse.release_budget_hold(uuid), grse.expire_budget_holds(uuid),
    grse.start_job(uuid), grse.finish_job(uuid, numeric, boolean), grse.cancel_job(uuid),
    grse.migrate_jobs(uuid, uuid, text),
    grse.admit_job(text, uuid, uuid, uuid, numeric, integer, boolean, boolean, double precision, double precision),
    grse.route_job(text, uuid, uuid, integer, numeric, boolean)
    TO grse_operator;
GRANT SELECT ON grse.budget_holds, grse.jobs TO grse_reader, grse_tenant;
ALTER TABLE grse.budget_holds ENABLE ROW LEVEL SECURITY;
ALTER TABLE grse.jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY staff_read ON grse.budget_holds FOR SELECT TO grse_reader USING (true);
CREATE POLICY staff_read ON grse.jobs FOR SELECT TO grse_reader USING (true);
CREATE POLICY tenant_read ON grse.budget_holds FOR SELECT TO grse_tenant
    USING (region_id IN (SELECT grse.tenant_regions()));
CREATE POLICY tenant_read ON grse.jobs FOR SELECT TO grse_tenant
    USING (region_id IN (SELECT grse.tenant_regions()));

-- ---------------------------------------------------------------------------
-- Operations: backups, replication, standby reads, input checks, privileges
-- (after the holds' and jobs' state columns, which its functions read)
-- ---------------------------------------------------------------------------

-- Backups: the policy row and the identity sequences are dumped with the data.
SELECT pg_catalog.pg_extension_config_dump('grse.policy', '');
SELECT pg_catalog.pg_extension_config_dump('grse.region_budget_transactions_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('grse.budget_rollovers_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('grse.region_mode_transitions_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('grse.alerts_id_seq', '');

-- Restore mode (sql/restore.sql).
CREATE FUNCTION grse.pre_restore() RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    t regclass;
    has_rows boolean;
BEGIN
    IF NOT COALESCE((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = session_user), false) THEN
        RAISE EXCEPTION 'only a superuser can put grse in restore mode' USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- every table pg_dump writes rows of, but the policy (one row, always there)
    FOR t IN SELECT c.oid::regclass
               FROM pg_catalog.pg_extension e, LATERAL pg_catalog.unnest(e.extconfig) AS x(oid)
               JOIN pg_catalog.pg_class c ON c.oid = x.oid
              WHERE e.extname = 'grse' AND c.relkind = 'r' AND c.oid <> 'grse.policy'::regclass
              ORDER BY c.relname LOOP
        EXECUTE pg_catalog.format('SELECT EXISTS (SELECT 1 FROM %s)', t) INTO has_rows;
        IF has_rows THEN
            RAISE EXCEPTION 'grse already holds data in database %: table % is not empty', pg_catalog.current_database(), t
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Restore into a new database: createdb, CREATE EXTENSION grse, SELECT grse.pre_restore(), pg_restore, SELECT grse.post_restore().';
        END IF;
    END LOOP;
    -- restore mode for every session of the database (pg_restore --jobs opens several);
    -- session_replication_role = replica skips the foreign key checks (parallel pg_restore
    -- does not load extension tables in foreign key order: post_restore() checks them) and
    -- the ordinary triggers, which would compute or create rows
    EXECUTE pg_catalog.format('ALTER DATABASE %I SET grse.restoring = on', pg_catalog.current_database());
    EXECUTE pg_catalog.format('ALTER DATABASE %I SET session_replication_role = replica', pg_catalog.current_database());
    PERFORM pg_catalog.set_config('grse.restoring', 'on', false);
    PERFORM pg_catalog.set_config('session_replication_role', 'replica', false);
    -- The dump creates the schema grse and the extension itself (CREATE SCHEMA grse has no
    -- IF NOT EXISTS): make way for them, so that the restore runs without an error.
    DROP EXTENSION grse;
    DROP SCHEMA grse;
    RETURN true;
END
$$;
COMMENT ON FUNCTION grse.pre_restore() IS
    'Puts the database in restore mode before pg_restore (superuser only, grse still empty) and drops the empty extension and its schema, which the dump creates again: restored rows are taken as they were dumped. End it with grse.post_restore().';
CREATE FUNCTION grse.post_restore() RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    c record;
    top bigint;
    broken bigint;
    detail text;
BEGIN
    IF NOT COALESCE((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = session_user), false) THEN
        RAISE EXCEPTION 'only a superuser can end grse''s restore mode' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF COALESCE(pg_catalog.current_setting('grse.restoring', true), 'off') <> 'on' THEN
        RAISE EXCEPTION 'grse is not in restore mode in database %', pg_catalog.current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'SELECT grse.pre_restore() was not run before pg_restore (or this session was opened before it): grse''s guards refused the ledger, state and policy rows of the dump.',
                  HINT = 'Drop the database and restore again: createdb, CREATE EXTENSION grse, SELECT grse.pre_restore(), pg_restore, SELECT grse.post_restore().';
    END IF;
    -- ids continue after the restored ones, whether or not the dump carried the sequences
    FOR c IN SELECT a.attrelid::regclass AS tbl, a.attname,
                    pg_catalog.pg_get_serial_sequence(a.attrelid::regclass::text, a.attname)::regclass AS seq
               FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class k ON k.oid = a.attrelid
              WHERE k.relnamespace = 'grse'::regnamespace AND k.relkind = 'r'
                AND a.attidentity <> '' AND NOT a.attisdropped
              ORDER BY k.relname LOOP
        EXECUTE pg_catalog.format('SELECT max(%I) FROM %s', c.attname, c.tbl) INTO top;
        IF top > COALESCE(pg_catalog.pg_sequence_last_value(c.seq), 0) THEN
            PERFORM pg_catalog.setval(c.seq, top, true);
        END IF;
    END LOOP;
    -- the foreign keys, which the restore did not check
    FOR c IN SELECT k.conname, k.conrelid::regclass AS child, k.confrelid::regclass AS parent,
                    (SELECT pg_catalog.string_agg(pg_catalog.format('c.%I = p.%I', ca.attname, pa.attname), ' AND ')
                       FROM unnest(k.conkey, k.confkey) AS u(ck, pk)  -- (multi-argument unnest is syntax: no schema)
                       JOIN pg_catalog.pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = u.ck
                       JOIN pg_catalog.pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = u.pk) AS joined,
                    (SELECT pg_catalog.string_agg(pg_catalog.format('c.%I IS NOT NULL', ca.attname), ' AND ')
                       FROM pg_catalog.unnest(k.conkey) AS u(ck)
                       JOIN pg_catalog.pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = u.ck) AS present
               FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class r ON r.oid = k.conrelid
              WHERE k.contype = 'f' AND r.relnamespace = 'grse'::regnamespace
              ORDER BY k.conname LOOP
        EXECUTE pg_catalog.format('SELECT count(*) FROM %s c WHERE %s AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s)',
                                  c.child, c.present, c.parent, c.joined) INTO broken;
        IF broken > 0 THEN
            RAISE EXCEPTION 'the restored grse data breaks foreign key % of %: % rows refer to missing rows of %',
                            c.conname, c.child, broken, c.parent
                USING ERRCODE = 'foreign_key_violation',
                      HINT = 'grse stays in restore mode. Restore the dump again into a new database; was every grse table in it?';
        END IF;
    END LOOP;
    SELECT count(*), pg_catalog.string_agg(pg_catalog.format('%s (region %s): %s', v.invariant, v.region_id, v.detail),
                                           E'\n' ORDER BY v.invariant, v.region_id) FILTER (WHERE v.n <= 20)
      INTO broken, detail
      FROM (SELECT i.*, row_number() OVER (ORDER BY i.invariant, i.region_id) AS n FROM grse.verify_invariants() i) v;
    IF broken > 0 THEN
        RAISE EXCEPTION 'the restored grse data breaks % invariant checks', broken
            USING ERRCODE = 'integrity_constraint_violation',
                  DETAIL = detail,
                  HINT = 'grse stays in restore mode. Check the dump (was it taken from a consistent grse database, with every grse table?) and restore it again into a new database.';
    END IF;
    EXECUTE pg_catalog.format('ALTER DATABASE %I RESET grse.restoring', pg_catalog.current_database());
    EXECUTE pg_catalog.format('ALTER DATABASE %I RESET session_replication_role', pg_catalog.current_database());
    PERFORM pg_catalog.set_config('grse.restoring', 'off', false);
    PERFORM pg_catalog.set_config('session_replication_role', 'origin', false);
    RETURN true;
END
$$;
COMMENT ON FUNCTION grse.post_restore() IS
    'Ends restore mode after pg_restore (superuser only): moves the identity sequences past the restored ids and checks the foreign keys and every invariant (grse.verify_invariants); fails, staying in restore mode, if any is broken.';
ALTER FUNCTION grse.pre_restore() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION grse.post_restore() SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION grse.pre_restore(), grse.post_restore() FROM PUBLIC;

-- The policy row of a dump or of a publisher's initial copy replaces grse's own; the
-- policy guards fire in logical replication apply workers too (ENABLE ALWAYS), and an
-- apply worker's policy update drops the cached policy everywhere.
CREATE TRIGGER policy_applied
    AFTER UPDATE ON grse.policy
    FOR EACH ROW EXECUTE FUNCTION grse.policy_guard();
ALTER TABLE grse.policy
    ENABLE ALWAYS TRIGGER policy_one_row,
    ENABLE ALWAYS TRIGGER policy_no_truncate,
    ENABLE ALWAYS TRIGGER policy_applied;

-- Trigger functions refuse direct calls with 39P01: the last one in PL/pgSQL is now Rust.
CREATE OR REPLACE FUNCTION grse.touch_updated_at() RETURNS trigger LANGUAGE c
    AS 'MODULE_PATHNAME', 'touch_updated_at_wrapper';
ALTER FUNCTION grse.touch_updated_at() SET search_path = pg_catalog, pg_temp;

-- Time zones: names of the tz database only (no POSIX specs such as 'UTC+5').
CREATE OR REPLACE FUNCTION grse.is_valid_timezone(tz text) RETURNS boolean
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tz = 'UTC' THEN
        RETURN true;
    END IF;
    IF tz ~ '^[A-Za-z][A-Za-z_-]*(/[A-Za-z0-9_+-]+)+$' AND tz !~* '^right/' THEN
        PERFORM now() AT TIME ZONE tz;
        RETURN true;
    END IF;
    RETURN EXISTS (SELECT 1 FROM pg_timezone_names n WHERE lower(n.name) = lower(tz) AND n.name !~ '/');
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN false;
END
$$;
DO $$
DECLARE
    bad text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format('%s (%s)', r.slug, r.timezone), ', ' ORDER BY r.slug) INTO bad
      FROM grse.regions r WHERE NOT grse.is_valid_timezone(r.timezone);
    IF bad IS NOT NULL THEN
        RAISE WARNING 'regions with a time zone that is not a name of the tz database: %', bad
            USING HINT = 'UPDATE grse.regions SET timezone = ... (an IANA name such as Etc/GMT-5 for a fixed offset): until then every update of such a region is refused.';
    END IF;
END
$$;

-- Reads never lock or write: a period that has ended reads as rolled over.
CREATE OR REPLACE FUNCTION grse.with_slots(s grse.region_scaling_state) RETURNS grse.region_scaling_state
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    t record;
    e record;
    tz text;
    b record;
BEGIN
    IF pg_catalog.now() >= s.day_ends_at THEN
        -- a day ends with every month: whatever ended, the slots are emptied by the roll-over
        SELECT r.timezone INTO tz FROM grse.regions r WHERE r.id = s.region_id;
        b := grse.period_bounds('day', tz, pg_catalog.now());
        s.day_started_at := b.starts_at;
        s.day_ends_at := b.ends_at;
        s.ai_spend_today := 0;
        s.refunded_today := 0;
        IF pg_catalog.now() >= s.month_ends_at THEN
            b := grse.period_bounds('month', tz, pg_catalog.now());
            s.month_started_at := b.starts_at;
            s.month_ends_at := b.ends_at;
            s.ai_budget_remaining := s.ai_budget_monthly - s.ai_budget_held;
            s.period_spent := 0;
            s.period_refunded := 0;
            -- evaluate_region reads the remaining budget as rolled over (slots.rs, true_remaining_sql)
            SELECT * INTO e FROM grse.evaluate_region(s.region_id);
            s.capacity_score := e.capacity_score;
            s.warning_index := e.warning_index;
            s.scaling_mode := e.scaling_mode;
        ELSIF s.slot_allotment > 0 THEN
            t := grse.slot_totals(s.region_id);
            s.ai_budget_remaining := s.ai_budget_remaining + t.balance;
            s.period_spent := s.period_spent + t.period_spent;
            s.capacity_score := grse.compute_region_capacity(s.region_id);
        END IF;
        s.slot_allotment := 0;
    ELSIF s.slot_allotment > 0 THEN
        t := grse.slot_totals(s.region_id);
        s.ai_budget_remaining := s.ai_budget_remaining + t.balance;
        s.ai_spend_today := s.ai_spend_today + t.spent_today;
        s.period_spent := s.period_spent + t.period_spent;
        s.capacity_score := grse.compute_region_capacity(s.region_id);
    END IF;
    RETURN s;
END
$$;
CREATE OR REPLACE FUNCTION grse.get_all_regions_health()
RETURNS TABLE (region_id uuid, region_name text, scaling_mode text, capacity_score numeric,
               overall_pressure numeric, budget_percent_remaining numeric, warning_index numeric)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    -- grse.with_slots inlined: a region whose slots hold budget reads its true totals, one
    -- whose month has ended reads as rolled over (remaining = monthly - held, judged again)
    SELECT r.id, r.name,
           CASE WHEN pg_catalog.now() OPERATOR(pg_catalog.>=) s.month_ends_at
                THEN (SELECT e.scaling_mode FROM grse.evaluate_region(r.id) e) ELSE s.scaling_mode END,
           CASE WHEN s.slot_allotment OPERATOR(pg_catalog.>) 0 OR pg_catalog.now() OPERATOR(pg_catalog.>=) s.month_ends_at
                THEN grse.compute_region_capacity(r.id)
                ELSE s.capacity_score END,
           s.overall_pressure,
           CASE WHEN pg_catalog.now() OPERATOR(pg_catalog.>=) s.month_ends_at
                THEN grse.budget_percent_remaining(s.ai_budget_monthly OPERATOR(pg_catalog.-) s.ai_budget_held,
                                                   s.ai_budget_monthly)
                WHEN s.slot_allotment OPERATOR(pg_catalog.>) 0
                THEN grse.budget_percent_remaining(
                         s.ai_budget_remaining OPERATOR(pg_catalog.+) (grse.slot_totals(r.id)).balance,
                         s.ai_budget_monthly)
                ELSE grse.budget_percent_remaining(s.ai_budget_remaining, s.ai_budget_monthly) END,
           CASE WHEN pg_catalog.now() OPERATOR(pg_catalog.>=) s.month_ends_at
                THEN (SELECT e.warning_index FROM grse.evaluate_region(r.id) e) ELSE s.warning_index END
      FROM grse.regions r
      JOIN grse.region_scaling_state s ON s.region_id OPERATOR(pg_catalog.=) r.id
     WHERE r.active
     ORDER BY 7 DESC, r.name, r.id
$$;
CREATE OR REPLACE FUNCTION grse.get_budget_stats(region_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    result jsonb;
BEGIN
    IF region_id IS NULL THEN
        RAISE EXCEPTION 'region_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- visible to the caller? (row-level security: a tenant sees only its regions)
    IF NOT EXISTS (SELECT 1 FROM grse.region_scaling_state s WHERE s.region_id = get_budget_stats.region_id) THEN
        RAISE EXCEPTION 'region % not found', get_budget_stats.region_id USING ERRCODE = 'no_data_found';
    END IF;
    SELECT pg_catalog.jsonb_build_object(
               'region_id', s.region_id,
               'monthly', s.ai_budget_monthly,
               'remaining', s.ai_budget_remaining,
               'held', s.ai_budget_held,
               'open_holds', (SELECT count(*) FROM grse.budget_holds h
                               WHERE h.region_id = s.region_id AND h.status = 'held'),
               'jobs_queued', (SELECT count(*) FROM grse.jobs j WHERE j.region_id = s.region_id AND j.status = 'queued'),
               'jobs_running', (SELECT count(*) FROM grse.jobs j
                                 WHERE j.region_id = s.region_id AND j.status = 'running'),
               'spent_today', s.ai_spend_today,
               'refunded_today', s.refunded_today,
               'spent_this_month', s.ai_budget_monthly - s.ai_budget_remaining,
               'percent_used', CASE WHEN s.ai_budget_monthly > 0
                                    THEN pg_catalog.round((s.ai_budget_monthly - s.ai_budget_remaining)::numeric * 100
                                                          / s.ai_budget_monthly, 2)
                                    ELSE 0 END,
               'percent_remaining', grse.budget_percent_remaining(s.ai_budget_remaining, s.ai_budget_monthly),
               'period_spent', s.period_spent,
               'period_refunded', s.period_refunded,
               'period_started_at', s.month_started_at,
               'period_ends_at', s.month_ends_at,
               'recent_transactions', COALESCE((
                   SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                              'id', t.id, 'transaction_type', t.transaction_type, 'amount', t.amount,
                              'delta', t.delta, 'balance_after', t.balance_after, 'agency_id', t.agency_id,
                              'job_type', t.job_type, 'description', t.description, 'created_at', t.created_at,
                              'slot_no', t.slot_no)
                          ORDER BY t.id DESC)
                     FROM (SELECT * FROM grse.region_budget_transactions l
                            WHERE l.region_id = s.region_id ORDER BY l.id DESC LIMIT 10) t), '[]'::jsonb),
               'spend_by_job_type', COALESCE((
                   SELECT pg_catalog.jsonb_object_agg(j.job_type, j.total)
                     FROM (SELECT COALESCE(l.job_type, 'unknown') AS job_type, sum(l.amount) AS total
                             FROM grse.region_budget_transactions l
                            WHERE l.region_id = s.region_id AND l.transaction_type = 'spend'
                              AND l.created_at >= s.month_started_at
                            GROUP BY 1) j), '{}'::jsonb))
      INTO result
      FROM grse.region_scaling_state s0
     CROSS JOIN LATERAL grse.with_slots(s0) s
     WHERE s0.region_id = get_budget_stats.region_id;
    RETURN result;
END
$$;
ALTER FUNCTION grse.with_slots(grse.region_scaling_state) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION grse.get_budget_stats(uuid) SET search_path = pg_catalog, pg_temp;

-- The invariant checks in numeric arithmetic (they never overflow); a region whose month
-- has ended is judged after its roll-over.
CREATE OR REPLACE FUNCTION grse.verify_invariants()
RETURNS TABLE (invariant text, region_id uuid, detail text)
LANGUAGE sql STABLE
AS $$
    -- budget state within its bounds (true remaining = pool + slots)
    SELECT 'remaining_in_bounds', s.region_id,
           pg_catalog.format('remaining %s (pool %s), monthly %s', s.ai_budget_remaining::numeric + h.balance,
                             s.ai_budget_remaining, s.ai_budget_monthly)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h
     WHERE s.ai_budget_remaining < 0 OR s.ai_budget_remaining::numeric + h.balance > s.ai_budget_monthly
    UNION ALL
    -- the ledger adds up to the true remaining budget
    SELECT 'ledger_sum_is_remaining', s.region_id,
           pg_catalog.format('sum(delta) %s, remaining %s', l.total, s.ai_budget_remaining::numeric + h.balance)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h,
           LATERAL (SELECT COALESCE(sum(t.delta), 0) AS total FROM grse.region_budget_transactions t
                     WHERE t.region_id = s.region_id) l
     WHERE l.total <> s.ai_budget_remaining::numeric + h.balance
    UNION ALL
    -- the state row's rules: its trigger checks them on every write; a restore (which loads
    -- rows without that trigger) is checked here
    SELECT 'state_rules', s.region_id, pg_catalog.format('breaks %s', r.rule)
      FROM grse.region_scaling_state s,
           LATERAL (VALUES
                   ('state_budget_monthly_nonneg', s.ai_budget_monthly >= 0),
                   ('state_budget_remaining_nonneg', s.ai_budget_remaining >= 0),
                   ('state_spend_today_nonneg', s.ai_spend_today >= 0),
                   ('state_refunded_today_nonneg', s.refunded_today >= 0),
                   ('state_period_spent_nonneg', s.period_spent >= 0),
                   ('state_period_refunded_nonneg', s.period_refunded >= 0),
                   ('state_slot_allotment_nonneg', s.slot_allotment >= 0),
                   ('state_budget_held_nonneg', s.ai_budget_held >= 0),
                   ('state_active_agencies_nonneg', s.active_agencies >= 0),
                   ('state_active_clients_nonneg', s.active_clients >= 0),
                   ('state_jobs_in_queue_nonneg', s.jobs_in_queue >= 0),
                   ('state_jobs_queued_manually_nonneg', s.jobs_queued_manually >= 0),
                   ('state_posting_pressure_range', s.posting_pressure BETWEEN 0 AND 100),
                   ('state_orchestration_pressure_range', s.orchestration_pressure BETWEEN 0 AND 100),
                   ('state_creative_pressure_range', s.creative_pressure BETWEEN 0 AND 100),
                   ('state_intel_pressure_range', s.intel_pressure BETWEEN 0 AND 100),
                   ('state_overall_pressure_range', s.overall_pressure BETWEEN 0 AND 100),
                   ('state_warning_index_range', s.warning_index BETWEEN 0 AND 100),
                   ('state_capacity_score_range', s.capacity_score BETWEEN 0 AND 100),
                   ('state_fatigue_score_range', s.fatigue_score BETWEEN 0 AND 100),
                   ('state_scaling_mode_valid', s.scaling_mode IN ('normal', 'cautious', 'throttled', 'frozen')),
                   ('state_pinned_mode_valid', s.pinned_mode IN ('normal', 'cautious', 'throttled', 'frozen')),
                   ('state_metadata_object', pg_catalog.jsonb_typeof(s.metadata) = 'object'),
                   ('state_shard_count_range', s.shard_count BETWEEN 1 AND 65536),
                   ('state_budget_slots_range', s.budget_slots BETWEEN 1 AND 64),
                   ('state_remaining_within_monthly', s.ai_budget_remaining <= s.ai_budget_monthly),
                   ('state_day_window', s.day_started_at < s.day_ends_at),
                   ('state_month_window', s.month_started_at < s.month_ends_at),
                   ('state_pin_complete', (s.pinned_mode IS NULL) = (s.pinned_at IS NULL) AND (s.pinned_mode IS NOT NULL OR (s.pinned_until IS NULL AND s.pin_reason IS NULL)))) AS r(rule, ok)
     WHERE NOT r.ok
    UNION ALL
    -- the state row's copy of its region's active flag (kept by the regions trigger)
    SELECT 'state_region_active', s.region_id,
           pg_catalog.format('region_active %s, regions.active %s', s.region_active, r.active)
      FROM grse.region_scaling_state s JOIN grse.regions r ON r.id = s.region_id
     WHERE s.region_active IS DISTINCT FROM r.active
    UNION ALL
    -- every ledger row belongs to a region with a state row
    SELECT 'ledger_region', t.region_id, pg_catalog.format('%s ledger rows, no such region', count(*))
      FROM grse.region_budget_transactions t
     WHERE NOT EXISTS (SELECT 1 FROM grse.region_scaling_state s WHERE s.region_id = t.region_id)
     GROUP BY t.region_id
    UNION ALL
    -- every job record belongs to a region with a state row, requested for an existing region
    SELECT 'job_region', j.region_id, pg_catalog.format('%s job records, no such region', count(*))
      FROM grse.jobs j
     WHERE NOT EXISTS (SELECT 1 FROM grse.region_scaling_state s WHERE s.region_id = j.region_id)
     GROUP BY j.region_id
    UNION ALL
    SELECT 'job_requested_region', j.requested_region_id,
           pg_catalog.format('%s job records requested for no such region', count(*))
      FROM grse.jobs j
     WHERE j.requested_region_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM grse.regions r WHERE r.id = j.requested_region_id)
     GROUP BY j.requested_region_id
    UNION ALL
    -- every mode transition belongs to a region with a state row
    SELECT 'transition_region', t.region_id, pg_catalog.format('%s mode transitions, no such region', count(*))
      FROM grse.region_mode_transitions t
     WHERE NOT EXISTS (SELECT 1 FROM grse.region_scaling_state s WHERE s.region_id = t.region_id)
     GROUP BY t.region_id
    UNION ALL
    -- ... and, account by account, to the pool and to each slot
    SELECT 'ledger_sum_per_slot', a.region_id,
           pg_catalog.format('slot %s: sum(delta) %s, balance %s', a.slot_no, COALESCE(l.total, 0), a.balance)
      FROM (SELECT s.region_id, 0 AS slot_no, s.ai_budget_remaining AS balance FROM grse.region_scaling_state s
            UNION ALL
            SELECT b.region_id, b.slot_no, b.balance FROM grse.region_budget_slots b) a
      LEFT JOIN (SELECT t.region_id, t.slot_no, sum(t.delta) AS total FROM grse.region_budget_transactions t
                  GROUP BY 1, 2) l ON l.region_id = a.region_id AND l.slot_no = a.slot_no
     WHERE COALESCE(l.total, 0) <> a.balance
    UNION ALL
    -- slots hold no more than was handed to them, and nothing when nothing was
    SELECT 'slots_within_allotment', s.region_id,
           pg_catalog.format('slots hold %s (spent today %s, period %s), allotment %s',
                             h.balance, h.spent_today, h.period_spent, s.slot_allotment)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h
     WHERE h.balance > s.slot_allotment
        OR (s.slot_allotment = 0 AND (h.spent_today, h.period_spent) <> (0, 0))
    UNION ALL
    -- moves between the pool and the slots net to zero
    SELECT 'transfers_net_zero', t.region_id, pg_catalog.format('transfers sum to %s', sum(t.delta))
      FROM grse.region_budget_transactions t WHERE t.transaction_type = 'transfer'
     GROUP BY t.region_id HAVING sum(t.delta) <> 0
    UNION ALL
    -- each balance_after = previous balance_after + delta, in id order, per account (pool or slot)
    SELECT 'ledger_chain', c.region_id,
           pg_catalog.format('ledger row %s (slot %s) breaks the chain', c.id, c.slot_no)
      FROM (SELECT t.id, t.region_id, t.slot_no, t.delta, t.balance_after,
                   lag(t.balance_after, 1, 0::bigint) OVER (PARTITION BY t.region_id, t.slot_no ORDER BY t.id) AS prev
              FROM grse.region_budget_transactions t) c
     WHERE c.balance_after <> c.prev::numeric + c.delta
    UNION ALL
    -- the day's spend and refunds are the ledger's since the day began
    SELECT 'spend_today_matches_ledger', s.region_id,
           pg_catalog.format('ai_spend_today %s, ledger %s; refunded_today %s, ledger %s',
                             s.ai_spend_today::numeric + h.spent_today, l.spent, s.refunded_today, l.refunded)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h,
           LATERAL (SELECT COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'spend'), 0) AS spent,
                           COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'refund'), 0) AS refunded
                      FROM grse.region_budget_transactions t
                     WHERE t.region_id = s.region_id AND t.id > s.day_ledger_mark) l
     WHERE l.spent <> s.ai_spend_today::numeric + h.spent_today OR l.refunded <> s.refunded_today
    UNION ALL
    -- the budget period's spend and refunds are the ledger's since the period began
    SELECT 'period_totals_match_ledger', s.region_id,
           pg_catalog.format('period_spent %s, ledger %s; period_refunded %s, ledger %s',
                             s.period_spent::numeric + h.period_spent, l.spent, s.period_refunded, l.refunded)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h,
           LATERAL (SELECT COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'spend'), 0) AS spent,
                           COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'refund'), 0) AS refunded
                      FROM grse.region_budget_transactions t
                     WHERE t.region_id = s.region_id AND t.id > s.month_ledger_mark) l
     WHERE l.spent <> s.period_spent::numeric + h.period_spent OR l.refunded <> s.period_refunded
    UNION ALL
    -- a period's refunds never exceed its spend (the pool's and the slots')
    SELECT 'refunds_within_spend', s.region_id,
           pg_catalog.format('period_refunded %s, period_spent %s', s.period_refunded, s.period_spent::numeric + h.period_spent)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h
     WHERE s.period_refunded > s.period_spent::numeric + h.period_spent
    UNION ALL
    SELECT 'queue_nonnegative', s.region_id, pg_catalog.format('jobs_in_queue %s', s.jobs_in_queue)
      FROM grse.region_scaling_state s WHERE s.jobs_in_queue < 0
    UNION ALL
    -- modes and scores match the metrics (with the true remaining budget) under the current
    -- policy; the stored capacity of a region whose slots hold budget is the pool's (reads
    -- compute the live one), so it is compared only for the others; a region whose month has
    -- ended is judged by evaluate_region as rolled over, so it is compared after its roll-over
    SELECT 'scores_match_metrics', s.region_id,
           pg_catalog.format('stored %s/%s/%s/%s, expected %s/%s/%s/%s',
                             s.overall_pressure, s.capacity_score, s.warning_index, s.scaling_mode,
                             e.overall_pressure, e.capacity_score, e.warning_index, e.scaling_mode)
      FROM grse.region_scaling_state s, LATERAL grse.evaluate_region(s.region_id) e
     WHERE pg_catalog.now() < s.month_ends_at
       AND ((s.overall_pressure, s.warning_index, s.scaling_mode)
            IS DISTINCT FROM (e.overall_pressure, e.warning_index, e.scaling_mode)
            OR (s.slot_allotment = 0 AND s.capacity_score IS DISTINCT FROM e.capacity_score))
    UNION ALL
    -- at most one automatic roll-over per region and period
    SELECT 'one_rollover_per_period', r.region_id,
           pg_catalog.format('%s %s roll-overs for %s', r.n, r.period_kind, r.period_start)
      FROM (SELECT b.region_id, b.period_kind, b.period_start, count(*) AS n FROM grse.budget_rollovers b
             WHERE b.source <> 'manual' GROUP BY 1, 2, 3 HAVING count(*) > 1) r
    UNION ALL
    -- every region has its state row
    SELECT 'state_row_exists', g.id, 'region without a state row'
      FROM grse.regions g
     WHERE NOT EXISTS (SELECT 1 FROM grse.region_scaling_state s WHERE s.region_id = g.id)
    UNION ALL
    -- what is held is the sum of the open holds
    SELECT 'held_is_open_holds', s.region_id,
           pg_catalog.format('ai_budget_held %s, open holds %s', s.ai_budget_held, h.total)
      FROM grse.region_scaling_state s,
           LATERAL (SELECT COALESCE(sum(b.amount), 0) AS total FROM grse.budget_holds b
                     WHERE b.region_id = s.region_id AND b.status = 'held') h
     WHERE s.ai_budget_held <> h.total
    UNION ALL
    -- each hold moved its amount in once, out once when it resolved, and a settled one charged its spend
    SELECT 'hold_ledger_rows', b.region_id,
           pg_catalog.format('hold %s (%s, %s cents): hold rows %s, released %s, spent %s', b.id, b.status, b.amount,
                             l.held, l.released, l.spent)
      FROM grse.budget_holds b,
           LATERAL (SELECT COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'hold'), 0) AS held,
                           COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'release'), 0) AS released,
                           COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'spend'), 0) AS spent
                      FROM grse.region_budget_transactions t
                     WHERE t.region_id = b.region_id AND t.hold_id = b.id) l
     WHERE l.held <> b.amount
        OR l.released <> CASE WHEN b.status = 'held' THEN 0 ELSE b.amount END
        OR l.spent <> COALESCE(b.settled_amount, 0)
    UNION ALL
    -- no open hold or job expires before the instant the region's sweep waits for
    SELECT 'expiry_tracked', s.region_id,
           pg_catalog.format('next_expiry_at %s, earliest open expiry %s', s.next_expiry_at, e.first)
      FROM grse.region_scaling_state s,
           LATERAL (SELECT LEAST((SELECT min(b.expires_at) FROM grse.budget_holds b
                                   WHERE b.region_id = s.region_id AND b.status = 'held'),
                                 (SELECT min(j.expires_at) FROM grse.jobs j
                                   WHERE j.region_id = s.region_id AND j.status IN ('queued', 'running'))) AS first) e
     WHERE e.first IS NOT NULL AND (s.next_expiry_at IS NULL OR e.first < s.next_expiry_at)
    UNION ALL
    -- the queue count is the jobs with records plus what update_job_queue counted
    SELECT 'queue_matches_jobs', s.region_id,
           pg_catalog.format('jobs_in_queue %s, queued or running jobs %s, counted manually %s',
                             s.jobs_in_queue, j.n, s.jobs_queued_manually)
      FROM grse.region_scaling_state s,
           LATERAL (SELECT count(*) AS n FROM grse.jobs j
                     WHERE j.region_id = s.region_id AND j.status IN ('queued', 'running')) j
     WHERE s.jobs_in_queue <> j.n + s.jobs_queued_manually
$$;
ALTER FUNCTION grse.verify_invariants() SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION grse.verify_invariants() IS
    'Every violation of grse''s guarantees (ledger sums and chains per pool and slot, period totals, bounds, budget slots within their allotment, scores vs metrics, one roll-over per period, holds and their ledger rows, expiry tracking, queue counts vs job records); empty when consistent.';

-- The automatic roll-over writes ledger rows: no longer granted to readers and tenants.
REVOKE EXECUTE ON FUNCTION grse.roll_over_budget_periods(uuid) FROM grse_reader, grse_tenant;
GRANT EXECUTE ON FUNCTION grse.roll_over_budget_periods(uuid) TO grse_operator;

-- ---------------------------------------------------------------------------
-- Speed: the row rules of the state row, the budget slots and the ledger are checked by
-- their row triggers instead of table CHECKs (same names, SQLSTATE 23514); the ledger has
-- no per-row foreign key query (grse appends only for regions whose state it writes;
-- verify_invariants checks ledger_region)
-- ---------------------------------------------------------------------------
CREATE FUNCTION grse.ledger_guard() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'ledger_guard_wrapper';
CREATE FUNCTION grse.slot_guard() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'slot_guard_wrapper';
-- (no SET search_path, like the state trigger: they run on every row a spend writes and run no query)
REVOKE ALL ON FUNCTION grse.ledger_guard(), grse.slot_guard() FROM PUBLIC;
DROP TRIGGER region_budget_transactions_append_only ON grse.region_budget_transactions;
CREATE TRIGGER region_budget_transactions_append_only
    BEFORE INSERT OR UPDATE OR DELETE ON grse.region_budget_transactions
    FOR EACH ROW EXECUTE FUNCTION grse.ledger_guard();
ALTER TABLE grse.region_budget_transactions ENABLE ALWAYS TRIGGER region_budget_transactions_append_only;
DROP TRIGGER region_budget_slots_internal_only ON grse.region_budget_slots;
CREATE TRIGGER region_budget_slots_internal_only
    BEFORE INSERT OR UPDATE OR DELETE ON grse.region_budget_slots
    FOR EACH ROW EXECUTE FUNCTION grse.slot_guard();
ALTER TABLE grse.region_budget_slots ENABLE ALWAYS TRIGGER region_budget_slots_internal_only;
ALTER TABLE grse.region_scaling_state
    DROP CONSTRAINT state_budget_monthly_nonneg,
    DROP CONSTRAINT state_budget_remaining_nonneg,
    DROP CONSTRAINT state_spend_today_nonneg,
    DROP CONSTRAINT state_posting_pressure_range,
    DROP CONSTRAINT state_orchestration_pressure_range,
    DROP CONSTRAINT state_creative_pressure_range,
    DROP CONSTRAINT state_intel_pressure_range,
    DROP CONSTRAINT state_warning_index_range,
    DROP CONSTRAINT state_capacity_score_range,
    DROP CONSTRAINT state_fatigue_score_range,
    DROP CONSTRAINT state_active_agencies_nonneg,
    DROP CONSTRAINT state_active_clients_nonneg,
    DROP CONSTRAINT state_jobs_in_queue_nonneg,
    DROP CONSTRAINT state_scaling_mode_valid,
    DROP CONSTRAINT state_metadata_object,
    DROP CONSTRAINT state_overall_pressure_range,
    DROP CONSTRAINT state_shard_count_range,
    DROP CONSTRAINT state_refunded_today_nonneg,
    DROP CONSTRAINT state_period_spent_nonneg,
    DROP CONSTRAINT state_period_refunded_nonneg,
    DROP CONSTRAINT state_budget_slots_range,
    DROP CONSTRAINT state_slot_allotment_nonneg,
    DROP CONSTRAINT state_pinned_mode_valid,
    DROP CONSTRAINT state_budget_held_nonneg,
    DROP CONSTRAINT state_jobs_queued_manually_nonneg,
    DROP CONSTRAINT state_remaining_within_monthly,
    DROP CONSTRAINT state_day_window,
    DROP CONSTRAINT state_month_window,
    DROP CONSTRAINT state_pin_complete;
ALTER TABLE grse.region_budget_slots
    DROP CONSTRAINT slots_slot_no_range,
    DROP CONSTRAINT slots_balance_nonneg,
    DROP CONSTRAINT slots_spent_today_nonneg,
    DROP CONSTRAINT slots_period_spent_nonneg;
ALTER TABLE grse.region_budget_transactions
    DROP CONSTRAINT ledger_type_valid,
    DROP CONSTRAINT ledger_amount_positive,
    DROP CONSTRAINT ledger_balance_nonneg,
    DROP CONSTRAINT ledger_job_type_valid,
    DROP CONSTRAINT ledger_slot_no_range,
    DROP CONSTRAINT ledger_idempotency_key_length,
    DROP CONSTRAINT ledger_amount_is_abs_delta,
    DROP CONSTRAINT ledger_delta_sign,
    DROP CONSTRAINT ledger_slot_only_spend_or_transfer,
    DROP CONSTRAINT region_budget_transactions_region_id_fkey;
-- the same for the mode transitions, which a metric write that changes the mode inserts
-- (verify_invariants checks transition_region)
CREATE FUNCTION grse.transition_guard() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'transition_guard_wrapper';
REVOKE ALL ON FUNCTION grse.transition_guard() FROM PUBLIC;
DROP TRIGGER region_mode_transitions_append_only ON grse.region_mode_transitions;
CREATE TRIGGER region_mode_transitions_append_only
    BEFORE INSERT OR UPDATE OR DELETE ON grse.region_mode_transitions
    FOR EACH ROW EXECUTE FUNCTION grse.transition_guard();
ALTER TABLE grse.region_mode_transitions ENABLE ALWAYS TRIGGER region_mode_transitions_append_only;
ALTER TABLE grse.region_mode_transitions
    DROP CONSTRAINT transition_from_valid,
    DROP CONSTRAINT transition_to_valid,
    DROP CONSTRAINT transition_cause_valid,
    DROP CONSTRAINT transition_changes_mode,
    DROP CONSTRAINT region_mode_transitions_region_id_fkey;

-- evaluate_region returns one row: declared so, the region-wide reads that call it (health,
-- conflicts, risk) are costed as what they are and not JIT-compiled on every call
ALTER FUNCTION grse.evaluate_region(uuid) ROWS 1;

-- ---------------------------------------------------------------------------
-- Automatic budget slots: a region whose spends contend takes policy.auto_budget_slots slots
-- by itself while region_scaling_state.auto_slots_until lasts
-- ---------------------------------------------------------------------------
ALTER TABLE grse.policy
    ADD COLUMN auto_budget_slots integer NOT NULL DEFAULT 32
        CONSTRAINT policy_auto_budget_slots_range CHECK (auto_budget_slots BETWEEN 1 AND 64);
COMMENT ON COLUMN grse.policy.auto_budget_slots IS
    'Budget slots a region without budget_slots of its own takes by itself while its spends contend for its state row (region_scaling_state.auto_slots_until); 1 = never; 1 to 64.';
ALTER TABLE grse.region_scaling_state ADD COLUMN auto_slots_until timestamptz;
COMMENT ON COLUMN grse.region_scaling_state.auto_slots_until IS
    'While in the future and budget_slots is NULL: the region spends from policy.auto_budget_slots budget slots, which it took by itself when its spends contended (extended whenever its slots are filled); NULL or past: from policy.default_budget_slots.';
ALTER TABLE grse.region_scaling_state ADD COLUMN auto_slots_off_until timestamptz;
COMMENT ON COLUMN grse.region_scaling_state.auto_slots_off_until IS
    'Set when a call that needed every budget slot of the region back in the pool (a reset, a period start, an allocation the pool could not take, a keyed call) ended its automatic slots: until then the region takes none by itself; NULL: never ended so.';

-- The state row carries a copy of its region's active flag, so that the budget calls read
-- one row (a join with grse.regions costs a scan of it per call where it is small)
ALTER TABLE grse.region_scaling_state ADD COLUMN region_active boolean NOT NULL DEFAULT true;
COMMENT ON COLUMN grse.region_scaling_state.region_active IS
    'grse''s copy of grse.regions.active, kept by the regions trigger (every change of active updates it in the same statement): the budget calls read the region''s state row only.';
ALTER TABLE grse.region_scaling_state DISABLE TRIGGER region_scaling_state_derive;
UPDATE grse.region_scaling_state s SET region_active = r.active
  FROM grse.regions r WHERE r.id = s.region_id AND NOT r.active;
ALTER TABLE grse.region_scaling_state ENABLE TRIGGER region_scaling_state_derive;
CREATE FUNCTION grse.region_after_update() RETURNS trigger LANGUAGE c AS 'MODULE_PATHNAME', 'region_after_update_wrapper';
ALTER FUNCTION grse.region_after_update() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION grse.region_after_update() SECURITY DEFINER;
REVOKE ALL ON FUNCTION grse.region_after_update() FROM PUBLIC;
CREATE TRIGGER regions_copy_active
    AFTER UPDATE OF active ON grse.regions
    FOR EACH ROW WHEN (OLD.active IS DISTINCT FROM NEW.active)
    EXECUTE FUNCTION grse.region_after_update();

-- ---------------------------------------------------------------------------
-- Functions changed by several of the sections above: their final 0.3.0 definitions
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION grse.default_jobs()
RETURNS TABLE (job_name text, schedule text, command text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    VALUES
        ('grse-snapshots-hourly',  '0 * * * *',   'SELECT grse.save_all_snapshots(''hourly'')'),
        ('grse-snapshots-daily',   '5 0 * * *',   'SELECT grse.save_all_snapshots(''daily'')'),
        ('grse-snapshots-weekly',  '10 0 * * 1',  'SELECT grse.save_all_snapshots(''weekly'')'),
        -- every 5 minutes: regions' local midnights fall on any quarter hour
        ('grse-budget-rollover',   '*/5 * * * *', 'SELECT grse.roll_over_budget_periods()'),
        ('grse-monitor',           '*/5 * * * *', 'SELECT grse.run_monitor()'),
        ('grse-history-prune',     '30 3 * * *',  'SELECT grse.prune_history()'),
        -- expired budget holds and jobs released and taken out of the queues
        ('grse-expire-holds',      '* * * * *',   'SELECT grse.expire_budget_holds()')
$$;

CREATE OR REPLACE FUNCTION grse.get_region_scaling_summary(region_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    result jsonb;
BEGIN
    IF region_id IS NULL THEN
        RAISE EXCEPTION 'region_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT pg_catalog.jsonb_build_object(
               'region_id', r.id,
               'region_name', r.name,
               'region_slug', r.slug,
               'country_code', r.country_code,
               'timezone', r.timezone,
               'active', r.active,
               'scaling_mode', s.scaling_mode,
               'mode_since', s.mode_since,
               'mode_held_until', s.mode_held_until,
               'pin', CASE WHEN s.pinned_mode IS NOT NULL THEN pg_catalog.jsonb_build_object(
                          'mode', s.pinned_mode, 'until', s.pinned_until, 'reason', s.pin_reason,
                          'pinned_at', s.pinned_at) END,
               'capacity_score', s.capacity_score,
               'overall_pressure', s.overall_pressure,
               -- where the pressure is heading: the least-squares line through the last 24 hourly
               -- snapshots, one hour ahead (NULL with fewer than two snapshots)
               'pressure_slope_per_hour', t.slope_per_hour,
               'projected_pressure', t.projected_pressure,
               'warning_index', s.warning_index,
               'fatigue_score', s.fatigue_score,
               'pressures', pg_catalog.jsonb_build_object(
                   'posting', s.posting_pressure,
                   'orchestration', s.orchestration_pressure,
                   'creative', s.creative_pressure,
                   'intel', s.intel_pressure,
                   'overall', s.overall_pressure),
               'budget', pg_catalog.jsonb_build_object(
                   'monthly', s.ai_budget_monthly,
                   'remaining', s.ai_budget_remaining,
                   'held', s.ai_budget_held,
                   'spent_today', s.ai_spend_today,
                   'spent_this_month', s.ai_budget_monthly - s.ai_budget_remaining,
                   'percent_remaining', grse.budget_percent_remaining(s.ai_budget_remaining, s.ai_budget_monthly)),
               'utilization', pg_catalog.jsonb_build_object(
                   'active_agencies', s.active_agencies,
                   'active_clients', s.active_clients,
                   'jobs_in_queue', s.jobs_in_queue,
                   'jobs_queued', (SELECT count(*) FROM grse.jobs j WHERE j.region_id = r.id AND j.status = 'queued'),
                   'jobs_running', (SELECT count(*) FROM grse.jobs j WHERE j.region_id = r.id AND j.status = 'running'),
                   'jobs_queued_manually', s.jobs_queued_manually),
               'updated_at', s.updated_at)
      INTO result
      FROM grse.regions r
      JOIN grse.region_scaling_state s0 ON s0.region_id = r.id
     CROSS JOIN LATERAL grse.with_slots(s0) s
     CROSS JOIN LATERAL grse.pressure_trend(r.id) t
     WHERE r.id = get_region_scaling_summary.region_id;
    RETURN result;
END
$$;

ALTER FUNCTION grse.default_jobs() SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION grse.get_region_scaling_summary(uuid) SET search_path = pg_catalog, pg_temp;
