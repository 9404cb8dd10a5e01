-- 63_migration: migrate_jobs(from_region, to_region default null, job_type default null)
-- moves the queued (not yet started) jobs of a region, in one transaction, to to_region or
-- each to the best region for its type: the job's region, shard key, priority and hold move
-- (released in the old region, reserved in the new one); a job that fits nowhere stays.
-- Returns (job_id, from_region, to_region, shard_key) of the jobs moved. Job ids are random:
-- this file names its jobs (a, b, ...) in a temp table and prints the names.
\ir ../common/preamble.sql
\ir ../common/holds.sql

INSERT INTO grse.regions (id, name, slug, country_code, timezone, active) VALUES
    ('00000000-0000-0000-0000-000000006301', 'Source', 'source', 'DE', 'UTC', true),
    ('00000000-0000-0000-0000-000000006302', 'Target', 'target', 'FR', 'UTC', true),
    ('00000000-0000-0000-0000-000000006303', 'Roomy', 'roomy', 'IT', 'UTC', true),
    ('00000000-0000-0000-0000-000000006304', 'Throttle', 'throttle', 'NL', 'UTC', true),
    ('00000000-0000-0000-0000-000000006305', 'Retired', 'retired', 'ES', 'UTC', false);
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-000000006301', 10000) AS source_remaining;
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-000000006302', 1000) AS target_remaining;
-- pressures: target has the lowest posting pressure, roomy the lowest creative one
UPDATE grse.region_scaling_state SET creative_pressure = 20 WHERE region_id = '00000000-0000-0000-0000-000000006302';
UPDATE grse.region_scaling_state SET posting_pressure = 10 WHERE region_id = '00000000-0000-0000-0000-000000006303';
-- throttle is throttled (pressure 80 everywhere)
UPDATE grse.region_scaling_state SET posting_pressure = 80, orchestration_pressure = 80, creative_pressure = 80,
       intel_pressure = 80 WHERE region_id = '00000000-0000-0000-0000-000000006304';
SELECT slug, scaling_mode FROM grse.region_scaling_state s JOIN grse.regions r ON r.id = s.region_id ORDER BY slug;

-- The jobs, by name.
CREATE TEMP TABLE jn (name text PRIMARY KEY, id uuid NOT NULL UNIQUE);
CREATE FUNCTION pg_temp.admit(name text, job_type text, cost bigint, hold boolean, tenant uuid) RETURNS boolean
LANGUAGE sql AS $$
    WITH a AS (SELECT * FROM grse.admit_job(job_type, tenant_id => tenant, region_id => '00000000-0000-0000-0000-000000006301',
                                            estimated_cost => cost, allow_fallback => false, hold_budget => hold))
    INSERT INTO jn SELECT name, a.job_id FROM a WHERE a.admitted RETURNING true
$$;
-- Every named job: where it is, its shard key and priority, and its hold.
CREATE FUNCTION pg_temp.jobs()
RETURNS TABLE (name text, region text, status text, job_type text, shard_key text, priority integer, cost bigint,
               hold_region text, hold_status text, hold_amount bigint, hold_job_type text,
               hold_expires_with_job boolean)
LANGUAGE sql AS $$
    SELECT n.name, r.slug, j.status, j.job_type, j.shard_key, j.priority, j.estimated_cost,
           hr.slug, h.status, h.amount, h.job_type, h.expires_at = j.expires_at
      FROM jn n JOIN grse.jobs j ON j.id = n.id JOIN grse.regions r ON r.id = j.region_id
      LEFT JOIN grse.budget_holds h ON h.id = j.hold_id LEFT JOIN grse.regions hr ON hr.id = h.region_id
     ORDER BY n.name
$$;
-- What migrate_jobs returned, by name.
CREATE FUNCTION pg_temp.migrate(from_region uuid, to_region uuid DEFAULT NULL, job_type text DEFAULT NULL)
RETURNS TABLE (name text, from_slug text, to_slug text, shard_key text)
LANGUAGE sql AS $$
    SELECT n.name, f.slug, t.slug, m.shard_key
      FROM grse.migrate_jobs(from_region, to_region, job_type) m
      LEFT JOIN jn n ON n.id = m.job_id
      LEFT JOIN grse.regions f ON f.id = m.from_region LEFT JOIN grse.regions t ON t.id = m.to_region
     ORDER BY n.name
$$;

