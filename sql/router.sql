-- The seed's four routing operations, as thin wrappers of grse.route_job().
-- Each returns a grse.job_route, or NULL when no region admits the job.

CREATE FUNCTION grse.route_posting_job(tenant_id uuid, region_id uuid DEFAULT NULL, priority integer DEFAULT NULL,
                                       estimated_cost numeric DEFAULT 0, allow_fallback boolean DEFAULT false)
RETURNS grse.job_route
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    result grse.job_route;
BEGIN
    IF tenant_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT r.* INTO result
      FROM grse.route_job('posting', region_id, tenant_id, priority, estimated_cost, allow_fallback) r;
    RETURN result;
END
$$;

CREATE FUNCTION grse.route_region_job(job_type text, region_id uuid, tenant_id uuid, priority integer,
                                      estimated_cost numeric, allow_fallback boolean)
RETURNS grse.job_route
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    result grse.job_route;
BEGIN
    IF region_id IS NULL THEN
        RAISE EXCEPTION 'region_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT r.* INTO result
      FROM grse.route_job(job_type, region_id, tenant_id, priority, estimated_cost, allow_fallback) r;
    RETURN result;
END
$$;

CREATE FUNCTION grse.route_orchestration_job(region_id uuid, tenant_id uuid DEFAULT NULL, priority integer DEFAULT NULL,
                                             estimated_cost numeric DEFAULT 0, allow_fallback boolean DEFAULT false)
RETURNS grse.job_route
LANGUAGE sql VOLATILE
AS $$ SELECT grse.route_region_job('orchestration', region_id, tenant_id, priority, estimated_cost, allow_fallback) $$;

CREATE FUNCTION grse.route_creative_job(region_id uuid, tenant_id uuid DEFAULT NULL, priority integer DEFAULT NULL,
                                        estimated_cost numeric DEFAULT 0, allow_fallback boolean DEFAULT false)
RETURNS grse.job_route
LANGUAGE sql VOLATILE
AS $$ SELECT grse.route_region_job('creative', region_id, tenant_id, priority, estimated_cost, allow_fallback) $$;

CREATE FUNCTION grse.route_performance_job(region_id uuid, tenant_id uuid DEFAULT NULL, priority integer DEFAULT NULL,
                                           estimated_cost numeric DEFAULT 0, allow_fallback boolean DEFAULT false)
RETURNS grse.job_route
LANGUAGE sql VOLATILE
AS $$ SELECT grse.route_region_job('intel', region_id, tenant_id, priority, estimated_cost, allow_fallback) $$;
