-- 62_jobs: admitted jobs as records. admit_job(..., hold_budget) returns job_id and hold_id
-- (the estimated cost held in the admitted region); start_job, finish_job (settles the
-- hold with the actual cost, or releases it when the job failed or has no cost) and
-- cancel_job (releases it) move a job queued -> running -> succeeded / failed / cancelled,
-- 55000 naming its status otherwise; jobs not finished by expires_at (policy job_ttl) are
-- expired with their holds by the sweeper (expire_budget_holds) and lazily. jobs_in_queue =
-- queued and running jobs + what update_job_queue counted. In a cautious region a job waits
-- policy cautious_delay_seconds (delay_seconds, run_after, estimated_wait).
-- Job and hold ids are random: kept in psql variables, never printed.
\ir ../common/preamble.sql
\ir ../common/holds.sql

INSERT INTO grse.regions (id, name, slug, country_code, timezone, active) VALUES
    ('00000000-0000-0000-0000-000000006201', 'Works', 'works', 'DE', 'UTC', true),
    ('00000000-0000-0000-0000-000000006202', 'Spare', 'spare', 'FR', 'UTC', true),
    ('00000000-0000-0000-0000-000000006203', 'Retired', 'retired', 'ES', 'UTC', false);
INSERT INTO grse.agency_regions (agency_id, region_id) VALUES
    ('00000000-0000-0000-0000-00000000a621', '00000000-0000-0000-0000-000000006201');
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-000000006201', 10000) AS works_remaining;
-- spare has a little more pressure, so it is the fallback but never preferred over works
UPDATE grse.region_scaling_state SET posting_pressure = 10 WHERE region_id = '00000000-0000-0000-0000-000000006202';
SELECT cautious_delay_seconds, job_ttl, hold_ttl FROM grse.policy;

-- ---------------------------------------------------------------------------
-- Admission with a hold: a job record and a hold of its estimated cost (living as
-- long as the job), counted in the queue.
-- ---------------------------------------------------------------------------
SELECT admitted, region_id, requested_region_id, shard_key, priority, estimated_wait, scaling_mode, queue_depth,
       fallback_used, reason, delay_seconds, job_id IS NOT NULL AS has_job, hold_id IS NOT NULL AS has_hold
  FROM grse.admit_job('posting', tenant_id => '00000000-0000-0000-0000-00000000c621',
                      region_id => '00000000-0000-0000-0000-000000006201', estimated_cost => 500, hold_budget => true);
SELECT id AS j1, hold_id AS j1_hold FROM grse.jobs ORDER BY created_at DESC LIMIT 1 \gset
SELECT * FROM pg_temp.job(:'j1');
SELECT tenant_id FROM grse.jobs WHERE id = :'j1';
SELECT * FROM pg_temp.ledger('works', 1);
SELECT * FROM pg_temp.budget() WHERE slug = 'works';
-- without hold_budget (or with no cost) there is a record but no hold
SELECT job_id AS j2, hold_id IS NULL AS no_hold, queue_depth
  FROM grse.admit_job('intel', tenant_id => '00000000-0000-0000-0000-00000000c622',
                      region_id => '00000000-0000-0000-0000-000000006201', estimated_cost => 300) \gset
SELECT :queue_depth AS queue_depth, :'no_hold' AS no_hold;
SELECT job_id AS j3, queue_depth
  FROM grse.admit_job('creative', tenant_id => '00000000-0000-0000-0000-00000000c622',
                      region_id => '00000000-0000-0000-0000-000000006201', hold_budget => true) \gset
SELECT * FROM pg_temp.job(:'j2') UNION ALL SELECT * FROM pg_temp.job(:'j3');
SELECT * FROM pg_temp.budget() WHERE slug = 'works';
SELECT (grse.get_budget_stats('00000000-0000-0000-0000-000000006201') ->> 'jobs_queued')::int AS stats_queued,
       (grse.get_budget_stats('00000000-0000-0000-0000-000000006201') ->> 'jobs_running')::int AS stats_running,
       grse.get_region_scaling_summary('00000000-0000-0000-0000-000000006201') -> 'utilization' AS summary_utilization;
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- The worker's life cycle: start, then finish with the actual cost (the hold is
-- settled: the actual cost is spent, the rest given back); a job resolves once.
-- ---------------------------------------------------------------------------
SELECT r ->> 'status' AS status, r ->> 'started_at' IS NOT NULL AS started, r ->> 'finished_at' IS NULL AS not_finished
  FROM grse.start_job(:'j1') r;
