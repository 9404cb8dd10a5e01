-- 31_router: route_posting_job / route_orchestration_job / route_creative_job /
-- route_performance_job, get_best_region_for_job and update_job_queue.
--   priority = max(1, base − floor(type_pressure / divisor)),
--   estimated_wait = jobs_in_queue · seconds, per job type:
--     posting (5, 20, 2s), orchestration (7, 25, 3s), creative (4, 20, 5s), intel (3, 30, 4s).
--   frozen blocks every type; throttled blocks creative and admits the others
--   only with estimated_cost <= 100 cents.
--   Shard key "slug/jobtype/NN": jump consistent hash of the tenant over the
--   region's shards (16 by default).
\ir ../common/preamble.sql

-- The slug of a region id; a NULL id shows as <null>.
CREATE FUNCTION pg_temp.slug(id uuid) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN slug.id IS NULL THEN '<null>'
                ELSE COALESCE((SELECT r.slug FROM grse.regions r WHERE r.id = slug.id), '<no such region>') END
$$;

-- A route without its (tenant-dependent) shard key; a NULL route shows as <null>.
CREATE FUNCTION pg_temp.show(r grse.job_route,
    OUT region text, OUT priority integer, OUT estimated_wait integer, OUT scaling_mode text)
LANGUAGE sql AS $$
    SELECT pg_temp.slug((r).region_id), (r).priority, (r).estimated_wait, (r).scaling_mode
$$;

-- b1 normal, b2 cautious, b3 throttled, b4 frozen, b5 inactive (and idle).
INSERT INTO grse.regions (id, name, slug, country_code, timezone, active) VALUES
    ('00000000-0000-0000-0000-0000000000b1', 'Router Normal',    'rt-normal',    'DE', 'UTC', true),
    ('00000000-0000-0000-0000-0000000000b2', 'Router Cautious',  'rt-cautious',  'FR', 'UTC', true),
    ('00000000-0000-0000-0000-0000000000b3', 'Router Throttled', 'rt-throttled', 'US', 'UTC', true),
    ('00000000-0000-0000-0000-0000000000b4', 'Router Frozen',    'rt-frozen',    'JP', 'UTC', true),
    ('00000000-0000-0000-0000-0000000000b5', 'Router Inactive',  'rt-inactive',  'BR', 'UTC', false);

-- Full budgets and fatigue 0, so capacity = 100·(0.40 + 0.35·(1 − P/100) + 0.25) = 100 − 0.35·P,
-- with P = 0.30·posting + 0.25·orchestration + 0.25·creative + 0.20·intel.
UPDATE grse.region_scaling_state SET posting_pressure = 45, orchestration_pressure = 50,
       creative_pressure = 39.99, intel_pressure = 59.99
 WHERE region_id = '00000000-0000-0000-0000-0000000000b1';
UPDATE grse.region_scaling_state SET posting_pressure = 100, orchestration_pressure = 50,
       creative_pressure = 10, intel_pressure = 90
 WHERE region_id = '00000000-0000-0000-0000-0000000000b2';
UPDATE grse.region_scaling_state SET posting_pressure = 60, orchestration_pressure = 100,
       creative_pressure = 80, intel_pressure = 80
 WHERE region_id = '00000000-0000-0000-0000-0000000000b3';
UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95,
       creative_pressure = 95, intel_pressure = 95
 WHERE region_id = '00000000-0000-0000-0000-0000000000b4';

-- b1: P = 13.5 + 12.5 + 9.9975 + 11.998 = 47.9955 -> 48.00; capacity 100 − 16.8 = 83.20; normal
-- b2: P = 30 + 12.5 + 2.5 + 18 = 63.00 (> 60);    capacity 100 − 22.05 = 77.95; cautious
-- b3: P = 18 + 25 + 20 + 16 = 79.00 (> 75);       capacity 100 − 27.65 = 72.35; throttled
-- b4: P = 95.00 (> 90);                            capacity 100 − 33.25 = 66.75; frozen
-- b5: untouched: P = 0, capacity 100, normal (but inactive)
SELECT r.slug, s.scaling_mode, s.overall_pressure, s.capacity_score, s.jobs_in_queue, s.shard_count
  FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id
 ORDER BY r.id;

