-- 45_trend: predictive scaling from recorded facts only. pressure_trend(region_id,
-- periods) fits the least-squares line through the last `periods` hourly snapshots'
-- pressures: slope = Σ(t − t̄)(p − p̄) / Σ(t − t̄)², in points per hour, and
-- projected_pressure = the line one hour from now, clamped to [0, 100].
-- get_region_health_trend shows the slope on every row; the summary shows both.
\ir ../common/preamble.sql

INSERT INTO grse.regions (id, name, slug, country_code) VALUES
    ('00000000-0000-0000-0000-0000000000b1', 'Trending', 'trending', 'DE'),
    ('00000000-0000-0000-0000-0000000000b2', 'One Snapshot', 'one-snapshot', 'FR'),
    ('00000000-0000-0000-0000-0000000000b3', 'No Snapshot', 'no-snapshot', 'NL'),
    ('00000000-0000-0000-0000-0000000000b4', 'Surging', 'surging', 'BE');

-- The fixture: hourly snapshots 3, 2 and 1 hours ago and now with pressures 40, 50, 44, 46
-- (and a daily snapshot, which the trend ignores).
INSERT INTO grse.region_scaling_history (region_id, snapshot, period_type, avg_capacity, peak_pressure, budget_used, created_at)
SELECT '00000000-0000-0000-0000-0000000000b1', jsonb_build_object('scaling_mode', 'normal', 'warning_index', 0),
       v.kind, 80, v.p, 0, now() - v.age
  FROM (VALUES ('hourly', 40, interval '3 hours'), ('hourly', 50, interval '2 hours'), ('hourly', 44, interval '1 hour'),
               ('hourly', 46, interval '0'), ('daily', 99, interval '30 minutes')) v(kind, p, age);
INSERT INTO grse.region_scaling_history (region_id, snapshot, period_type, avg_capacity, peak_pressure, budget_used)
VALUES ('00000000-0000-0000-0000-0000000000b2', '{}', 'hourly', 90, 30, 0);
-- Surging: +30 points an hour (20, 50, 80): one hour on it would pass 100
INSERT INTO grse.region_scaling_history (region_id, snapshot, period_type, avg_capacity, peak_pressure, budget_used, created_at)
SELECT '00000000-0000-0000-0000-0000000000b4', '{}', 'hourly', 70, v.p, 0, now() - v.age
  FROM (VALUES (20, interval '2 hours'), (50, interval '1 hour'), (80, interval '0')) v(p, age);

-- All four snapshots: t̄ = 1.5 h, p̄ = 45; Σ(t − t̄)(p − p̄) = 7.5 − 2.5 − 0.5 + 1.5 = 6;
-- Σ(t − t̄)² = 5: slope 1.20 points per hour; one hour from now (t = 4 h): 45 + 1.2 · 2.5 = 48.00.
SELECT * FROM grse.pressure_trend('00000000-0000-0000-0000-0000000000b1');
-- The last three (50, 44, 46): slope −2.00; at t = 4 h: 46.67 − 2 · 2 = 42.67.
SELECT * FROM grse.pressure_trend('00000000-0000-0000-0000-0000000000b1', 3);
-- The last two (44, 46): slope 2.00; at t = 4 h: 48.00.
SELECT * FROM grse.pressure_trend('00000000-0000-0000-0000-0000000000b1', 2);
-- One snapshot, none: no trend.
SELECT * FROM grse.pressure_trend('00000000-0000-0000-0000-0000000000b1', 1);
SELECT * FROM grse.pressure_trend('00000000-0000-0000-0000-0000000000b2');
SELECT * FROM grse.pressure_trend('00000000-0000-0000-0000-0000000000b3');
-- Surging: slope 30.00, projected 110 clamped to 100.00.
SELECT * FROM grse.pressure_trend('00000000-0000-0000-0000-0000000000b4');

-- The health trend shows the slope of the snapshots it lists on every row.
SELECT period_type, peak_pressure, pressure_slope_per_hour
  FROM grse.get_region_health_trend('00000000-0000-0000-0000-0000000000b1');
SELECT peak_pressure, pressure_slope_per_hour
  FROM grse.get_region_health_trend('00000000-0000-0000-0000-0000000000b1', 3);
SELECT count(*) AS rows, bool_and(pressure_slope_per_hour IS NULL) AS no_slope
  FROM grse.get_region_health_trend('00000000-0000-0000-0000-0000000000b2');

-- The summary: where the region is heading (last 24 hourly snapshots, one hour ahead).
SELECT s ->> 'region_slug' AS slug, s -> 'pressure_slope_per_hour' AS slope, s -> 'projected_pressure' AS projected
  FROM unnest(ARRAY['00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-0000000000b2',
                    '00000000-0000-0000-0000-0000000000b3', '00000000-0000-0000-0000-0000000000b4']::uuid[]) r,
       grse.get_region_scaling_summary(r) s
 ORDER BY 1;
-- snapshots saved by grse count too: a fresh hourly snapshot of Trending (pressure 0 now)
-- joins the fit, pulling the slope down
SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000b1') IS NOT NULL AS saved;
SELECT snapshots, slope_per_hour < 1.20 AS slope_down FROM grse.pressure_trend('00000000-0000-0000-0000-0000000000b1');

-- Bad input.
SELECT pg_temp.err($$SELECT * FROM grse.pressure_trend(NULL)$$) AS null_region;
SELECT pg_temp.err($$SELECT * FROM grse.pressure_trend('00000000-0000-0000-0000-0000000000ff')$$) AS unknown_region;
SELECT pg_temp.err($$SELECT * FROM grse.pressure_trend('00000000-0000-0000-0000-0000000000b1', NULL)$$) AS null_periods;
SELECT pg_temp.err($$SELECT * FROM grse.pressure_trend('00000000-0000-0000-0000-0000000000b1', 0)$$) AS zero_periods;
SELECT pg_temp.err($$SELECT * FROM grse.pressure_trend('00000000-0000-0000-0000-0000000000b1', 1001)$$) AS too_many_periods;
SELECT pg_temp.err($$SELECT * FROM grse.get_region_health_trend('00000000-0000-0000-0000-0000000000b1', 0)$$) AS trend_zero_periods;
-- readers read the trend; a tenant only of its own regions
SET ROLE grse_reader;
SELECT snapshots FROM grse.pressure_trend('00000000-0000-0000-0000-0000000000b4');
RESET ROLE;
SET ROLE grse_tenant;
SELECT pg_temp.err($$SELECT * FROM grse.pressure_trend('00000000-0000-0000-0000-0000000000b4')$$) AS tenant_other_region;
RESET ROLE;
