-- 36_schedule: pg_cron scheduling is optional. Without pg_cron in the
-- database, schedule_default_jobs() and unschedule_default_jobs() raise 55000
-- with a clear message and hint; grse.default_jobs() lists the jobs, and each
-- job's command works when called by hand.
\ir ../common/preamble.sql

-- Runs a statement; answers its SQLSTATE, message and hint, or 'no error'.
CREATE FUNCTION pg_temp.err_hint(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    hint text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || SQLERRM || COALESCE(' (hint: ' || NULLIF(hint, '') || ')', '');
END $$;

-- The jobs, with their schedules and commands
SELECT job_name, schedule, command FROM grse.default_jobs();
SELECT count(*) AS jobs, count(DISTINCT job_name) AS distinct_names,
       bool_and(job_name LIKE 'grse-%') AS all_prefixed
  FROM grse.default_jobs();

-- Without pg_cron in this database (dropped inside this transaction if another
-- test created it; rolled back at the end)
BEGIN;
DROP EXTENSION IF EXISTS pg_cron;
SELECT count(*) AS pg_cron_in_database FROM pg_extension WHERE extname = 'pg_cron';
SELECT pg_temp.err_hint($$SELECT * FROM grse.schedule_default_jobs()$$) AS schedule;
SELECT pg_temp.err_hint($$SELECT grse.unschedule_default_jobs()$$) AS unschedule;
-- the same error twice: nothing was half-done
SELECT pg_temp.err_hint($$SELECT * FROM grse.schedule_default_jobs()$$) AS schedule_again;
ROLLBACK;

-- Every job's command works when called by hand (one active region, one inactive)
INSERT INTO grse.regions (id, name, slug, country_code, timezone, active) VALUES
    ('00000000-0000-0000-0000-0000000000c1', 'Cron By Hand', 'cron-by-hand', 'DE', 'Europe/Berlin', true),
    ('00000000-0000-0000-0000-0000000000c2', 'Cron Off',     'cron-off',     'US', 'UTC', false);
SELECT d.job_name, pg_temp.err_hint(d.command) AS by_hand
  FROM grse.default_jobs() d;
-- the three snapshot jobs saved one row each for the active region only
SELECT r.slug, h.period_type, count(*) AS rows
  FROM grse.region_scaling_history h JOIN grse.regions r ON r.id = h.region_id
 GROUP BY r.slug, h.period_type
 ORDER BY r.slug, h.period_type;
