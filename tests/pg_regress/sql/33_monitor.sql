-- 33_monitor: list_region_health, get_regions_by_metric,
-- detect_cross_region_conflicts, compute_global_risk, alert_critical_issues.
--   conflicts: mode_frozen (critical); capacity_critical (capacity < 20
--   critical, < 40 warning); budget_exceeded (budget % remaining < 10 critical,
--   < 25 warning); active regions only, by region name.
--   global risk = min(100, 20·critical + 10·warning conflicts
--                 + Σ regions (15 if capacity < 30, else 5 if < 50) + 25·frozen);
--   level critical >= 70, high >= 50, medium >= 25, else low.
\ir ../common/preamble.sql

-- Sets all four pressures of a region to x: overall pressure = x.
CREATE FUNCTION pg_temp.set_pressures(region uuid, x numeric) RETURNS void LANGUAGE sql AS $$
    UPDATE grse.region_scaling_state
       SET posting_pressure = x, orchestration_pressure = x, creative_pressure = x, intel_pressure = x
     WHERE region_id = region
$$;

-- The global risk without its timestamps: score, level, counts, recommendations.
CREATE FUNCTION pg_temp.risk(OUT overall_risk int, OUT risk_level text, OUT conflicts int,
                             OUT regions_assessed int, OUT recommendations int)
LANGUAGE sql AS $$
    SELECT (r ->> 'overall_risk')::int, r ->> 'risk_level', jsonb_array_length(r -> 'conflicts'),
           (r ->> 'regions_assessed')::int, jsonb_array_length(r -> 'recommendations')
      FROM grse.compute_global_risk() AS r
$$;

-- The conflicts as detect_cross_region_conflicts() reports them (without region_id / detected_at).
CREATE FUNCTION pg_temp.conflicts(OUT type text, OUT region_name text, OUT severity text, OUT message text)
RETURNS SETOF record LANGUAGE sql AS $$
    SELECT c.type, c.region_name, c.severity, c.message FROM grse.detect_cross_region_conflicts() c
$$;

-- Alerts: one line per alert, in order of creation.
CREATE FUNCTION pg_temp.alerts(OUT n bigint, OUT region text, OUT alert_type text, OUT severity text,
                               OUT message text, OUT resolved boolean)
RETURNS SETOF record LANGUAGE sql AS $$
    SELECT row_number() OVER (ORDER BY a.id), COALESCE(r.slug, '<global>'), a.alert_type, a.severity,
           a.message, a.resolved_at IS NOT NULL
      FROM grse.alerts a LEFT JOIN grse.regions r ON r.id = a.region_id
     ORDER BY a.id
$$;

-- To reach capacities below 20 without fatigue (which depends on wall-clock
-- time), this file weighs capacity by budget and pressure only:
--   capacity = 100·(0.50·remaining/monthly + 0.50·(1 − P/100))
UPDATE grse.policy SET capacity_weight_budget = 0.50, capacity_weight_pressure = 0.50, capacity_weight_fatigue = 0;

INSERT INTO grse.regions (id, name, slug, country_code, timezone) VALUES
    ('00000000-0000-0000-0000-0000000000a1', 'M1 Healthy',           'm1-healthy',  'DE', 'UTC'),
    ('00000000-0000-0000-0000-0000000000a2', 'M2 Budget Warning',    'm2-budget-w', 'FR', 'UTC'),
    ('00000000-0000-0000-0000-0000000000a3', 'M3 Budget Critical',   'm3-budget-c', 'US', 'UTC'),
    ('00000000-0000-0000-0000-0000000000a4', 'M4 Capacity Warning',  'm4-cap-w',    'JP', 'UTC'),
    ('00000000-0000-0000-0000-0000000000a5', 'M5 Capacity Critical', 'm5-cap-c',    'BR', 'UTC'),
    ('00000000-0000-0000-0000-0000000000a6', 'M6 Frozen',            'm6-frozen',   'CA', 'UTC'),
    ('00000000-0000-0000-0000-0000000000a7', 'M7 Inactive',          'm7-inactive', 'MX', 'UTC'),
    ('00000000-0000-0000-0000-0000000000a8', 'M8 Edge',              'm8-edge',     'IT', 'UTC');

