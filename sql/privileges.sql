-- Privileges, roles, search_path pinning and row-level security.
-- Runs last in CREATE EXTENSION grse.
--
-- Roles (NOLOGIN; grant them to your login or API roles):
--   grse_reader    read functions and tables (all regions)
--   grse_operator  grse_reader + metric writes, spend/refund, admission and routing, snapshots, monitor
--   grse_admin     grse_operator + budgets, policy, resets, regions and licenses, scheduling
--   grse_tenant    an agency's own view (PostgREST/Supabase: request.jwt.claims ->> 'agency_id'):
--                  only the regions its active licenses name, through tables and read functions alike
-- PUBLIC gets nothing.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['grse_reader', 'grse_operator', 'grse_admin', 'grse_tenant'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;
GRANT grse_reader TO grse_operator;
GRANT grse_operator TO grse_admin;

-- ---------------------------------------------------------------------------
-- Tenant helpers: the agency in the request's JWT claims and its regions.
-- ---------------------------------------------------------------------------

-- The agency id of the current request: request.jwt.claims ->> 'agency_id', or
-- -> 'app_metadata' ->> 'agency_id' (Supabase custom claims). NULL when absent or malformed.
CREATE FUNCTION grse.tenant_agency_id() RETURNS uuid
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    claims jsonb;
    agency text;
BEGIN
    claims := NULLIF(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb;
    agency := COALESCE(claims ->> 'agency_id', claims -> 'app_metadata' ->> 'agency_id');
    RETURN agency::uuid;
EXCEPTION WHEN invalid_text_representation OR data_exception THEN
    RETURN NULL;
END
$$;

-- The regions the current request's agency is licensed to (active licenses).
CREATE FUNCTION grse.tenant_regions() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER
AS $$
    SELECT l.region_id FROM grse.agency_regions l
     WHERE l.agency_id = grse.tenant_agency_id() AND l.status = 'active'
$$;

-- ---------------------------------------------------------------------------
-- Function properties: every function pins search_path; writers run as the
-- extension owner (SECURITY DEFINER) so callers need no table privileges.
-- Read functions stay SECURITY INVOKER, so row-level security applies to them.
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    f regprocedure;
    -- not pinned, because a SET clause costs on every call: the plain SQL functions the
    -- planner inlines (a SET clause would stop that), whose bodies qualify every object,
    -- operator and type; the state trigger, which runs on every metric and budget write
    -- and whose queries (the policy read, the transition insert) are fully qualified; and
    -- the ledger's, the slots', the transitions' and the jobs' row guards, which run on every
    -- row a spend, a mode change or an admission writes and run no query
    unpinned text[] := ARRAY['budget_percent_remaining', 'get_all_regions_health', 'state_before_write',
                             'ledger_guard', 'slot_guard', 'transition_guard', 'job_guard'];
    definer text[] := ARRAY[
        -- budget
        'check_budget', 'check_and_decrement_budget', 'decrement_budget', 'refund_budget',
        'set_monthly_budget', 'set_budget_slots', 'empty_budget_slots_internal', 'reset_daily_budget_spend', 'reset_monthly_budgets', 'roll_over_budget_periods',
        -- scaling, routing, admission
        'reserve_budget', 'settle_budget_hold', 'release_budget_hold', 'expire_budget_holds',
        'update_pressure_scores', 'update_scaling_mode', 'update_job_queue', 'admit_job',
        'start_job', 'finish_job', 'cancel_job', 'migrate_jobs',
        'pin_scaling_mode', 'unpin_scaling_mode',
        -- snapshots, monitor, scheduling
        'save_region_snapshot', 'save_all_snapshots', 'api_save_region_snapshot', 'prune_history',
        'alert_critical_issues', 'run_monitor', 'schedule_default_jobs', 'unschedule_default_jobs',
        -- triggers that write other tables
        'region_after_insert', 'region_after_update', 'policy_after_update',
        'tenant_regions'];
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'grse'::regnamespace AND NOT p.proname = ANY (unpinned) LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f);
        IF (SELECT p.proname FROM pg_catalog.pg_proc p WHERE p.oid = f) = ANY (definer) THEN
            EXECUTE pg_catalog.format('ALTER FUNCTION %s SECURITY DEFINER', f);
        END IF;
    END LOOP;
END
$$;

-- evaluate_region returns one row: declared so, the planner costs the region-wide reads that
-- call it for regions whose month has ended (health, conflicts, risk) as what they are, and
-- does not JIT-compile them (at the default of 1000 rows, 10,000 regions cost past
-- jit_above_cost and each call spent ~17 ms compiling a ~6 ms scan)
ALTER FUNCTION grse.evaluate_region(uuid) ROWS 1;

-- ---------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA grse FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA grse FROM PUBLIC;
GRANT USAGE ON SCHEMA grse TO grse_reader, grse_tenant;
GRANT USAGE ON TYPE grse.job_route TO grse_reader;

-- helpers used inside other functions, constraints and policies
GRANT EXECUTE ON FUNCTION grse.is_valid_timezone(text), grse.period_bounds(text, text, timestamptz),
    grse.budget_percent_remaining(bigint, bigint), grse.tenant_agency_id(), grse.tenant_regions(),
    grse.api_region_health_json(grse.region_scaling_state, grse.regions), grse.api_global_risk_json(jsonb),
    grse.slot_totals(uuid), grse.with_slots(grse.region_scaling_state)
    TO grse_reader, grse_tenant;

-- read functions (SECURITY INVOKER: a tenant sees its own regions through them)
GRANT EXECUTE ON FUNCTION
    grse.get_region_scaling_summary(uuid), grse.get_all_regions_health(), grse.list_region_health(),
    grse.get_regions_by_metric(text, text), grse.get_region_health_trend(uuid, integer),
    grse.compute_region_pressure(uuid), grse.compute_region_capacity(uuid), grse.evaluate_region(uuid),
    grse.generate_region_snapshot(uuid), grse.get_budget_stats(uuid),
    grse.detect_cross_region_conflicts(), grse.compute_global_risk(),
    grse.resolve_region_for_agency(uuid), grse.resolve_region_for_client(uuid), grse.resolve_region_from_headers(jsonb),
    grse.get_best_region_for_job(text, uuid, double precision, double precision), grse.forecast_budget(uuid, interval),
    grse.pressure_trend(uuid, integer),
    grse.api_regions_health(text, text, boolean), grse.api_get_region_snapshot(uuid, boolean, integer)
    TO grse_reader, grse_tenant;
GRANT EXECUTE ON FUNCTION grse.verify_invariants(), grse.default_jobs(), grse.require_pg_cron() TO grse_reader;

GRANT SELECT ON grse.regions, grse.agency_regions, grse.client_agencies, grse.region_scaling_state,
    grse.region_scaling_history, grse.region_budget_transactions, grse.region_mode_transitions,
    grse.budget_rollovers, grse.alerts, grse.region_budget_slots, grse.budget_holds, grse.jobs
    TO grse_reader, grse_tenant;
GRANT SELECT ON grse.policy TO grse_reader, grse_tenant;
GRANT SELECT ON grse.alert_rules, grse.alert_rule_pending TO grse_reader;

-- operator: metric writes, spend, admission, routing, snapshots, monitor
GRANT EXECUTE ON FUNCTION
    grse.check_budget(uuid, numeric), grse.check_and_decrement_budget(uuid, numeric, uuid, text, text),
    grse.decrement_budget(uuid, numeric, uuid, text, text, text), grse.refund_budget(uuid, numeric, text, text),
    grse.reserve_budget(uuid, numeric, uuid, text, interval, text), grse.settle_budget_hold(uuid, numeric),
    grse.release_budget_hold(uuid), grse.expire_budget_holds(uuid),
    grse.start_job(uuid), grse.finish_job(uuid, numeric, boolean), grse.cancel_job(uuid),
    grse.migrate_jobs(uuid, uuid, text),
    grse.update_pressure_scores(uuid, jsonb), grse.update_scaling_mode(uuid), grse.update_job_queue(uuid, integer),
    grse.admit_job(text, uuid, uuid, uuid, numeric, integer, boolean, boolean, double precision, double precision),
    grse.route_job(text, uuid, uuid, integer, numeric, boolean),
    grse.route_region_job(text, uuid, uuid, integer, numeric, boolean),
    grse.route_posting_job(uuid, uuid, integer, numeric, boolean),
    grse.route_orchestration_job(uuid, uuid, integer, numeric, boolean),
    grse.route_creative_job(uuid, uuid, integer, numeric, boolean),
    grse.route_performance_job(uuid, uuid, integer, numeric, boolean),
    grse.save_region_snapshot(uuid, text), grse.save_all_snapshots(text), grse.api_save_region_snapshot(uuid, text),
    grse.alert_critical_issues(), grse.run_monitor(),
    -- the automatic roll-over writes ledger rows: granted to those who may write budgets
    grse.roll_over_budget_periods(uuid),
    grse.pin_scaling_mode(uuid, text, timestamptz, text), grse.unpin_scaling_mode(uuid),
    -- called by the state trigger as the metric writer; refused outside grse
    grse.empty_budget_slots_internal(uuid, bigint, boolean)
    TO grse_operator;
GRANT UPDATE (posting_pressure, orchestration_pressure, creative_pressure, intel_pressure,
              active_agencies, active_clients, jobs_in_queue, metadata)
    ON grse.region_scaling_state TO grse_operator;

-- admin: budgets, policy, resets, regions and licenses, scheduling
GRANT EXECUTE ON FUNCTION
    grse.set_monthly_budget(uuid, numeric), grse.set_budget_slots(uuid, integer), grse.reset_daily_budget_spend(), grse.reset_monthly_budgets(),
    grse.prune_history(), grse.schedule_default_jobs(), grse.unschedule_default_jobs()
    TO grse_admin;
GRANT UPDATE ON grse.policy TO grse_admin;
GRANT INSERT, UPDATE, DELETE ON grse.alert_rules TO grse_admin;
GRANT INSERT, UPDATE ON grse.regions TO grse_admin;
GRANT INSERT, UPDATE, DELETE ON grse.agency_regions, grse.client_agencies TO grse_admin;
GRANT UPDATE (shard_count) ON grse.region_scaling_state TO grse_admin;

-- ---------------------------------------------------------------------------
-- Row-level security: staff roles see every region; a tenant its licensed ones.
-- (The extension owner and SECURITY DEFINER functions are not subject to it.)
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['regions', 'agency_regions', 'client_agencies', 'region_scaling_state',
                             'region_scaling_history', 'region_budget_transactions', 'region_mode_transitions',
                             'budget_rollovers', 'alerts', 'region_budget_slots', 'alert_rules',
                             'alert_rule_pending', 'budget_holds', 'jobs'] LOOP
        EXECUTE pg_catalog.format('ALTER TABLE grse.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('CREATE POLICY staff_read ON grse.%I FOR SELECT TO grse_reader USING (true)', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['region_scaling_state', 'region_scaling_history', 'region_budget_transactions',
                             'region_mode_transitions', 'budget_rollovers', 'alerts', 'region_budget_slots',
                             'budget_holds', 'jobs'] LOOP
        EXECUTE pg_catalog.format(
            'CREATE POLICY tenant_read ON grse.%I FOR SELECT TO grse_tenant
               USING (region_id IN (SELECT grse.tenant_regions()))', t);
    END LOOP;
END
$$;
CREATE POLICY tenant_read ON grse.regions FOR SELECT TO grse_tenant
    USING (id IN (SELECT grse.tenant_regions()));
CREATE POLICY tenant_read ON grse.agency_regions FOR SELECT TO grse_tenant
    USING (agency_id = grse.tenant_agency_id());
CREATE POLICY tenant_read ON grse.client_agencies FOR SELECT TO grse_tenant
    USING (agency_id = grse.tenant_agency_id());

CREATE POLICY operator_metrics ON grse.region_scaling_state FOR UPDATE TO grse_operator USING (true) WITH CHECK (true);
CREATE POLICY admin_write ON grse.regions FOR ALL TO grse_admin USING (true) WITH CHECK (true);
CREATE POLICY admin_write ON grse.agency_regions FOR ALL TO grse_admin USING (true) WITH CHECK (true);
CREATE POLICY admin_write ON grse.client_agencies FOR ALL TO grse_admin USING (true) WITH CHECK (true);
CREATE POLICY admin_write ON grse.alert_rules FOR ALL TO grse_admin USING (true) WITH CHECK (true);
