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

-- ---------------------------------------------------------------------------
-- Operations: backups, replication, standby reads, input checks, privileges
-- ---------------------------------------------------------------------------
