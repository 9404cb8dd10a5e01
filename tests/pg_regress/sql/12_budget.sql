-- 12_budget: spend, admission check, refund, monthly allocation and stats,
-- with the ledger invariant (Σ delta = remaining, balance_after chains)
-- checked after every step.
\ir ../common/preamble.sql
-- this file's helper functions (public schema), dropped again at the end
DROP FUNCTION IF EXISTS public.budget(uuid), public.ledger(uuid);

-- A region's budget columns, its ledger row count and the invariant.
CREATE OR REPLACE FUNCTION public.budget(region uuid,
    OUT monthly bigint, OUT remaining bigint, OUT spent_today bigint, OUT refunded_today bigint,
    OUT period_spent bigint, OUT period_refunded bigint, OUT ledger_rows bigint, OUT ledger_ok boolean)
LANGUAGE sql AS $$
    SELECT s.ai_budget_monthly, s.ai_budget_remaining, s.ai_spend_today, s.refunded_today,
           s.period_spent, s.period_refunded,
           (SELECT count(*) FROM grse.region_budget_transactions t WHERE t.region_id = s.region_id),
           pg_temp.ledger_ok()
      FROM grse.region_scaling_state s WHERE s.region_id = region
$$;

-- A region's ledger, oldest first.
CREATE OR REPLACE FUNCTION public.ledger(region uuid,
    OUT n bigint, OUT transaction_type text, OUT amount bigint, OUT delta bigint, OUT balance_after bigint,
    OUT agency_id uuid, OUT job_type text, OUT description text)
RETURNS SETOF record
LANGUAGE sql AS $$
    SELECT row_number() OVER (ORDER BY id), transaction_type, amount, delta, balance_after,
           agency_id, job_type, description
      FROM grse.region_budget_transactions WHERE region_id = region ORDER BY id
$$;

INSERT INTO grse.regions (id, name, slug, country_code, timezone) VALUES
    ('00000000-0000-0000-0000-0000000000c1', 'Budget', 'budget', 'DE', 'UTC'),
    ('00000000-0000-0000-0000-0000000000c2', 'Frozen', 'frozen', 'FR', 'Europe/Paris'),
    ('00000000-0000-0000-0000-0000000000c3', 'Throttled', 'throttled', 'US', 'America/Chicago'),
    ('00000000-0000-0000-0000-0000000000c4', 'Untouched', 'untouched', 'JP', 'Asia/Tokyo');
-- the agency of the spends below holds a license (an agency licensed nowhere is refused: P0002)
INSERT INTO grse.agency_regions (agency_id, region_id) VALUES
    ('00000000-0000-0000-0000-0000000000ee', '00000000-0000-0000-0000-0000000000c4');
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');

-- ---------------------------------------------------------------------------
-- Spending: true and one ledger row (type spend, delta = −amount,
-- balance_after = new remaining, agency and job type stored).
-- ---------------------------------------------------------------------------
-- an agency that holds no license anywhere: P0002 from every budget function, nothing written
SELECT pg_temp.err($$SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000c1', 10,
                                                         '00000000-0000-0000-0000-0000000000ef')$$);
SELECT pg_temp.err($$SELECT grse.decrement_budget('00000000-0000-0000-0000-0000000000c1', 10,
                                               '00000000-0000-0000-0000-0000000000ef', 'posting', 'x')$$);
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');
-- one licensed elsewhere (region c4) is accepted: fallback routing runs jobs outside the home region
-- 100000 − 2500 = 97500
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000c1', 2500,
                                       '00000000-0000-0000-0000-0000000000ee', 'posting');
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');
-- 97500 − 1500 = 96000; 'performance' is stored as 'intel'
SELECT grse.decrement_budget('00000000-0000-0000-0000-0000000000c1', 1500,
                             '00000000-0000-0000-0000-0000000000ee', 'performance', 'nightly intel report');
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');
-- 96000 − 1000 = 95000, no agency, no job type (named arguments work too)
SELECT grse.check_and_decrement_budget(region_id => '00000000-0000-0000-0000-0000000000c1', amount => 1000);
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');
SELECT * FROM ledger('00000000-0000-0000-0000-0000000000c1');