SELECT * FROM pg_temp.budget() WHERE slug = 'works';
-- the actual cost may not exceed what is held (22023): nothing changes, the job keeps running
SELECT t.state, replace(t.message, :'j1', '<j1>') AS message, t.unchanged
  FROM pg_temp.try_case(format('SELECT grse.finish_job(%L, 501)', :'j1')) t;
SELECT r ->> 'status' AS status, (r ->> 'actual_cost')::bigint AS actual_cost, r ->> 'finished_at' IS NOT NULL AS finished
  FROM grse.finish_job(:'j1', 450) r;
SELECT * FROM pg_temp.job(:'j1');
SELECT * FROM pg_temp.ledger('works', 3);
SELECT * FROM pg_temp.budget() WHERE slug = 'works';
SELECT grse.get_budget_stats('00000000-0000-0000-0000-000000006201') -> 'spend_by_job_type' AS spend_by_job_type;
SELECT * FROM grse.verify_invariants();

-- A failed job releases its hold, whatever cost it reports; a job without a cost
-- releases it too; cancelling a queued or a running job releases it.
SELECT job_id AS j4 FROM grse.admit_job('posting', tenant_id => '00000000-0000-0000-0000-00000000c621',
                                        region_id => '00000000-0000-0000-0000-000000006201', estimated_cost => 200,
                                        hold_budget => true) \gset
SELECT job_id AS j5 FROM grse.admit_job('orchestration', tenant_id => '00000000-0000-0000-0000-00000000c621',
                                        region_id => '00000000-0000-0000-0000-000000006201', estimated_cost => 250,
                                        hold_budget => true) \gset
SELECT job_id AS j6 FROM grse.admit_job('posting', tenant_id => '00000000-0000-0000-0000-00000000c623',
                                        region_id => '00000000-0000-0000-0000-000000006201', estimated_cost => 150,
                                        hold_budget => true) \gset
SELECT job_id AS j7 FROM grse.admit_job('posting', tenant_id => '00000000-0000-0000-0000-00000000c623',
                                        region_id => '00000000-0000-0000-0000-000000006201', estimated_cost => 120,
                                        hold_budget => true) \gset
SELECT * FROM pg_temp.budget() WHERE slug = 'works';
SELECT grse.start_job(:'j4') ->> 'status' AS j4, grse.start_job(:'j7') ->> 'status' AS j7;
SELECT grse.finish_job(:'j4', 180, false) ->> 'status' AS j4_failed;
SELECT grse.finish_job(:'j5') ->> 'status' AS j5_no_cost;
SELECT grse.cancel_job(:'j6') ->> 'status' AS j6_queued_cancelled;
SELECT grse.cancel_job(:'j7') ->> 'status' AS j7_running_cancelled;
SELECT n, j.*
  FROM (VALUES (4, :'j4'::uuid), (5, :'j5'::uuid), (6, :'j6'::uuid), (7, :'j7'::uuid)) AS v(n, id),
       LATERAL pg_temp.job(v.id) j
 ORDER BY n;
SELECT * FROM pg_temp.ledger('works', 4);
SELECT * FROM pg_temp.budget() WHERE slug = 'works';
SELECT * FROM grse.verify_invariants();

-- Starting, finishing or cancelling a job that is no longer queued (start) or
-- queued/running (finish, cancel): 55000 naming its status, nothing changed.
SELECT c.name, t.state,
       replace(replace(replace(replace(t.message, :'j1', '<j1>'), :'j4', '<j4>'), :'j6', '<j6>'), :'j2', '<j2>') AS message,
       t.unchanged
  FROM (VALUES
    (1, 'start a succeeded job', format('SELECT grse.start_job(%L)', :'j1')),
    (2, 'finish a succeeded job', format('SELECT grse.finish_job(%L, 10)', :'j1')),
    (3, 'cancel a succeeded job', format('SELECT grse.cancel_job(%L)', :'j1')),
    (4, 'start a failed job', format('SELECT grse.start_job(%L)', :'j4')),
    (5, 'finish a failed job', format('SELECT grse.finish_job(%L)', :'j4')),
    (6, 'start a cancelled job', format('SELECT grse.start_job(%L)', :'j6')),
    (7, 'cancel a cancelled job', format('SELECT grse.cancel_job(%L)', :'j6')),
    (8, 'finish a cancelled job', format('SELECT grse.finish_job(%L, 0)', :'j6'))
  ) AS c(n, name, stmt),
  LATERAL pg_temp.try_case(c.stmt) t
 ORDER BY c.n;
