-- 10_schema: what inserting a region creates, the constraints on regions and
-- the policy, and the guards that keep grse-maintained data in grse's hands.
\ir ../common/preamble.sql
-- this file's helper functions (public schema), dropped again at the end
DROP FUNCTION IF EXISTS public.grse_counts();

-- Row counts of the tables a region touches.
CREATE OR REPLACE FUNCTION public.grse_counts(OUT regions bigint, OUT states bigint, OUT ledger bigint,
                                              OUT transitions bigint)
LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM grse.regions), (SELECT count(*) FROM grse.region_scaling_state),
           (SELECT count(*) FROM grse.region_budget_transactions),
           (SELECT count(*) FROM grse.region_mode_transitions)
$$;

-- The tests run as a superuser: the guards below must hold for it too.
SELECT rolsuper FROM pg_roles WHERE rolname = current_user;

-- ---------------------------------------------------------------------------
-- A region insert creates its state row (policy defaults: monthly budget
-- 100000 cents, all of it remaining, mode normal, capacity 100.00 because
-- 100·(0.40·1 + 0.35·1 + 0.25·1) = 100) and exactly one opening allocation.
-- ---------------------------------------------------------------------------
SELECT * FROM grse_counts();
INSERT INTO grse.regions (id, name, slug, country_code, timezone)
VALUES ('00000000-0000-0000-0000-0000000000a1', 'EU West', 'eu-west', 'DE', 'Europe/Berlin');
SELECT * FROM grse_counts();

SELECT r.slug, s.ai_budget_monthly, s.ai_budget_remaining, s.ai_spend_today, s.scaling_mode,
       s.capacity_score, s.overall_pressure, s.warning_index, s.fatigue_score,
       s.posting_pressure, s.orchestration_pressure, s.creative_pressure, s.intel_pressure,
       s.jobs_in_queue, s.shard_count, s.period_spent, s.period_refunded, s.refunded_today
  FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id;

SELECT r.slug, t.transaction_type, t.amount, t.delta, t.balance_after, t.agency_id, t.job_type, t.description
  FROM grse.region_budget_transactions t JOIN grse.regions r ON r.id = t.region_id ORDER BY t.id;

-- the state's budget periods are the region-local day and month containing now()
SELECT s.day_started_at = d.starts_at AND s.day_ends_at = d.ends_at AS day_bounds_ok,
       s.month_started_at = m.starts_at AND s.month_ends_at = m.ends_at AS month_bounds_ok
  FROM grse.region_scaling_state s JOIN grse.regions r ON r.id = s.region_id,
       grse.period_bounds('day', r.timezone, s.updated_at) d,
       grse.period_bounds('month', r.timezone, s.updated_at) m;

-- a second region, created inactive and with defaults for timezone: also gets its state
INSERT INTO grse.regions (id, name, slug, country_code, active)
VALUES ('00000000-0000-0000-0000-0000000000a2', 'US East', 'us-east', 'US', false);
SELECT r.slug, r.timezone, r.active, r.metadata, s.ai_budget_remaining, s.scaling_mode
  FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id ORDER BY r.slug;
SELECT * FROM grse_counts();

-- ---------------------------------------------------------------------------
-- Region constraints: each bad row fails with 23514 (check_violation) and
-- nothing at all is inserted (no region, no state row, no ledger row).
-- ---------------------------------------------------------------------------
SELECT c.name, pg_temp.err(format(
         'INSERT INTO grse.regions (name, slug, country_code, timezone, latitude, metadata) VALUES (%L, %L, %L, %L, %s, %L)',
         'Bad', c.slug, c.cc, c.tz, c.lat, c.meta)) AS result
  FROM (VALUES
        (1, 'slug with space and capitals', 'EU West', 'DE', 'UTC', '0', '{}'),
        (2, 'slug starting with a dash', '-eu', 'DE', 'UTC', '0', '{}'),
        (3, 'slug empty', '', 'DE', 'UTC', '0', '{}'),
        (4, 'country code lower case', 'bad-1', 'de', 'UTC', '0', '{}'),
        (5, 'country code alpha-3', 'bad-2', 'DEU', 'UTC', '0', '{}'),
        (6, 'timezone Mars/Base', 'bad-3', 'DE', 'Mars/Base', '0', '{}'),
        (7, 'timezone +03:00', 'bad-4', 'DE', '+03:00', '0', '{}'),
        (8, 'timezone Not A Zone', 'bad-5', 'DE', 'Not A Zone', '0', '{}'),
        (9, 'latitude 91', 'bad-6', 'DE', 'UTC', '91', '{}'),
        (10, 'latitude -90.5', 'bad-7', 'DE', 'UTC', '-90.5', '{}'),
        (11, 'metadata array', 'bad-8', 'DE', 'UTC', '0', '[]'),
        (12, 'metadata string', 'bad-9', 'DE', 'UTC', '0', '"x"')
       ) AS c(n, name, slug, cc, tz, lat, meta)
 ORDER BY c.n;
