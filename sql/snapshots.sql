-- Snapshots: point-in-time region state, saved into grse.region_scaling_history.

-- A region's state now, as JSON (the summary plus generated_at).
CREATE FUNCTION grse.generate_region_snapshot(region_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    summary jsonb;
BEGIN
    IF region_id IS NULL THEN
        RAISE EXCEPTION 'region_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    summary := grse.get_region_scaling_summary(region_id);
    IF summary IS NULL THEN
        RAISE EXCEPTION 'region % not found', region_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN summary || pg_catalog.jsonb_build_object('generated_at', pg_catalog.now());
END
$$;

-- Saves a snapshot of a region and returns its history row id.
--   hourly: avg_capacity and peak_pressure are the current capacity and pressure;
--   daily:  the mean capacity and peak pressure of the hourly snapshots of the last day;
--   weekly: the same over the daily snapshots of the last 7 days.
-- (With no finer snapshots in the window, the current values stand in.)
-- budget_used is the gross spend of the window (1 hour, 1 day, 7 days) from the ledger.
CREATE FUNCTION grse.save_region_snapshot(region_id uuid, period_type text DEFAULT 'hourly') RETURNS uuid
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    snap jsonb;
    win interval;
    finer text;
    cap numeric;
    peak numeric;
    used bigint;
    n integer;
    new_id uuid;
BEGIN
    IF period_type IS NULL THEN
        RAISE EXCEPTION 'period_type must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    CASE period_type
        WHEN 'hourly' THEN win := interval '1 hour'; finer := NULL;
        WHEN 'daily' THEN win := interval '1 day'; finer := 'hourly';
        WHEN 'weekly' THEN win := interval '7 days'; finer := 'daily';
        ELSE RAISE EXCEPTION 'unknown period type "%"', period_type USING ERRCODE = 'invalid_parameter_value',
                 HINT = 'Use hourly, daily or weekly.';
    END CASE;
    snap := grse.generate_region_snapshot(region_id);

    SELECT pg_catalog.round(avg(h.avg_capacity), 2), max(h.peak_pressure), count(*)
      INTO cap, peak, n
      FROM grse.region_scaling_history h
     WHERE h.region_id = save_region_snapshot.region_id AND h.period_type = finer
       AND h.created_at > pg_catalog.now() - win;
    IF n = 0 THEN
        cap := (snap ->> 'capacity_score')::numeric;
        peak := (snap ->> 'overall_pressure')::numeric;
    END IF;

    SELECT COALESCE(sum(l.amount), 0) INTO used
      FROM grse.region_budget_transactions l
     WHERE l.region_id = save_region_snapshot.region_id AND l.transaction_type = 'spend'
       AND l.created_at > pg_catalog.now() - win;

    INSERT INTO grse.region_scaling_history (region_id, snapshot, period_type, avg_capacity, peak_pressure, budget_used)
    VALUES (region_id,
            snap || pg_catalog.jsonb_build_object('period_type', period_type, 'aggregated_from', n),
            period_type, cap, peak, used)
    RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

-- Saves a snapshot of every active region; returns how many (what pg_cron runs).
CREATE FUNCTION grse.save_all_snapshots(period_type text DEFAULT 'hourly') RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    n integer := 0;
    r record;
BEGIN
    IF period_type IS NULL THEN
        RAISE EXCEPTION 'period_type must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF period_type NOT IN ('hourly', 'daily', 'weekly') THEN
        RAISE EXCEPTION 'unknown period type "%"', period_type USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use hourly, daily or weekly.';
    END IF;
    FOR r IN SELECT id FROM grse.regions WHERE active ORDER BY id LOOP
        PERFORM grse.save_region_snapshot(r.id, period_type);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

-- Deletes history older than policy.history_retention; returns how many rows.
CREATE FUNCTION grse.prune_history() RETURNS integer
LANGUAGE sql VOLATILE
AS $$
    WITH d AS (
        DELETE FROM grse.region_scaling_history h
         USING grse.policy p
         WHERE h.created_at < pg_catalog.now() - p.history_retention
        RETURNING 1)
    SELECT count(*)::integer FROM d
$$;