-- Budgets: monthly 1000 cents, then spend down to the wanted remaining.
SELECT r.slug, grse.set_monthly_budget(r.id, 1000) AS remaining_after_set,
       grse.check_and_decrement_budget(r.id, r.spend) AS spent
  FROM (VALUES
    ('00000000-0000-0000-0000-0000000000a2'::uuid, 'm2-budget-w', 800),   -- 200 left = 20 %
    ('00000000-0000-0000-0000-0000000000a3',       'm3-budget-c', 950),   --  50 left =  5 %
    ('00000000-0000-0000-0000-0000000000a4',       'm4-cap-w',    600),   -- 400 left = 40 %
    ('00000000-0000-0000-0000-0000000000a5',       'm5-cap-c',    740),   -- 260 left = 26 %
    ('00000000-0000-0000-0000-0000000000a7',       'm7-inactive', 1000),  --   0 left =  0 %
    ('00000000-0000-0000-0000-0000000000a8',       'm8-edge',     750)    -- 250 left = 25 %
  ) AS r(id, slug, spend)
 ORDER BY r.slug;
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000a4', 64);
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000a5', 90);
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000a6', 95);
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000a7', 95);
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000a8', 45);
UPDATE grse.regions SET active = false WHERE id = '00000000-0000-0000-0000-0000000000a7';

-- capacity = 50·b + 50·(1 − P/100); mode: frozen cap < 10 or P > 90; throttled cap < 30 or P > 75;
-- cautious cap < 50 or P > 60. warning_index = 15 per warning + 35 per critical condition
-- (conflicts, plus throttled = warning, pressure > 60 warning / > 75 critical).
--   m1: b 1.00, P  0 -> 50 + 50   = 100.00 normal                      wi 0
--   m2: b 0.20, P  0 -> 10 + 50   =  60.00 normal;   budget 20 % W     wi 15
--   m3: b 0.05, P  0 -> 2.5 + 50  =  52.50 normal;   budget  5 % C     wi 35
--   m4: b 0.40, P 64 -> 20 + 18   =  38.00 cautious; capacity W, P>60 W wi 30
--   m5: b 0.26, P 90 -> 13 + 5    =  18.00 throttled; capacity C, throttled W, P>75 C  wi 85
--   m6: b 1.00, P 95 -> 50 + 2.5  =  52.50 frozen (P > 90); frozen C, P>75 C          wi 70
--   m7: inactive (frozen, no budget): never listed, never counted
--   m8: b 0.25, P 45 -> 12.5+27.5 =  40.00 cautious; exactly at both thresholds: no conflict  wi 0
SELECT r.slug, r.active, s.scaling_mode, s.capacity_score, s.overall_pressure,
       grse.budget_percent_remaining(s.ai_budget_remaining, s.ai_budget_monthly) AS budget_pct, s.warning_index
  FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id
 ORDER BY r.name;

-- ---------------------------------------------------------------------------
-- list_region_health: active regions only, by name
-- ---------------------------------------------------------------------------
SELECT region_slug, region_name, scaling_mode, capacity_score, overall_pressure, budget_percent_remaining,
       warning_index, fatigue_score, posting_pressure, intel_pressure, ai_budget_monthly, ai_budget_remaining,
       jobs_in_queue
  FROM grse.list_region_health();

