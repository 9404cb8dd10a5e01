-- 20_bad_input: every argument of every budget and scaling function, fed bad
-- values. Each case must raise a clear error with the right SQLSTATE and
-- change nothing:
--   22004 a required argument is NULL
--   22023 zero / negative / fractional / NaN / infinite amount, unknown job
--         type, activity that is not an object of whole non-negative counts,
--         a refund above what is refundable, an unknown snapshot period type
--   22003 an amount, or an activity count, beyond bigint
--   P0002 an unknown region id (the message names the id)
--   55000 an inactive region, for the functions that write
--   42883 arguments to the argument-less resets (PostgreSQL's own error)
-- Each case prints as: case | sqlstate | message | unchanged, where
-- "unchanged" compares a checksum of every grse table before and after the
-- case; the whole battery is checksummed too.
\ir ../common/preamble.sql
-- this file's helper functions (public schema), dropped again at the end
DROP FUNCTION IF EXISTS public.grse_checksum(), public.try_case(text), public.count_case(text);

-- A checksum of the content of every table in schema grse (found in the
-- catalog, so a table added later is covered too), without the columns that
-- hold times (timestamp / timestamptz: created_at, updated_at, mode_since,
-- period bounds).
CREATE OR REPLACE FUNCTION public.grse_checksum() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    t record;
    cols text;
    part text;
    acc text := '';
BEGIN
    FOR t IN SELECT c.oid, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'grse' AND c.relkind IN ('r', 'p') ORDER BY c.relname LOOP
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
           AND a.atttypid NOT IN ('timestamptz'::regtype, 'timestamp'::regtype);
        EXECUTE format('SELECT md5(COALESCE(string_agg(x::text, %L ORDER BY x::text), %L)) FROM (SELECT %s FROM grse.%I) x',
                       '|', '', cols, t.relname) INTO part;
        acc := acc || t.relname || ':' || part || ';';
    END LOOP;
    RETURN md5(acc);
END
$$;

-- Runs one case; reports its SQLSTATE and message ('-----', 'no error' if it
-- succeeded) and whether every grse table is unchanged afterwards.
CREATE OR REPLACE FUNCTION public.try_case(sql text, OUT state text, OUT message text, OUT unchanged boolean)
LANGUAGE plpgsql AS $$
DECLARE
    sum_before text := public.grse_checksum();
BEGIN
    BEGIN
        EXECUTE sql;
        state := '-----';
        message := 'no error';
    EXCEPTION WHEN OTHERS THEN
        state := SQLSTATE;
        message := SQLERRM;
    END;
    unchanged := public.grse_checksum() = sum_before;
END
$$;

-- f1: active, with 500 cents spent (so 500 are refundable); f2: inactive;
-- f9 names no region.
INSERT INTO grse.regions (id, name, slug, country_code, timezone, active) VALUES
    ('00000000-0000-0000-0000-0000000000f1', 'Active', 'active', 'DE', 'Europe/Berlin', true),
    ('00000000-0000-0000-0000-0000000000f2', 'Retired', 'retired', 'FR', 'Europe/Paris', false);
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 500, NULL, 'posting');
UPDATE grse.region_scaling_state SET posting_pressure = 20 WHERE region_id = '00000000-0000-0000-0000-0000000000f1';