SELECT grse.start_job(:'j2') ->> 'status' AS j2;
SELECT t.state, replace(t.message, :'j2', '<j2>') AS message, t.unchanged
  FROM pg_temp.try_case(format('SELECT grse.start_job(%L)', :'j2')) t;

-- A job without a hold that finishes with a cost keeps the cost on its record (there is
-- no hold to settle; the app charges it); a queued job may be finished directly.
SELECT grse.finish_job(:'j2', 280) ->> 'status' AS j2, grse.finish_job(:'j3') ->> 'status' AS j3;
SELECT * FROM pg_temp.job(:'j2') UNION ALL SELECT * FROM pg_temp.job(:'j3');
SELECT * FROM pg_temp.budget() WHERE slug = 'works';
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Refusals are answers without a job or a hold, and write nothing: frozen; a hold
-- of more than the region has (with hold_budget the budget refusal is the reason).
-- ---------------------------------------------------------------------------
SELECT pg_temp.grse_checksum() AS before \gset
SELECT admitted, region_id IS NULL AS no_region, job_id IS NULL AS no_job, hold_id IS NULL AS no_hold, reason
  FROM grse.admit_job('posting', tenant_id => '00000000-0000-0000-0000-00000000c621',
                      region_id => '00000000-0000-0000-0000-000000006201', estimated_cost => 1000000,
                      allow_fallback => false, hold_budget => true);
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95, creative_pressure = 95,
       intel_pressure = 95 WHERE region_id = '00000000-0000-0000-0000-000000006201';
SELECT pg_temp.grse_checksum() AS before \gset
SELECT admitted, job_id IS NULL AS no_job, hold_id IS NULL AS no_hold, reason
  FROM grse.admit_job('posting', tenant_id => '00000000-0000-0000-0000-00000000c621',
                      region_id => '00000000-0000-0000-0000-000000006201', estimated_cost => 100,
                      allow_fallback => false, hold_budget => true);
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
-- with the fallback, the job (and its hold) go to the best other region
SELECT admitted, region_id = '00000000-0000-0000-0000-000000006202' AS in_spare, fallback_used, reason,
       job_id AS jf, hold_id AS jf_hold
  FROM grse.admit_job('posting', tenant_id => '00000000-0000-0000-0000-00000000c621',
                      region_id => '00000000-0000-0000-0000-000000006201', estimated_cost => 100,
                      hold_budget => true) \gset
SELECT :'admitted' AS admitted, :'in_spare' AS in_spare, :'fallback_used' AS fallback_used, :'reason' AS reason;
SELECT * FROM pg_temp.job(:'jf');
SELECT * FROM pg_temp.budget() WHERE slug IN ('spare', 'works');
SELECT grse.cancel_job(:'jf') ->> 'status' AS jf;
UPDATE grse.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0, creative_pressure = 0,
       intel_pressure = 0 WHERE region_id = '00000000-0000-0000-0000-000000006201';
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Cautious means all jobs, with delays: delay_seconds = policy cautious_delay_seconds
-- (0 in normal), estimated_wait = jobs_in_queue x seconds per job + delay_seconds, and
-- the job's run_after is created_at + the delay.
-- ---------------------------------------------------------------------------
UPDATE grse.policy SET cautious_delay_seconds = 45;
SELECT job_id AS jn, estimated_wait, delay_seconds, scaling_mode, queue_depth
  FROM grse.admit_job('creative', tenant_id => '00000000-0000-0000-0000-00000000c621',
                      region_id => '00000000-0000-0000-0000-000000006201') \gset