-- one admission per statement: jobs created in one transaction share created_at, and
-- migrate_jobs takes the queued jobs by priority, then age (then id)
SELECT pg_temp.admit('a', 'posting', 300, true, '00000000-0000-0000-0000-00000000c631') AS a;
SELECT pg_temp.admit('b', 'posting', 800, true, '00000000-0000-0000-0000-00000000c632') AS b;
SELECT pg_temp.admit('c', 'creative', 0, false, '00000000-0000-0000-0000-00000000c633') AS c;
SELECT pg_temp.admit('d', 'intel', 100, true, '00000000-0000-0000-0000-00000000c634') AS d;
SELECT pg_temp.admit('e', 'orchestration', 200, false, '00000000-0000-0000-0000-00000000c635') AS e;
SELECT pg_temp.admit('f', 'creative', 100, true, '00000000-0000-0000-0000-00000000c636') AS f;
SELECT pg_temp.admit('g', 'posting', 100, true, '00000000-0000-0000-0000-00000000c637') AS g;
-- d is running: it is no longer queued and never moves
SELECT grse.start_job(id) ->> 'status' AS d FROM jn WHERE name = 'd';
SELECT * FROM pg_temp.jobs();
SELECT * FROM pg_temp.budget();
-- source is frozen: its queued jobs must go
UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95, creative_pressure = 95,
       intel_pressure = 95 WHERE region_id = '00000000-0000-0000-0000-000000006301';
