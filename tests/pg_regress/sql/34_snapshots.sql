-- 34_snapshots: generate_region_snapshot, save_region_snapshot (hourly /
-- daily / weekly), get_region_health_trend, save_all_snapshots, prune_history.
--   hourly: avg_capacity / peak_pressure = the current capacity / pressure;
--   daily:  mean capacity (2 decimals) and max pressure of the last day's hourly snapshots;
--   weekly: the same over the last 7 days' daily snapshots;
--   budget_used: gross spend of the window (refunds are not netted).
\ir ../common/preamble.sql

-- Sets all four pressures of a region to x: overall pressure = x.
CREATE FUNCTION pg_temp.set_pressures(region uuid, x numeric) RETURNS void LANGUAGE sql AS $$
    UPDATE grse.region_scaling_state
       SET posting_pressure = x, orchestration_pressure = x, creative_pressure = x, intel_pressure = x
     WHERE region_id = region
$$;

-- A region's history, oldest first, without ids and timestamps.
CREATE FUNCTION pg_temp.history(region uuid,
    OUT n bigint, OUT period_type text, OUT avg_capacity numeric, OUT peak_pressure numeric,
    OUT budget_used bigint, OUT aggregated_from text, OUT scaling_mode text)
RETURNS SETOF record LANGUAGE sql AS $$
    SELECT row_number() OVER (ORDER BY h.created_at, h.id), h.period_type, h.avg_capacity, h.peak_pressure,
           h.budget_used, h.snapshot ->> 'aggregated_from', h.snapshot ->> 'scaling_mode'
      FROM grse.region_scaling_history h
     WHERE h.region_id = region
     ORDER BY h.created_at, h.id
$$;

INSERT INTO grse.regions (id, name, slug, country_code, timezone, active) VALUES
    ('00000000-0000-0000-0000-0000000000f1', 'Snapshot One', 'snap-one', 'DE', 'Europe/Berlin', true),
    ('00000000-0000-0000-0000-0000000000f2', 'Snapshot Two', 'snap-two', 'FR', 'UTC', true),
    ('00000000-0000-0000-0000-0000000000f3', 'Snapshot Off', 'snap-off', 'US', 'UTC', false);

-- ---------------------------------------------------------------------------
-- generate_region_snapshot: the scaling summary plus generated_at
-- ---------------------------------------------------------------------------
SELECT jsonb_object_keys(grse.generate_region_snapshot('00000000-0000-0000-0000-0000000000f1')) AS key ORDER BY 1;
SELECT s ->> 'region_slug' AS slug, s ->> 'scaling_mode' AS mode, s ->> 'capacity_score' AS capacity,
       s -> 'pressures' AS pressures, s -> 'budget' AS budget, s -> 'utilization' AS utilization,
       (s ->> 'generated_at')::timestamptz = now() AS generated_now
  FROM grse.generate_region_snapshot('00000000-0000-0000-0000-0000000000f1') AS s;
-- the snapshot is the summary plus generated_at
SELECT grse.generate_region_snapshot('00000000-0000-0000-0000-0000000000f1') - 'generated_at'
     = grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000f1') AS snapshot_is_summary;

-- ---------------------------------------------------------------------------
-- Hourly snapshots of f1 at different pressures and budgets
--   capacity = 100·(0.40·remaining/100000 + 0.35·(1 − P/100) + 0.25)
-- ---------------------------------------------------------------------------
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 1000, NULL, 'posting') AS spent_1000;
-- h1: remaining 99000 (b 0.99), P 0:  39.6 + 35 + 25   = 99.60; budget_used (last hour) 1000
SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f1') IS NOT NULL AS saved_h1;
-- h2: P 20: 39.6 + 28 + 25 = 92.60; used 1000
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000f1', 20);
SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f1', 'hourly') IS NOT NULL AS saved_h2;
-- h3: another 1000 spent (b 0.98), P 40: 39.2 + 21 + 25 = 85.20; used 2000
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 1000, NULL, 'creative') AS spent_1000;
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000f1', 40);
SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f1', 'hourly') IS NOT NULL AS saved_h3;
-- h4: P 70: 39.2 + 10.5 + 25 = 74.70 (cautious: P > 60); used 2000
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000f1', 70);
SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f1', 'hourly') IS NOT NULL AS saved_h4;

