-- Read-side functions: plain SQL over the state the triggers keep current.

-- Percent of the monthly budget remaining, 2 decimals; 0 when there is no monthly budget.
-- This function and get_all_regions_health() are inlined by the planner (so they carry no
-- SET search_path, see privileges.sql); every operator and type in them is therefore
-- schema-qualified, so the caller's search_path cannot change what they compute.
-- round(remaining * 100 / monthly, 2) is computed in bigint arithmetic when the amounts
-- allow it (below 4·10^14 cents: no overflow), as floor((2·10000·remaining + monthly) /
-- (2·monthly)) hundredths — the same value without a numeric division per row (the health
-- list computes it for every region).
-- (Not declared STRICT, so that the planner can inline it: it answers NULL for NULL itself.)
CREATE FUNCTION grse.budget_percent_remaining(remaining bigint, monthly bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN remaining IS NULL OR monthly IS NULL THEN NULL::pg_catalog.numeric
                WHEN monthly OPERATOR(pg_catalog.<=) 0 THEN 0::pg_catalog.numeric
                WHEN GREATEST(remaining, monthly) OPERATOR(pg_catalog.<) 400000000000000
                THEN ((GREATEST(remaining, 0) OPERATOR(pg_catalog.*) 20000 OPERATOR(pg_catalog.+) monthly)
                      OPERATOR(pg_catalog./) (2 OPERATOR(pg_catalog.*) monthly))
                     OPERATOR(pg_catalog.*) 0.01::pg_catalog.numeric
                ELSE pg_catalog.round(GREATEST(remaining, 0)::pg_catalog.numeric OPERATOR(pg_catalog.*) 100
                                      OPERATOR(pg_catalog./) monthly, 2) END
$$;

-- What a region's budget slots hold: add to the state row's pool for the true totals.
CREATE FUNCTION grse.slot_totals(region_id uuid, OUT balance bigint, OUT spent_today bigint, OUT period_spent bigint)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT COALESCE(sum(b.balance), 0)::bigint, COALESCE(sum(b.spent_today), 0)::bigint,
           COALESCE(sum(b.period_spent), 0)::bigint
      FROM grse.region_budget_slots b WHERE b.region_id = slot_totals.region_id
$$;

-- A state row as the read functions show it, now: its budget slots counted in (true
-- remaining, spend of the day and of the period, and the capacity from the true remaining),
-- and a day or month that has ended shown as its roll-over will leave it (spend of the day
-- 0; a new month: remaining back to the monthly budget less what open holds keep, period
-- totals 0, and the capacity, warning index and mode judged again), so that reads answer the
-- same before and after the roll-over, without writing (a read-only transaction, a hot
-- standby). The row itself when neither applies. Every read function reads state through
-- this (or inlines the same).
CREATE FUNCTION grse.with_slots(s grse.region_scaling_state) RETURNS grse.region_scaling_state
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    t record;
    e record;
    tz text;
    b record;
BEGIN
    IF pg_catalog.now() >= s.day_ends_at THEN
        -- a day ends with every month: whatever ended, the slots are emptied by the roll-over
        SELECT r.timezone INTO tz FROM grse.regions r WHERE r.id = s.region_id;
        b := grse.period_bounds('day', tz, pg_catalog.now());
        s.day_started_at := b.starts_at;
        s.day_ends_at := b.ends_at;
        s.ai_spend_today := 0;
        s.refunded_today := 0;
        IF pg_catalog.now() >= s.month_ends_at THEN
            b := grse.period_bounds('month', tz, pg_catalog.now());
            s.month_started_at := b.starts_at;
            s.month_ends_at := b.ends_at;
            s.ai_budget_remaining := s.ai_budget_monthly - s.ai_budget_held;
            s.period_spent := 0;
            s.period_refunded := 0;
            -- evaluate_region reads the remaining budget as rolled over (slots.rs, true_remaining_sql)
            SELECT * INTO e FROM grse.evaluate_region(s.region_id);
            s.capacity_score := e.capacity_score;
            s.warning_index := e.warning_index;
            s.scaling_mode := e.scaling_mode;
        ELSIF s.slot_allotment > 0 THEN
            t := grse.slot_totals(s.region_id);
            s.ai_budget_remaining := s.ai_budget_remaining + t.balance;
            s.period_spent := s.period_spent + t.period_spent;
            s.capacity_score := grse.compute_region_capacity(s.region_id);
        END IF;
        s.slot_allotment := 0;
    ELSIF s.slot_allotment > 0 THEN
        t := grse.slot_totals(s.region_id);
        s.ai_budget_remaining := s.ai_budget_remaining + t.balance;
        s.ai_spend_today := s.ai_spend_today + t.spent_today;
        s.period_spent := s.period_spent + t.period_spent;
        s.capacity_score := grse.compute_region_capacity(s.region_id);
    END IF;
    RETURN s;
END
$$;

-- The seed's helper: every active region's health, most warned first.
CREATE FUNCTION grse.get_all_regions_health()
RETURNS TABLE (region_id uuid, region_name text, scaling_mode text, capacity_score numeric,
               overall_pressure numeric, budget_percent_remaining numeric, warning_index numeric)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    -- grse.with_slots inlined: a region whose slots hold budget reads its true totals, one
    -- whose month has ended reads as rolled over (remaining = monthly - held, judged again)
    SELECT r.id, r.name,
           CASE WHEN pg_catalog.now() OPERATOR(pg_catalog.>=) s.month_ends_at
                THEN (SELECT e.scaling_mode FROM grse.evaluate_region(r.id) e) ELSE s.scaling_mode END,
           CASE WHEN s.slot_allotment OPERATOR(pg_catalog.>) 0 OR pg_catalog.now() OPERATOR(pg_catalog.>=) s.month_ends_at
                THEN grse.compute_region_capacity(r.id)
                ELSE s.capacity_score END,
           s.overall_pressure,
           CASE WHEN pg_catalog.now() OPERATOR(pg_catalog.>=) s.month_ends_at
                THEN grse.budget_percent_remaining(s.ai_budget_monthly OPERATOR(pg_catalog.-) s.ai_budget_held,
                                                   s.ai_budget_monthly)
                WHEN s.slot_allotment OPERATOR(pg_catalog.>) 0
                THEN grse.budget_percent_remaining(
                         s.ai_budget_remaining OPERATOR(pg_catalog.+) (grse.slot_totals(r.id)).balance,
                         s.ai_budget_monthly)
                ELSE grse.budget_percent_remaining(s.ai_budget_remaining, s.ai_budget_monthly) END,
           CASE WHEN pg_catalog.now() OPERATOR(pg_catalog.>=) s.month_ends_at
                THEN (SELECT e.warning_index FROM grse.evaluate_region(r.id) e) ELSE s.warning_index END
      FROM grse.regions r
      JOIN grse.region_scaling_state s ON s.region_id OPERATOR(pg_catalog.=) r.id
     WHERE r.active
     ORDER BY 7 DESC, r.name, r.id
$$;

-- The seed's helper: one region's scaling summary as JSON; NULL for an unknown region.
CREATE FUNCTION grse.get_region_scaling_summary(region_id uuid) RETURNS jsonb
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
               -- where the pressure is heading: the least-squares line through the last 24 hourly
               -- snapshots, one hour ahead (NULL with fewer than two snapshots)
               'pressure_slope_per_hour', t.slope_per_hour,
               'projected_pressure', t.projected_pressure,
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
                   'held', s.ai_budget_held,
                   'spent_today', s.ai_spend_today,
                   'spent_this_month', s.ai_budget_monthly - s.ai_budget_remaining,
                   'percent_remaining', grse.budget_percent_remaining(s.ai_budget_remaining, s.ai_budget_monthly)),
               'utilization', pg_catalog.jsonb_build_object(
                   'active_agencies', s.active_agencies,
                   'active_clients', s.active_clients,
                   'jobs_in_queue', s.jobs_in_queue,
                   'jobs_queued', (SELECT count(*) FROM grse.jobs j WHERE j.region_id = r.id AND j.status = 'queued'),
                   'jobs_running', (SELECT count(*) FROM grse.jobs j WHERE j.region_id = r.id AND j.status = 'running'),
                   'jobs_queued_manually', s.jobs_queued_manually),
               'updated_at', s.updated_at)
      INTO result
      FROM grse.regions r
      JOIN grse.region_scaling_state s0 ON s0.region_id = r.id
     CROSS JOIN LATERAL grse.with_slots(s0) s
     CROSS JOIN LATERAL grse.pressure_trend(r.id) t
     WHERE r.id = get_region_scaling_summary.region_id;
    RETURN result;
