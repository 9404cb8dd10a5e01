-- 21_edge_cases: the inputs that used to end in an internal error (XX000), refused now
-- with a fitting SQLSTATE and nothing changed; budgets at the bigint limit; trigger
-- functions called directly; time zone names; reads that neither lock nor write, in a
-- read-only transaction, with a period that has ended read as rolled over; restore mode.
-- (tests/battery runs every function and column with such values; this file pins the
-- answers.)
\ir ../common/preamble.sql
INSERT INTO grse.regions (id, name, slug, country_code, timezone) VALUES
    ('00000000-0000-0000-0000-0000000000e1', 'Edge', 'edge', 'DE', 'Europe/Berlin'),
    ('00000000-0000-0000-0000-0000000000e2', 'Huge', 'huge', 'US', 'America/Chicago');
CREATE TEMP TABLE before AS SELECT * FROM grse.region_scaling_state;
CREATE FUNCTION pg_temp.state_unchanged() RETURNS boolean LANGUAGE sql AS $$
    SELECT NOT EXISTS (SELECT * FROM grse.region_scaling_state EXCEPT SELECT * FROM before)
       AND NOT EXISTS (SELECT * FROM before EXCEPT SELECT * FROM grse.region_scaling_state)
$$;

-- ---------------------------------------------------------------------------
-- NaN, ±Infinity and NULL written into the state: 23514 naming the range rule, 22003 from
-- numeric(5,2) itself, 23502 for NULL (for the superuser and for grse_operator alike);
-- NULL or NaN in a column grse maintains: 42501, like any other change of it.
-- ---------------------------------------------------------------------------
SELECT v.label, pg_temp.err(format('UPDATE grse.region_scaling_state SET %I = %s WHERE region_id = %L',
                                   v.col, v.val, '00000000-0000-0000-0000-0000000000e1')) AS result
  FROM (VALUES ('posting NaN', 'posting_pressure', $$'NaN'$$), ('intel NaN', 'intel_pressure', $$'NaN'::numeric$$),
               ('creative Infinity', 'creative_pressure', $$'Infinity'$$),
               ('orchestration -Infinity', 'orchestration_pressure', $$'-Infinity'$$),
               ('posting NULL', 'posting_pressure', 'NULL'), ('posting 100.01', 'posting_pressure', '100.01'),
               ('jobs_in_queue NULL', 'jobs_in_queue', 'NULL'), ('metadata NULL', 'metadata', 'NULL'),
               ('fatigue NaN (maintained)', 'fatigue_score', $$'NaN'$$),
               ('fatigue NULL (maintained)', 'fatigue_score', 'NULL'),
               ('remaining NULL (maintained)', 'ai_budget_remaining', 'NULL'),
               ('day end NULL (maintained)', 'day_ends_at', 'NULL'),
               ('region_id NULL (maintained)', 'region_id', 'NULL')) AS v(label, col, val);
SET ROLE grse_operator;
SELECT pg_temp.err($$UPDATE grse.region_scaling_state SET posting_pressure = 'NaN' WHERE region_id = '00000000-0000-0000-0000-0000000000e1'$$) AS operator_nan,
       pg_temp.err($$UPDATE grse.region_scaling_state SET posting_pressure = NULL WHERE region_id = '00000000-0000-0000-0000-0000000000e1'$$) AS operator_null;
RESET ROLE;
SELECT pg_temp.state_unchanged() AS unchanged;