-- daily d1: mean of h1..h4 = (99.60 + 92.60 + 85.20 + 74.70) / 4 = 352.10 / 4 = 88.025 -> 88.03;
--           peak = max(0, 20, 40, 70) = 70.00; used 2000; aggregated_from 4
SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f1', 'daily') IS NOT NULL AS saved_d1;

-- a refund of 500 (b 0.985) is not netted out of budget_used (gross spend)
SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000f1', 500, 'cancelled job') AS remaining;
-- h5: P 10: 39.4 + 31.5 + 25 = 95.90 (normal again); used 2000
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000f1', 10);
SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f1', 'hourly') IS NOT NULL AS saved_h5;
-- daily d2: (352.10 + 95.90) / 5 = 448.00 / 5 = 89.60; peak 70.00; used 2000; aggregated_from 5
SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f1', 'daily') IS NOT NULL AS saved_d2;
-- weekly w1: mean of d1, d2 = (88.03 + 89.60) / 2 = 88.815 -> 88.82; peak max(70, 70) = 70.00;
--            used 2000; aggregated_from 2
SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f1', 'weekly') IS NOT NULL AS saved_w1;

SELECT * FROM pg_temp.history('00000000-0000-0000-0000-0000000000f1');
-- the check of the daily rule, computed from the rows themselves
SELECT round(avg(avg_capacity), 2) AS mean_of_hourly, max(peak_pressure) AS max_of_hourly
  FROM grse.region_scaling_history
 WHERE region_id = '00000000-0000-0000-0000-0000000000f1' AND period_type = 'hourly';
-- the snapshot column holds the whole snapshot, with its period type
SELECT h.period_type, h.snapshot ->> 'period_type' AS snapshot_period_type, h.snapshot ->> 'region_slug' AS slug,
       h.snapshot ? 'generated_at' AS has_generated_at
  FROM grse.region_scaling_history h
 WHERE h.region_id = '00000000-0000-0000-0000-0000000000f1'
 ORDER BY h.created_at, h.id;

-- f2 has no hourly snapshots: its daily stands on the current values
--   P 50: capacity 40 + 17.5 + 25 = 82.50, peak 50.00, used 0, aggregated_from 0;
-- its weekly is the mean of that one daily: 82.50, peak 50.00, aggregated_from 1
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000f2', 50);
SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f2', 'daily') IS NOT NULL AS saved;
SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f2', 'weekly') IS NOT NULL AS saved;
SELECT * FROM pg_temp.history('00000000-0000-0000-0000-0000000000f2');

-- ---------------------------------------------------------------------------
-- get_region_health_trend: the last N hourly snapshots, oldest first
-- ---------------------------------------------------------------------------
SELECT period_type, avg_capacity, peak_pressure, budget_used, scaling_mode, warning_index
  FROM grse.get_region_health_trend('00000000-0000-0000-0000-0000000000f1');
-- last 3: h3, h4, h5
SELECT period_type, avg_capacity, peak_pressure, budget_used, scaling_mode
  FROM grse.get_region_health_trend('00000000-0000-0000-0000-0000000000f1', 3);
SELECT avg_capacity FROM grse.get_region_health_trend('00000000-0000-0000-0000-0000000000f1', 1);
-- oldest first
SELECT bool_and(created_at > lag) AS ascending
  FROM (SELECT created_at, lag(created_at) OVER (ORDER BY created_at) AS lag
          FROM grse.get_region_health_trend('00000000-0000-0000-0000-0000000000f1', 1000)) t
 WHERE lag IS NOT NULL;
-- f2 has no hourly snapshots
SELECT count(*) AS f2_hourly FROM grse.get_region_health_trend('00000000-0000-0000-0000-0000000000f2');

-- ---------------------------------------------------------------------------
-- The daily window is one day: an hourly row from two days ago does not count
-- (rows written directly, with old timestamps)
-- ---------------------------------------------------------------------------
INSERT INTO grse.region_scaling_history (region_id, snapshot, period_type, avg_capacity, peak_pressure, budget_used, created_at)
VALUES ('00000000-0000-0000-0000-0000000000f1', '{}', 'hourly', 0, 100, 0, now() - interval '2 days'),
       ('00000000-0000-0000-0000-0000000000f1', '{}', 'daily', 0, 100, 0, now() - interval '8 days'),
       ('00000000-0000-0000-0000-0000000000f2', '{}', 'hourly', 1, 99, 0, now() - interval '100 days');