SELECT pg_temp.err($$INSERT INTO grse.regions (name, slug, country_code, longitude) VALUES ('Bad', 'bad-10', 'DE', 180.5)$$);
SELECT pg_temp.err($$INSERT INTO grse.regions (name, slug, country_code) VALUES ('   ', 'bad-11', 'DE')$$);
-- a region cannot be its own parent
SELECT pg_temp.err($$INSERT INTO grse.regions (id, name, slug, country_code, parent_region_id)
                      VALUES ('00000000-0000-0000-0000-0000000000a9', 'Self', 'self', 'DE', '00000000-0000-0000-0000-0000000000a9')$$);
-- a valid IANA name with a sign is fine ('Etc/GMT+3'), as is a plain 'UTC'
SELECT grse.is_valid_timezone('Etc/GMT+3') AS etc_gmt, grse.is_valid_timezone('UTC') AS utc,
       grse.is_valid_timezone('America/Argentina/Buenos_Aires') AS three_parts,
       grse.is_valid_timezone('+03:00') AS offset, grse.is_valid_timezone('Mars/Base') AS mars;

-- duplicate slug: 23505 (unique_violation), nothing inserted
SELECT pg_temp.err($$INSERT INTO grse.regions (name, slug, country_code) VALUES ('Other', 'eu-west', 'FR')$$);

-- nothing of the above left a trace: still 2 regions, 2 states, 2 ledger rows
SELECT * FROM grse_counts();

-- ---------------------------------------------------------------------------
-- Policy: CHECKs reject a policy that makes no sense (23514), and the row is
-- unchanged afterwards.
-- ---------------------------------------------------------------------------
SELECT c.name, pg_temp.err('UPDATE grse.policy SET ' || c.assignment) AS result
  FROM (VALUES
        (1, 'pressure weights sum to 1.01', 'pressure_weight_posting = 0.31'),
        (2, 'capacity weights sum to 0.99', 'capacity_weight_fatigue = 0.24'),
        (3, 'weight above 1', 'pressure_weight_posting = 1.5, pressure_weight_orchestration = -0.75, pressure_weight_creative = 0.05, pressure_weight_intel = 0.20'),
        (4, 'cautious pressure above throttled', 'cautious_pressure_above = 80'),
        (5, 'throttled pressure equal to frozen', 'throttled_pressure_above = 90'),
        (6, 'frozen pressure above 100', 'frozen_pressure_above = 100.5'),
        (7, 'frozen capacity above throttled', 'frozen_capacity_below = 35'),
        (8, 'cautious capacity below throttled', 'cautious_capacity_below = 25'),
        (9, 'capacity critical not below warning', 'capacity_critical_below = 40'),
        (10, 'budget critical above warning', 'budget_critical_below_pct = 30'),
        (11, 'shard count 0', 'default_shard_count = 0'),
        (12, 'shard count 65537', 'default_shard_count = 65537'),
        (13, 'ema alpha 0', 'pressure_ema_alpha = 0'),
        (14, 'negative small job limit', 'small_job_max_cents = -1'),
        (15, 'empty fatigue window', $a$fatigue_window = '0 seconds'$a$)
       ) AS c(n, name, assignment)
 ORDER BY c.n;
SELECT pressure_weight_posting, pressure_weight_orchestration, pressure_weight_creative, pressure_weight_intel,
       capacity_weight_budget, capacity_weight_pressure, capacity_weight_fatigue,
       frozen_capacity_below, throttled_capacity_below, cautious_capacity_below,
       frozen_pressure_above, throttled_pressure_above, cautious_pressure_above,
       default_shard_count, small_job_max_cents, pressure_ema_alpha, fatigue_window
  FROM grse.policy;