-- ---------------------------------------------------------------------------
-- get_regions_by_metric: slugs in order (ties by name)
--   capacity: m1 100, m2 60, m3 52.5 = m6 52.5, m8 40, m4 38, m5 18
--   pressure: m1 = m2 = m3 0, m8 45, m4 64, m5 90, m6 95
--   budget:   m1 = m6 100, m4 40, m5 26, m8 25, m2 20, m3 5
--   warning:  m1 = m8 0, m2 15, m4 30, m3 35, m6 70, m5 85
-- ---------------------------------------------------------------------------
SELECT m.metric, o.sort_order,
       (SELECT string_agg(split_part(g.region_slug, '-', 1), ' ')
          FROM grse.get_regions_by_metric(m.metric, o.sort_order) g) AS regions
  FROM (VALUES (1, 'capacity'), (2, 'pressure'), (3, 'budget'), (4, 'warning')) AS m(n, metric),
       (VALUES (1, 'desc'), (2, 'asc')) AS o(n, sort_order)
 ORDER BY m.n, o.n;
-- the default order is desc
SELECT string_agg(split_part(region_slug, '-', 1), ' ') AS capacity_default_order
  FROM grse.get_regions_by_metric('capacity');
-- one row per active region, with the same columns as list_region_health
SELECT count(*) AS rows FROM grse.get_regions_by_metric('budget', 'asc');

SELECT c.label, pg_temp.err(c.stmt) AS result
  FROM (VALUES
    (1, 'unknown metric',     $$SELECT * FROM grse.get_regions_by_metric('latency')$$),
    (2, 'metric wrong case',  $$SELECT * FROM grse.get_regions_by_metric('Capacity')$$),
    (3, 'unknown sort order', $$SELECT * FROM grse.get_regions_by_metric('capacity', 'up')$$),
    (4, 'sort order ASC',     $$SELECT * FROM grse.get_regions_by_metric('capacity', 'ASC')$$),
    (5, 'NULL metric',        $$SELECT * FROM grse.get_regions_by_metric(NULL)$$),
    (6, 'NULL sort order',    $$SELECT * FROM grse.get_regions_by_metric('capacity', NULL)$$)
  ) AS c(n, label, stmt)
 ORDER BY c.n;

-- ---------------------------------------------------------------------------
-- Global risk, stage by stage (regions switched on one group at a time)
-- ---------------------------------------------------------------------------
UPDATE grse.regions SET active = false WHERE id <> '00000000-0000-0000-0000-0000000000a1';

-- Stage A: only m1 (healthy). 0 -> low, "All regions operating normally"
SELECT * FROM pg_temp.risk();
SELECT jsonb_array_elements_text(grse.compute_global_risk() -> 'recommendations') AS recommendation;
SELECT * FROM pg_temp.conflicts();
-- the JSON keys (snake_case)
SELECT jsonb_object_keys(grse.compute_global_risk()) AS key ORDER BY 1;

-- Stage B: + m2, m8.
--   conflicts: m2 budget warning 10; Σ regions: m8 capacity 40 < 50 -> 5; frozen 0
--   = 15 -> low; recommendations: m2's budget (20 % < 25); m8 is exactly at every threshold
UPDATE grse.regions SET active = true
 WHERE id IN ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-0000000000a8');
SELECT * FROM pg_temp.risk();
SELECT jsonb_array_elements_text(grse.compute_global_risk() -> 'recommendations') AS recommendation;
SELECT * FROM pg_temp.conflicts();

-- Stage C: + m3, m4.
--   conflicts: m2 budget W 10 + m3 budget C 20 + m4 capacity W 10 = 40
--   Σ regions: m4 38 < 50 -> 5, m8 40 < 50 -> 5 = 10; frozen 0
--   = 50 -> high; recommendations: budget m2, m3; capacity < 40 m4
UPDATE grse.regions SET active = true
 WHERE id IN ('00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0000-0000000000a4');
