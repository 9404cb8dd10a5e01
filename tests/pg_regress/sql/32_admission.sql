-- 32_admission: admit_job(job_type, tenant_id, region_id, client_id,
-- estimated_cost, priority, allow_fallback) -- the one-call admission:
-- resolve the region (region_id, else client_id's, else tenant_id's = agency's),
-- apply the mode rules, check the budget for the estimated cost, compute
-- priority, wait and shard key, count the job into the queue; with
-- allow_fallback a refusal tries get_best_region_for_job's region.
-- A refusal is an answer (admitted = false, with the reason) and changes nothing.
\ir ../common/preamble.sql

-- The slug of a region id; a NULL id shows as <null>.
CREATE FUNCTION pg_temp.slug(id uuid) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN slug.id IS NULL THEN '<null>'
                ELSE COALESCE((SELECT r.slug FROM grse.regions r WHERE r.id = slug.id), '<no such region>') END
$$;

-- Every region's queue, remaining budget and ledger length (to show "nothing changed").
CREATE FUNCTION pg_temp.state(OUT slug text, OUT jobs_in_queue integer, OUT remaining bigint, OUT ledger_rows bigint)
RETURNS SETOF record LANGUAGE sql AS $$
    SELECT r.slug, s.jobs_in_queue, s.ai_budget_remaining,
           (SELECT count(*) FROM grse.region_budget_transactions l WHERE l.region_id = r.id)
      FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id
     ORDER BY r.id
$$;

-- admit_job's answer with slugs instead of ids; the shard key is checked, not printed.
CREATE FUNCTION pg_temp.admit(job text, tenant uuid DEFAULT NULL, region uuid DEFAULT NULL, client uuid DEFAULT NULL,
                              cost numeric DEFAULT 0, prio integer DEFAULT NULL, fallback boolean DEFAULT true,
    OUT admitted boolean, OUT region text, OUT requested text, OUT shard_ok boolean, OUT priority integer,
    OUT estimated_wait integer, OUT scaling_mode text, OUT queue_depth integer, OUT fallback_used boolean, OUT reason text)
LANGUAGE sql AS $$
    SELECT a.admitted, pg_temp.slug(a.region_id), pg_temp.slug(a.requested_region_id),
           CASE WHEN a.shard_key IS NULL THEN NULL
                ELSE a.shard_key ~ ('^' || pg_temp.slug(a.region_id) || '/' || CASE job WHEN 'performance' THEN 'intel' ELSE job END || '/[0-9]{2}$') END,
           a.priority, a.estimated_wait, a.scaling_mode, a.queue_depth, a.fallback_used, a.reason
      FROM grse.admit_job(job, tenant, region, client, cost, prio, fallback) a
$$;

-- d1 normal, d2 cautious, d3 throttled, d4 frozen, d5 cautious and nearly out of budget, d6 inactive.
INSERT INTO grse.regions (id, name, slug, country_code, timezone, active) VALUES
    ('00000000-0000-0000-0000-0000000000d1', 'Admit Normal',    'ad-normal',    'DE', 'UTC', true),
    ('00000000-0000-0000-0000-0000000000d2', 'Admit Cautious',  'ad-cautious',  'FR', 'UTC', true),
    ('00000000-0000-0000-0000-0000000000d3', 'Admit Throttled', 'ad-throttled', 'US', 'UTC', true),
    ('00000000-0000-0000-0000-0000000000d4', 'Admit Frozen',    'ad-frozen',    'JP', 'UTC', true),
    ('00000000-0000-0000-0000-0000000000d5', 'Admit Poor',      'ad-poor',      'BR', 'UTC', true),
    ('00000000-0000-0000-0000-0000000000d6', 'Admit Inactive',  'ad-inactive',  'CA', 'UTC', false);

UPDATE grse.region_scaling_state SET posting_pressure = 30, orchestration_pressure = 30,
       creative_pressure = 30, intel_pressure = 30
 WHERE region_id = '00000000-0000-0000-0000-0000000000d1';
UPDATE grse.region_scaling_state SET posting_pressure = 80, orchestration_pressure = 80,
       creative_pressure = 12, intel_pressure = 80
 WHERE region_id = '00000000-0000-0000-0000-0000000000d2';
UPDATE grse.region_scaling_state SET posting_pressure = 80, orchestration_pressure = 80,
       creative_pressure = 80, intel_pressure = 80
 WHERE region_id = '00000000-0000-0000-0000-0000000000d3';
UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95,
       creative_pressure = 95, intel_pressure = 95
 WHERE region_id = '00000000-0000-0000-0000-0000000000d4';
UPDATE grse.region_scaling_state SET posting_pressure = 40, orchestration_pressure = 40,
       creative_pressure = 40, intel_pressure = 40
 WHERE region_id = '00000000-0000-0000-0000-0000000000d5';
-- d5: monthly 1000 (remaining 100000 − 99000 = 1000), then spend 950 -> 50 remaining
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000d5', 1000) AS d5_remaining;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000d5', 950) AS d5_spent;