-- ... and the same values as arguments: 22023 (not a finite number), 22004 (NULL)
SELECT f.label, pg_temp.err(f.sql) AS result
  FROM (VALUES ('spend NaN', $$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000e1', 'NaN')$$),
               ('spend Infinity', $$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000e1', 'Infinity')$$),
               ('refund -Infinity', $$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000e1', '-Infinity')$$),
               ('budget NaN', $$SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000e1', 'NaN')$$),
               ('check NULL', $$SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000e1', NULL)$$),
               ('admit cost Infinity', $$SELECT * FROM grse.admit_job('posting', region_id => '00000000-0000-0000-0000-0000000000e1', estimated_cost => 'Infinity')$$),
               ('best region NaN latitude', $$SELECT grse.get_best_region_for_job('posting', NULL, 'NaN', 8)$$)) AS f(label, sql);
SELECT pg_temp.state_unchanged() AS unchanged;

-- ---------------------------------------------------------------------------
-- JSON nested too deeply (headers are read by tenants too): 54001 before it is parsed;
-- 32 levels are read, 33 are not.
-- ---------------------------------------------------------------------------
SELECT d.levels,
       pg_temp.err(format('SELECT grse.resolve_region_from_headers(%L::jsonb)',
                          '{"x-trace": ' || repeat('[', d.levels - 1) || repeat(']', d.levels - 1) || '}')) AS headers,
       pg_temp.err(format('SELECT grse.update_pressure_scores(%L, %L::jsonb)', '00000000-0000-0000-0000-0000000000e1',
                          '{"posting": ' || repeat('[', d.levels - 1) || '1' || repeat(']', d.levels - 1) || '}')) AS activity
  FROM (VALUES (2), (32), (33), (200), (5000)) AS d(levels);
SELECT pg_temp.err($$SELECT grse.resolve_region_from_headers(('{"x-region-id": "00000000-0000-0000-0000-0000000000e1", "a": ' || repeat('{"b": ', 40) || '1' || repeat('}', 40) || '}')::jsonb)$$) AS deep_beside_a_valid_header,
       grse.resolve_region_from_headers('{"x-region-id": "00000000-0000-0000-0000-0000000000e1", "x-note": "[[[[{{{{"}') AS brackets_in_strings;
SELECT pg_temp.state_unchanged() AS unchanged;

-- ---------------------------------------------------------------------------
-- Money at the bigint limit: a budget of 2^63 - 1 cents works end to end (spends, slots,
-- refunds, holds, reads, a policy change, the invariant checks); a total that would pass
-- bigint is refused with 22003 and nothing is written.
-- ---------------------------------------------------------------------------
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000e2', 9223372036854775807) AS remaining;
SELECT pg_temp.err($$SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000e2', 9223372036854775808)$$) AS beyond_bigint;
SELECT grse.set_budget_slots('00000000-0000-0000-0000-0000000000e2', 4) AS slots;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000e2', 4611686018427387904) AS spent_half,
       grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000e2', 1000) AS spent_small;
SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000e2', 4611686018427387904) AS after_refund;
SELECT h.allowed, h.remaining, h.requested
  FROM grse.reserve_budget('00000000-0000-0000-0000-0000000000e2', 1000000000000000000) h;
-- the period's spend would pass bigint: refused (22003), nothing written
CREATE TEMP TABLE ledger_before AS SELECT count(*) AS n FROM grse.region_budget_transactions;
SELECT pg_temp.err($$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000e2', 4700000000000000000)$$) AS period_spend_beyond_bigint;
SELECT (SELECT count(*) FROM grse.region_budget_transactions) = (SELECT n FROM ledger_before) AS nothing_written;
SELECT s->>'monthly' AS monthly, s->>'remaining' AS remaining, s->>'percent_remaining' AS percent_remaining,
       s->>'period_spent' AS period_spent
  FROM grse.get_budget_stats('00000000-0000-0000-0000-0000000000e2') s;
SELECT h.capacity_score, h.budget_percent_remaining FROM grse.get_all_regions_health() h
 WHERE h.region_id = '00000000-0000-0000-0000-0000000000e2';
UPDATE grse.policy SET default_monthly_budget_cents = 9223372036854775807, capacity_weight_budget = 0.5,
                       capacity_weight_pressure = 0.25;
INSERT INTO grse.regions (name, slug, country_code) VALUES ('Max', 'max', 'BR');
SELECT ai_budget_monthly, ai_budget_remaining FROM grse.region_scaling_state s JOIN grse.regions r ON r.id = s.region_id
 WHERE r.slug = 'max';
SELECT count(*) AS broken_invariants FROM grse.verify_invariants();
UPDATE grse.policy SET default_monthly_budget_cents = 100000, capacity_weight_budget = 0.4, capacity_weight_pressure = 0.35;

-- ---------------------------------------------------------------------------
-- Trigger functions called as plain functions: 39P01, for every one of them.
-- ---------------------------------------------------------------------------
SELECT p.proname, pg_temp.err(format('SELECT grse.%I()', p.proname)) AS result
  FROM pg_proc p
 WHERE p.pronamespace = 'grse'::regnamespace AND p.prorettype = 'trigger'::regtype
 ORDER BY p.proname;

-- ---------------------------------------------------------------------------
-- Time zones: names of the tz database (pg_timezone_names, case-insensitive), never the
-- POSIX specs and abbreviations AT TIME ZONE also reads ('UTC+5' is five hours WEST).
-- ---------------------------------------------------------------------------
SELECT z.tz, grse.is_valid_timezone(z.tz) AS valid
  FROM (VALUES ('UTC'), ('Europe/Berlin'), ('america/new_york'), ('America/Argentina/Buenos_Aires'), ('Etc/GMT+5'),
               ('EST5EDT'), ('GMT'), ('Japan'), ('UTC+5'), ('UTC-05:30'), ('EST5'), ('<+03>-3'), ('CEST'),
               ('+05:00'), ('Mars/Base'), ('Europe/Berlin,M3.5.0'), (''), ('right/UTC')) AS z(tz);
SELECT count(*) FILTER (WHERE NOT grse.is_valid_timezone(n.name)) AS tz_database_names_refused
  FROM pg_timezone_names n;
SELECT pg_temp.err($$INSERT INTO grse.regions (name, slug, country_code, timezone) VALUES ('Posix', 'posix', 'PK', 'UTC+5')$$) AS posix_region,
       pg_temp.err($$UPDATE grse.regions SET timezone = 'EST5' WHERE slug = 'edge'$$) AS posix_update;

-- ---------------------------------------------------------------------------
-- Reads neither lock nor write: they run in a read-only transaction, and a region whose
-- day and month have ended reads as its roll-over will leave it (budget back, spend of
-- the day 0, judged again), while its state row stays as it is. (The ended periods are
-- faked with session_replication_role = replica, which skips the state trigger.)
-- ---------------------------------------------------------------------------
-- pressures of 40 and 5% of the budget left: capacity 48, cautious; the new month's budget makes it normal
UPDATE grse.region_scaling_state
   SET posting_pressure = 40, orchestration_pressure = 40, creative_pressure = 40, intel_pressure = 40
 WHERE region_id = '00000000-0000-0000-0000-0000000000e1';
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000e1', 95000, NULL, 'creative') AS spent;
SET session_replication_role = replica;
UPDATE grse.region_scaling_state
   SET day_started_at = now() - interval '40 days', day_ends_at = now() - interval '1 minute',
       month_started_at = now() - interval '40 days', month_ends_at = now() - interval '1 minute'
 WHERE region_id = '00000000-0000-0000-0000-0000000000e1';
RESET session_replication_role;
CREATE TEMP TABLE due_before AS
    SELECT xmin::text AS version, ai_budget_remaining, ai_spend_today, scaling_mode, capacity_score
      FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000e1';
SELECT ai_budget_remaining, ai_spend_today, scaling_mode, capacity_score FROM due_before;
BEGIN TRANSACTION READ ONLY;
SELECT s->>'remaining' AS remaining, s->>'spent_today' AS spent_today, s->>'period_spent' AS period_spent,
       s->>'percent_used' AS percent_used, (s->>'period_ends_at')::timestamptz > now() AS period_is_current,
       s->'spend_by_job_type' AS spend_by_job_type
  FROM grse.get_budget_stats('00000000-0000-0000-0000-0000000000e1') s;
SELECT m->'budget'->>'remaining' AS remaining, m->'budget'->>'spent_today' AS spent_today,
       m->>'scaling_mode' AS mode, (m->>'capacity_score')::numeric = grse.compute_region_capacity((m->>'region_id')::uuid) AS capacity_live
  FROM grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000e1') m;
SELECT h.scaling_mode, h.budget_percent_remaining FROM grse.get_all_regions_health() h
 WHERE h.region_id = '00000000-0000-0000-0000-0000000000e1';
SELECT c.allowed, c.remaining, c.message FROM grse.check_budget('00000000-0000-0000-0000-0000000000e1', 100) c;
SELECT count(*) AS conflicts_of_the_due_region FROM grse.detect_cross_region_conflicts() c
 WHERE c.region_id = '00000000-0000-0000-0000-0000000000e1';
SELECT e.scaling_mode, e.capacity_score FROM grse.evaluate_region('00000000-0000-0000-0000-0000000000e1') e;
SELECT count(*) AS broken_invariants FROM grse.verify_invariants();
COMMIT;
SELECT d.version = s.xmin::text AS state_row_not_written, s.ai_budget_remaining, s.ai_spend_today
  FROM due_before d, grse.region_scaling_state s WHERE s.region_id = '00000000-0000-0000-0000-0000000000e1';
SELECT count(*) AS rollovers_written FROM grse.budget_rollovers WHERE region_id = '00000000-0000-0000-0000-0000000000e1';
-- the first budget call rolls it over for real, to what the reads showed
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000e1', 1) AS spent_in_the_new_month;
SELECT ai_budget_remaining, ai_spend_today, scaling_mode, capacity_score
  FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000e1';

-- ---------------------------------------------------------------------------
-- Restore mode is a superuser's: the setting is superuser-only, pre_restore() refuses a
-- database that holds grse data, post_restore() one that is not in restore mode.
-- ---------------------------------------------------------------------------
SELECT name, setting, context FROM pg_settings WHERE name = 'grse.restoring';
SET ROLE grse_admin;
SELECT pg_temp.err($$SET grse.restoring = on$$) AS admin_sets_restoring,
       pg_temp.err($$SELECT grse.pre_restore()$$) AS admin_pre_restore;
RESET ROLE;
SELECT regexp_replace(pg_temp.err($$SELECT grse.pre_restore()$$), 'database \S+', 'database ...') AS pre_restore_with_data,
       regexp_replace(pg_temp.err($$SELECT grse.post_restore()$$), 'database \S+', 'database ...') AS post_restore_not_restoring;
