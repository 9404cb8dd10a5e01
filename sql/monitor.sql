-- Monitor read functions: region health lists and trends.

-- Every active region's health, by name; pinned_mode/pinned_until show an operator's pin
-- (NULL when not pinned).
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

-- Active regions sorted by one metric: capacity, pressure, budget (percent
-- remaining) or warning; order asc or desc; ties by name.
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

-- A region's recent hourly snapshots, oldest first. pressure_slope_per_hour (the same on every
-- row) is the slope of the least-squares line through these snapshots' pressures, in points per
-- hour (grse.pressure_trend; NULL with fewer than two snapshots).
CREATE FUNCTION grse.get_region_health_trend(region_id uuid, periods integer DEFAULT 24)
RETURNS TABLE (created_at timestamptz, period_type text, avg_capacity numeric, peak_pressure numeric,
               budget_used bigint, scaling_mode text, warning_index numeric, pressure_slope_per_hour numeric)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    slope numeric;
BEGIN
    IF get_region_health_trend.region_id IS NULL THEN
        RAISE EXCEPTION 'region_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF periods IS NULL THEN
        RAISE EXCEPTION 'periods must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF periods < 1 OR periods > 1000 THEN
        RAISE EXCEPTION 'periods must lie in [1, 1000], got %', periods USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM grse.regions r WHERE r.id = get_region_health_trend.region_id) THEN
        RAISE EXCEPTION 'region % not found', get_region_health_trend.region_id USING ERRCODE = 'no_data_found';
    END IF;
    slope := (SELECT t.slope_per_hour FROM grse.pressure_trend(get_region_health_trend.region_id, periods) t);
    RETURN QUERY
        SELECT t.created_at, t.period_type, t.avg_capacity, t.peak_pressure, t.budget_used,
               t.snapshot ->> 'scaling_mode', (t.snapshot ->> 'warning_index')::numeric, slope
          FROM (SELECT * FROM grse.region_scaling_history h
                 WHERE h.region_id = get_region_health_trend.region_id AND h.period_type = 'hourly'
                 ORDER BY h.created_at DESC, h.id DESC
                 LIMIT periods) t
         ORDER BY t.created_at, t.id;
END
$$;