-- the policy is one row: inserting, deleting or truncating is refused
-- (42501, grse's guard), and there is still exactly one row
SELECT pg_temp.err($$INSERT INTO grse.policy DEFAULT VALUES$$) AS insert_default;
SELECT pg_temp.err($$INSERT INTO grse.policy (id) VALUES (false)$$) AS insert_second;
SELECT pg_temp.err($$DELETE FROM grse.policy$$) AS delete_row;
SELECT pg_temp.err($$TRUNCATE grse.policy$$) AS truncate_table;
SELECT count(*) AS policy_rows FROM grse.policy;

-- ---------------------------------------------------------------------------
-- State rows: created by grse only, never deleted; budget columns and the
-- fatigue score are maintained by grse (42501), for the superuser too.
-- ---------------------------------------------------------------------------
SELECT pg_temp.err($$INSERT INTO grse.region_scaling_state (region_id, day_started_at, day_ends_at, month_started_at, month_ends_at)
                      VALUES ('00000000-0000-0000-0000-0000000000a1', now(), now() + interval '1 day', now(), now() + interval '1 month')$$) AS insert_state;
SELECT pg_temp.err($$DELETE FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000a1'$$) AS delete_state;
SELECT pg_temp.err($$TRUNCATE grse.region_scaling_state$$) AS truncate_state;
SELECT c.col, pg_temp.err(format(
         'UPDATE grse.region_scaling_state SET %I = %s WHERE region_id = %L',
         c.col, c.val, '00000000-0000-0000-0000-0000000000a1')) AS result
  FROM (VALUES (1, 'ai_budget_remaining', '50'),
               (2, 'ai_budget_monthly', '200000'),
               (3, 'ai_spend_today', '7'),
               (4, 'fatigue_score', '12.5'),
               (5, 'refunded_today', '1'),
               (6, 'period_spent', '1'),
               (7, 'period_refunded', '0 + 1'),
               (8, 'day_ends_at', 'now()'),
               (9, 'month_ends_at', $a$'2000-01-01'$a$),
               (10, 'region_id', $a$'00000000-0000-0000-0000-0000000000a2'$a$)
       ) AS c(n, col, val)
 ORDER BY c.n;
-- a budget change hidden among metric writes is refused as a whole
SELECT pg_temp.err($$UPDATE grse.region_scaling_state SET posting_pressure = 10, ai_budget_remaining = 1
                       WHERE region_id = '00000000-0000-0000-0000-0000000000a1'$$) AS mixed_update;
-- nothing changed
SELECT r.slug, s.ai_budget_monthly, s.ai_budget_remaining, s.ai_spend_today, s.fatigue_score, s.posting_pressure
  FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id ORDER BY r.slug;
SELECT * FROM grse_counts();

-- ---------------------------------------------------------------------------
-- The ledger is append-only, for every role: direct INSERT, UPDATE, DELETE
-- and TRUNCATE are refused (42501) and the rows are unchanged.
-- ---------------------------------------------------------------------------
SELECT pg_temp.err($$INSERT INTO grse.region_budget_transactions (region_id, transaction_type, amount, delta, balance_after)
                      VALUES ('00000000-0000-0000-0000-0000000000a1', 'allocation', 5, 5, 100005)$$) AS insert_row;
SELECT pg_temp.err($$UPDATE grse.region_budget_transactions SET description = 'edited'$$) AS update_row;
SELECT pg_temp.err($$DELETE FROM grse.region_budget_transactions$$) AS delete_rows;
SELECT pg_temp.err($$TRUNCATE grse.region_budget_transactions$$) AS truncate_table;
SELECT r.slug, t.transaction_type, t.amount, t.delta, t.balance_after, t.description
  FROM grse.region_budget_transactions t JOIN grse.regions r ON r.id = t.region_id ORDER BY t.id;
SELECT * FROM grse_counts();

-- ---------------------------------------------------------------------------
-- grse's records: the ledger, the roll-over record (grse.budget_rollovers) and
-- the mode transitions are append-only and written by grse only. Their guards,
-- and the delete/truncate guards of the state rows, are ENABLE ALWAYS
-- triggers ('A'), so session_replication_role = replica (which turns ordinary
-- triggers off) leaves them on; so are the policy's (they let the policy row
-- of a dump or of a publisher replace grse's). The state's derive trigger and
-- the other triggers are ordinary ('O'): logical replication's apply workers
-- skip them and take the publisher's rows as they are.
-- ---------------------------------------------------------------------------
SELECT c.relname AS "table", t.tgname AS "trigger", t.tgenabled AS enabled
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'grse' AND NOT t.tgisinternal
 ORDER BY 1, 2;

-- one row in each record, written by grse: a manual daily reset records a
-- roll-over per region (2 'manual' rows); pressures of 70 make eu-west
-- cautious (70 > 60), which records a transition
SELECT grse.reset_daily_budget_spend() AS regions_reset;
UPDATE grse.region_scaling_state
   SET posting_pressure = 70, orchestration_pressure = 70, creative_pressure = 70, intel_pressure = 70
 WHERE region_id = '00000000-0000-0000-0000-0000000000a1';
SELECT r.slug, b.period_kind, b.source FROM grse.budget_rollovers b JOIN grse.regions r ON r.id = b.region_id ORDER BY b.id;
SELECT r.slug, t.from_mode, t.to_mode, t.capacity, t.pressure
  FROM grse.region_mode_transitions t JOIN grse.regions r ON r.id = t.region_id ORDER BY t.id;

-- Every direct write to them is refused (42501), for the superuser, first as
-- usual, then with session_replication_role = replica; the state rows cannot
-- be deleted or truncated either way.
CREATE TEMP TABLE forgeries (n integer GENERATED ALWAYS AS IDENTITY, stmt text NOT NULL, sql text NOT NULL);
INSERT INTO forgeries (stmt, sql) VALUES
    ('ledger INSERT', $q$INSERT INTO grse.region_budget_transactions (region_id, transaction_type, amount, delta, balance_after)
                         VALUES ('00000000-0000-0000-0000-0000000000a1', 'allocation', 5, 5, 100005)$q$),
    ('ledger UPDATE', $q$UPDATE grse.region_budget_transactions SET description = 'edited'$q$),
    ('ledger DELETE', $q$DELETE FROM grse.region_budget_transactions$q$),
    ('ledger TRUNCATE', $q$TRUNCATE grse.region_budget_transactions$q$),
    ('rollovers INSERT', $q$INSERT INTO grse.budget_rollovers (region_id, period_kind, period_start, source)
                            VALUES ('00000000-0000-0000-0000-0000000000a1', 'daily', '2000-01-01', 'scheduled')$q$),
    ('rollovers UPDATE', $q$UPDATE grse.budget_rollovers SET source = 'scheduled'$q$),
    ('rollovers DELETE', $q$DELETE FROM grse.budget_rollovers$q$),
    ('rollovers TRUNCATE', $q$TRUNCATE grse.budget_rollovers$q$),
    ('transitions INSERT', $q$INSERT INTO grse.region_mode_transitions (region_id, from_mode, to_mode, capacity, pressure, reason)
                              VALUES ('00000000-0000-0000-0000-0000000000a2', 'normal', 'frozen', 5, 95, 'forged')$q$),
    ('transitions UPDATE', $q$UPDATE grse.region_mode_transitions SET reason = 'edited'$q$),
    ('transitions DELETE', $q$DELETE FROM grse.region_mode_transitions$q$),
    ('transitions TRUNCATE', $q$TRUNCATE grse.region_mode_transitions$q$),
    ('state DELETE', $q$DELETE FROM grse.region_scaling_state$q$),
    ('state TRUNCATE', $q$TRUNCATE grse.region_scaling_state$q$);
SELECT f.stmt, pg_temp.err(f.sql) AS result FROM forgeries f ORDER BY f.n;
SET session_replication_role = replica;
SELECT current_setting('session_replication_role') AS role;
SELECT f.stmt, pg_temp.err(f.sql) AS result FROM forgeries f ORDER BY f.n;
RESET session_replication_role;
-- nothing changed: 2 regions, 2 states, 2 ledger rows, 1 transition, 2 roll-overs
SELECT * FROM grse_counts();
SELECT count(*) AS rollovers FROM grse.budget_rollovers;
SELECT r.slug, t.transaction_type, t.amount, t.delta, t.balance_after, t.description
  FROM grse.region_budget_transactions t JOIN grse.regions r ON r.id = t.region_id ORDER BY t.id;
SELECT r.slug, b.period_kind, b.source FROM grse.budget_rollovers b JOIN grse.regions r ON r.id = b.region_id ORDER BY b.id;
SELECT r.slug, t.from_mode, t.to_mode, t.reason
  FROM grse.region_mode_transitions t JOIN grse.regions r ON r.id = t.region_id ORDER BY t.id;
DROP TABLE forgeries;

-- clean up the helpers
DROP FUNCTION public.grse_counts();