SELECT :'scaling_mode' AS mode, :queue_depth AS queue_depth, :estimated_wait AS estimated_wait, :delay_seconds AS delay_seconds;
SELECT estimated_wait, scaling_mode, delay_seconds
  FROM grse.route_creative_job('00000000-0000-0000-0000-000000006201', '00000000-0000-0000-0000-00000000c621');
-- pressure 65 everywhere: cautious (pressure above 60)
UPDATE grse.region_scaling_state SET posting_pressure = 65, orchestration_pressure = 65, creative_pressure = 65,
       intel_pressure = 65 WHERE region_id = '00000000-0000-0000-0000-000000006201';
SELECT scaling_mode, jobs_in_queue FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-000000006201';
SELECT job_id AS jc, estimated_wait, delay_seconds, scaling_mode, queue_depth, hold_id IS NOT NULL AS has_hold
  FROM grse.admit_job('creative', tenant_id => '00000000-0000-0000-0000-00000000c621',
                      region_id => '00000000-0000-0000-0000-000000006201', estimated_cost => 90, hold_budget => true) \gset
SELECT :'scaling_mode' AS mode, :queue_depth AS queue_depth, :estimated_wait AS estimated_wait,
       :delay_seconds AS delay_seconds, :'has_hold' AS has_hold;
SELECT * FROM pg_temp.job(:'jc');
SELECT estimated_wait, scaling_mode, delay_seconds
  FROM grse.route_creative_job('00000000-0000-0000-0000-000000006201', '00000000-0000-0000-0000-00000000c621');
SELECT estimated_wait, scaling_mode, delay_seconds
  FROM grse.route_posting_job('00000000-0000-0000-0000-00000000c621', '00000000-0000-0000-0000-000000006201');
UPDATE grse.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0, creative_pressure = 0,
       intel_pressure = 0 WHERE region_id = '00000000-0000-0000-0000-000000006201';
SELECT grse.cancel_job(:'jn') ->> 'status' AS jn, grse.cancel_job(:'jc') ->> 'status' AS jc;
UPDATE grse.policy SET cautious_delay_seconds = 30;
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- jobs_in_queue is exact: job records (queued or running) plus the manual count of
-- update_job_queue, which clamps at zero without touching the records' part; a direct
-- write of jobs_in_queue moves only the manual count.
-- ---------------------------------------------------------------------------
SELECT job_id AS q1 FROM grse.admit_job('posting', tenant_id => '00000000-0000-0000-0000-00000000c621',
                                        region_id => '00000000-0000-0000-0000-000000006201') \gset
SELECT job_id AS q2 FROM grse.admit_job('posting', tenant_id => '00000000-0000-0000-0000-00000000c622',
                                        region_id => '00000000-0000-0000-0000-000000006201') \gset
SELECT grse.start_job(:'q2') ->> 'status' AS q2;
SELECT queue, manual, open_jobs FROM pg_temp.budget() WHERE slug = 'works';
SELECT grse.update_job_queue('00000000-0000-0000-0000-000000006201', 3) AS queue_after_plus_3;
SELECT grse.update_job_queue('00000000-0000-0000-0000-000000006201', -1) AS queue_after_minus_1;
SELECT queue, manual, open_jobs FROM pg_temp.budget() WHERE slug = 'works';
SELECT grse.update_job_queue('00000000-0000-0000-0000-000000006201', -10) AS queue_after_minus_10;
SELECT queue, manual, open_jobs FROM pg_temp.budget() WHERE slug = 'works';
UPDATE grse.region_scaling_state SET jobs_in_queue = 6 WHERE region_id = '00000000-0000-0000-0000-000000006201';
SELECT queue, manual, open_jobs FROM pg_temp.budget() WHERE slug = 'works';
UPDATE grse.region_scaling_state SET jobs_in_queue = 0 WHERE region_id = '00000000-0000-0000-0000-000000006201';
SELECT queue, manual, open_jobs FROM pg_temp.budget() WHERE slug = 'works';
SELECT grse.finish_job(:'q2', 0) ->> 'status' AS q2, grse.cancel_job(:'q1') ->> 'status' AS q1;
SELECT queue, manual, open_jobs FROM pg_temp.budget() WHERE slug = 'works';
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Expiry (policy job_ttl): a job not finished by expires_at is expired with its hold
-- by the sweeper, and lazily by the next admission in its region; the queue count
-- follows. An expired job cannot be started or finished (55000).
-- ---------------------------------------------------------------------------
-- (2 seconds: long enough for the statements before the sleep on a busy machine)
UPDATE grse.policy SET job_ttl = '2 seconds';
SELECT job_id AS x1 FROM grse.admit_job('posting', tenant_id => '00000000-0000-0000-0000-00000000c621',
                                        region_id => '00000000-0000-0000-0000-000000006201', estimated_cost => 400,
                                        hold_budget => true) \gset