-- capacity = 100·(0.40·remaining/monthly + 0.35·(1 − P/100) + 0.25), fatigue 0:
-- d1: P 30                          -> 40 + 24.5 + 25 = 89.50, normal
-- d2: P 24 + 20 + 3 + 16 = 63       -> 40 + 12.95 + 25 = 77.95, cautious (P > 60)
-- d3: P 80                          -> 40 + 7 + 25 = 72.00, throttled (P > 75)
-- d4: P 95                          -> 40 + 1.75 + 25 = 66.75, frozen (P > 90)
-- d5: P 40, budget 50/1000 = 0.05   -> 2 + 21 + 25 = 48.00, cautious (capacity < 50)
SELECT r.slug, s.scaling_mode, s.overall_pressure, s.capacity_score, s.ai_budget_remaining
  FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id
 ORDER BY r.id;
SELECT * FROM pg_temp.state();

-- ---------------------------------------------------------------------------
-- Admitted in the requested region: the queue grows by one per job and the
-- wait counts the jobs already queued.
--   d1 posting:       priority max(1, 5 − floor(30/20)=1) = 4, wait 0·2 = 0, depth 1
--   d1 posting again: priority 4, wait 1·2 = 2, depth 2
--   d1 orchestration: priority max(1, 7 − floor(30/25)=1) = 6, wait 2·3 = 6, depth 3
--   d1 creative:      priority max(1, 4 − floor(30/20)=1) = 3, wait 3·5 = 15, depth 4
--   d1 performance:   priority max(1, 3 − floor(30/30)=1) = 2, wait 4·4 = 16, depth 5
--   d1 posting, requested priority 10: 10 − 1 = 9, wait 5·2 = 10, depth 6
-- ---------------------------------------------------------------------------
SELECT * FROM pg_temp.admit('posting', '00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d1', cost => 100);
SELECT * FROM pg_temp.admit('posting', '00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d1', cost => 100);
SELECT * FROM pg_temp.admit('orchestration', '00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d1');
SELECT * FROM pg_temp.admit('creative', '00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d1', cost => 99999);
SELECT * FROM pg_temp.admit('performance', '00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d1');
SELECT * FROM pg_temp.admit('posting', '00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d1', prio => 10);
-- the admitted shard key is the router's key for the same tenant
SELECT (SELECT shard_key FROM grse.admit_job('posting', '00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d1'))
     = (grse.route_posting_job('00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d1')).shard_key
       AS same_key_as_router;
