-- 35_api: the JSON functions in the shapes of the HTTP endpoints (camelCase):
--   api_regions_health(sort_by, sort_order, include_risk)  GET  /api/regions/health
--   api_get_region_snapshot(region_id, include_history, periods)  GET /api/regions/{id}/snapshot
--   api_save_region_snapshot(region_id, period_type)  POST /api/regions/{id}/snapshot
\ir ../common/preamble.sql

-- Sets all four pressures of a region to x: overall pressure = x.
CREATE FUNCTION pg_temp.set_pressures(region uuid, x numeric) RETURNS void LANGUAGE sql AS $$
    UPDATE grse.region_scaling_state
       SET posting_pressure = x, orchestration_pressure = x, creative_pressure = x, intel_pressure = x
     WHERE region_id = region
$$;

-- The region order of api_regions_health(...) as short slugs.
CREATE FUNCTION pg_temp.order_of(j jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(split_part(e ->> 'regionSlug', '-', 2), ' ' ORDER BY o)
      FROM jsonb_array_elements(j -> 'regions') WITH ORDINALITY AS t(e, o)
$$;

-- The sorted keys of a JSON object.
CREATE FUNCTION pg_temp.keys(j jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(k, ', ' ORDER BY k) FROM jsonb_object_keys(j) AS k
$$;

INSERT INTO grse.regions (id, name, slug, country_code, timezone, active) VALUES
    ('00000000-0000-0000-0000-0000000000a1', 'Api Alpha',   'api-alpha',   'DE', 'UTC', true),
    ('00000000-0000-0000-0000-0000000000a2', 'Api Bravo',   'api-bravo',   'FR', 'UTC', true),
    ('00000000-0000-0000-0000-0000000000a3', 'Api Charlie', 'api-charlie', 'US', 'UTC', true),
    ('00000000-0000-0000-0000-0000000000a4', 'Api Delta',   'api-delta',   'JP', 'UTC', true),
    ('00000000-0000-0000-0000-0000000000a5', 'Api Echo',    'api-echo',    'BR', 'UTC', false);
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000a3', 1000) AS charlie_remaining;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000a3', 800) AS charlie_spent;
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000a4', 1000) AS delta_remaining;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000a4', 500) AS delta_spent;
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000a1', 10);
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000a2', 65);
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000a4', 80);

-- capacity = 100·(0.40·b + 0.35·(1 − P/100) + 0.25); warning 15 per warning, 35 per critical
--   alpha:   b 1.0, P 10 -> 40 + 31.5 + 25  = 96.50 normal;    wi 0
--   bravo:   b 1.0, P 65 -> 40 + 12.25 + 25 = 77.25 cautious;  P > 60 W: wi 15
--   charlie: b 0.2, P  0 -> 8 + 35 + 25     = 68.00 normal;    budget 20 % W: wi 15
--   delta:   b 0.5, P 80 -> 20 + 7 + 25     = 52.00 throttled; throttled W + P > 75 C: wi 50
--   echo:    inactive, never listed
SELECT r.slug, s.scaling_mode, s.capacity_score, s.overall_pressure,
       grse.budget_percent_remaining(s.ai_budget_remaining, s.ai_budget_monthly) AS budget_pct, s.warning_index
  FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id
 ORDER BY r.name;

-- ---------------------------------------------------------------------------
-- api_regions_health
-- ---------------------------------------------------------------------------
-- shape: {success, regions}; globalRisk only with include_risk
SELECT pg_temp.keys(grse.api_regions_health()) AS keys_default,
       pg_temp.keys(grse.api_regions_health(NULL, 'desc', true)) AS keys_with_risk,
       grse.api_regions_health() -> 'success' AS success,
       jsonb_array_length(grse.api_regions_health() -> 'regions') AS regions;
-- one region, camelCase (timestamps left out)
SELECT jsonb_pretty(e - 'updatedAt') AS alpha
  FROM jsonb_array_elements(grse.api_regions_health('name', 'asc') -> 'regions') AS e
 WHERE e ->> 'regionSlug' = 'api-alpha';
SELECT (e ->> 'updatedAt')::timestamptz IS NOT NULL AS has_updated_at
  FROM jsonb_array_elements(grse.api_regions_health('name', 'asc') -> 'regions') AS e
 WHERE e ->> 'regionSlug' = 'api-alpha';