-- more than remaining (95001 > 95000): false, nothing written
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000c1', 95001);
SELECT grse.decrement_budget('00000000-0000-0000-0000-0000000000c1', 95001, NULL, 'creative', 'too big');
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');

-- ---------------------------------------------------------------------------
-- Refunds: at most what was spent and not yet refunded in the period
-- (spent 5000, refunded 0 -> refundable 5000). Returns remaining afterwards.
-- ---------------------------------------------------------------------------
SELECT pg_temp.err($$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000c1', 5001)$$);
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');
-- 95000 + 1000 = 96000
SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000c1', 1000, 'job failed');
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');
-- exactly the rest (5000 − 1000 = 4000): 96000 + 4000 = 100000
SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000c1', 4000);
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');
-- nothing left to refund
SELECT pg_temp.err($$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000c1', 1)$$);
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');

-- ---------------------------------------------------------------------------
-- check_budget answers (allowed, remaining, requested, message) and writes nothing.
-- ---------------------------------------------------------------------------
SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000c1', 500);
SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000c1', 100000);
SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000c1', 100001);
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');

-- spend exactly the remaining: true, remaining 0; then 1 more: false, nothing written
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000c1', 100000);
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000c1', 1);
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');
SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000c1', 1);

-- frozen region (all pressures 95 -> overall 95 > 90): check_budget refuses
-- with "Region is frozen" even for 1 cent; check_and_decrement_budget still
-- charges (it refuses only for insufficient budget)
UPDATE grse.region_scaling_state
   SET posting_pressure = 95, orchestration_pressure = 95, creative_pressure = 95, intel_pressure = 95
 WHERE region_id = '00000000-0000-0000-0000-0000000000c2';
SELECT scaling_mode FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000c2';
SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000c2', 1);
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000c2', 300, NULL, 'creative');
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c2');
-- frozen and insufficient: the mode refusal comes first
SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000c2', 1000000);

-- throttled region (all pressures 80 -> overall 80 > 75): small operations
-- only, cost <= 100 cents (policy small_job_max_cents)
UPDATE grse.region_scaling_state
   SET posting_pressure = 80, orchestration_pressure = 80, creative_pressure = 80, intel_pressure = 80
 WHERE region_id = '00000000-0000-0000-0000-0000000000c3';
SELECT scaling_mode FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000c3';
SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000c3', 100);
SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000c3', 101);
-- throttled, small, but more than remaining: 100000 − 99950 = 50 left
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000c3', 99950);
SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000c3', 60);
SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000c3', 50);
-- the policy limit is read live: with a limit of 150 a 101-cent job passes the
-- mode check and is refused only for the budget (50 left)
UPDATE grse.policy SET small_job_max_cents = 150;
SELECT * FROM grse.check_budget('00000000-0000-0000-0000-0000000000c3', 101);
UPDATE grse.policy SET small_job_max_cents = 100;
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c3');

-- ---------------------------------------------------------------------------
-- set_monthly_budget is an allocation: remaining moves by the same
-- difference (never below 0), one allocation row with the signed delta;
-- returns remaining afterwards. Budget region: monthly 100000, remaining 0.
-- ---------------------------------------------------------------------------
-- up to 150000: +50000 -> remaining 50000
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000c1', 150000);
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');
-- down to 120000: −30000 -> remaining 20000
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000c1', 120000);
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');
-- down to 10000: −110000 would leave −90000; clamped at 0, so the row's delta is −20000
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000c1', 10000);
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');
-- the same amount again: no change, no ledger row
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000c1', 10000);
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');
SELECT * FROM ledger('00000000-0000-0000-0000-0000000000c1') WHERE transaction_type = 'allocation';

-- refundable now: min(spent − refunded = 105000 − 5000, monthly − remaining = 10000) = 10000
SELECT pg_temp.err($$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000c1', 10001)$$);
-- 0 + 6000 = 6000
SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000c1', 6000, 'partial credit');
SELECT * FROM budget('00000000-0000-0000-0000-0000000000c1');
SELECT * FROM ledger('00000000-0000-0000-0000-0000000000c1');

-- ---------------------------------------------------------------------------
-- get_budget_stats. Budget region: monthly 10000, remaining 6000 ->
--   spent_this_month = 10000 − 6000 = 4000, percent_used 40.00, percent_remaining 60.00;
--   spent_today = 2500 + 1500 + 1000 + 100000 = 105000 (gross), refunded_today 11000;
--   spend by job type: posting 2500, intel 1500, NULL type 'unknown' 1000 + 100000 = 101000;
--   11 ledger rows, the 10 newest listed (all but the opening allocation), newest first.
-- ---------------------------------------------------------------------------
SELECT k FROM jsonb_object_keys(grse.get_budget_stats('00000000-0000-0000-0000-0000000000c1')) AS k ORDER BY k;
SELECT s->'region_id' AS region_id, s->'monthly' AS monthly, s->'remaining' AS remaining,
       s->'spent_today' AS spent_today, s->'refunded_today' AS refunded_today,
       s->'spent_this_month' AS spent_this_month, s->'percent_used' AS percent_used,
       s->'percent_remaining' AS percent_remaining, s->'period_spent' AS period_spent,
       s->'period_refunded' AS period_refunded
  FROM grse.get_budget_stats('00000000-0000-0000-0000-0000000000c1') AS s;
SELECT s->'spend_by_job_type' AS spend_by_job_type,
       jsonb_array_length(s->'recent_transactions') AS recent_count
  FROM grse.get_budget_stats('00000000-0000-0000-0000-0000000000c1') AS s;
SELECT e.n, e.t->>'transaction_type' AS transaction_type, e.t->'amount' AS amount, e.t->'delta' AS delta,
       e.t->'balance_after' AS balance_after, e.t->>'job_type' AS job_type, e.t->>'agency_id' AS agency_id,
       e.t->>'description' AS description
  FROM grse.get_budget_stats('00000000-0000-0000-0000-0000000000c1') AS s,
       jsonb_array_elements(s->'recent_transactions') WITH ORDINALITY AS e(t, n)
 ORDER BY e.n;
-- the listed ids are the 10 largest of the region, in descending order
SELECT array_agg((e.t->>'id')::bigint ORDER BY e.n)
       = (SELECT array_agg(id ORDER BY id DESC) FROM (SELECT id FROM grse.region_budget_transactions
                                                       WHERE region_id = '00000000-0000-0000-0000-0000000000c1'
                                                       ORDER BY id DESC LIMIT 10) x) AS newest_ten_desc
  FROM grse.get_budget_stats('00000000-0000-0000-0000-0000000000c1') AS s,
       jsonb_array_elements(s->'recent_transactions') WITH ORDINALITY AS e(t, n);
-- the period in the stats is the state's current budget month
SELECT (s->>'period_started_at')::timestamptz = st.month_started_at
       AND (s->>'period_ends_at')::timestamptz = st.month_ends_at AS period_is_state_month
  FROM grse.get_budget_stats('00000000-0000-0000-0000-0000000000c1') AS s,
       grse.region_scaling_state st WHERE st.region_id = '00000000-0000-0000-0000-0000000000c1';

-- frozen region: 300 of creative spend; throttled: 99950 unknown;
-- untouched: nothing spent, just the opening allocation listed
SELECT r.slug, s->'remaining' AS remaining, s->'spent_this_month' AS spent_this_month,
       s->'percent_used' AS percent_used, s->'spend_by_job_type' AS spend_by_job_type,
       jsonb_array_length(s->'recent_transactions') AS recent_count,
       s->'recent_transactions'->0->>'transaction_type' AS newest_type
  FROM grse.regions r, grse.get_budget_stats(r.id) AS s
 WHERE r.slug <> 'budget' ORDER BY r.slug;
-- percent_used rounds to 2 decimals: 2/3 of 3 cents used = 66.666.. -> 66.67
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000c4', 3);
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000c4', 2);
SELECT s->'monthly' AS monthly, s->'remaining' AS remaining, s->'percent_used' AS percent_used,
       s->'percent_remaining' AS percent_remaining
  FROM grse.get_budget_stats('00000000-0000-0000-0000-0000000000c4') AS s;

-- all four regions, final check of the invariant
SELECT r.slug, b.* FROM grse.regions r, budget(r.id) b ORDER BY r.slug;

-- clean up the helpers
DROP FUNCTION public.budget(uuid), public.ledger(uuid);
