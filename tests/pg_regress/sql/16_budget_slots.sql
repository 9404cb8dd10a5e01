-- 16_budget_slots: budget slots (escrow) for hot regions.
-- A region with N > 1 slots keeps the budget above its judgement's floor
-- in N slot rows; a spend charges one slot row and leaves the state row
-- alone; whatever locks the state row for a budget change empties the slots
-- first; a metric write that moves the floor above the pool empties them
-- from the trigger. Reads show the true totals; the ledger stays exact per
-- account (pool = slot 0, and each slot). Which slot a session uses depends
-- on its process id, so this file prints totals, never slot numbers of spends.
\ir ../common/preamble.sql

-- The hot region's budget as stored and as read.
CREATE FUNCTION pg_temp.hot() RETURNS TABLE (pool bigint, allotment bigint, slots_hold bigint, slots_filled bigint,
                                            true_remaining bigint, summary_remaining bigint, spent_today bigint,
                                            health_pct numeric, mode text)
LANGUAGE sql AS $$
    SELECT s.ai_budget_remaining, s.slot_allotment,
           (SELECT COALESCE(sum(balance), 0)::bigint FROM grse.region_budget_slots b WHERE b.region_id = s.region_id),
           (SELECT count(*) FROM grse.region_budget_slots b WHERE b.region_id = s.region_id AND b.balance > 0),
           (SELECT sum(delta)::bigint FROM grse.region_budget_transactions t WHERE t.region_id = s.region_id),
           (grse.get_region_scaling_summary(s.region_id) -> 'budget' ->> 'remaining')::bigint,
           (grse.get_region_scaling_summary(s.region_id) -> 'budget' ->> 'spent_today')::bigint,
           (SELECT h.budget_percent_remaining FROM grse.get_all_regions_health() h WHERE h.region_id = s.region_id),
           s.scaling_mode
      FROM grse.region_scaling_state s WHERE s.region_id = '00000000-0000-0000-0000-0000000000a1'
$$;

-- A checksum of the budget tables, to show a refused call changed nothing.
CREATE FUNCTION pg_temp.budget_sum() RETURNS text LANGUAGE sql AS $$
    SELECT md5(concat_ws('|',
        (SELECT string_agg(concat_ws(',', region_id, ai_budget_remaining, slot_allotment, budget_slots, ai_spend_today,
                                     period_spent, scaling_mode), ';' ORDER BY region_id) FROM grse.region_scaling_state),
        (SELECT string_agg(concat_ws(',', region_id, slot_no, balance, spent_today, period_spent), ';'
                           ORDER BY region_id, slot_no) FROM grse.region_budget_slots),
        (SELECT count(*) FROM grse.region_budget_transactions)))
$$;

INSERT INTO grse.regions (id, name, slug, country_code) VALUES
    ('00000000-0000-0000-0000-0000000000a1', 'Hot', 'hot', 'DE'),
    ('00000000-0000-0000-0000-0000000000a2', 'Quiet', 'quiet', 'FR');

-- ---------------------------------------------------------------------------
-- Setting the number of slots; bad input is refused and changes nothing.
-- ---------------------------------------------------------------------------
SELECT default_budget_slots FROM grse.policy;
SELECT grse.set_budget_slots('00000000-0000-0000-0000-0000000000a1', 4) AS slots;
SELECT slug, budget_slots FROM grse.region_scaling_state s JOIN grse.regions r ON r.id = s.region_id ORDER BY slug;
SELECT pg_temp.budget_sum() AS before \gset
SELECT pg_temp.err($$SELECT grse.set_budget_slots(NULL, 4)$$) AS null_region;
SELECT pg_temp.err($$SELECT grse.set_budget_slots('00000000-0000-0000-0000-0000000000ff', 4)$$) AS unknown_region;
SELECT pg_temp.err($$SELECT grse.set_budget_slots('00000000-0000-0000-0000-0000000000a1', 0)$$) AS zero_slots;
SELECT pg_temp.err($$SELECT grse.set_budget_slots('00000000-0000-0000-0000-0000000000a1', 65)$$) AS too_many_slots;
SELECT pg_temp.err($$UPDATE grse.policy SET default_budget_slots = 0$$) AS policy_zero_slots;
-- slots, their allotment and the slot rows are grse's to write
SELECT pg_temp.err($$UPDATE grse.region_scaling_state SET budget_slots = 8$$) AS direct_slots;
SELECT pg_temp.err($$UPDATE grse.region_scaling_state SET slot_allotment = 8$$) AS direct_allotment;
SELECT pg_temp.err($$INSERT INTO grse.region_budget_slots (region_id, slot_no, balance)
                     VALUES ('00000000-0000-0000-0000-0000000000a1', 1, 500)$$) AS direct_slot_row;
