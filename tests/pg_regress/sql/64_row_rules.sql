-- 64_row_rules: the row rules of the state row, the budget slots, the ledger, the
-- mode transitions and the job records, which their row triggers check (the tables keep only keys and NOT NULLs,
-- the jobs their foreign keys): every rule refuses
-- with 23514 naming it, as the CHECK did, and writes nothing; rows loaded in restore mode
-- are checked too (the ledger, slot, transition and job guards fire for them; state rows loaded without the
-- state trigger are checked by verify_invariants, which post_restore runs).
\ir ../common/preamble.sql
INSERT INTO grse.regions (id, name, slug, country_code, timezone) VALUES
    ('00000000-0000-0000-0000-000000000641', 'Rules', 'rules', 'DE', 'Europe/Berlin');
CREATE TEMP TABLE before AS SELECT * FROM grse.region_scaling_state;
-- (every column but updated_at, which each write sets)
CREATE FUNCTION pg_temp.state_unchanged() RETURNS boolean LANGUAGE sql AS $$
    SELECT NOT EXISTS (SELECT to_jsonb(s) - 'updated_at' FROM grse.region_scaling_state s
                       EXCEPT SELECT to_jsonb(b) - 'updated_at' FROM before b)
       AND NOT EXISTS (SELECT to_jsonb(b) - 'updated_at' FROM before b
                       EXCEPT SELECT to_jsonb(s) - 'updated_at' FROM grse.region_scaling_state s)
$$;

-- No CHECK is left on the five tables, and the ledger and the transitions have no foreign key.
SELECT c.conrelid::regclass AS tbl, c.contype, count(*)
  FROM pg_constraint c
 WHERE c.conrelid IN ('grse.region_scaling_state'::regclass, 'grse.region_budget_slots'::regclass,
                      'grse.region_budget_transactions'::regclass, 'grse.region_mode_transitions'::regclass,
                      'grse.jobs'::regclass)
 GROUP BY 1, 2 ORDER BY 1, 2;

-- ---------------------------------------------------------------------------
-- The state row: every column an app writes, out of its range
-- ---------------------------------------------------------------------------
SELECT v.col, v.val, pg_temp.err(format('UPDATE grse.region_scaling_state SET %I = %s WHERE region_id = %L',
                                        v.col, v.val, '00000000-0000-0000-0000-000000000641')) AS result
  FROM (VALUES ('posting_pressure', '-0.01'), ('orchestration_pressure', '100.01'),
               ('creative_pressure', '101'), ('intel_pressure', '-1'),
               ('active_agencies', '-1'), ('active_clients', '-1'),
               ('shard_count', '0'), ('shard_count', '65537'),
               ('metadata', $$'[]'$$), ('metadata', $$'"text"'$$), ('metadata', $$'3'$$), ('metadata', $$'null'$$),
               ('shard_count', 'NULL'), ('shard_count', '65536'), ('metadata', $$'{"a": [1, 2]}'$$)) AS v(col, val);
-- the last three were allowed: put them back
UPDATE grse.region_scaling_state SET shard_count = NULL, metadata = '{}'
 WHERE region_id = '00000000-0000-0000-0000-000000000641';
