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

DROP TRIGGER region_scaling_state_mode_changed ON grse.region_scaling_state;
CREATE TRIGGER region_scaling_state_mode_changed
    AFTER UPDATE ON grse.region_scaling_state
    FOR EACH ROW WHEN (OLD.scaling_mode IS DISTINCT FROM NEW.scaling_mode OR OLD.pinned_at IS DISTINCT FROM NEW.pinned_at)
    EXECUTE FUNCTION grse.state_after_mode_change();

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

-- The summary shows the pin and a dwell hold; the health listings the pin.
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
                   'spent_today', s.ai_spend_today,
                   'spent_this_month', s.ai_budget_monthly - s.ai_budget_remaining,
                   'percent_remaining', grse.budget_percent_remaining(s.ai_budget_remaining, s.ai_budget_monthly)),
               'utilization', pg_catalog.jsonb_build_object(
                   'active_agencies', s.active_agencies,
                   'active_clients', s.active_clients,
                   'jobs_in_queue', s.jobs_in_queue),
               'updated_at', s.updated_at)
      INTO result
      FROM grse.regions r
      JOIN grse.region_scaling_state s0 ON s0.region_id = r.id
     CROSS JOIN LATERAL grse.with_slots(s0) s
     WHERE r.id = get_region_scaling_summary.region_id;
    RETURN result;
END
$$;

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
ALTER FUNCTION grse.get_region_scaling_summary(uuid) SET search_path = pg_catalog, pg_temp;
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

-- ---------------------------------------------------------------------------
-- Operations: backups, replication, standby reads, input checks, privileges
-- ---------------------------------------------------------------------------

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
CREATE TABLE grse.jobs (
    id                   uuid PRIMARY KEY,
    region_id            uuid NOT NULL REFERENCES grse.regions (id),
    requested_region_id  uuid REFERENCES grse.regions (id),
    job_type             text NOT NULL
                         CONSTRAINT jobs_job_type_valid CHECK (job_type IN ('posting', 'orchestration', 'creative', 'intel')),
    tenant_id            uuid,
    shard_key            text NOT NULL,
    priority             integer NOT NULL CONSTRAINT jobs_priority_range CHECK (priority BETWEEN 1 AND 1000),
    estimated_cost       bigint NOT NULL DEFAULT 0 CONSTRAINT jobs_estimated_cost_nonneg CHECK (estimated_cost >= 0),
    hold_id              uuid REFERENCES grse.budget_holds (id),
    status               text NOT NULL DEFAULT 'queued'
                         CONSTRAINT jobs_status_valid
                         CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'expired')),
    created_at           timestamptz NOT NULL DEFAULT now(),
    run_after            timestamptz NOT NULL,
    started_at           timestamptz,
    finished_at          timestamptz,
    expires_at           timestamptz NOT NULL,
    actual_cost          bigint CONSTRAINT jobs_actual_cost_nonneg CHECK (actual_cost >= 0),
    CONSTRAINT jobs_run_after_creation CHECK (run_after >= created_at),
    CONSTRAINT jobs_expire_after_creation CHECK (expires_at > created_at),
    CONSTRAINT jobs_finished_iff_done CHECK ((status IN ('queued', 'running')) = (finished_at IS NULL)),
    CONSTRAINT jobs_started_if_running CHECK (status <> 'running' OR started_at IS NOT NULL)
);
COMMENT ON TABLE grse.jobs IS
    'Admitted jobs (admit_job): queued -> running -> succeeded/failed, or cancelled, or expired at expires_at (policy.job_ttl). Queued and running jobs count in jobs_in_queue.';
COMMENT ON COLUMN grse.jobs.run_after IS 'When the job may run: created_at plus the admission''s delay_seconds (cautious regions).';
COMMENT ON COLUMN grse.jobs.hold_id IS 'The budget hold of the estimated cost (admit_job with hold_budget), settled or released when the job ends.';
CREATE INDEX jobs_open_idx ON grse.jobs (region_id, expires_at) WHERE status IN ('queued', 'running');
CREATE INDEX jobs_hold_idx ON grse.jobs (hold_id) WHERE hold_id IS NOT NULL;

-- Written by grse's functions only, for every role (ENABLE ALWAYS: also under
-- session_replication_role = replica).
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
    FOR EACH ROW EXECUTE FUNCTION grse.internal_write_guard();
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
