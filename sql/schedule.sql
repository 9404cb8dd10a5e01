-- pg_cron scheduling (optional). Both functions are idempotent: jobs are named,
-- and pg_cron's cron.schedule(name, ...) replaces a job of the same name.

CREATE FUNCTION grse.default_jobs()
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

CREATE FUNCTION grse.require_pg_cron() RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name, and CREATE EXTENSION pg_cron; or call the grse jobs by hand (see grse.default_jobs()).';
    END IF;
END
$$;

-- Registers (or refreshes) the default jobs; returns them.
CREATE FUNCTION grse.schedule_default_jobs()
RETURNS TABLE (job_name text, schedule text, command text, jobid bigint)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    j record;
BEGIN
    PERFORM grse.require_pg_cron();
    FOR j IN SELECT * FROM grse.default_jobs() LOOP
        job_name := j.job_name;
        schedule := j.schedule;
        command := j.command;
        EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO jobid USING j.job_name, j.schedule, j.command;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Removes the default jobs that are registered; returns how many it removed.
CREATE FUNCTION grse.unschedule_default_jobs() RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    n integer := 0;
    name text;
    found_job boolean;
BEGIN
    PERFORM grse.require_pg_cron();
    FOR name IN SELECT d.job_name FROM grse.default_jobs() d LOOP
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM cron.job WHERE jobname = $1)' INTO found_job USING name;
        IF found_job THEN
            EXECUTE 'SELECT cron.unschedule($1)' USING name;
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END
$$;