SELECT pg_temp.err($$SELECT grse.empty_budget_slots_internal('00000000-0000-0000-0000-0000000000a1', 0, true)$$) AS internal_call;
SELECT pg_temp.budget_sum() = :'before' AS unchanged;

-- ---------------------------------------------------------------------------
-- The first spend goes to the pool and fills the slots: everything above the
-- floor of the judgement (no pressure: the 25 % budget warning; 24 995 cents
-- of 100 000 is 25.00 % after rounding) and a reserve of 16 such spends
-- (1 600) is split over 4 slots: 99 900 - 26 595 = 73 305.
-- ---------------------------------------------------------------------------
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000a1', 100);
SELECT * FROM pg_temp.hot();
SELECT slot_no, balance FROM grse.region_budget_slots ORDER BY slot_no;
SELECT slot_no, transaction_type, amount, delta, balance_after FROM grse.region_budget_transactions
 WHERE region_id = '00000000-0000-0000-0000-0000000000a1' ORDER BY id;

-- A spend now charges one slot and does not touch the state row.
SELECT xmin AS state_version FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000a1' \gset
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000a1', 250, NULL, 'creative');
SELECT xmin = :'state_version' AS state_row_untouched FROM grse.region_scaling_state
 WHERE region_id = '00000000-0000-0000-0000-0000000000a1';
SELECT * FROM pg_temp.hot();
SELECT count(*) FILTER (WHERE balance >= 18326) AS untouched_slots, count(*) FILTER (WHERE balance < 18326) AS charged_slots,
       sum(spent_today) AS slots_spent_today
  FROM grse.region_budget_slots;
SELECT transaction_type, amount, job_type, slot_no > 0 AS from_a_slot FROM grse.region_budget_transactions
 ORDER BY id DESC LIMIT 1;

-- Every read counts the slots: capacity from the true total (99.65 % budget: 39.86 + 35 + 25)
SELECT grse.compute_region_capacity('00000000-0000-0000-0000-0000000000a1') AS capacity,
       (SELECT capacity_score FROM grse.get_all_regions_health() WHERE region_id = '00000000-0000-0000-0000-0000000000a1') AS health_capacity,
       (grse.get_budget_stats('00000000-0000-0000-0000-0000000000a1') ->> 'remaining')::bigint AS stats_remaining,
       (grse.get_budget_stats('00000000-0000-0000-0000-0000000000a1') ->> 'period_spent')::bigint AS stats_period_spent,
       (SELECT ai_budget_remaining FROM grse.list_region_health() WHERE region_slug = 'hot') AS list_remaining,
       (SELECT e.scaling_mode FROM grse.evaluate_region('00000000-0000-0000-0000-0000000000a1') e) AS evaluated_mode;
-- check_budget counts the slots without emptying them
SELECT allowed, remaining, requested FROM grse.check_budget('00000000-0000-0000-0000-0000000000a1', 50);
SELECT allowed, remaining, message FROM grse.check_budget('00000000-0000-0000-0000-0000000000a1', 99651);
SELECT allotment, slots_hold FROM pg_temp.hot();

-- More than the whole budget is refused and changes nothing (the slots stay filled);
-- more than a slot holds while the region as a whole can pay is charged after
-- emptying them (and they stay empty: a share would be below 16 such spends).
SELECT pg_temp.budget_sum() AS before \gset
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000a1', 100000) AS too_much;
SELECT pg_temp.budget_sum() = :'before' AS unchanged;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000a1', 20000) AS more_than_a_slot;
SELECT * FROM pg_temp.hot();
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- A refund, and a budget change the pool can take, leave the slots as they are (emptying
-- them would only make the next spend fill them again); the resets empty them first.
-- ---------------------------------------------------------------------------
SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000a1', 250, 'job failed') AS after_refund;
SELECT * FROM pg_temp.hot();
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000a1', 100);  -- fills again
SELECT allotment > 0 AS filled FROM pg_temp.hot();
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000a1', 200000) AS after_allocation;
SELECT * FROM pg_temp.hot();
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000a1', 100);
SELECT grse.reset_daily_budget_spend() AS daily_reset;
SELECT * FROM pg_temp.hot();
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000a1', 100);
SELECT grse.reset_monthly_budgets() AS monthly_reset;
SELECT * FROM pg_temp.hot();
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Metric writes: one that leaves the judgement as it is leaves the slots
-- alone; one that would let the slots hide a change (pressure 90: capacity
-- falls below 40 at the pool but not at the true total) empties them in the
-- trigger, so the stored mode and warning index are exact.
-- ---------------------------------------------------------------------------
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000a1', 100);
UPDATE grse.region_scaling_state SET posting_pressure = 20, jobs_in_queue = 3
 WHERE region_id = '00000000-0000-0000-0000-0000000000a1';