SELECT scaling_mode FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-000000006301';
-- among the other regions target is the best for posting (lowest posting pressure), roomy for creative
SELECT grse.get_best_region_for_job('posting') = '00000000-0000-0000-0000-000000006302' AS target_best_for_posting,
       grse.get_best_region_for_job('creative') = '00000000-0000-0000-0000-000000006303' AS roomy_best_for_creative;
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- To a given region, one job type: the creative jobs c and f go to target (target
-- admits creative jobs; c has no hold, f's 100 cents are reserved there).
-- ---------------------------------------------------------------------------
SELECT * FROM pg_temp.migrate('00000000-0000-0000-0000-000000006301', '00000000-0000-0000-0000-000000006302', 'creative');
SELECT * FROM pg_temp.jobs() WHERE name IN ('c', 'f');
SELECT * FROM pg_temp.ledger('source', 1);
SELECT * FROM pg_temp.ledger('target', 1);
SELECT * FROM pg_temp.budget() WHERE slug IN ('source', 'target');
SELECT * FROM grse.verify_invariants();

-- To a given region, every type, by priority then age (e, a, b, g): e has no hold, a's
-- 300 cents fit into target's 900, b's 800 then no longer fit (b stays, held in source),
-- g's 100 fit; d is running and stays.
SELECT * FROM pg_temp.migrate('00000000-0000-0000-0000-000000006301', '00000000-0000-0000-0000-000000006302');
SELECT * FROM pg_temp.jobs();
SELECT * FROM pg_temp.budget() WHERE slug IN ('source', 'target');
SELECT * FROM grse.verify_invariants();

-- A migrated job runs and ends in its new region: its hold there is settled.
SELECT grse.start_job(id) ->> 'status' AS a_started FROM jn WHERE name = 'a';
SELECT grse.finish_job(id, 250) ->> 'status' AS a_finished FROM jn WHERE name = 'a';
SELECT * FROM pg_temp.jobs() WHERE name = 'a';
SELECT * FROM pg_temp.ledger('target', 2);
SELECT * FROM pg_temp.budget() WHERE slug IN ('source', 'target');
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Jobs that fit nowhere stay. To a throttled region: only small jobs that are not
-- creative are admitted there (h: creative, i: 50-cent posting, j: 300-cent posting).
-- ---------------------------------------------------------------------------
UPDATE grse.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0, creative_pressure = 0,
       intel_pressure = 0 WHERE region_id = '00000000-0000-0000-0000-000000006301';
SELECT pg_temp.admit('h', 'creative', 0, false, '00000000-0000-0000-0000-00000000c638') AS h;
SELECT pg_temp.admit('i', 'posting', 50, true, '00000000-0000-0000-0000-00000000c639') AS i;
SELECT pg_temp.admit('j', 'posting', 300, true, '00000000-0000-0000-0000-00000000c63a') AS j;
UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95, creative_pressure = 95,
       intel_pressure = 95 WHERE region_id = '00000000-0000-0000-0000-000000006301';
SELECT * FROM pg_temp.migrate('00000000-0000-0000-0000-000000006301', '00000000-0000-0000-0000-000000006304');
SELECT * FROM pg_temp.jobs() WHERE name IN ('b', 'h', 'i', 'j');
SELECT * FROM grse.verify_invariants();

-- When every other region is frozen, nothing moves and nothing is written.
UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95, creative_pressure = 95,
       intel_pressure = 95
 WHERE region_id IN ('00000000-0000-0000-0000-000000006302', '00000000-0000-0000-0000-000000006303',
                     '00000000-0000-0000-0000-000000006304');
SELECT pg_temp.grse_checksum() AS before \gset
SELECT count(*) AS moved FROM grse.migrate_jobs('00000000-0000-0000-0000-000000006301');
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
UPDATE grse.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0, creative_pressure = 20,
       intel_pressure = 0 WHERE region_id = '00000000-0000-0000-0000-000000006302';
UPDATE grse.region_scaling_state SET posting_pressure = 10, orchestration_pressure = 0, creative_pressure = 0,
       intel_pressure = 0 WHERE region_id = '00000000-0000-0000-0000-000000006303';
UPDATE grse.region_scaling_state SET posting_pressure = 80, orchestration_pressure = 80, creative_pressure = 80,
       intel_pressure = 80 WHERE region_id = '00000000-0000-0000-0000-000000006304';
SELECT slug, scaling_mode FROM grse.region_scaling_state s JOIN grse.regions r ON r.id = s.region_id ORDER BY slug;

-- ---------------------------------------------------------------------------
-- To the best region for each job's type: h (creative) goes to roomy, the best
-- region for creative; b and j (posting) to target, the best region for posting,
-- where j's 300 cents fit. b's 800 cents do not fit there (target has 500): b goes
-- to the next eligible region that can hold them, roomy (a job stays only if it
-- fits nowhere).
-- ---------------------------------------------------------------------------
SELECT * FROM pg_temp.budget() WHERE slug IN ('roomy', 'target');
SELECT * FROM pg_temp.migrate('00000000-0000-0000-0000-000000006301');
SELECT * FROM pg_temp.jobs() WHERE name IN ('b', 'h', 'j');
SELECT * FROM pg_temp.budget();
SELECT * FROM grse.verify_invariants();
-- b ends wherever it is now (cancel_job follows it)
SELECT grse.cancel_job(id) ->> 'status' AS b_cancelled FROM jn WHERE name = 'b';

-- Nothing queued in source any more: an empty result, nothing written.
SELECT pg_temp.grse_checksum() AS before \gset
SELECT count(*) AS moved FROM grse.migrate_jobs('00000000-0000-0000-0000-000000006301');
SELECT count(*) AS moved FROM grse.migrate_jobs('00000000-0000-0000-0000-000000006301', '00000000-0000-0000-0000-000000006303');
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;

-- ---------------------------------------------------------------------------
-- Bad input: each case raises with its SQLSTATE and changes nothing.
-- ---------------------------------------------------------------------------
UPDATE grse.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0, creative_pressure = 0,
       intel_pressure = 0 WHERE region_id = '00000000-0000-0000-0000-000000006301';
SELECT pg_temp.admit('k', 'posting', 100, true, '00000000-0000-0000-0000-00000000c63b') AS k;
SELECT pg_temp.grse_checksum() AS before \gset
SELECT c.name, t.state, t.message, t.unchanged
  FROM (VALUES
    (1, 'from_region NULL', $q$SELECT grse.migrate_jobs(NULL, '00000000-0000-0000-0000-000000006302')$q$),
    (2, 'from an unknown region', $q$SELECT grse.migrate_jobs('00000000-0000-0000-0000-0000000063ff', '00000000-0000-0000-0000-000000006302')$q$),
    (3, 'to an unknown region', $q$SELECT grse.migrate_jobs('00000000-0000-0000-0000-000000006301', '00000000-0000-0000-0000-0000000063ff')$q$),
    (4, 'from an inactive region', $q$SELECT grse.migrate_jobs('00000000-0000-0000-0000-000000006305', '00000000-0000-0000-0000-000000006302')$q$),
    (5, 'to an inactive region', $q$SELECT grse.migrate_jobs('00000000-0000-0000-0000-000000006301', '00000000-0000-0000-0000-000000006305')$q$),
    (6, 'to the same region', $q$SELECT grse.migrate_jobs('00000000-0000-0000-0000-000000006301', '00000000-0000-0000-0000-000000006301')$q$),
    (7, 'unknown job type', $q$SELECT grse.migrate_jobs('00000000-0000-0000-0000-000000006301', NULL, 'mining')$q$)
  ) AS c(n, name, stmt),
  LATERAL pg_temp.try_case(c.stmt) t
 ORDER BY c.n;
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
-- 'performance' is the intel type: the running intel job d never moves, k (posting) stays too
SELECT count(*) AS moved FROM grse.migrate_jobs('00000000-0000-0000-0000-000000006301', NULL, 'performance');

-- Every job ends; every hold resolves; every invariant holds.
SELECT n.name, grse.cancel_job(n.id) ->> 'status' AS cancelled
  FROM jn n JOIN grse.jobs j ON j.id = n.id WHERE j.status IN ('queued', 'running') ORDER BY n.name;
SELECT status, count(*) FROM grse.jobs GROUP BY status ORDER BY status;
SELECT status, count(*) FROM grse.budget_holds GROUP BY status ORDER BY status;
SELECT * FROM pg_temp.budget();
SELECT * FROM grse.verify_invariants();