-- sort orders (ties by name):
--   capacity: alpha 96.50, bravo 77.25, charlie 68.00, delta 52.00
--   pressure: delta 80, bravo 65, alpha 10, charlie 0
--   budget:   alpha 100 = bravo 100, delta 50, charlie 20
--   warning:  delta 50, bravo 15 = charlie 15, alpha 0
--   name:     alpha < bravo < charlie < delta
--   NULL:     by warning index, like get_all_regions_health
SELECT k.sort_by, o.sort_order, pg_temp.order_of(grse.api_regions_health(k.sort_by, o.sort_order)) AS regions
  FROM (VALUES (1, 'capacity'), (2, 'pressure'), (3, 'budget'), (4, 'warning'), (5, 'name'), (6, NULL)) AS k(n, sort_by),
       (VALUES (1, 'desc'), (2, 'asc')) AS o(n, sort_order)
 ORDER BY k.n, o.n;
-- the default order is desc
SELECT pg_temp.order_of(grse.api_regions_health('capacity')) AS capacity_default,
       pg_temp.order_of(grse.api_regions_health()) AS all_defaults;

-- globalRisk (camelCase):
--   conflicts: charlie budget 20 % < 25 warning -> 10; no capacity < 50; nothing frozen -> 10, low
--   recommendations: charlie's budget; delta's pressure 80 > 70
SELECT pg_temp.keys(r) AS global_risk_keys, r -> 'overallRisk' AS overall_risk, r ->> 'riskLevel' AS risk_level,
       jsonb_array_length(r -> 'conflicts') AS conflicts
  FROM (SELECT grse.api_regions_health(include_risk => true) -> 'globalRisk' AS r) t;
SELECT jsonb_array_elements_text(grse.api_regions_health(include_risk => true) -> 'globalRisk' -> 'recommendations') AS recommendation;
SELECT pg_temp.keys(c) AS conflict_keys, c ->> 'type' AS type, c ->> 'regionName' AS region_name,
       c ->> 'severity' AS severity, c ->> 'message' AS message,
       (c ->> 'regionId')::uuid = '00000000-0000-0000-0000-0000000000a3' AS region_id_ok
  FROM jsonb_array_elements(grse.api_regions_health(include_risk => true) -> 'globalRisk' -> 'conflicts') AS c;
-- the same numbers as compute_global_risk()
SELECT (grse.api_regions_health(include_risk => true) -> 'globalRisk' -> 'overallRisk')
     = (grse.compute_global_risk() -> 'overall_risk') AS same_risk;

SELECT c.n, c.label, pg_temp.err(c.stmt) AS result
  FROM (VALUES
    (1, 'unknown sort key',      $$SELECT grse.api_regions_health('latency')$$),
    (2, 'sort key wrong case',   $$SELECT grse.api_regions_health('Capacity')$$),
    (3, 'unknown sort order',    $$SELECT grse.api_regions_health('capacity', 'up')$$),
    (4, 'sort order DESC',       $$SELECT grse.api_regions_health('capacity', 'DESC')$$),
    (5, 'NULL sort order',       $$SELECT grse.api_regions_health('capacity', NULL)$$),
    (6, 'NULL include_risk',     $$SELECT grse.api_regions_health('capacity', 'desc', NULL)$$)
  ) AS c(n, label, stmt)
 ORDER BY c.n;

-- ---------------------------------------------------------------------------
-- api_save_region_snapshot: {success, message: 'Snapshot saved', periodType}
-- ---------------------------------------------------------------------------
SELECT grse.api_save_region_snapshot('00000000-0000-0000-0000-0000000000a1') AS hourly_default;
SELECT grse.api_save_region_snapshot('00000000-0000-0000-0000-0000000000a1', 'hourly') AS hourly;
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000a1', 30);
SELECT grse.api_save_region_snapshot('00000000-0000-0000-0000-0000000000a1', 'hourly') AS hourly;
SELECT grse.api_save_region_snapshot('00000000-0000-0000-0000-0000000000a1', 'daily') AS daily;
SELECT grse.api_save_region_snapshot('00000000-0000-0000-0000-0000000000a1', 'weekly') AS weekly;
-- the rows: hourly 96.50, 96.50, then P 30: 40 + 24.5 + 25 = 89.50;
-- daily (96.50 + 96.50 + 89.50) / 3 = 94.1666.. -> 94.17, peak 30.00; weekly = that daily
SELECT period_type, avg_capacity, peak_pressure
  FROM grse.region_scaling_history WHERE region_id = '00000000-0000-0000-0000-0000000000a1'
 ORDER BY created_at, id;
