-- Tenant isolation: an agency (grse_tenant with request.jwt.claims, as PostgREST /
-- Supabase set it) sees only its licensed regions, through tables and functions alike.
\ir ../common/preamble.sql

INSERT INTO grse.regions (id, name, slug, country_code, timezone) VALUES
    ('00000000-0000-0000-0000-0000000000a1', 'Alpha', 'alpha', 'DE', 'Europe/Berlin'),
    ('00000000-0000-0000-0000-0000000000b2', 'Beta',  'beta',  'US', 'America/New_York');
-- agency A is licensed to Alpha; agency B to Beta (and a suspended license to Alpha)
INSERT INTO grse.agency_regions (agency_id, region_id, status) VALUES
    ('00000000-0000-0000-0000-00000000aaaa', '00000000-0000-0000-0000-0000000000a1', 'active'),
    ('00000000-0000-0000-0000-00000000bbbb', '00000000-0000-0000-0000-0000000000b2', 'active'),
    ('00000000-0000-0000-0000-00000000bbbb', '00000000-0000-0000-0000-0000000000a1', 'suspended');
INSERT INTO grse.client_agencies VALUES
    ('00000000-0000-0000-0000-0000000000c1', '00000000-0000-0000-0000-00000000aaaa'),
    ('00000000-0000-0000-0000-0000000000c2', '00000000-0000-0000-0000-00000000bbbb');
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000a1', 111, NULL, 'creative');
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000b2', 222, NULL, 'posting');
SELECT grse.save_region_snapshot(id) IS NOT NULL AS saved FROM grse.regions ORDER BY slug;
UPDATE grse.region_scaling_state SET posting_pressure = 70 WHERE region_id = '00000000-0000-0000-0000-0000000000b2';

CREATE FUNCTION public.seen() RETURNS TABLE (what text, n bigint, detail text)
LANGUAGE sql AS $$
    SELECT 'regions', count(*), string_agg(slug, ',' ORDER BY slug) FROM grse.regions
    UNION ALL SELECT 'state rows', count(*), NULL FROM grse.region_scaling_state
    UNION ALL SELECT 'ledger rows', count(*), string_agg(amount::text, ',' ORDER BY id) FROM grse.region_budget_transactions
    UNION ALL SELECT 'history rows', count(*), NULL FROM grse.region_scaling_history
    UNION ALL SELECT 'transitions', count(*), NULL FROM grse.region_mode_transitions
    UNION ALL SELECT 'licenses', count(*), NULL FROM grse.agency_regions
    UNION ALL SELECT 'clients', count(*), NULL FROM grse.client_agencies
    UNION ALL SELECT 'health rows', count(*), string_agg(region_name, ',' ORDER BY region_name) FROM grse.get_all_regions_health()
    UNION ALL SELECT 'list health rows', count(*), NULL FROM grse.list_region_health()
    UNION ALL SELECT 'risk regions', (grse.compute_global_risk() ->> 'regions_assessed')::bigint, NULL
    UNION ALL SELECT 'api regions', jsonb_array_length(grse.api_regions_health() -> 'regions'), NULL
    UNION ALL SELECT 'summary of Beta visible', (grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000b2') IS NOT NULL)::int, NULL
    UNION ALL SELECT 'Beta snapshot found', (grse.api_get_region_snapshot('00000000-0000-0000-0000-0000000000b2') ->> 'success')::boolean::int, NULL
$$;
GRANT EXECUTE ON FUNCTION public.seen() TO grse_tenant;

CREATE FUNCTION public.err(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '[0-9a-f-]{36}', '<id>');
END
$$;
GRANT EXECUTE ON FUNCTION public.err(text) TO grse_tenant;

-- staff (grse_reader) sees both regions
BEGIN;
SET LOCAL ROLE grse_reader;
SELECT * FROM public.seen();
ROLLBACK;

-- agency A (claims as PostgREST sets them) sees only Alpha
BEGIN;
SELECT set_config('request.jwt.claims', '{"sub": "user-1", "agency_id": "00000000-0000-0000-0000-00000000aaaa"}', true) IS NOT NULL AS claims_set;
SET LOCAL ROLE grse_tenant;
SELECT * FROM public.seen();
-- Beta's ledger is out of reach through every door
SELECT public.err($$SELECT grse.get_budget_stats('00000000-0000-0000-0000-0000000000b2')$$) AS beta_stats;
SELECT (grse.get_budget_stats('00000000-0000-0000-0000-0000000000a1') ->> 'spent_today')::int AS alpha_spent_today;
SELECT grse.resolve_region_for_client('00000000-0000-0000-0000-0000000000c2') AS beta_client_region;
SELECT public.err($$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000b2', 1)$$) AS tenant_spend;
ROLLBACK;

-- agency B, through Supabase app_metadata: only Beta (the suspended Alpha license gives nothing)
BEGIN;
SELECT set_config('request.jwt.claims', '{"app_metadata": {"agency_id": "00000000-0000-0000-0000-00000000bbbb"}}', true) IS NOT NULL AS claims_set;
SET LOCAL ROLE grse_tenant;
SELECT * FROM public.seen();
ROLLBACK;

-- no claims, or malformed ones: nothing at all
BEGIN;
SET LOCAL ROLE grse_tenant;
SELECT what, n FROM public.seen() WHERE n > 0;
ROLLBACK;
BEGIN;
SELECT set_config('request.jwt.claims', '{"agency_id": "not-a-uuid"}', true) IS NOT NULL AS claims_set;
SET LOCAL ROLE grse_tenant;
SELECT what, n FROM public.seen() WHERE n > 0;
ROLLBACK;
BEGIN;
SELECT set_config('request.jwt.claims', 'not json', true) IS NOT NULL AS claims_set;
SET LOCAL ROLE grse_tenant;
SELECT what, n FROM public.seen() WHERE n > 0;
ROLLBACK;

DROP FUNCTION public.seen();
DROP FUNCTION public.err(text);
