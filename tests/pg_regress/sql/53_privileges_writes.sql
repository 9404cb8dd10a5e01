-- 53_privileges_writes: every function that writes is granted only to the roles that may
-- write (grse_operator, grse_admin), never to grse_reader or grse_tenant; a tenant can
-- neither write nor probe a region outside its licenses; the superuser-only functions
-- are granted to no one.
\ir ../common/preamble.sql
INSERT INTO grse.regions (id, name, slug, country_code) VALUES
    ('00000000-0000-0000-0000-0000000000f1', 'Mine', 'mine', 'DE'),
    ('00000000-0000-0000-0000-0000000000f2', 'Theirs', 'theirs', 'FR');
INSERT INTO grse.agency_regions (agency_id, region_id) VALUES
    ('00000000-0000-0000-0000-00000000aaaa', '00000000-0000-0000-0000-0000000000f1'),
    ('00000000-0000-0000-0000-00000000bbbb', '00000000-0000-0000-0000-0000000000f2');

-- ---------------------------------------------------------------------------
-- The map: every function of grse that is not read-only (VOLATILE) and every SECURITY
-- DEFINER one, with the roles that may call it. Readers and tenants may call no writer;
-- the only definer function a tenant calls is tenant_regions() (its license lookup).
-- ---------------------------------------------------------------------------
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
       CASE p.provolatile WHEN 'v' THEN 'volatile' WHEN 's' THEN 'stable' ELSE 'immutable' END AS volatility,
       p.prosecdef AS definer,
       has_function_privilege('grse_reader', p.oid, 'EXECUTE') AS reader,
       has_function_privilege('grse_tenant', p.oid, 'EXECUTE') AS tenant,
       has_function_privilege('grse_operator', p.oid, 'EXECUTE') AS operator,
       has_function_privilege('grse_admin', p.oid, 'EXECUTE') AS admin
  FROM pg_proc p
 WHERE p.pronamespace = 'grse'::regnamespace AND p.prorettype <> 'trigger'::regtype
   AND (p.provolatile = 'v' OR p.prosecdef)
 ORDER BY p.proname, args;

-- the rules the map must follow, as queries that must find nothing
SELECT p.oid::regprocedure AS writer_granted_to_reader_or_tenant
  FROM pg_proc p
 WHERE p.pronamespace = 'grse'::regnamespace AND p.provolatile = 'v'
   AND (has_function_privilege('grse_reader', p.oid, 'EXECUTE') OR has_function_privilege('grse_tenant', p.oid, 'EXECUTE'));
SELECT p.oid::regprocedure AS definer_granted_to_tenant
  FROM pg_proc p
 WHERE p.pronamespace = 'grse'::regnamespace AND p.prosecdef AND p.proname <> 'tenant_regions'
   AND has_function_privilege('grse_tenant', p.oid, 'EXECUTE');
SELECT p.oid::regprocedure AS granted_to_public
  FROM pg_proc p
 WHERE p.pronamespace = 'grse'::regnamespace AND has_function_privilege('public', p.oid, 'EXECUTE');

-- ---------------------------------------------------------------------------
-- A tenant (agency aaaa, licensed to "mine" only) can neither write another tenant's
-- ledger nor learn whether a region id exists: the roll-over is not granted to it, and
-- every read answers for a region it cannot see exactly as for one that does not exist.
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE ledger_before AS SELECT count(*) AS n FROM grse.region_budget_transactions;
GRANT SELECT ON ledger_before TO grse_tenant;
SET ROLE grse_tenant;
SELECT set_config('request.jwt.claims', '{"agency_id": "00000000-0000-0000-0000-00000000aaaa"}', false) IS NOT NULL AS claims_set;
SELECT c.call, r.region,
       regexp_replace(pg_temp.err(format(c.call, r.id)), '00000000-0000-0000-0000-0000000000f2|00000000-0000-0000-0000-00000000dead', '<id>') AS result
  FROM (VALUES ('SELECT grse.roll_over_budget_periods(%L)'), ('SELECT grse.roll_over_budget_periods()'),
               ('SELECT grse.get_budget_stats(%L)'), ('SELECT grse.compute_region_capacity(%L)'),
               ('SELECT grse.compute_region_pressure(%L)'), ('SELECT * FROM grse.evaluate_region(%L)'),
               ('SELECT grse.generate_region_snapshot(%L)'), ('SELECT grse.get_region_scaling_summary(%L)'),
               ('SELECT * FROM grse.get_region_health_trend(%L)'), ('SELECT grse.get_best_region_for_job(''posting'', %L)'),
               ('SELECT grse.api_get_region_snapshot(%L)'), ('SELECT * FROM grse.forecast_budget(%L)'),
               ('SELECT * FROM grse.check_budget(%L, 10)'), ('SELECT grse.check_and_decrement_budget(%L, 10)'),
               ('SELECT grse.update_job_queue(%L, 1)')) AS c(call)
 CROSS JOIN (VALUES ('another tenant''s', '00000000-0000-0000-0000-0000000000f2'),
                    ('unknown', '00000000-0000-0000-0000-00000000dead')) AS r(region, id)
 ORDER BY c.call, r.region;
-- its own region reads as usual
SELECT (grse.get_budget_stats('00000000-0000-0000-0000-0000000000f1') ->> 'remaining') AS own_remaining;
SELECT (SELECT count(*) FROM grse.region_budget_transactions) AS ledger_rows_it_sees,
       (SELECT n FROM ledger_before) AS ledger_rows_before;
RESET ROLE;
RESET request.jwt.claims;
SELECT (SELECT count(*) FROM grse.region_budget_transactions) = (SELECT n FROM ledger_before) AS ledger_unchanged,
       (SELECT count(*) FROM grse.budget_rollovers) AS rollovers;

-- ---------------------------------------------------------------------------
-- Readers read and may not roll over; operators (who spend) may.
-- ---------------------------------------------------------------------------
SET ROLE grse_reader;
SELECT pg_temp.err($$SELECT grse.roll_over_budget_periods('00000000-0000-0000-0000-0000000000f1')$$) AS reader_rolls_over,
       grse.get_budget_stats('00000000-0000-0000-0000-0000000000f2') ->> 'remaining' AS reader_reads_stats;
SET ROLE grse_operator;
SELECT grse.roll_over_budget_periods('00000000-0000-0000-0000-0000000000f1') AS operator_rolls_over;
RESET ROLE;