SELECT job_id AS x2 FROM grse.admit_job('intel', tenant_id => '00000000-0000-0000-0000-00000000c621',
                                        region_id => '00000000-0000-0000-0000-000000006201', estimated_cost => 300,
                                        hold_budget => true) \gset
SELECT grse.start_job(:'x2') ->> 'status' AS x2;
SELECT * FROM pg_temp.job(:'x1') UNION ALL SELECT * FROM pg_temp.job(:'x2');
SELECT * FROM pg_temp.budget() WHERE slug = 'works';
SELECT pg_sleep(2.2);
-- finishing an expired job: its region is swept first, then 55000 (and the sweep is undone with the error)
SELECT t.state, replace(t.message, :'x2', '<x2>') AS message, t.unchanged
  FROM pg_temp.try_case(format('SELECT grse.finish_job(%L, 100)', :'x2')) t;
SELECT t.state, replace(t.message, :'x1', '<x1>') AS message, t.unchanged
  FROM pg_temp.try_case(format('SELECT grse.start_job(%L)', :'x1')) t;
SELECT grse.expire_budget_holds() AS holds_expired;
SELECT * FROM pg_temp.job(:'x1') UNION ALL SELECT * FROM pg_temp.job(:'x2');
SELECT * FROM pg_temp.ledger('works', 2);
SELECT * FROM pg_temp.budget() WHERE slug = 'works';
SELECT t.state, replace(t.message, :'x2', '<x2>') AS message, t.unchanged
  FROM pg_temp.try_case(format('SELECT grse.cancel_job(%L)', :'x2')) t;
SELECT * FROM grse.verify_invariants();
-- lazily: the next admission in the region expires what is due before it counts the queue
SELECT job_id AS x3 FROM grse.admit_job('posting', tenant_id => '00000000-0000-0000-0000-00000000c621',
                                        region_id => '00000000-0000-0000-0000-000000006201', estimated_cost => 100,
                                        hold_budget => true) \gset
SELECT pg_sleep(2.2);
SELECT queue_depth AS depth_seen_by_the_next_admission, job_id AS x4
  FROM grse.admit_job('posting', tenant_id => '00000000-0000-0000-0000-00000000c621',
                      region_id => '00000000-0000-0000-0000-000000006201') \gset
SELECT :depth_seen_by_the_next_admission AS depth_seen_by_the_next_admission;
SELECT status FROM pg_temp.job(:'x3');
SELECT hold_status FROM pg_temp.job(:'x3');
SELECT queue, manual, open_jobs, held FROM pg_temp.budget() WHERE slug = 'works';
UPDATE grse.policy SET job_ttl = '1 hour';
SELECT grse.cancel_job(:'x4') ->> 'status' AS x4;
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Bad input: each case raises with its SQLSTATE and changes nothing.
-- ---------------------------------------------------------------------------
SELECT job_id AS open_job FROM grse.admit_job('posting', tenant_id => '00000000-0000-0000-0000-00000000c621',
                                              region_id => '00000000-0000-0000-0000-000000006201',
                                              estimated_cost => 100, hold_budget => true) \gset