SELECT allotment > 0 AS still_filled, mode FROM pg_temp.hot();
UPDATE grse.region_scaling_state
   SET posting_pressure = 90, orchestration_pressure = 90, creative_pressure = 90, intel_pressure = 90
 WHERE region_id = '00000000-0000-0000-0000-0000000000a1';
SELECT * FROM pg_temp.hot();
SELECT capacity_score, warning_index FROM grse.region_scaling_state
 WHERE region_id = '00000000-0000-0000-0000-0000000000a1';
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Back to one slot: the slots are emptied and spends use the state row again;
-- NULL means the policy's default, which can itself turn slots on.
-- ---------------------------------------------------------------------------
SELECT grse.set_budget_slots('00000000-0000-0000-0000-0000000000a1', 1) AS slots;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000a1', 100);
SELECT pool, allotment, slots_hold, true_remaining FROM pg_temp.hot();
UPDATE grse.policy SET default_budget_slots = 3;
SELECT grse.set_budget_slots('00000000-0000-0000-0000-0000000000a2', NULL) AS quiet_default;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000a2', 100);
SELECT count(*) AS quiet_slots_filled FROM grse.region_budget_slots
 WHERE region_id = '00000000-0000-0000-0000-0000000000a2' AND balance > 0;
-- the hot region keeps its own setting of 1
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000a1', 100);
SELECT allotment FROM pg_temp.hot();
-- a transfer never appears without slots, and the transfers of every region sum to 0
SELECT r.slug, sum(t.delta) AS transfers_sum FROM grse.region_budget_transactions t
  JOIN grse.regions r ON r.id = t.region_id WHERE t.transaction_type = 'transfer' GROUP BY r.slug ORDER BY r.slug;
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Automatic slots (tests/isolation/specs/auto_slots.spec makes a region hot): the end of a
-- region's automatic slots and of their rest are grse's to write (42501), and
-- policy.auto_budget_slots lies in [1, 64] (23514); nothing changes
-- ---------------------------------------------------------------------------
INSERT INTO grse.regions (id, name, slug, country_code, timezone) VALUES
    ('00000000-0000-0000-0000-0000000016a1', 'Auto', 'auto', 'DE', 'UTC');
SELECT pg_temp.err($$UPDATE grse.region_scaling_state SET auto_slots_until = now() + interval '1 hour'
                      WHERE region_id = '00000000-0000-0000-0000-0000000016a1'$$) AS write_auto_until,
       pg_temp.err($$UPDATE grse.region_scaling_state SET auto_slots_off_until = now()
                      WHERE region_id = '00000000-0000-0000-0000-0000000016a1'$$) AS write_auto_off_until,
       pg_temp.err($$UPDATE grse.policy SET auto_budget_slots = 0$$) AS auto_0,
       pg_temp.err($$UPDATE grse.policy SET auto_budget_slots = 65$$) AS auto_65;
SELECT p.auto_budget_slots, s.auto_slots_until, s.auto_slots_off_until
  FROM grse.policy p, grse.region_scaling_state s WHERE s.region_id = '00000000-0000-0000-0000-0000000016a1';

-- ---------------------------------------------------------------------------
-- The state row's copy of its region's active flag (region_active, which the budget calls
-- read): the regions trigger keeps it in the statement that changes active; it is grse's to
-- write (42501, nothing changes); a spend on the deactivated region is refused (55000) and
-- charges nothing, from its filled slots or its pool
-- ---------------------------------------------------------------------------
SELECT grse.set_budget_slots('00000000-0000-0000-0000-0000000016a1', 4);
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000016a1', 100) AS fills_slots;
SELECT s.region_active, (grse.slot_totals(s.region_id)).balance > 0 AS slots_filled
  FROM grse.region_scaling_state s WHERE s.region_id = '00000000-0000-0000-0000-0000000016a1';