-- an unknown region answers 404 (and writes nothing)
SELECT grse.api_save_region_snapshot('00000000-0000-0000-0000-0000000000ff') AS unknown_region;
SELECT c.n, c.label, pg_temp.err(c.stmt) AS result
  FROM (VALUES
    (1, 'unknown period type', $$SELECT grse.api_save_region_snapshot('00000000-0000-0000-0000-0000000000a1', 'monthly')$$),
    (2, 'period type wrong case', $$SELECT grse.api_save_region_snapshot('00000000-0000-0000-0000-0000000000a1', 'Daily')$$),
    (3, 'NULL period type',    $$SELECT grse.api_save_region_snapshot('00000000-0000-0000-0000-0000000000a1', NULL)$$),
    (4, 'NULL region',         $$SELECT grse.api_save_region_snapshot(NULL)$$)
  ) AS c(n, label, stmt)
 ORDER BY c.n;
SELECT count(*) AS history_rows FROM grse.region_scaling_history;

-- ---------------------------------------------------------------------------
-- api_get_region_snapshot: {success, summary, snapshot, history}
-- ---------------------------------------------------------------------------
SELECT pg_temp.keys(s) AS keys, s -> 'success' AS success, s -> 'history' AS history,
       s -> 'summary' = grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000a1') AS summary_ok,
       (s -> 'snapshot') - 'generated_at' = grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000a1') AS snapshot_ok,
       s #>> '{summary,region_slug}' AS slug
  FROM grse.api_get_region_snapshot('00000000-0000-0000-0000-0000000000a1') AS s;
-- include_history => false gives an empty history, whatever periods says
SELECT grse.api_get_region_snapshot('00000000-0000-0000-0000-0000000000a1', false, 5) -> 'history' AS history;
-- include_history: the last N hourly snapshots, oldest first, camelCase
SELECT e ->> 'periodType' AS period_type, e -> 'avgCapacity' AS avg_capacity, e -> 'peakPressure' AS peak_pressure,
       e -> 'budgetUsed' AS budget_used, e ->> 'scalingMode' AS scaling_mode, e -> 'warningIndex' AS warning_index
  FROM jsonb_array_elements(grse.api_get_region_snapshot('00000000-0000-0000-0000-0000000000a1', true) -> 'history') AS e;
SELECT pg_temp.keys(grse.api_get_region_snapshot('00000000-0000-0000-0000-0000000000a1', true) #> '{history,0}') AS history_keys;
-- periods bounds the history: the last 2 (96.50, 89.50), the last 1 (89.50)
SELECT e -> 'avgCapacity' AS last_2
  FROM jsonb_array_elements(grse.api_get_region_snapshot('00000000-0000-0000-0000-0000000000a1', true, 2) -> 'history') AS e;
SELECT e -> 'avgCapacity' AS last_1
  FROM jsonb_array_elements(grse.api_get_region_snapshot('00000000-0000-0000-0000-0000000000a1', true, 1) -> 'history') AS e;
-- a region without snapshots: empty history
SELECT grse.api_get_region_snapshot('00000000-0000-0000-0000-0000000000a2', true) -> 'history' AS bravo_history;
-- an unknown region answers 404
SELECT grse.api_get_region_snapshot('00000000-0000-0000-0000-0000000000ff') AS unknown_region;
SELECT grse.api_get_region_snapshot('00000000-0000-0000-0000-0000000000ff', true, 3) AS unknown_region_with_history;
SELECT c.n, c.label, pg_temp.err(c.stmt) AS result
  FROM (VALUES
    (1, 'periods 0',              $$SELECT grse.api_get_region_snapshot('00000000-0000-0000-0000-0000000000a1', true, 0)$$),
    (2, 'periods 1001',           $$SELECT grse.api_get_region_snapshot('00000000-0000-0000-0000-0000000000a1', true, 1001)$$),
    (3, 'periods 1000 is fine',   $$SELECT grse.api_get_region_snapshot('00000000-0000-0000-0000-0000000000a1', true, 1000)$$),
    (4, 'periods NULL',           $$SELECT grse.api_get_region_snapshot('00000000-0000-0000-0000-0000000000a1', true, NULL)$$),
    (5, 'include_history NULL',   $$SELECT grse.api_get_region_snapshot('00000000-0000-0000-0000-0000000000a1', NULL)$$),
    (6, 'NULL region',            $$SELECT grse.api_get_region_snapshot(NULL)$$)
  ) AS c(n, label, stmt)
 ORDER BY c.n;