SELECT pg_temp.grse_checksum() AS before \gset
SELECT c.name, t.state, t.message, t.unchanged
  FROM (VALUES
    (1, 'start_job: job_id NULL', $q$SELECT grse.start_job(NULL)$q$),
    (2, 'start_job: unknown job', $q$SELECT grse.start_job('00000000-0000-0000-0000-0000000062ff')$q$),
    (3, 'finish_job: job_id NULL', $q$SELECT grse.finish_job(NULL)$q$),
    (4, 'finish_job: unknown job', $q$SELECT grse.finish_job('00000000-0000-0000-0000-0000000062ff', 1)$q$),
    (5, 'finish_job: succeeded NULL', format('SELECT grse.finish_job(%L, 1, NULL)', :'open_job')),
    (6, 'finish_job: actual_cost -1', format('SELECT grse.finish_job(%L, -1)', :'open_job')),
    (7, 'finish_job: actual_cost 1.5', format('SELECT grse.finish_job(%L, 1.5)', :'open_job')),
    (8, 'finish_job: actual_cost NaN', format('SELECT grse.finish_job(%L, %L)', :'open_job', 'NaN')),
    (9, 'finish_job: actual_cost beyond bigint', format('SELECT grse.finish_job(%L, 9223372036854775808)', :'open_job')),
    (10, 'cancel_job: job_id NULL', $q$SELECT grse.cancel_job(NULL)$q$),
    (11, 'cancel_job: unknown job', $q$SELECT grse.cancel_job('00000000-0000-0000-0000-0000000062ff')$q$),
    (12, 'admit_job: hold_budget NULL', $q$SELECT grse.admit_job('posting', region_id => '00000000-0000-0000-0000-000000006201', hold_budget => NULL)$q$),
    (13, 'admit_job: estimated_cost NaN', $q$SELECT grse.admit_job('posting', region_id => '00000000-0000-0000-0000-000000006201', estimated_cost => 'NaN', hold_budget => true)$q$),
    (14, 'admit_job: estimated_cost -1', $q$SELECT grse.admit_job('posting', region_id => '00000000-0000-0000-0000-000000006201', estimated_cost => -1, hold_budget => true)$q$),
    (15, 'admit_job: estimated_cost beyond bigint', $q$SELECT grse.admit_job('posting', region_id => '00000000-0000-0000-0000-000000006201', estimated_cost => 9223372036854775808, hold_budget => true)$q$),
    (16, 'admit_job: unknown region', $q$SELECT grse.admit_job('posting', region_id => '00000000-0000-0000-0000-0000000062ff', hold_budget => true)$q$),
    (17, 'admit_job: inactive region', $q$SELECT grse.admit_job('posting', region_id => '00000000-0000-0000-0000-000000006203', allow_fallback => false, hold_budget => true)$q$),
    (18, 'policy: job_ttl 0', $q$UPDATE grse.policy SET job_ttl = '0'$q$),
    (19, 'policy: job_ttl negative', $q$UPDATE grse.policy SET job_ttl = '-1 hour'$q$),
    (20, 'policy: job_ttl 31 days', $q$UPDATE grse.policy SET job_ttl = '31 days'$q$),
    (21, 'policy: hold_ttl 8 days', $q$UPDATE grse.policy SET hold_ttl = '8 days'$q$),
    (22, 'policy: cautious_delay_seconds -1', $q$UPDATE grse.policy SET cautious_delay_seconds = -1$q$),
    (23, 'policy: cautious_delay_seconds NULL', $q$UPDATE grse.policy SET cautious_delay_seconds = NULL$q$),
    (24, 'direct INSERT of a job', $q$INSERT INTO grse.jobs (id, region_id, job_type, shard_key, priority, run_after, expires_at)
                                      VALUES (gen_random_uuid(), '00000000-0000-0000-0000-000000006201', 'posting', 'x', 1, now(), now() + interval '1 hour')$q$),
    (25, 'direct UPDATE of a job', format('UPDATE grse.jobs SET status = %L WHERE id = %L', 'succeeded', :'open_job')),
    (26, 'direct DELETE of a job', format('DELETE FROM grse.jobs WHERE id = %L', :'open_job'))
  ) AS c(n, name, stmt),
  LATERAL pg_temp.try_case(c.stmt) t
 ORDER BY c.n;
SELECT pg_temp.grse_checksum() = :'before' AS unchanged;
SELECT status, hold_status FROM pg_temp.job(:'open_job');
SELECT grse.cancel_job(:'open_job') ->> 'status' AS open_job;

SELECT status, count(*) FROM grse.jobs GROUP BY status ORDER BY status;
SELECT status, count(*) FROM grse.budget_holds GROUP BY status ORDER BY status;
SELECT * FROM pg_temp.budget();
SELECT * FROM grse.verify_invariants();