END
$$;

-- Budget statistics of one region; a period that has ended reads as rolled over (with_slots),
-- without writing or locking anything.
CREATE FUNCTION grse.get_budget_stats(region_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    result jsonb;
BEGIN
    IF region_id IS NULL THEN
        RAISE EXCEPTION 'region_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- visible to the caller? (row-level security: a tenant sees only its regions)
    IF NOT EXISTS (SELECT 1 FROM grse.region_scaling_state s WHERE s.region_id = get_budget_stats.region_id) THEN
        RAISE EXCEPTION 'region % not found', get_budget_stats.region_id USING ERRCODE = 'no_data_found';
    END IF;
    SELECT pg_catalog.jsonb_build_object(
               'region_id', s.region_id,
               'monthly', s.ai_budget_monthly,
               'remaining', s.ai_budget_remaining,
               'held', s.ai_budget_held,
               'open_holds', (SELECT count(*) FROM grse.budget_holds h
                               WHERE h.region_id = s.region_id AND h.status = 'held'),
               'jobs_queued', (SELECT count(*) FROM grse.jobs j WHERE j.region_id = s.region_id AND j.status = 'queued'),
               'jobs_running', (SELECT count(*) FROM grse.jobs j
                                 WHERE j.region_id = s.region_id AND j.status = 'running'),
               'spent_today', s.ai_spend_today,
               'refunded_today', s.refunded_today,
               'spent_this_month', s.ai_budget_monthly - s.ai_budget_remaining,
               'percent_used', CASE WHEN s.ai_budget_monthly > 0
                                    THEN pg_catalog.round((s.ai_budget_monthly - s.ai_budget_remaining)::numeric * 100
                                                          / s.ai_budget_monthly, 2)
                                    ELSE 0 END,
               'percent_remaining', grse.budget_percent_remaining(s.ai_budget_remaining, s.ai_budget_monthly),
               'period_spent', s.period_spent,
               'period_refunded', s.period_refunded,
               'period_started_at', s.month_started_at,
               'period_ends_at', s.month_ends_at,
               'recent_transactions', COALESCE((
                   SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                              'id', t.id, 'transaction_type', t.transaction_type, 'amount', t.amount,
                              'delta', t.delta, 'balance_after', t.balance_after, 'agency_id', t.agency_id,
                              'job_type', t.job_type, 'description', t.description, 'created_at', t.created_at,
                              'slot_no', t.slot_no)
                          ORDER BY t.id DESC)
                     FROM (SELECT * FROM grse.region_budget_transactions l
                            WHERE l.region_id = s.region_id ORDER BY l.id DESC LIMIT 10) t), '[]'::jsonb),
               'spend_by_job_type', COALESCE((
                   SELECT pg_catalog.jsonb_object_agg(j.job_type, j.total)
                     FROM (SELECT COALESCE(l.job_type, 'unknown') AS job_type, sum(l.amount) AS total
                             FROM grse.region_budget_transactions l
                            WHERE l.region_id = s.region_id AND l.transaction_type = 'spend'
                              AND l.created_at >= s.month_started_at
                            GROUP BY 1) j), '{}'::jsonb))
      INTO result
      FROM grse.region_scaling_state s0
     CROSS JOIN LATERAL grse.with_slots(s0) s
     WHERE s0.region_id = get_budget_stats.region_id;
    RETURN result;
END
$$;