-- that was the 7th job in d1; admission checks the budget, it does not spend it
-- (spending is check_and_decrement_budget's job)
SELECT * FROM pg_temp.state();

-- ---------------------------------------------------------------------------
-- Refusals (allow_fallback => false): the reason, and nothing changes
-- ---------------------------------------------------------------------------
SELECT c.label, a.*
  FROM (VALUES
    (1, 'frozen d4, posting',             'posting',  '00000000-0000-0000-0000-0000000000d4'::uuid, 0),
    (2, 'throttled d3, creative',         'creative', '00000000-0000-0000-0000-0000000000d3', 0),
    (3, 'throttled d3, posting cost 101', 'posting',  '00000000-0000-0000-0000-0000000000d3', 101),
    (4, 'd5, posting cost 51 > 50 left',  'posting',  '00000000-0000-0000-0000-0000000000d5', 51),
    (5, 'd1, posting cost 100001',        'posting',  '00000000-0000-0000-0000-0000000000d1', 100001)
  ) AS c(n, label, job, region, cost)
 CROSS JOIN LATERAL pg_temp.admit(c.job, '00000000-0000-0000-0000-00000000f001', c.region, cost => c.cost, fallback => false) a
 ORDER BY c.n;
-- unchanged: queues, budgets, ledgers
SELECT * FROM pg_temp.state();

-- ... and the edges that are admitted:
--   throttled d3, posting cost 100: priority max(1, 5 − floor(80/20)=4) = 1, wait 0, depth 1
--   d5, posting cost 50 (exactly what is left): priority max(1, 5 − floor(40/20)=2) = 3, wait 0, depth 1
--   d1, cost 100000 (all of it): priority 4, wait 7·2 = 14, depth 8
SELECT * FROM pg_temp.admit('posting', '00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d3', cost => 100, fallback => false);
SELECT * FROM pg_temp.admit('posting', '00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d5', cost => 50, fallback => false);
SELECT * FROM pg_temp.admit('posting', '00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d1', cost => 100000, fallback => false);
SELECT * FROM pg_temp.state();

-- ---------------------------------------------------------------------------
-- Fallback (allow_fallback defaults to true): the best other region for the
-- job type among normal/cautious ones takes the job.
--   best posting:  d1 30 < d5 40 < d2 80 -> d1
--   best creative: d2 12 < d1 30 < d5 40 -> d2
--   best intel:    d1 30 < d5 40 < d2 80 -> d1
-- ---------------------------------------------------------------------------
-- frozen d4 posting -> d1: priority 4, wait 8·2 = 16, depth 9
SELECT * FROM pg_temp.admit('posting', '00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d4');
-- throttled d3 creative -> d2: priority max(1, 4 − floor(12/20)=0) = 4, wait 0, depth 1
SELECT * FROM pg_temp.admit('creative', '00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d3');
-- throttled d3 performance cost 500 -> d1: priority 2, wait 9·4 = 36, depth 10
SELECT * FROM pg_temp.admit('performance', '00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d3', cost => 500);
-- d5 short of budget (cost 5000 > 50) -> d1 (100000 left): priority 4, wait 10·2 = 20, depth 11
SELECT * FROM pg_temp.admit('posting', '00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d5', cost => 5000);
-- the fallback region refuses too: cost 200000 is more than d1's 100000
SELECT * FROM pg_temp.admit('posting', '00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d4', cost => 200000);
-- no normal/cautious region other than the requested one (d1, d2, d5 frozen inside a rolled-back transaction)
BEGIN;
UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95,
       creative_pressure = 95, intel_pressure = 95
 WHERE region_id IN ('00000000-0000-0000-0000-0000000000d1', '00000000-0000-0000-0000-0000000000d2',
                     '00000000-0000-0000-0000-0000000000d5');
SELECT * FROM pg_temp.admit('posting', '00000000-0000-0000-0000-00000000f001', '00000000-0000-0000-0000-0000000000d4');
ROLLBACK;
-- d1 took 4 more jobs (11), d2 one (1); the refusals changed nothing
SELECT * FROM pg_temp.state();

-- ---------------------------------------------------------------------------
-- Region resolution: region_id, else client_id's region, else tenant_id's (an agency)
-- ---------------------------------------------------------------------------
INSERT INTO grse.agency_regions (agency_id, region_id, status) VALUES
    ('00000000-0000-0000-0000-00000000e001', '00000000-0000-0000-0000-0000000000d1', 'active'),
    ('00000000-0000-0000-0000-00000000e002', '00000000-0000-0000-0000-0000000000d2', 'active'),
    ('00000000-0000-0000-0000-00000000e004', '00000000-0000-0000-0000-0000000000d4', 'active'),
    ('00000000-0000-0000-0000-00000000e009', '00000000-0000-0000-0000-0000000000d1', 'suspended');
INSERT INTO grse.client_agencies (client_id, agency_id) VALUES
    ('00000000-0000-0000-0000-0000000000c2', '00000000-0000-0000-0000-00000000e002'),
    ('00000000-0000-0000-0000-0000000000c4', '00000000-0000-0000-0000-00000000e004'),
    ('00000000-0000-0000-0000-0000000000c9', '00000000-0000-0000-0000-00000000e009');

-- orchestration everywhere: d1 priority 6 (wait 3·queue), d2 priority max(1, 7 − floor(80/25)=3) = 4 (wait 3·queue)
SELECT c.label, a.*
  FROM (VALUES
    -- client c2 -> agency e002 -> d2: wait 1·3 = 3, depth 2
    (1, 'client c2 -> d2',                          NULL::uuid, NULL::uuid, '00000000-0000-0000-0000-0000000000c2'::uuid, true),
    -- tenant (agency) e001 -> d1: wait 11·3 = 33, depth 12
    (2, 'tenant e001 -> d1',                        '00000000-0000-0000-0000-00000000e001', NULL, NULL, true),
    -- region_id wins over client c2: d1, wait 12·3 = 36, depth 13
    (3, 'region d1 beats client c2',                NULL, '00000000-0000-0000-0000-0000000000d1', '00000000-0000-0000-0000-0000000000c2', true),
    -- client wins over tenant: client c2 (d2) over tenant e001 (d1): wait 2·3 = 6, depth 3
    (4, 'client c2 beats tenant e001',              '00000000-0000-0000-0000-00000000e001', NULL, '00000000-0000-0000-0000-0000000000c2', true),
    -- client c4 -> frozen d4, fallback to the best orchestration region d1: wait 13·3 = 39, depth 14
    (5, 'client c4 -> frozen d4 -> fallback d1',    NULL, NULL, '00000000-0000-0000-0000-0000000000c4', true),
    -- client c9's agency has only a suspended license: nothing resolves
    (6, 'client c9 unresolved, no fallback',        NULL, NULL, '00000000-0000-0000-0000-0000000000c9', false),
    -- ... with fallback, the best orchestration region d1 takes it: wait 14·3 = 42, depth 15
    (7, 'client c9 unresolved, fallback d1',        NULL, NULL, '00000000-0000-0000-0000-0000000000c9', true),
    -- a tenant (agency e009) whose only license is suspended, no fallback
    (8, 'tenant e009 unresolved, no fallback',      '00000000-0000-0000-0000-00000000e009', NULL, NULL, false)
  ) AS c(n, label, tenant, region, client, fallback)
 CROSS JOIN LATERAL pg_temp.admit('orchestration', c.tenant, c.region, c.client, fallback => c.fallback) a
 ORDER BY c.n;
SELECT * FROM pg_temp.state();

-- the shard tenant is tenant_id, else client_id: a client-only admission shards like the client id
SELECT (SELECT shard_key FROM grse.admit_job('posting', client_id => '00000000-0000-0000-0000-0000000000c2'))
     = (grse.route_posting_job('00000000-0000-0000-0000-0000000000c2', '00000000-0000-0000-0000-0000000000d2')).shard_key
       AS client_shards_like_its_id;
-- (that admission was d2's 4th job)
SELECT * FROM pg_temp.state();

-- ---------------------------------------------------------------------------
-- Bad input: errors, and nothing changed (same state as above)
-- ---------------------------------------------------------------------------
SELECT c.n, c.label, pg_temp.err(c.stmt) AS result
  FROM (VALUES
    (1,  'no region, client or tenant',  $$SELECT grse.admit_job('posting')$$),
    (2,  'all three NULL explicitly',    $$SELECT grse.admit_job('posting', NULL, NULL, NULL)$$),
    (3,  'NULL job type',                $$SELECT grse.admit_job(NULL, region_id => '00000000-0000-0000-0000-0000000000d1')$$),
    (4,  'unknown job type',             $$SELECT grse.admit_job('video', region_id => '00000000-0000-0000-0000-0000000000d1')$$),
    (5,  'unknown region',               $$SELECT grse.admit_job('posting', region_id => '00000000-0000-0000-0000-0000000000ff')$$),
    (6,  'inactive region',              $$SELECT grse.admit_job('posting', region_id => '00000000-0000-0000-0000-0000000000d6')$$),
    (7,  'priority 0',                   $$SELECT grse.admit_job('posting', region_id => '00000000-0000-0000-0000-0000000000d1', priority => 0)$$),
    (8,  'priority 1001',                $$SELECT grse.admit_job('posting', region_id => '00000000-0000-0000-0000-0000000000d1', priority => 1001)$$),
    (9,  'cost -1',                      $$SELECT grse.admit_job('posting', region_id => '00000000-0000-0000-0000-0000000000d1', estimated_cost => -1)$$),
    (10, 'cost NaN',                     $$SELECT grse.admit_job('posting', region_id => '00000000-0000-0000-0000-0000000000d1', estimated_cost => 'NaN')$$),
    (11, 'cost 2.5',                     $$SELECT grse.admit_job('posting', region_id => '00000000-0000-0000-0000-0000000000d1', estimated_cost => 2.5)$$),
    (12, 'cost 1e30',                    $$SELECT grse.admit_job('posting', region_id => '00000000-0000-0000-0000-0000000000d1', estimated_cost => 1e30)$$),
    (13, 'cost NULL',                    $$SELECT grse.admit_job('posting', region_id => '00000000-0000-0000-0000-0000000000d1', estimated_cost => NULL)$$),
    (14, 'allow_fallback NULL',          $$SELECT grse.admit_job('posting', region_id => '00000000-0000-0000-0000-0000000000d1', allow_fallback => NULL)$$),
    -- an agency with no license of any status, a client with no agency: unknown ids (P0002)
    (15, 'unknown tenant (agency)',      $$SELECT grse.admit_job('posting', tenant_id => '00000000-0000-0000-0000-00000000e0ff')$$),
    (16, 'unknown client',               $$SELECT grse.admit_job('posting', client_id => '00000000-0000-0000-0000-0000000000cf')$$)
  ) AS c(n, label, stmt)
 ORDER BY c.n;
SELECT * FROM pg_temp.state();