UPDATE grse.regions SET active = false WHERE id = '00000000-0000-0000-0000-0000000016a1';
SELECT region_active FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000016a1';
CREATE TEMP TABLE before_inactive AS
SELECT s.ai_budget_remaining, (grse.slot_totals(s.region_id)).balance AS in_slots,
       (SELECT count(*) FROM grse.region_budget_transactions t WHERE t.region_id = s.region_id) AS ledger_rows
  FROM grse.region_scaling_state s WHERE s.region_id = '00000000-0000-0000-0000-0000000016a1';
SELECT pg_temp.err($$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000016a1', 100)$$) AS spend_inactive,
       pg_temp.err($$UPDATE grse.region_scaling_state SET region_active = true
                      WHERE region_id = '00000000-0000-0000-0000-0000000016a1'$$) AS write_region_active;
SELECT s.region_active,
       (s.ai_budget_remaining, (grse.slot_totals(s.region_id)).balance,
        (SELECT count(*) FROM grse.region_budget_transactions t WHERE t.region_id = s.region_id))
       = (b.ai_budget_remaining, b.in_slots, b.ledger_rows) AS nothing_changed
  FROM grse.region_scaling_state s, before_inactive b WHERE s.region_id = '00000000-0000-0000-0000-0000000016a1';
-- a write of another column of the region leaves the copy alone; reactivating sets it back
UPDATE grse.regions SET name = 'Auto again' WHERE id = '00000000-0000-0000-0000-0000000016a1';
SELECT region_active FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000016a1';
UPDATE grse.regions SET active = true, name = 'Auto' WHERE id = '00000000-0000-0000-0000-0000000016a1';
SELECT region_active, grse.check_and_decrement_budget(region_id, 100) AS spend_active
  FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000016a1';
SELECT grse.set_budget_slots('00000000-0000-0000-0000-0000000016a1', NULL);
DROP TABLE before_inactive;
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- A slot spend charges the backend's own slot while it can pay; when it cannot, the
-- first other slot (in slot order) that can, and the state row stays untouched.
-- ---------------------------------------------------------------------------
INSERT INTO grse.regions (id, name, slug, country_code)
VALUES ('00000000-0000-0000-0000-0000000016b1', 'Own slot', 'own-slot', 'DE');
SELECT grse.set_budget_slots('00000000-0000-0000-0000-0000000016b1', 4) AS slots;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000016b1', 100) AS fills_slots;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000016b1', 1000) AS slot_spend;
SELECT slot_no AS own_slot FROM grse.region_budget_transactions
 WHERE region_id = '00000000-0000-0000-0000-0000000016b1' AND transaction_type = 'spend'
 ORDER BY id DESC LIMIT 1 \gset
SELECT :own_slot > 0 AS charged_to_a_slot;
SELECT xmin AS own_state_version FROM grse.region_scaling_state
 WHERE region_id = '00000000-0000-0000-0000-0000000016b1' \gset
-- the own slot keeps 10 cents
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000016b1',
         (SELECT balance - 10 FROM grse.region_budget_slots
           WHERE region_id = '00000000-0000-0000-0000-0000000016b1' AND slot_no = :own_slot)) AS spent_from_own;
-- 500 is more than it holds: the first other slot pays
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000016b1', 500) AS spent_elsewhere;
SELECT t.slot_no = :own_slot AS own_slot,
       t.slot_no = (SELECT min(b.slot_no) FROM grse.region_budget_slots b
                     WHERE b.region_id = t.region_id AND b.slot_no <> :own_slot) AS first_other_slot,
       t.amount
  FROM grse.region_budget_transactions t
 WHERE t.region_id = '00000000-0000-0000-0000-0000000016b1' AND t.transaction_type = 'spend'
 ORDER BY t.id DESC LIMIT 2;
SELECT b.slot_no = :own_slot AS own_slot, b.balance
  FROM grse.region_budget_slots b
 WHERE b.region_id = '00000000-0000-0000-0000-0000000016b1' AND (b.slot_no = :own_slot OR b.balance < 10000)
 ORDER BY b.slot_no = :own_slot DESC;
SELECT xmin = :'own_state_version' AS state_row_untouched FROM grse.region_scaling_state
 WHERE region_id = '00000000-0000-0000-0000-0000000016b1';
SELECT grse.set_budget_slots('00000000-0000-0000-0000-0000000016b1', NULL);
SELECT * FROM grse.verify_invariants();