-- jobs_in_queue written below zero counts the manual part down to zero (never a negative count)
SELECT pg_temp.err($$UPDATE grse.region_scaling_state SET jobs_in_queue = -5 WHERE region_id = '00000000-0000-0000-0000-000000000641'$$) AS queue_below_zero,
       (SELECT jobs_in_queue FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-000000000641') AS jobs_in_queue;
-- derived scores an app writes are recomputed, as before
UPDATE grse.region_scaling_state SET capacity_score = 150, warning_index = -3, scaling_mode = 'paused'
 WHERE region_id = '00000000-0000-0000-0000-000000000641';
SELECT capacity_score, warning_index, scaling_mode FROM grse.region_scaling_state
 WHERE region_id = '00000000-0000-0000-0000-000000000641';
SELECT pg_temp.state_unchanged() AS unchanged;

-- Budget columns are grse's (42501 before any rule), whatever the value.
SELECT pg_temp.err($$UPDATE grse.region_scaling_state SET ai_budget_remaining = -1 WHERE region_id = '00000000-0000-0000-0000-000000000641'$$) AS remaining;

-- ---------------------------------------------------------------------------
-- The ledger and the slots in restore mode (the only way rows reach them from outside
-- grse): every rule, one bad row each, nothing written
-- ---------------------------------------------------------------------------
SET grse.restoring = on;
SELECT v.rule, pg_temp.err(format(
         'INSERT INTO grse.region_budget_transactions (region_id, transaction_type, amount, delta, balance_after, job_type, slot_no, idempotency_key)
          VALUES (%L, %s)', '00000000-0000-0000-0000-000000000641', v.vals)) AS result
  FROM (VALUES ('good spend', $$'spend', 5, -5, 10, 'creative', 0, NULL$$),
               ('type', $$'gift', 5, 5, 10, NULL, 0, NULL$$),
               ('amount', $$'allocation', 0, 0, 10, NULL, 0, NULL$$),
               ('balance', $$'spend', 5, -5, -1, NULL, 0, NULL$$),
               ('job type', $$'spend', 5, -5, 10, 'performance', 0, NULL$$),
               ('slot range', $$'spend', 5, -5, 10, NULL, 65, NULL$$),
               ('key empty', $$'spend', 5, -5, 10, NULL, 0, ''$$),
               ('key long', $$'spend', 5, -5, 10, NULL, 0, repeat('k', 201)$$),
               ('abs delta', $$'refund', 5, 4, 10, NULL, 0, NULL$$),
               ('sign', $$'spend', 5, 5, 10, NULL, 0, NULL$$),
               ('slot kind', $$'refund', 5, 5, 10, NULL, 3, NULL$$)) AS v(rule, vals);
SELECT v.rule, pg_temp.err(format(
         'INSERT INTO grse.region_budget_slots (region_id, slot_no, balance, spent_today, period_spent) VALUES (%L, %s)',
         '00000000-0000-0000-0000-000000000641', v.vals)) AS result
  FROM (VALUES ('slot 0', '0, 0, 0, 0'), ('balance', '1, -1, 0, 0'), ('today', '1, 0, -1, 0'),
               ('period', '1, 0, 0, -1')) AS v(rule, vals);
SELECT v.rule, pg_temp.err(format(
         'INSERT INTO grse.region_mode_transitions (region_id, from_mode, to_mode, capacity, pressure, reason, cause)
          VALUES (%L, %s, 50, 50, ''loaded'', %s)', '00000000-0000-0000-0000-000000000641', v.modes, v.cause)) AS result
  FROM (VALUES ('from', $$'calm', 'frozen'$$, $$'metrics'$$), ('to', $$'normal', 'Frozen'$$, $$'metrics'$$),
               ('cause', $$'normal', 'frozen'$$, $$'cron'$$), ('same mode', $$'frozen', 'frozen'$$, $$'metrics'$$),
               ('pin keeps the mode', $$'frozen', 'frozen'$$, $$'pin'$$)) AS v(rule, modes, cause);
-- a transition of no region (no foreign key: verify_invariants reports it, transition_region)
SELECT pg_temp.err($$INSERT INTO grse.region_mode_transitions (region_id, from_mode, to_mode, capacity, pressure, reason)
                     VALUES ('00000000-0000-0000-0000-000000000643', 'normal', 'frozen', 50, 50, 'loaded')$$) AS no_region;
SELECT count(*) AS transition_rows FROM grse.region_mode_transitions;
-- job records: every rule, one bad row each (the good one is a finished job: it counts in no queue)
SELECT v.rule, pg_temp.err(format(
         'INSERT INTO grse.jobs (id, region_id, job_type, shard_key, priority, estimated_cost, status, created_at,
                                 run_after, started_at, finished_at, expires_at, actual_cost)
          VALUES (gen_random_uuid(), %L, %s)', '00000000-0000-0000-0000-000000000641', v.vals)) AS result
  FROM (VALUES ('good finished job', $$'posting', 'rules/posting/00', 5, 10, 'succeeded', '2026-01-01 10:00+00', '2026-01-01 10:00+00', '2026-01-01 10:01+00', '2026-01-01 10:02+00', '2026-01-02 10:00+00', 9$$),
               ('job type', $$'performance', 'k', 5, 10, 'queued', '2026-01-01 10:00+00', '2026-01-01 10:00+00', NULL, NULL, '2026-01-02 10:00+00', NULL$$),
               ('priority 0', $$'posting', 'k', 0, 10, 'queued', '2026-01-01 10:00+00', '2026-01-01 10:00+00', NULL, NULL, '2026-01-02 10:00+00', NULL$$),
               ('priority 1001', $$'posting', 'k', 1001, 10, 'queued', '2026-01-01 10:00+00', '2026-01-01 10:00+00', NULL, NULL, '2026-01-02 10:00+00', NULL$$),
               ('estimated cost', $$'posting', 'k', 5, -1, 'queued', '2026-01-01 10:00+00', '2026-01-01 10:00+00', NULL, NULL, '2026-01-02 10:00+00', NULL$$),
               ('status', $$'posting', 'k', 5, 10, 'done', '2026-01-01 10:00+00', '2026-01-01 10:00+00', NULL, NULL, '2026-01-02 10:00+00', NULL$$),
               ('actual cost', $$'posting', 'k', 5, 10, 'failed', '2026-01-01 10:00+00', '2026-01-01 10:00+00', NULL, '2026-01-01 10:02+00', '2026-01-02 10:00+00', -1$$),
               ('run before creation', $$'posting', 'k', 5, 10, 'queued', '2026-01-01 10:00+00', '2026-01-01 09:59+00', NULL, NULL, '2026-01-02 10:00+00', NULL$$),
               ('expires at creation', $$'posting', 'k', 5, 10, 'queued', '2026-01-01 10:00+00', '2026-01-01 10:00+00', NULL, NULL, '2026-01-01 10:00+00', NULL$$),
               ('queued but finished', $$'posting', 'k', 5, 10, 'queued', '2026-01-01 10:00+00', '2026-01-01 10:00+00', NULL, '2026-01-01 10:02+00', '2026-01-02 10:00+00', NULL$$),
               ('cancelled, not finished', $$'posting', 'k', 5, 10, 'cancelled', '2026-01-01 10:00+00', '2026-01-01 10:00+00', NULL, NULL, '2026-01-02 10:00+00', NULL$$),
               ('running, never started', $$'posting', 'k', 5, 10, 'running', '2026-01-01 10:00+00', '2026-01-01 10:00+00', NULL, NULL, '2026-01-02 10:00+00', NULL$$),
               ('job type NULL', $$NULL, 'k', 5, 10, 'queued', '2026-01-01 10:00+00', '2026-01-01 10:00+00', NULL, NULL, '2026-01-02 10:00+00', NULL$$))
       AS v(rule, vals);
-- a job of no region and a job requested for no region (no foreign keys: verify_invariants
-- reports them, job_region and job_requested_region)
SELECT pg_temp.err($$INSERT INTO grse.jobs (id, region_id, requested_region_id, job_type, shard_key, priority,
                                            status, created_at, run_after, started_at, finished_at, expires_at)
                     VALUES ('00000000-0000-0000-0000-000000000644', '00000000-0000-0000-0000-000000000643', NULL,
                             'posting', 'k', 5, 'cancelled', '2026-01-01 10:00+00', '2026-01-01 10:00+00', NULL,
                             '2026-01-01 10:02+00', '2026-01-02 10:00+00'),
                            ('00000000-0000-0000-0000-000000000645', '00000000-0000-0000-0000-000000000641',
                             '00000000-0000-0000-0000-000000000643', 'posting', 'k', 5, 'cancelled',
                             '2026-01-01 10:00+00', '2026-01-01 10:00+00', NULL, '2026-01-01 10:02+00',
                             '2026-01-02 10:00+00')$$) AS jobs_of_no_region;
SELECT count(*) AS job_rows, min(status) AS status FROM grse.jobs;
RESET grse.restoring;
-- the good spend row went in (in restore mode) and breaks the ledger sum, and the
-- transition and the jobs of no region went in, which verify_invariants reports; nothing else was written
SELECT count(*) AS slot_rows FROM grse.region_budget_slots;
SELECT invariant FROM grse.verify_invariants() ORDER BY 1;

-- ---------------------------------------------------------------------------
-- A state row loaded without the state trigger (pg_restore runs with
-- session_replication_role = replica) is checked by verify_invariants
-- ---------------------------------------------------------------------------
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO grse.regions (id, name, slug, country_code, timezone) VALUES
    ('00000000-0000-0000-0000-000000000642', 'Loaded', 'loaded', 'DE', 'Europe/Berlin');
INSERT INTO grse.region_scaling_state (region_id, posting_pressure, shard_count, metadata, ai_budget_remaining,
                                       day_started_at, day_ends_at, month_started_at, month_ends_at, pinned_mode)
VALUES ('00000000-0000-0000-0000-000000000642', 150, 0, '[]', 200000,
        '2026-01-02', '2026-01-01', '2026-01-01', '2026-02-01', 'paused');
SELECT invariant, detail FROM grse.verify_invariants()
 WHERE region_id = '00000000-0000-0000-0000-000000000642' AND invariant = 'state_rules' ORDER BY detail;
ROLLBACK;