-- daily d3: still h1..h5 only: 89.60, peak 70.00, aggregated_from 5
SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f1', 'daily') IS NOT NULL AS saved_d3;
-- weekly w2: d1, d2, d3 (the 8-day-old daily is outside): (88.03 + 89.60 + 89.60) / 3 = 267.23 / 3 = 89.0766.. -> 89.08
SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f1', 'weekly') IS NOT NULL AS saved_w2;
-- (the two old rows sort first now)
SELECT * FROM pg_temp.history('00000000-0000-0000-0000-0000000000f1');
-- the 2-day-old hourly row is the oldest of the trend now
SELECT avg_capacity, peak_pressure FROM grse.get_region_health_trend('00000000-0000-0000-0000-0000000000f1') LIMIT 1;

-- ---------------------------------------------------------------------------
-- save_all_snapshots: one snapshot per active region (f1, f2; not f3)
-- ---------------------------------------------------------------------------
SELECT grse.save_all_snapshots('hourly') AS saved_regions;
SELECT r.slug, count(h.id) AS rows
  FROM grse.regions r LEFT JOIN grse.region_scaling_history h ON h.region_id = r.id
 GROUP BY r.slug ORDER BY r.slug;

-- ---------------------------------------------------------------------------
-- Bad input
-- ---------------------------------------------------------------------------
SELECT c.n, c.label, pg_temp.err(c.stmt) AS result
  FROM (VALUES
    (1,  'generate: NULL region',       $$SELECT grse.generate_region_snapshot(NULL)$$),
    (2,  'generate: unknown region',    $$SELECT grse.generate_region_snapshot('00000000-0000-0000-0000-0000000000ff')$$),
    (3,  'save: unknown period type',   $$SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f1', 'monthly')$$),
    (4,  'save: period type wrong case', $$SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f1', 'Hourly')$$),
    (5,  'save: NULL period type',      $$SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000f1', NULL)$$),
    (6,  'save: unknown region',        $$SELECT grse.save_region_snapshot('00000000-0000-0000-0000-0000000000ff')$$),
    (7,  'save: NULL region',           $$SELECT grse.save_region_snapshot(NULL)$$),
    (8,  'save_all: unknown period',    $$SELECT grse.save_all_snapshots('yearly')$$),
    (9,  'save_all: NULL period',       $$SELECT grse.save_all_snapshots(NULL)$$),
    (10, 'trend: periods 0',            $$SELECT * FROM grse.get_region_health_trend('00000000-0000-0000-0000-0000000000f1', 0)$$),
    (11, 'trend: periods 1001',         $$SELECT * FROM grse.get_region_health_trend('00000000-0000-0000-0000-0000000000f1', 1001)$$),
    (12, 'trend: periods -1',           $$SELECT * FROM grse.get_region_health_trend('00000000-0000-0000-0000-0000000000f1', -1)$$),
    (13, 'trend: periods NULL',         $$SELECT * FROM grse.get_region_health_trend('00000000-0000-0000-0000-0000000000f1', NULL)$$),
    (14, 'trend: unknown region',       $$SELECT * FROM grse.get_region_health_trend('00000000-0000-0000-0000-0000000000ff')$$),
    (15, 'trend: NULL region',          $$SELECT * FROM grse.get_region_health_trend(NULL)$$),
    (16, 'trend: periods 1000 is fine', $$SELECT * FROM grse.get_region_health_trend('00000000-0000-0000-0000-0000000000f1', 1000)$$)
  ) AS c(n, label, stmt)
 ORDER BY c.n;
-- nothing was written by the failed calls
SELECT count(*) AS history_rows FROM grse.region_scaling_history;

-- ---------------------------------------------------------------------------
-- prune_history: deletes rows older than policy.history_retention
-- ---------------------------------------------------------------------------
-- default 90 days: only f2's 100-day-old row goes
SELECT history_retention FROM grse.policy;
SELECT grse.prune_history() AS pruned_90_days;
SELECT count(*) AS history_rows FROM grse.region_scaling_history;
-- retention 1 microsecond: every row written before this statement goes
UPDATE grse.policy SET history_retention = '1 microsecond';
SELECT grse.prune_history() AS pruned_1_microsecond;
SELECT count(*) AS history_rows FROM grse.region_scaling_history;
SELECT grse.prune_history() AS pruned_again;
-- a retention of zero makes no sense
SELECT pg_temp.err($$UPDATE grse.policy SET history_retention = '0'$$) AS zero_retention;
UPDATE grse.policy SET history_retention = '90 days';