-- ---------------------------------------------------------------------------
-- update_job_queue: returns the new count, clamps at zero
-- ---------------------------------------------------------------------------
SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000b1', 10) AS plus_10;     -- 0 + 10 = 10
SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000b1', -3) AS minus_3;     -- 10 − 3 = 7
SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000b1', -100) AS minus_100; -- max(0, 7 − 100) = 0
SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000b1', 0) AS plus_0;       -- 0
SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000b1', 10) AS plus_10;     -- 10
SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000b2', 3) AS b2_plus_3;    -- 3
SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000b3', 1) AS b3_plus_1;    -- 1
SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000b4', 2) AS b4_plus_2;    -- 2
SELECT r.slug, s.jobs_in_queue
  FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id
 ORDER BY r.id;

-- ---------------------------------------------------------------------------
-- Normal region b1 (queue 10): every type routes there
--   posting:       max(1, 5 − floor(45/20)=2)    = 3, wait 10·2 = 20
--   orchestration: max(1, 7 − floor(50/25)=2)    = 5, wait 10·3 = 30
--   creative:      max(1, 4 − floor(39.99/20)=1) = 3, wait 10·5 = 50
--   performance:   max(1, 3 − floor(59.99/30)=1) = 2, wait 10·4 = 40
-- ---------------------------------------------------------------------------
SELECT * FROM pg_temp.show(grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1'));
SELECT * FROM pg_temp.show(grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-00000000f001'));
SELECT * FROM pg_temp.show(grse.route_creative_job('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-00000000f001'));
SELECT * FROM pg_temp.show(grse.route_performance_job('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-00000000f001'));
-- a big cost is fine outside throttled: 1 000 000 cents
SELECT * FROM pg_temp.show(grse.route_creative_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, 1000000));
-- routing only reads: the queue is still 10
SELECT jobs_in_queue FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000b1';

-- A requested priority replaces the base: max(1, requested − floor(45/20)=2)
SELECT p.requested, (grse.route_posting_job('00000000-0000-0000-0000-00000000f001',
                                           '00000000-0000-0000-0000-0000000000b1', p.requested)).priority
  FROM (VALUES (1), (2), (3), (9), (1000)) AS p(requested);   -- 1, 1, 1, 7, 998

-- ---------------------------------------------------------------------------
-- Cautious region b2 (queue 3): admits everything
--   posting:       max(1, 5 − floor(100/20)=5) = 1, wait 3·2 = 6
--   orchestration: max(1, 7 − floor(50/25)=2)  = 5, wait 3·3 = 9
--   creative:      max(1, 4 − floor(10/20)=0)  = 4, wait 3·5 = 15
--   performance:   max(1, 3 − floor(90/30)=3)  = 1, wait 3·4 = 12
-- ---------------------------------------------------------------------------
SELECT * FROM pg_temp.show(grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b2', NULL, 5000));
SELECT * FROM pg_temp.show(grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b2', NULL, NULL, 5000));
SELECT * FROM pg_temp.show(grse.route_creative_job('00000000-0000-0000-0000-0000000000b2', NULL, NULL, 5000));
SELECT * FROM pg_temp.show(grse.route_performance_job('00000000-0000-0000-0000-0000000000b2', NULL, NULL, 5000));

-- ---------------------------------------------------------------------------
-- Throttled region b3 (queue 1): creative blocked; others only with cost <= 100
--   posting:       max(1, 5 − floor(60/20)=3)  = 2, wait 1·2 = 2
--   orchestration: max(1, 7 − floor(100/25)=4) = 3, wait 1·3 = 3
--   performance:   max(1, 3 − floor(80/30)=2)  = 1, wait 1·4 = 4
-- ---------------------------------------------------------------------------
SELECT c.label, (pg_temp.show(c.route)).*
  FROM (VALUES
    (1,  'posting cost 0',         grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b3')),
    (2,  'posting cost 100',       grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b3', NULL, 100)),
    (3,  'posting cost 101',       grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b3', NULL, 101)),
    (4,  'orchestration cost 100', grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b3', NULL, NULL, 100)),
    (5,  'orchestration cost 101', grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b3', NULL, NULL, 101)),
    (6,  'performance cost 100',   grse.route_performance_job('00000000-0000-0000-0000-0000000000b3', NULL, NULL, 100)),
    (7,  'performance cost 101',   grse.route_performance_job('00000000-0000-0000-0000-0000000000b3', NULL, NULL, 101)),
    (8,  'creative cost 0',        grse.route_creative_job('00000000-0000-0000-0000-0000000000b3')),
    (9,  'creative cost 100',      grse.route_creative_job('00000000-0000-0000-0000-0000000000b3', NULL, NULL, 100))
  ) AS c(n, label, route)
 ORDER BY c.n;

-- the small-job limit is policy: at 200 cents, 101 and 200 pass, 201 does not
UPDATE grse.policy SET small_job_max_cents = 200;
SELECT c.cost, (grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b3', NULL, c.cost)) IS NOT NULL AS routed
  FROM (VALUES (101), (200), (201)) AS c(cost);
UPDATE grse.policy SET small_job_max_cents = 100;

-- ---------------------------------------------------------------------------
-- Frozen region b4: every type blocked, whatever the cost
-- ---------------------------------------------------------------------------
SELECT c.label, c.route IS NULL AS blocked
  FROM (VALUES
    (1, 'posting',       grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b4')),
    (2, 'orchestration', grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b4')),
    (3, 'creative',      grse.route_creative_job('00000000-0000-0000-0000-0000000000b4')),
    (4, 'performance',   grse.route_performance_job('00000000-0000-0000-0000-0000000000b4'))
  ) AS c(n, label, route)
 ORDER BY c.n;

-- ---------------------------------------------------------------------------
-- get_best_region_for_job: among active normal/cautious regions (b1, b2), the
-- preferred one if its capacity > 30, else the lowest pressure of the type;
-- ties: higher capacity, then smaller id. (b5 is idle but inactive: never chosen.)
--   posting:       b1 45    < b2 100
--   orchestration: b1 50    = b2 50  -> capacity 83.20 > 77.95 -> b1
--   creative:      b2 10    < b1 39.99
--   intel:         b1 59.99 < b2 90
-- ---------------------------------------------------------------------------
SELECT j.job_type, pg_temp.slug(grse.get_best_region_for_job(j.job_type)) AS best
  FROM (VALUES (1, 'posting'), (2, 'orchestration'), (3, 'creative'), (4, 'intel'), (5, 'performance')) AS j(n, job_type)
 ORDER BY j.n;

SELECT p.label, pg_temp.slug(grse.get_best_region_for_job('posting', p.preferred)) AS best
  FROM (VALUES
    (1, 'preferred b2 (cautious, capacity 77.95 > 30): kept',  '00000000-0000-0000-0000-0000000000b2'::uuid),
    (2, 'preferred b1 (normal): kept',                         '00000000-0000-0000-0000-0000000000b1'),
    (3, 'preferred b3 (throttled): lowest posting pressure b1', '00000000-0000-0000-0000-0000000000b3'),
    (4, 'preferred b4 (frozen): lowest posting pressure b1',   '00000000-0000-0000-0000-0000000000b4'),
    (5, 'no preference: b1',                                   NULL)
  ) AS p(n, label, preferred)
 ORDER BY p.n;

-- With default thresholds a normal/cautious region always has capacity >= 30
-- (capacity < 30 means throttled), so the "capacity > limit" rule is shown by
-- raising the policy limit (preferred_region_min_capacity, default 30):
--   limit 77.94: b2's 77.95 > 77.94 -> b2 kept
--   limit 77.95: b2's 77.95 is not > 77.95 -> lowest posting pressure: b1
UPDATE grse.policy SET preferred_region_min_capacity = 77.94;
SELECT pg_temp.slug(grse.get_best_region_for_job('posting', '00000000-0000-0000-0000-0000000000b2')) AS limit_77_94;
UPDATE grse.policy SET preferred_region_min_capacity = 77.95;
SELECT pg_temp.slug(grse.get_best_region_for_job('posting', '00000000-0000-0000-0000-0000000000b2')) AS limit_77_95;
-- creative: b2 is also the lowest creative pressure, so it wins either way
SELECT pg_temp.slug(grse.get_best_region_for_job('creative', '00000000-0000-0000-0000-0000000000b2')) AS creative_limit_77_95;
UPDATE grse.policy SET preferred_region_min_capacity = 30;

-- Deterministic ties: b5 activated with exactly b1's pressures (same type
-- pressure, same capacity 83.20) -> the smaller id, b1, every time.
UPDATE grse.regions SET active = true WHERE id = '00000000-0000-0000-0000-0000000000b5';
UPDATE grse.region_scaling_state SET posting_pressure = 45, orchestration_pressure = 50,
       creative_pressure = 39.99, intel_pressure = 59.99
 WHERE region_id = '00000000-0000-0000-0000-0000000000b5';
SELECT pg_temp.slug(grse.get_best_region_for_job('posting')) AS tie_1,
       pg_temp.slug(grse.get_best_region_for_job('posting')) AS tie_2,
       pg_temp.slug(grse.get_best_region_for_job('intel')) AS tie_intel;
-- b5 one point lower in posting pressure (44): b5 wins posting (44 < 45); its
-- P = 13.2 + 12.5 + 9.9975 + 11.998 = 47.6955 -> 47.70, capacity 100 − 16.695 = 83.305 -> 83.31,
-- so the intel tie (59.99 = 59.99) now goes to the higher capacity: b5 again
UPDATE grse.region_scaling_state SET posting_pressure = 44
 WHERE region_id = '00000000-0000-0000-0000-0000000000b5';
SELECT pg_temp.slug(grse.get_best_region_for_job('posting')) AS posting_b5_44,
       pg_temp.slug(grse.get_best_region_for_job('intel')) AS intel;
UPDATE grse.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0,
       creative_pressure = 0, intel_pressure = 0
 WHERE region_id = '00000000-0000-0000-0000-0000000000b5';
UPDATE grse.regions SET active = false WHERE id = '00000000-0000-0000-0000-0000000000b5';

-- No normal/cautious region at all -> NULL (b1 and b2 frozen inside a rolled-back transaction)
BEGIN;
UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95,
       creative_pressure = 95, intel_pressure = 95
 WHERE region_id IN ('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-0000000000b2');
SELECT pg_temp.slug(grse.get_best_region_for_job('posting')) AS none_open,
       grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b4',
                              NULL, 0, true) IS NULL AS frozen_with_fallback_but_nowhere_to_go;
ROLLBACK;

-- ---------------------------------------------------------------------------
-- allow_fallback: a refusing region hands the job to get_best_region_for_job
-- (excluding itself); without it the answer is NULL.
-- ---------------------------------------------------------------------------
SELECT c.label, (pg_temp.show(c.route)).*
  FROM (VALUES
    (1, 'frozen b4 posting, no fallback',
        grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b4', NULL, 0, false)),
    -- best posting region b1: priority 3, wait 20
    (2, 'frozen b4 posting, fallback',
        grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b4', NULL, 0, true)),
    -- best creative region b2: priority 4, wait 15
    (3, 'throttled b3 creative, fallback',
        grse.route_creative_job('00000000-0000-0000-0000-0000000000b3', NULL, NULL, 0, true)),
    -- best orchestration region b1 (tie with b2 by capacity): priority 5, wait 30
    (4, 'throttled b3 orchestration cost 101, fallback',
        grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b3', NULL, NULL, 101, true)),
    -- cost 100 passes in b3: no fallback needed, stays in b3
    (5, 'throttled b3 orchestration cost 100, fallback',
        grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b3', NULL, NULL, 100, true)),
    -- best intel region b1: priority 2, wait 40
    (6, 'frozen b4 performance, fallback',
        grse.route_performance_job('00000000-0000-0000-0000-0000000000b4', NULL, NULL, 0, true)),
    -- an admitting region keeps its job even with fallback allowed
    (7, 'cautious b2 posting, fallback',
        grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b2', NULL, 0, true))
  ) AS c(n, label, route)
 ORDER BY c.n;

-- ---------------------------------------------------------------------------
-- route_posting_job without a region: the tenant's (agency's) licensed region,
-- else the best posting region.
-- ---------------------------------------------------------------------------
INSERT INTO grse.agency_regions (agency_id, region_id) VALUES
    ('00000000-0000-0000-0000-00000000e002', '00000000-0000-0000-0000-0000000000b2'),
    ('00000000-0000-0000-0000-00000000e004', '00000000-0000-0000-0000-0000000000b4');
SELECT c.label, (pg_temp.show(c.route)).*
  FROM (VALUES
    (1, 'tenant licensed in b2',                  grse.route_posting_job('00000000-0000-0000-0000-00000000e002')),
    (2, 'tenant without license -> best (b1)',    grse.route_posting_job('00000000-0000-0000-0000-00000000e0ff')),
    (3, 'tenant licensed in frozen b4',           grse.route_posting_job('00000000-0000-0000-0000-00000000e004')),
    (4, 'tenant licensed in frozen b4, fallback', grse.route_posting_job('00000000-0000-0000-0000-00000000e004', NULL, NULL, 0, true))
  ) AS c(n, label, route)
 ORDER BY c.n;

-- ---------------------------------------------------------------------------
-- Shard keys
-- ---------------------------------------------------------------------------
-- format slug/jobtype/NN (16 shards -> two digits), the same for a tenant every time.
-- The scheme is stable across versions: FNV-1a-64 of the tenant's 16 bytes, then jump
-- consistent hash into 16 shards; for ...f001 that is shard 15 (checked against an
-- independent implementation of the documented scheme).
SELECT k.shard_key, k.shard_key ~ '^rt-normal/posting/[0-9]{2}$' AS posting_format,
       k.shard_key = (grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1')).shard_key AS stable_1,
       k.shard_key = (grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1', 9, 500)).shard_key AS stable_2,
       substr(k.shard_key, 19)::int BETWEEN 0 AND 15 AS shard_in_0_15
  FROM (SELECT (grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1')).shard_key) AS k;

-- the shard number depends on the tenant and the shard count only: the same
-- tenant has the same shard for every job type of a region
SELECT count(DISTINCT split_part(k, '/', 3)) AS distinct_shard_numbers, count(*) AS keys,
       bool_and(k ~ '^rt-normal/(posting|orchestration|creative|intel)/[0-9]{2}$') AS formats_ok
  FROM (VALUES
    ((grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1')).shard_key),
    ((grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-00000000f001')).shard_key),
    ((grse.route_creative_job('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-00000000f001')).shard_key),
    ((grse.route_performance_job('00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-00000000f001')).shard_key)
  ) AS t(k);

-- 200 tenants spread over the 16 shards of b1 (expect well over 12 distinct; the
-- reference implementation gives all 16, the fullest with 21 tenants)
CREATE TEMP TABLE tenants AS
    SELECT i, md5(i::text)::uuid AS tenant FROM generate_series(1, 200) AS i;
CREATE TEMP TABLE shards16 AS
    SELECT t.i, (grse.route_posting_job(t.tenant, '00000000-0000-0000-0000-0000000000b1')).shard_key AS k
      FROM tenants t;
SELECT count(DISTINCT k) AS distinct_shards, max(n) AS fullest_shard,
       count(DISTINCT k) > 12 AS spread_over_more_than_12,
       count(DISTINCT k) <= 16 AS at_most_16,
       max(n) < 40 AS no_shard_over_40_of_200
  FROM (SELECT k, count(*) OVER (PARTITION BY k) AS n FROM shards16) s;
-- keys are stable: computing them again gives the same 200 keys
SELECT count(*) AS unchanged
  FROM shards16 s JOIN tenants t USING (i)
 WHERE s.k = (grse.route_posting_job(t.tenant, '00000000-0000-0000-0000-0000000000b1')).shard_key;

-- Growing b1 to 17 shards moves only about 1/17 of the tenants (≈ 11.8 of 200),
-- all of them to the new shard 16; expect well under 200/17·2 ≈ 23.5 (reference: 9 move).
UPDATE grse.region_scaling_state SET shard_count = 17 WHERE region_id = '00000000-0000-0000-0000-0000000000b1';
CREATE TEMP TABLE shards17 AS
    SELECT t.i, (grse.route_posting_job(t.tenant, '00000000-0000-0000-0000-0000000000b1')).shard_key AS k
      FROM tenants t;
SELECT count(*) FILTER (WHERE a.k <> b.k) AS moved,
       count(*) FILTER (WHERE a.k <> b.k) > 0 AS some_moved,
       count(*) FILTER (WHERE a.k <> b.k) < 24 AS moved_under_24,
       bool_and(b.k = 'rt-normal/posting/16') FILTER (WHERE a.k <> b.k) AS all_moved_to_shard_16,
       bool_and(b.k ~ '^rt-normal/posting/[0-9]{2}$') AS still_two_digits
  FROM shards16 a JOIN shards17 b USING (i);
-- the scale of the shard number follows the shard count: 1 shard -> "0", 1000 shards -> 3 digits
UPDATE grse.region_scaling_state SET shard_count = 1 WHERE region_id = '00000000-0000-0000-0000-0000000000b1';
SELECT (grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1')).shard_key AS one_shard;
UPDATE grse.region_scaling_state SET shard_count = 1000 WHERE region_id = '00000000-0000-0000-0000-0000000000b1';
-- (reference: ...f001 is shard 395 of 1000)
SELECT (grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1')).shard_key AS thousand_shards;
-- back to NULL: the policy default (16) again, and the original keys
UPDATE grse.region_scaling_state SET shard_count = NULL WHERE region_id = '00000000-0000-0000-0000-0000000000b1';
SELECT count(*) AS back_to_original
  FROM shards16 s JOIN tenants t USING (i)
 WHERE s.k = (grse.route_posting_job(t.tenant, '00000000-0000-0000-0000-0000000000b1')).shard_key;
-- without a tenant, a key is still well formed (a random tenant picks the shard)
SELECT (grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b1')).shard_key ~ '^rt-normal/orchestration/[0-9]{2}$' AS random_tenant_format;

-- ---------------------------------------------------------------------------
-- Bad input: one bad argument at a time
-- ---------------------------------------------------------------------------
SELECT c.n, c.label, pg_temp.err(c.stmt) AS result
  FROM (VALUES
    -- route_posting_job(tenant_id, region_id, priority, estimated_cost, allow_fallback)
    (1,  'posting: NULL tenant',           $$SELECT grse.route_posting_job(NULL, '00000000-0000-0000-0000-0000000000b1')$$),
    (2,  'posting: unknown region',        $$SELECT grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000ff')$$),
    (3,  'posting: inactive region',       $$SELECT grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b5')$$),
    (4,  'posting: priority 0',            $$SELECT grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1', 0)$$),
    (5,  'posting: priority 1001',         $$SELECT grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1', 1001)$$),
    (6,  'posting: cost -1',               $$SELECT grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1', NULL, -1)$$),
    (7,  'posting: cost NaN',              $$SELECT grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1', NULL, 'NaN')$$),
    (8,  'posting: cost 1.5',              $$SELECT grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1', NULL, 1.5)$$),
    (9,  'posting: cost Infinity',         $$SELECT grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1', NULL, 'Infinity')$$),
    (10, 'posting: cost 1e30',             $$SELECT grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1', NULL, 1e30)$$),
    (11, 'posting: cost 2^63',             $$SELECT grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1', NULL, 9223372036854775808)$$),
    (12, 'posting: cost NULL',             $$SELECT grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1', NULL, NULL)$$),
    (13, 'posting: allow_fallback NULL',   $$SELECT grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1', NULL, 0, NULL)$$),
    (14, 'posting: cost 2^63-1 is fine',   $$SELECT grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1', NULL, 9223372036854775807)$$),
    (15, 'posting: cost 1.00 is fine',     $$SELECT grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000b1', NULL, 1.00)$$),
    -- route_orchestration_job(region_id, tenant_id, priority, estimated_cost, allow_fallback)
    (20, 'orchestration: NULL region',     $$SELECT grse.route_orchestration_job(NULL)$$),
    (21, 'orchestration: unknown region',  $$SELECT grse.route_orchestration_job('00000000-0000-0000-0000-0000000000ff')$$),
    (22, 'orchestration: inactive region', $$SELECT grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b5')$$),
    (23, 'orchestration: inactive, fallback', $$SELECT grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b5', NULL, NULL, 0, true)$$),
    (24, 'orchestration: priority 0',      $$SELECT grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b1', NULL, 0)$$),
    (25, 'orchestration: priority 1001',   $$SELECT grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b1', NULL, 1001)$$),
    (26, 'orchestration: cost -1',         $$SELECT grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, -1)$$),
    (27, 'orchestration: cost NaN',        $$SELECT grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, 'NaN')$$),
    (28, 'orchestration: cost 0.5',        $$SELECT grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, 0.5)$$),
    (29, 'orchestration: cost 1e30',       $$SELECT grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, 1e30)$$),
    (30, 'orchestration: cost NULL',       $$SELECT grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, NULL)$$),
    (31, 'orchestration: fallback NULL',   $$SELECT grse.route_orchestration_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, 0, NULL)$$),
    -- route_creative_job(region_id, tenant_id, priority, estimated_cost, allow_fallback)
    (40, 'creative: NULL region',          $$SELECT grse.route_creative_job(NULL)$$),
    (41, 'creative: unknown region',       $$SELECT grse.route_creative_job('00000000-0000-0000-0000-0000000000ff')$$),
    (42, 'creative: inactive region',      $$SELECT grse.route_creative_job('00000000-0000-0000-0000-0000000000b5')$$),
    (43, 'creative: priority 0',           $$SELECT grse.route_creative_job('00000000-0000-0000-0000-0000000000b1', NULL, 0)$$),
    (44, 'creative: priority 1001',        $$SELECT grse.route_creative_job('00000000-0000-0000-0000-0000000000b1', NULL, 1001)$$),
    (45, 'creative: cost -1',              $$SELECT grse.route_creative_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, -1)$$),
    (46, 'creative: cost NaN',             $$SELECT grse.route_creative_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, 'NaN')$$),
    (47, 'creative: cost 99.9',            $$SELECT grse.route_creative_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, 99.9)$$),
    (48, 'creative: cost 1e30',            $$SELECT grse.route_creative_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, 1e30)$$),
    (49, 'creative: cost NULL',            $$SELECT grse.route_creative_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, NULL)$$),
    (50, 'creative: fallback NULL',        $$SELECT grse.route_creative_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, 0, NULL)$$),
    -- route_performance_job(region_id, tenant_id, priority, estimated_cost, allow_fallback)
    (60, 'performance: NULL region',       $$SELECT grse.route_performance_job(NULL)$$),
    (61, 'performance: unknown region',    $$SELECT grse.route_performance_job('00000000-0000-0000-0000-0000000000ff')$$),
    (62, 'performance: inactive region',   $$SELECT grse.route_performance_job('00000000-0000-0000-0000-0000000000b5')$$),
    (63, 'performance: priority 0',        $$SELECT grse.route_performance_job('00000000-0000-0000-0000-0000000000b1', NULL, 0)$$),
    (64, 'performance: priority 1001',     $$SELECT grse.route_performance_job('00000000-0000-0000-0000-0000000000b1', NULL, 1001)$$),
    (65, 'performance: cost -1',           $$SELECT grse.route_performance_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, -1)$$),
    (66, 'performance: cost NaN',          $$SELECT grse.route_performance_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, 'NaN')$$),
    (67, 'performance: cost 0.01',         $$SELECT grse.route_performance_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, 0.01)$$),
    (68, 'performance: cost 1e30',         $$SELECT grse.route_performance_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, 1e30)$$),
    (69, 'performance: cost NULL',         $$SELECT grse.route_performance_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, NULL)$$),
    (70, 'performance: fallback NULL',     $$SELECT grse.route_performance_job('00000000-0000-0000-0000-0000000000b1', NULL, NULL, 0, NULL)$$),
    -- get_best_region_for_job(job_type, preferred_region)
    (80, 'best: NULL job type',            $$SELECT grse.get_best_region_for_job(NULL)$$),
    (81, 'best: unknown job type',         $$SELECT grse.get_best_region_for_job('video')$$),
    (82, 'best: job type is case-sensitive', $$SELECT grse.get_best_region_for_job('Posting')$$),
    (83, 'best: unknown preferred region', $$SELECT grse.get_best_region_for_job('posting', '00000000-0000-0000-0000-0000000000ff')$$),
    (84, 'best: inactive preferred region', $$SELECT grse.get_best_region_for_job('posting', '00000000-0000-0000-0000-0000000000b5')$$),
    -- route_job(job_type, ...), the function behind the four wrappers
    (90, 'route_job: NULL job type',       $$SELECT grse.route_job(NULL, '00000000-0000-0000-0000-0000000000b1')$$),
    (91, 'route_job: unknown job type',    $$SELECT grse.route_job('video', '00000000-0000-0000-0000-0000000000b1')$$),
    -- update_job_queue(region_id, delta)
    (100, 'queue: NULL region',            $$SELECT grse.update_job_queue(NULL, 1)$$),
    (101, 'queue: NULL delta',             $$SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000b1', NULL)$$),
    (102, 'queue: unknown region',         $$SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000ff', 1)$$),
    -- allowed by design (README): jobs still finish after a region is switched off; clamped at 0
    (103, 'queue: inactive region allowed', $$SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000b5', -1)$$),
    (104, 'queue: beyond integer',         $$SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000b1', 2147483647)$$)
  ) AS c(n, label, stmt)
 ORDER BY c.n;

-- nothing changed by the failed calls: queues as before (b5, inactive, still 0)
SELECT r.slug, s.jobs_in_queue
  FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id
 ORDER BY r.id;