SELECT * FROM pg_temp.risk();
SELECT jsonb_array_elements_text(grse.compute_global_risk() -> 'recommendations') AS recommendation;
SELECT * FROM pg_temp.conflicts();
-- one critical finding (m3's budget) -> one alert; a second call adds none
SELECT grse.alert_critical_issues() AS new_alerts_1;
SELECT grse.alert_critical_issues() AS new_alerts_2;
SELECT * FROM pg_temp.alerts();

-- Stage D: + m5.
--   conflicts: 40 + m5 capacity C 20 = 60; Σ regions: 10 + m5 18 < 30 -> 15 = 25; frozen 0
--   = 85 -> critical; recommendations: budget m2, m3; pressure > 70 m5; capacity < 40 m4, m5
UPDATE grse.regions SET active = true WHERE id = '00000000-0000-0000-0000-0000000000a5';
SELECT * FROM pg_temp.risk();
SELECT jsonb_array_elements_text(grse.compute_global_risk() -> 'recommendations') AS recommendation;

-- Stage E: + m6 (everything but the inactive m7).
--   conflicts: 60 + m6 frozen C 20 = 80; Σ regions: 25 (m6's capacity 52.5 adds 0); frozen m6 25
--   = 130 -> min(100, 130) = 100 -> critical
--   recommendations: frozen m6; budget m2, m3; pressure > 70 m5, m6; capacity < 40 m4, m5
UPDATE grse.regions SET active = true WHERE id = '00000000-0000-0000-0000-0000000000a6';
SELECT * FROM pg_temp.risk();
SELECT jsonb_array_elements_text(grse.compute_global_risk() -> 'recommendations') AS recommendation;
-- every conflict type, both severities
SELECT * FROM pg_temp.conflicts();
-- the conflicts inside compute_global_risk() are the same, with snake_case keys
SELECT c ->> 'type' AS type, c ->> 'region_name' AS region_name, c ->> 'severity' AS severity,
       (c ->> 'region_id')::uuid = r.id AS region_id_ok, c ? 'detected_at' AS has_detected_at
  FROM jsonb_array_elements(grse.compute_global_risk() -> 'conflicts') c
  JOIN grse.regions r ON r.name = c ->> 'region_name';

-- ---------------------------------------------------------------------------
-- alert_critical_issues: one alert per critical finding, no duplicates, and
-- alerts whose finding cleared get resolved_at
-- ---------------------------------------------------------------------------
-- new: m5 capacity, m6 frozen, the global risk (critical); m3's alert is still open
SELECT grse.alert_critical_issues() AS new_alerts_3;
SELECT grse.alert_critical_issues() AS new_alerts_4;
SELECT * FROM pg_temp.alerts();

-- m6 thaws (P 0: capacity 50 + 50 = 100, normal). The risk stays critical:
--   conflicts 60 + Σ 25 = 85. m6's frozen alert resolves; nothing new.
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000a6', 0);
SELECT scaling_mode FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000a6';
SELECT * FROM pg_temp.risk();
SELECT grse.alert_critical_issues() AS new_alerts_5;
SELECT * FROM pg_temp.alerts();

-- m6 freezes again: a new alert (the resolved one stays resolved)
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000a6', 95);
SELECT grse.alert_critical_issues() AS new_alerts_6;
SELECT count(*) FILTER (WHERE resolved_at IS NULL) AS open, count(*) FILTER (WHERE resolved_at IS NOT NULL) AS resolved,
       count(*) FILTER (WHERE resolved_at < created_at) AS resolved_before_created
  FROM grse.alerts;

-- m3, m5, m6 switched off: left are m1, m2, m4, m8.
--   conflicts: m2 budget W 10 + m4 capacity W 10 = 20; Σ regions: m4 5 + m8 5 = 10; = 30 -> medium
--   no critical finding remains: every open alert resolves, none is added
UPDATE grse.regions SET active = false
 WHERE id IN ('00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0000-0000000000a5',
              '00000000-0000-0000-0000-0000000000a6');
SELECT * FROM pg_temp.risk();
SELECT jsonb_array_elements_text(grse.compute_global_risk() -> 'recommendations') AS recommendation;
SELECT * FROM pg_temp.conflicts();
SELECT grse.alert_critical_issues() AS new_alerts_7;
SELECT count(*) FILTER (WHERE resolved_at IS NULL) AS open, count(*) FILTER (WHERE resolved_at IS NOT NULL) AS resolved
  FROM grse.alerts;
SELECT * FROM pg_temp.alerts();
