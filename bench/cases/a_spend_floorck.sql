-- spend, floor with grse's constraints: the bare statement of a_spend_floor.sql
-- on copies of grse's tables that keep grse's CHECKs and foreign keys (no
-- trigger; bench/floor.sql): what the constraints alone cost.
\set r random(:rmin, :rmax)
\set amount random(1, 500)
WITH s AS (
  UPDATE floor.state_checked
     SET ai_budget_remaining = ai_budget_remaining - :amount,
         ai_spend_today = ai_spend_today + :amount,
         period_spent = period_spent + :amount
   WHERE region_id = ('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid AND ai_budget_remaining >= :amount
  RETURNING region_id, ai_budget_remaining)
INSERT INTO floor.ledger_checked (region_id, transaction_type, amount, delta, balance_after, job_type)
SELECT region_id, 'spend', :amount, - :amount::bigint, ai_budget_remaining, 'creative' FROM s;
