-- Roles and privileges: each role can do its part and nothing more; PUBLIC nothing.
\ir ../common/preamble.sql
DROP ROLE IF EXISTS grse_test_nobody;
CREATE ROLE grse_test_nobody NOLOGIN;

CREATE FUNCTION public.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
GRANT EXECUTE ON FUNCTION public.try(text) TO PUBLIC;

INSERT INTO grse.regions (id, name, slug, country_code, timezone)
VALUES ('00000000-0000-0000-0000-0000000000a1', 'Alpha', 'alpha', 'DE', 'Europe/Berlin');

-- what each role may do, as (role, action) -> outcome
CREATE TEMP TABLE actions (n int, action text, stmt text);
GRANT SELECT ON actions TO PUBLIC;
INSERT INTO actions VALUES
 (1, 'read summary',        'SELECT grse.get_region_scaling_summary(''00000000-0000-0000-0000-0000000000a1'')'),
 (2, 'read health',         'SELECT * FROM grse.get_all_regions_health()'),
 (3, 'read ledger table',   'SELECT count(*) FROM grse.region_budget_transactions'),
 (4, 'read global risk',    'SELECT grse.compute_global_risk()'),
 (5, 'spend',               'SELECT grse.check_and_decrement_budget(''00000000-0000-0000-0000-0000000000a1'', 10)'),
 (6, 'admit a job',         'SELECT * FROM grse.admit_job(''posting'', region_id => ''00000000-0000-0000-0000-0000000000a1'')'),
 (7, 'write a pressure',    'UPDATE grse.region_scaling_state SET posting_pressure = 10'),
 (8, 'save a snapshot',     'SELECT grse.save_region_snapshot(''00000000-0000-0000-0000-0000000000a1'')'),
 (9, 'set monthly budget',  'SELECT grse.set_monthly_budget(''00000000-0000-0000-0000-0000000000a1'', 5000)'),
 (10, 'change policy',      'UPDATE grse.policy SET small_job_max_cents = 150'),
 (11, 'reset budgets',      'SELECT grse.reset_monthly_budgets()'),
 (12, 'insert a region',    'INSERT INTO grse.regions (name, slug, country_code) VALUES (''X'', ''x-'' || md5(random()::text), ''FR'')'),
 (13, 'write remaining',    'UPDATE grse.region_scaling_state SET ai_budget_remaining = 1'),
 (14, 'delete ledger rows', 'DELETE FROM grse.region_budget_transactions'),
 -- a write that changes the mode records a transition (as grse, not as the writer)
 (15, 'write a mode change', 'UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95, creative_pressure = 95, intel_pressure = 95');

CREATE TEMP TABLE outcomes (role text, n int, outcome text);
GRANT INSERT ON outcomes TO PUBLIC;

-- run every action as every role, inside a rolled-back subtransaction each
DO $$
DECLARE
    r text;
    a record;
    result text;
BEGIN
    FOREACH r IN ARRAY ARRAY['grse_test_nobody', 'grse_tenant', 'grse_reader', 'grse_operator', 'grse_admin'] LOOP
        FOR a IN SELECT * FROM actions ORDER BY n LOOP
            BEGIN
                EXECUTE pg_catalog.format('SET LOCAL ROLE %I', r);
                result := public.try(a.stmt);
                RESET ROLE;
                INSERT INTO outcomes VALUES (r, a.n, result);
                RAISE EXCEPTION 'undo' USING ERRCODE = 'P0001';
            EXCEPTION WHEN raise_exception THEN
                NULL;   -- changes undone, the outcome kept below
            END;
            INSERT INTO outcomes VALUES (r, a.n, result);
        END LOOP;
    END LOOP;
END
$$;

-- ok, or the SQLSTATE of the refusal (42501 = insufficient privilege)
SELECT a.n, a.action,
       max(CASE o.role WHEN 'grse_test_nobody' THEN left(o.outcome, 5) END) AS public,
       max(CASE o.role WHEN 'grse_tenant' THEN left(o.outcome, 5) END) AS tenant,
       max(CASE o.role WHEN 'grse_reader' THEN left(o.outcome, 5) END) AS reader,
       max(CASE o.role WHEN 'grse_operator' THEN left(o.outcome, 5) END) AS operator,
       max(CASE o.role WHEN 'grse_admin' THEN left(o.outcome, 5) END) AS admin
  FROM actions a JOIN outcomes o ON o.n = a.n
 GROUP BY a.n, a.action ORDER BY a.n;

-- nothing was changed by the exercise
SELECT count(*) AS ledger_rows FROM grse.region_budget_transactions;
SELECT ai_budget_remaining, posting_pressure FROM grse.region_scaling_state;
SELECT count(*) AS transitions FROM grse.region_mode_transitions;

-- an operator's write that changes the mode: the transition is recorded (the
-- operator may not insert into region_mode_transitions itself)
BEGIN;
SET LOCAL ROLE grse_operator;
UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95,
       creative_pressure = 95, intel_pressure = 95;
SELECT public.try('INSERT INTO grse.region_mode_transitions (region_id, from_mode, to_mode, capacity, pressure, reason) SELECT region_id, ''normal'', ''frozen'', 0, 0, ''x'' FROM grse.region_scaling_state') AS operator_insert;
SELECT current_user AS still_operator;
RESET ROLE;
SELECT from_mode, to_mode, cause FROM grse.region_mode_transitions;
ROLLBACK;

-- PUBLIC holds no privilege on any grse function or table
SELECT count(*) AS public_function_grants
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'grse'::regnamespace AND pg_catalog.has_function_privilege('grse_test_nobody', p.oid, 'EXECUTE');
SELECT count(*) AS public_table_grants
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace = 'grse'::regnamespace AND c.relkind = 'r'
   AND pg_catalog.has_table_privilege('grse_test_nobody', c.oid, 'SELECT, INSERT, UPDATE, DELETE');

-- every grse function pins its search_path except the two the planner inlines and the
-- state trigger (their SQL qualifies every object, operator and type); writers are SECURITY DEFINER
SELECT string_agg(p.proname, ', ' ORDER BY p.proname)
           FILTER (WHERE p.proconfig IS NULL OR NOT ('search_path=pg_catalog, pg_temp' = ANY (p.proconfig))) AS unpinned,
       count(*) FILTER (WHERE p.prosecdef) AS security_definer
  FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'grse'::regnamespace;

-- evaluate_region is declared to return one row (the region-wide reads that call it are
-- costed as what they are, not JIT-compiled)
SELECT p.prorows FROM pg_catalog.pg_proc p WHERE p.oid = 'grse.evaluate_region(uuid)'::regprocedure;

DROP FUNCTION public.try(text);
DROP ROLE grse_test_nobody;
