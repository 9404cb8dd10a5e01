-- JSON functions in the shapes of the seed's HTTP endpoints (camelCase keys),
-- ready to expose through PostgREST / Supabase RPC:
--   GET  /api/regions/health?sortBy&order&includeRisk -> grse.api_regions_health
--   GET  /api/regions/{id}/snapshot?includeHistory&periods -> grse.api_get_region_snapshot
--   POST /api/regions/{id}/snapshot {periodType}   -> grse.api_save_region_snapshot

-- One region's health in the endpoint's camelCase shape.
CREATE FUNCTION grse.api_region_health_json(h grse.region_scaling_state, r grse.regions) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'regionId', r.id, 'regionName', r.name, 'regionSlug', r.slug,
        'scalingMode', h.scaling_mode, 'capacityScore', h.capacity_score,
        'overallPressure', h.overall_pressure,
        'budgetPercentRemaining', grse.budget_percent_remaining(h.ai_budget_remaining, h.ai_budget_monthly),
        'warningIndex', h.warning_index, 'fatigueScore', h.fatigue_score,
        'pressures', pg_catalog.jsonb_build_object(
            'posting', h.posting_pressure, 'orchestration', h.orchestration_pressure,
            'creative', h.creative_pressure, 'intel', h.intel_pressure),
        'budget', pg_catalog.jsonb_build_object(
            'monthly', h.ai_budget_monthly, 'remaining', h.ai_budget_remaining, 'spentToday', h.ai_spend_today),
        'jobsInQueue', h.jobs_in_queue,
        'updatedAt', h.updated_at)
$$;

-- The global risk JSON of compute_global_risk(), in camelCase.
CREATE FUNCTION grse.api_global_risk_json(risk jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.jsonb_build_object(
        'overallRisk', risk -> 'overall_risk',
        'riskLevel', risk -> 'risk_level',
        'conflicts', COALESCE((
            SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                       'type', c -> 'type', 'regionId', c -> 'region_id', 'regionName', c -> 'region_name',
                       'severity', c -> 'severity', 'message', c -> 'message', 'detectedAt', c -> 'detected_at')
                   ORDER BY ord)
              FROM pg_catalog.jsonb_array_elements(risk -> 'conflicts') WITH ORDINALITY AS e(c, ord)), '[]'::jsonb),
        'recommendations', risk -> 'recommendations',
        'assessedAt', risk -> 'assessed_at')
$$;

-- GET /api/regions/health: {success, regions, globalRisk (only with include_risk)}.
-- sort_by: capacity, pressure, budget, warning or name (NULL: by warning index, as
-- get_all_regions_health); sort_order: asc or desc.
CREATE FUNCTION grse.api_regions_health(sort_by text DEFAULT NULL, sort_order text DEFAULT 'desc',
                                        include_risk boolean DEFAULT false) RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    regions jsonb;
    result jsonb;
BEGIN
    IF sort_order IS NULL THEN
        RAISE EXCEPTION 'sort_order must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF sort_order NOT IN ('asc', 'desc') THEN
        RAISE EXCEPTION 'unknown sort order "%"', sort_order USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use asc or desc.';
    END IF;
    IF sort_by IS NOT NULL AND sort_by NOT IN ('capacity', 'pressure', 'budget', 'warning', 'name') THEN
        RAISE EXCEPTION 'unknown sort key "%"', sort_by USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use capacity, pressure, budget, warning or name.';
    END IF;
    IF include_risk IS NULL THEN
        RAISE EXCEPTION 'include_risk must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT COALESCE(pg_catalog.jsonb_agg(grse.api_region_health_json(s, r) ORDER BY
               CASE WHEN sort_by = 'name' AND sort_order = 'asc' THEN r.name END ASC,
               CASE WHEN sort_by = 'name' AND sort_order = 'desc' THEN r.name END DESC,
               (CASE sort_order WHEN 'asc' THEN 1 ELSE -1 END) * CASE COALESCE(sort_by, 'warning')
                   WHEN 'capacity' THEN s.capacity_score
                   WHEN 'pressure' THEN s.overall_pressure
                   WHEN 'budget' THEN grse.budget_percent_remaining(s.ai_budget_remaining, s.ai_budget_monthly)
                   WHEN 'warning' THEN s.warning_index
                   ELSE 0 END,
               r.name, r.id), '[]'::jsonb)
      INTO regions
      FROM grse.regions r JOIN grse.region_scaling_state s0 ON s0.region_id = r.id
     CROSS JOIN LATERAL grse.with_slots(s0) s
     WHERE r.active;
    result := pg_catalog.jsonb_build_object('success', true, 'regions', regions);
    IF include_risk THEN
        result := result || pg_catalog.jsonb_build_object('globalRisk', grse.api_global_risk_json(grse.compute_global_risk()));
    END IF;
    RETURN result;
END
$$;

-- GET /api/regions/{id}/snapshot: {success, summary, snapshot, history}; an unknown
-- region answers {success: false, status: 404, error}.
CREATE FUNCTION grse.api_get_region_snapshot(region_id uuid, include_history boolean DEFAULT false,
                                             periods integer DEFAULT 24) RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    summary jsonb;
    history jsonb := '[]'::jsonb;
BEGIN
    IF region_id IS NULL THEN
        RAISE EXCEPTION 'region_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF include_history IS NULL THEN
        RAISE EXCEPTION 'include_history must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF periods IS NULL THEN
        RAISE EXCEPTION 'periods must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF periods < 1 OR periods > 1000 THEN
        RAISE EXCEPTION 'periods must lie in [1, 1000], got %', periods USING ERRCODE = 'invalid_parameter_value';
    END IF;
    summary := grse.get_region_scaling_summary(region_id);
    IF summary IS NULL THEN
        RETURN pg_catalog.jsonb_build_object('success', false, 'status', 404,
                                             'error', 'Region not found', 'regionId', region_id);
    END IF;
    IF include_history THEN
        SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'createdAt', t.created_at, 'periodType', t.period_type, 'avgCapacity', t.avg_capacity,
                   'peakPressure', t.peak_pressure, 'budgetUsed', t.budget_used,
                   'scalingMode', t.scaling_mode, 'warningIndex', t.warning_index) ORDER BY t.created_at), '[]'::jsonb)
          INTO history
          FROM grse.get_region_health_trend(region_id, periods) t;
    END IF;
    RETURN pg_catalog.jsonb_build_object('success', true, 'summary', summary,
                                         'snapshot', grse.generate_region_snapshot(region_id),
                                         'history', history);
END
$$;

-- POST /api/regions/{id}/snapshot: {success, message, periodType}; an unknown region
-- answers {success: false, status: 404, error}.
CREATE FUNCTION grse.api_save_region_snapshot(region_id uuid, period_type text DEFAULT 'hourly') RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF region_id IS NULL THEN
        RAISE EXCEPTION 'region_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF period_type IS NULL THEN
        RAISE EXCEPTION 'period_type must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF period_type NOT IN ('hourly', 'daily', 'weekly') THEN
        RAISE EXCEPTION 'unknown period type "%"', period_type USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use hourly, daily or weekly.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM grse.regions r WHERE r.id = api_save_region_snapshot.region_id) THEN
        RETURN pg_catalog.jsonb_build_object('success', false, 'status', 404,
                                             'error', 'Region not found', 'regionId', region_id);
    END IF;
    PERFORM grse.save_region_snapshot(region_id, period_type);
    RETURN pg_catalog.jsonb_build_object('success', true, 'message', 'Snapshot saved', 'periodType', period_type);
END
$$;