CREATE TEMP TABLE bad_cases (n integer GENERATED ALWAYS AS IDENTITY, name text NOT NULL, sql text NOT NULL);
INSERT INTO bad_cases (name, sql) VALUES
    ('check_and_decrement_budget: region_id NULL', $q$SELECT grse.check_and_decrement_budget(NULL, 100)$q$),
    ('check_and_decrement_budget: amount NULL', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', NULL)$q$),
    ('check_and_decrement_budget: amount 0', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 0)$q$),
    ('check_and_decrement_budget: amount negative', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', -1)$q$),
    ('check_and_decrement_budget: amount fractional 1.5', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 1.5)$q$),
    ('check_and_decrement_budget: amount fractional 0.001', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 0.001)$q$),
    ('check_and_decrement_budget: amount NaN', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 'NaN'::numeric)$q$),
    ('check_and_decrement_budget: amount Infinity', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 'Infinity'::numeric)$q$),
    ('check_and_decrement_budget: amount -Infinity', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', '-Infinity'::numeric)$q$),
    ('check_and_decrement_budget: amount beyond bigint', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 9223372036854775808)$q$),
    ('check_and_decrement_budget: amount 1e20', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 1e20)$q$),
    ('check_and_decrement_budget: unknown region', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f9', 100)$q$),
    ('check_and_decrement_budget: inactive region', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f2', 100)$q$),
    ('check_and_decrement_budget: job_type ''video''', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 100, NULL, 'video')$q$),
    ('check_and_decrement_budget: job_type ''''', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 100, NULL, '')$q$),
    ('check_and_decrement_budget: job_type ''Posting''', $q$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 100, NULL, 'Posting')$q$),
    ('decrement_budget: region_id NULL', $q$SELECT grse.decrement_budget(NULL, 100, NULL, 'posting', 'x')$q$),
    ('decrement_budget: amount NULL', $q$SELECT grse.decrement_budget('00000000-0000-0000-0000-0000000000f1', NULL, NULL, 'posting', 'x')$q$),
    ('decrement_budget: amount 0', $q$SELECT grse.decrement_budget('00000000-0000-0000-0000-0000000000f1', 0, NULL, 'posting', 'x')$q$),
    ('decrement_budget: amount negative', $q$SELECT grse.decrement_budget('00000000-0000-0000-0000-0000000000f1', -1, NULL, 'posting', 'x')$q$),
    ('decrement_budget: amount fractional 1.5', $q$SELECT grse.decrement_budget('00000000-0000-0000-0000-0000000000f1', 1.5, NULL, 'posting', 'x')$q$),
    ('decrement_budget: amount fractional 0.001', $q$SELECT grse.decrement_budget('00000000-0000-0000-0000-0000000000f1', 0.001, NULL, 'posting', 'x')$q$),
    ('decrement_budget: amount NaN', $q$SELECT grse.decrement_budget('00000000-0000-0000-0000-0000000000f1', 'NaN'::numeric, NULL, 'posting', 'x')$q$),
    ('decrement_budget: amount Infinity', $q$SELECT grse.decrement_budget('00000000-0000-0000-0000-0000000000f1', 'Infinity'::numeric, NULL, 'posting', 'x')$q$),
    ('decrement_budget: amount -Infinity', $q$SELECT grse.decrement_budget('00000000-0000-0000-0000-0000000000f1', '-Infinity'::numeric, NULL, 'posting', 'x')$q$),
    ('decrement_budget: amount beyond bigint', $q$SELECT grse.decrement_budget('00000000-0000-0000-0000-0000000000f1', 9223372036854775808, NULL, 'posting', 'x')$q$),
    ('decrement_budget: amount 1e20', $q$SELECT grse.decrement_budget('00000000-0000-0000-0000-0000000000f1', 1e20, NULL, 'posting', 'x')$q$),
    ('decrement_budget: unknown region', $q$SELECT grse.decrement_budget('00000000-0000-0000-0000-0000000000f9', 100, NULL, 'posting', 'x')$q$),
    ('decrement_budget: inactive region', $q$SELECT grse.decrement_budget('00000000-0000-0000-0000-0000000000f2', 100, NULL, 'posting', 'x')$q$),
    ('decrement_budget: job_type ''video''', $q$SELECT grse.decrement_budget('00000000-0000-0000-0000-0000000000f1', 100, NULL, 'video', 'x')$q$),
    ('check_budget: region_id NULL', $q$SELECT * FROM grse.check_budget(NULL, 100)$q$),
    ('check_budget: cost NULL', $q$SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000f1', NULL)$q$),
    ('check_budget: cost 0', $q$SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000f1', 0)$q$),
    ('check_budget: cost negative', $q$SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000f1', -1)$q$),
    ('check_budget: cost fractional 1.5', $q$SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000f1', 1.5)$q$),
    ('check_budget: cost fractional 0.001', $q$SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000f1', 0.001)$q$),
    ('check_budget: cost NaN', $q$SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000f1', 'NaN'::numeric)$q$),
    ('check_budget: cost Infinity', $q$SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000f1', 'Infinity'::numeric)$q$),
    ('check_budget: cost -Infinity', $q$SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000f1', '-Infinity'::numeric)$q$),
    ('check_budget: cost beyond bigint', $q$SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000f1', 9223372036854775808)$q$),
    ('check_budget: cost 1e20', $q$SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000f1', 1e20)$q$),
    ('check_budget: unknown region', $q$SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000f9', 100)$q$),
    ('check_budget: inactive region', $q$SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000f2', 100)$q$),
    ('refund_budget: region_id NULL', $q$SELECT grse.refund_budget(NULL, 100, 'x')$q$),
    ('refund_budget: amount NULL', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000f1', NULL, 'x')$q$),
    ('refund_budget: amount 0', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000f1', 0, 'x')$q$),
    ('refund_budget: amount negative', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000f1', -1, 'x')$q$),
    ('refund_budget: amount fractional 1.5', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000f1', 1.5, 'x')$q$),
    ('refund_budget: amount fractional 0.001', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000f1', 0.001, 'x')$q$),
    ('refund_budget: amount NaN', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000f1', 'NaN'::numeric, 'x')$q$),
    ('refund_budget: amount Infinity', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000f1', 'Infinity'::numeric, 'x')$q$),
    ('refund_budget: amount -Infinity', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000f1', '-Infinity'::numeric, 'x')$q$),
    ('refund_budget: amount beyond bigint', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000f1', 9223372036854775808, 'x')$q$),
    ('refund_budget: amount 1e20', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000f1', 1e20, 'x')$q$),
    ('refund_budget: unknown region', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000f9', 100, 'x')$q$),
    ('refund_budget: inactive region', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000f2', 100, 'x')$q$),
    ('refund_budget: more than refundable', $q$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000f1', 501)$q$),
    ('set_monthly_budget: region_id NULL', $q$SELECT grse.set_monthly_budget(NULL, 100)$q$),
    ('set_monthly_budget: amount NULL', $q$SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000f1', NULL)$q$),
    ('set_monthly_budget: amount 0', $q$SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000f1', 0)$q$),
    ('set_monthly_budget: amount negative', $q$SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000f1', -1)$q$),
    ('set_monthly_budget: amount fractional 1.5', $q$SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000f1', 1.5)$q$),
    ('set_monthly_budget: amount fractional 0.001', $q$SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000f1', 0.001)$q$),
    ('set_monthly_budget: amount NaN', $q$SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000f1', 'NaN'::numeric)$q$),
    ('set_monthly_budget: amount Infinity', $q$SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000f1', 'Infinity'::numeric)$q$),
    ('set_monthly_budget: amount -Infinity', $q$SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000f1', '-Infinity'::numeric)$q$),
    ('set_monthly_budget: amount beyond bigint', $q$SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000f1', 9223372036854775808)$q$),
    ('set_monthly_budget: amount 1e20', $q$SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000f1', 1e20)$q$),
    ('set_monthly_budget: unknown region', $q$SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000f9', 100)$q$),
    ('set_monthly_budget: inactive region', $q$SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000f2', 100)$q$),
    ('get_budget_stats: region_id NULL', $q$SELECT grse.get_budget_stats(NULL)$q$),
    ('get_budget_stats: unknown region', $q$SELECT grse.get_budget_stats('00000000-0000-0000-0000-0000000000f9')$q$),
    ('reset_daily_budget_spend: an argument', $q$SELECT grse.reset_daily_budget_spend(1)$q$),
    ('reset_monthly_budgets: an argument', $q$SELECT grse.reset_monthly_budgets('00000000-0000-0000-0000-0000000000f1'::uuid)$q$),
    ('roll_over_budget_periods: unknown region', $q$SELECT grse.roll_over_budget_periods('00000000-0000-0000-0000-0000000000f9')$q$),
    ('compute_region_pressure: region_id NULL', $q$SELECT grse.compute_region_pressure(NULL)$q$),
    ('compute_region_pressure: unknown region', $q$SELECT grse.compute_region_pressure('00000000-0000-0000-0000-0000000000f9')$q$),
    ('compute_region_capacity: region_id NULL', $q$SELECT grse.compute_region_capacity(NULL)$q$),
    ('compute_region_capacity: unknown region', $q$SELECT grse.compute_region_capacity('00000000-0000-0000-0000-0000000000f9')$q$),
    ('update_scaling_mode: region_id NULL', $q$SELECT grse.update_scaling_mode(NULL)$q$),
    ('update_scaling_mode: unknown region', $q$SELECT grse.update_scaling_mode('00000000-0000-0000-0000-0000000000f9')$q$),
    ('update_scaling_mode: inactive region', $q$SELECT grse.update_scaling_mode('00000000-0000-0000-0000-0000000000f2')$q$),
    ('update_pressure_scores: region_id NULL', $q$SELECT grse.update_pressure_scores(NULL, '{"posting": 1}')$q$),
    ('update_pressure_scores: activity NULL', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', NULL)$q$),
    ('update_pressure_scores: unknown region', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f9', '{"posting": 1}')$q$),
    ('update_pressure_scores: inactive region', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f2', '{"posting": 1}')$q$),
    ('update_pressure_scores: activity an array', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '[1, 2]')$q$),
    ('update_pressure_scores: activity a number', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '3')$q$),
    ('update_pressure_scores: activity a string', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '"posting"')$q$),
    ('update_pressure_scores: activity JSON null', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', 'null')$q$),
    ('update_pressure_scores: unknown key video', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '{"video": 1}')$q$),
    ('update_pressure_scores: key in capitals', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '{"Posting": 1}')$q$),
    ('update_pressure_scores: negative count', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '{"posting": -1}')$q$),
    ('update_pressure_scores: fractional count', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '{"posting": 1.5}')$q$),
    ('update_pressure_scores: negative fractional count', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '{"creative": -0.5}')$q$),
    ('update_pressure_scores: count as string', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '{"posting": "3"}')$q$),
    ('update_pressure_scores: count true', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '{"posting": true}')$q$),
    ('update_pressure_scores: count null', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '{"posting": null}')$q$),
    ('update_pressure_scores: count an object', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '{"posting": {"n": 1}}')$q$),
    ('update_pressure_scores: intel and performance both', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '{"intel": 1, "performance": 2}')$q$),
    ('update_pressure_scores: count beyond 2^64', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '{"posting": 18446744073709551616}')$q$),
    ('update_pressure_scores: count 2^63 = bigint max + 1', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '{"posting": 9223372036854775808}')$q$),
    ('update_pressure_scores: count 1e30', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '{"posting": 1e30}')$q$),
    ('update_pressure_scores: count -1e30', $q$SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '{"posting": -1e30}')$q$),
    ('generate_region_snapshot: region_id NULL', $q$SELECT grse.generate_region_snapshot(NULL)$q$),
    ('generate_region_snapshot: unknown region', $q$SELECT grse.generate_region_snapshot('00000000-0000-0000-0000-0000000000f9')$q$),
    ('save_region_snapshot: region_id NULL', $q$SELECT grse.save_region_snapshot(NULL)$q$),
    ('save_region_snapshot: unknown region', $q$SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f9')$q$),
    ('save_region_snapshot: period_type NULL', $q$SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f1', NULL)$q$),
    ('save_region_snapshot: period_type ''monthly''', $q$SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f1', 'monthly')$q$),
    ('get_region_scaling_summary: region_id NULL', $q$SELECT grse.get_region_scaling_summary(NULL)$q$);

CREATE TEMP TABLE checksum_before AS SELECT grse_checksum() AS sum;

SELECT c.name AS "case", r.state AS sqlstate, r.message, r.unchanged
  FROM bad_cases c, LATERAL try_case(c.sql) r
 ORDER BY c.n;

-- the whole battery changed nothing
SELECT (SELECT sum FROM checksum_before) = grse_checksum() AS "checksums equal";
SELECT (SELECT count(*) FROM grse.region_budget_transactions) AS ledger_rows,
       (SELECT count(*) FROM grse.region_mode_transitions) AS transitions,
       (SELECT count(*) FROM grse.budget_rollovers) AS rollovers;
SELECT r.slug, s.ai_budget_monthly, s.ai_budget_remaining, s.ai_spend_today, s.period_spent,
       s.posting_pressure, s.overall_pressure, s.scaling_mode
  FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id ORDER BY r.slug;

-- ---------------------------------------------------------------------------
-- Not errors: what the bad-input rules must not refuse.
-- ---------------------------------------------------------------------------
-- the summary and the reads answer for unknown / inactive regions as documented
SELECT grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000f9') IS NULL AS unknown_summary_is_null,
       grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000f2') ->> 'region_slug' AS inactive_summary,
       grse.compute_region_pressure('00000000-0000-0000-0000-0000000000f2') AS inactive_pressure,
       grse.compute_region_capacity('00000000-0000-0000-0000-0000000000f2') AS inactive_capacity,
       grse.get_budget_stats('00000000-0000-0000-0000-0000000000f2') -> 'remaining' AS inactive_remaining;
-- roll_over_budget_periods(NULL) means every region; nothing is due
SELECT grse.roll_over_budget_periods(NULL) AS rolled_all, grse.roll_over_budget_periods() AS rolled_default,
       grse.roll_over_budget_periods('00000000-0000-0000-0000-0000000000f2') AS rolled_inactive;
SELECT (SELECT sum FROM checksum_before) = grse_checksum() AS "still unchanged";
-- whole numbers written with zeros or an exponent are whole: 1.00 -> 1 cent, 1e3 -> 1000 cents;
-- a NULL agency and NULL job type are allowed
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 1.00) AS one_cent,
       grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 1e3, NULL, NULL) AS thousand;
-- an insufficient budget is an answer, not an error
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 9223372036854775807) AS too_much;
SELECT allowed, remaining, requested, message FROM grse.check_budget('00000000-0000-0000-0000-0000000000f1', 9223372036854775807);
SELECT t.transaction_type, t.amount, t.delta, t.balance_after, t.job_type
  FROM grse.region_budget_transactions t
 WHERE t.region_id = '00000000-0000-0000-0000-0000000000f1' ORDER BY t.id;
-- a count of 0, and an empty activity object, are fine (0 decays the pressure: 20·0.7 = 14.00)
SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '{"posting": 0}') -> 'posting_pressure' AS decayed,
       grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', '{}') -> 'posting_pressure' AS unchanged;

-- ---------------------------------------------------------------------------
-- Activity counts, notation by notation. A count is a whole number in any
-- JSON notation (3, 3.0, 3e2, -0), up to the bigint maximum
-- 9223372036854775807; a negative or fractional count is 22023, a whole
-- number beyond bigint 22003. (jsonb keeps 3.0 and 3.0000000000000001 as
-- written and turns 3e2 into 300, 3.00e1 into 30.0, -0 into 0, 1e30 and 1e400
-- into their digits.) Each case starts from posting pressure 0, so an
-- accepted count n leaves min(100, 3·n); a refused one leaves 0.00.
-- The rule holds exactly, not up to float precision: 9223372036854775807.0
-- is whole and within bigint; 3.0000000000000001 is not whole (it must not
-- be rounded to 3); 1e400 is a whole number beyond bigint.
-- Messages longer than 100 characters are cut to 97 + '...'.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.count_case(count text, OUT state text, OUT message text, OUT pressure_after numeric)
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE grse.region_scaling_state SET posting_pressure = 0 WHERE region_id = '00000000-0000-0000-0000-0000000000f1';
    BEGIN
        PERFORM grse.update_pressure_scores('00000000-0000-0000-0000-0000000000f1', format('{"posting": %s}', count)::jsonb);
        state := '-----';
        message := 'no error';
    EXCEPTION WHEN OTHERS THEN
        state := SQLSTATE;
        message := CASE WHEN length(SQLERRM) > 100 THEN left(SQLERRM, 97) || '...' ELSE SQLERRM END;
    END;
    SELECT s.posting_pressure INTO pressure_after
      FROM grse.region_scaling_state s WHERE s.region_id = '00000000-0000-0000-0000-0000000000f1';
END
$$;
SELECT c.count, r.state AS sqlstate, r.message, r.pressure_after
  FROM (VALUES (1, '3'), (2, '3.0'), (3, '3e2'), (4, '3.00e1'), (5, '-0'), (6, '0.0'),
               (7, '9223372036854775807'), (8, '9223372036854775807.0'),
               (9, '-1'), (10, '-0.5'), (11, '-1e30'), (12, '1.5'), (13, '3.0000000000000001'),
               (14, '9223372036854775808'), (15, '9223372036854775808.0'), (16, '1e30'), (17, '1e400')
       ) AS c(n, count), LATERAL count_case(c.count) r
 ORDER BY c.n;

-- clean up the helpers
DROP FUNCTION public.grse_checksum(), public.try_case(text), public.count_case(text);
