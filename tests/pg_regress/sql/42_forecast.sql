-- 42_forecast: forecast_budget(region_id, window) on a fixture ledger with known
-- answers. The method: burn_rate_per_day = (Σ spend − Σ refunds of the window's
-- ledger rows) / the observed span in days (the window, or the region's age when
-- it is younger); projected_exhaustion_at = now + remaining / rate (NULL when the
-- rate is not positive); projected_period_spend = the period's net spend so far
-- + rate × time left in the period, at most what remains.
\ir ../common/preamble.sql

INSERT INTO grse.regions (id, name, slug, country_code) VALUES
    ('00000000-0000-0000-0000-0000000000f1', 'Steady', 'steady', 'DE'),
    ('00000000-0000-0000-0000-0000000000f2', 'Young', 'young', 'FR'),
    ('00000000-0000-0000-0000-0000000000f3', 'Refunded', 'refunded', 'NL'),
    ('00000000-0000-0000-0000-0000000000f4', 'Drained', 'drained', 'BE'),
    ('00000000-0000-0000-0000-0000000000f5', 'Overdue', 'overdue', 'AT');

-- The fixture: spends and refunds now, then back-dated (the ledger is append-only for every
-- role; the test, as superuser, lifts the guard for this one fixture update).
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 1000);  -- 10 days ago
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 3000);  -- 6 days ago
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f1', 4000);  -- 2 days ago
SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000f1', 500);               -- 1 day ago
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f2', 3000);  -- today
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f3', 2000);  -- 20 days ago
SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000f3', 1500);              -- 3 days ago
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f4', 100000); -- 1 day ago

ALTER TABLE grse.region_budget_transactions DISABLE TRIGGER region_budget_transactions_append_only;
UPDATE grse.region_budget_transactions t SET created_at = now() - v.age
  FROM (VALUES ('00000000-0000-0000-0000-0000000000f1'::uuid, 'spend', 1000::bigint, interval '10 days'),
               ('00000000-0000-0000-0000-0000000000f1', 'spend', 3000, interval '6 days'),
               ('00000000-0000-0000-0000-0000000000f1', 'spend', 4000, interval '2 days'),
               ('00000000-0000-0000-0000-0000000000f1', 'refund', 500, interval '1 day'),
               ('00000000-0000-0000-0000-0000000000f3', 'spend', 2000, interval '20 days'),
               ('00000000-0000-0000-0000-0000000000f3', 'refund', 1500, interval '3 days'),
               ('00000000-0000-0000-0000-0000000000f4', 'spend', 100000, interval '1 day')) v(region, kind, amount, age)
 WHERE t.region_id = v.region AND t.transaction_type = v.kind AND t.amount = v.amount;
-- the opening allocations: when the regions were created
UPDATE grse.region_budget_transactions SET created_at = now() - interval '30 days'
 WHERE transaction_type = 'allocation' AND region_id <> '00000000-0000-0000-0000-0000000000f2';
ALTER TABLE grse.region_budget_transactions ENABLE ALWAYS TRIGGER region_budget_transactions_append_only;
UPDATE grse.regions SET created_at = now() - interval '30 days' WHERE slug <> 'young';
SELECT * FROM grse.verify_invariants();

-- A forecast without the figures that depend on today's date (period end, projected spend).
CREATE FUNCTION pg_temp.fc(region uuid, win interval DEFAULT '7 days') RETURNS jsonb
LANGUAGE sql AS $$
    SELECT f - 'region_id' - 'period_ends_at' - 'projected_period_spend' - 'projected_exhaustion_at'
      FROM grse.forecast_budget(region, win) f
$$;

-- ---------------------------------------------------------------------------
-- Steady: window 7 days holds the spends of 6 and 2 days ago and the refund:
-- net 3000 + 4000 − 500 = 6500 over 7 days = 928.571... -> 928.57 cents/day;
-- remaining 100000 − 8000 + 500 = 92500; days left 92500 / 928.571... = 99.615... -> 99.62;
-- exhaustion at now + 92500 · 7 days / 6500 = now + 8606769230769 µs (floor).
-- ---------------------------------------------------------------------------
SELECT pg_temp.fc('00000000-0000-0000-0000-0000000000f1');
SELECT (f ->> 'projected_exhaustion_at')::timestamptz = now() + interval '8606769230769 microseconds' AS exhaustion_exact,
       (f ->> 'period_ends_at')::timestamptz = s.month_ends_at AS period_end_is_the_budget_period_end,
       (f -> 'exhausts_before_period_end')::boolean
         = ((f ->> 'projected_exhaustion_at')::timestamptz < s.month_ends_at) AS exhausts_flag_consistent,
       -- period net spend so far 8000 − 500 = 7500, plus 6500 per 7 days until the period ends
       (f -> 'projected_period_spend')::bigint
         = 7500 + LEAST(92500, floor(6500 * (extract(epoch FROM s.month_ends_at) * 1000000
                                             - extract(epoch FROM now()) * 1000000) / 604800000000)) AS period_spend_exact
  FROM grse.forecast_budget('00000000-0000-0000-0000-0000000000f1') f, grse.region_scaling_state s
 WHERE s.region_id = '00000000-0000-0000-0000-0000000000f1';
-- the default window is 7 days
SELECT grse.forecast_budget('00000000-0000-0000-0000-0000000000f1')
       = grse.forecast_budget('00000000-0000-0000-0000-0000000000f1', '7 days') AS default_window_is_7_days;
-- window 3 days: the spend of 2 days ago and the refund: 3500 / 3 = 1166.666... -> 1166.67
SELECT pg_temp.fc('00000000-0000-0000-0000-0000000000f1', '3 days');
-- window 30 days: all three spends and the refund: 7500 / 30 = 250.00; 92500 / 250 = 370 days
SELECT pg_temp.fc('00000000-0000-0000-0000-0000000000f1', '30 days');
-- window 12 hours: nothing in it: rate 0, never exhausted, the period spend stays 7500
SELECT pg_temp.fc('00000000-0000-0000-0000-0000000000f1', '12 hours');
SELECT f -> 'projected_exhaustion_at' AS exhaustion, f -> 'projected_period_spend' AS period_spend
  FROM grse.forecast_budget('00000000-0000-0000-0000-0000000000f1', '12 hours') f;

-- Young: created 2 days ago (in this transaction, so exactly 2 days before now()), 3000 spent:
-- the rate is over its 2 days, not the 7-day window: 1500.00 per day; 97000 left: 64.67 days.
BEGIN;
UPDATE grse.regions SET created_at = now() - interval '2 days' WHERE slug = 'young';
SELECT pg_temp.fc('00000000-0000-0000-0000-0000000000f2');
COMMIT;

-- Refunded: in the window only a refund of 1500: a negative net rate, never exhausted.
SELECT pg_temp.fc('00000000-0000-0000-0000-0000000000f3');
SELECT f -> 'projected_exhaustion_at' AS exhaustion, f -> 'exhausts_before_period_end' AS before_period_end,
       (f -> 'projected_period_spend')::bigint AS period_spend
  FROM grse.forecast_budget('00000000-0000-0000-0000-0000000000f3') f;

-- Drained: nothing remains and it spent in the window: exhausted now, before the period ends;
-- the period spend is what it has spent (nothing more can go).
SELECT pg_temp.fc('00000000-0000-0000-0000-0000000000f4');
SELECT (f ->> 'projected_exhaustion_at')::timestamptz = now() AS exhausted_now,
       f -> 'exhausts_before_period_end' AS before_period_end, f -> 'projected_period_spend' AS period_spend
  FROM grse.forecast_budget('00000000-0000-0000-0000-0000000000f4') f;

-- Overdue: its budget period ended 10 days ago and nothing has rolled it over yet (the test
-- moves the period back with the state trigger off). A forecast is a read and writes
-- nothing: it reads the region as the roll-over will leave it (the next period, the whole
-- monthly budget, nothing spent in it), so rolling over changes no figure.
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000f5', 5000);
ALTER TABLE grse.region_scaling_state DISABLE TRIGGER region_scaling_state_derive;
UPDATE grse.region_scaling_state SET month_started_at = now() - interval '40 days', month_ends_at = now() - interval '10 days'
 WHERE region_id = '00000000-0000-0000-0000-0000000000f5';
ALTER TABLE grse.region_scaling_state ENABLE TRIGGER region_scaling_state_derive;
BEGIN;
CREATE TEMP TABLE before_rollover AS SELECT grse.forecast_budget('00000000-0000-0000-0000-0000000000f5') AS f;
SELECT f -> 'remaining' AS remaining, f -> 'period_net_spend' AS period_net, f -> 'window_net_spend' AS window_net,
       (f ->> 'period_ends_at')::timestamptz = (grse.period_bounds('month', 'UTC', now())).ends_at AS next_period_end
  FROM before_rollover;
SELECT grse.roll_over_budget_periods('00000000-0000-0000-0000-0000000000f5') AS rolled_over;
SELECT grse.forecast_budget('00000000-0000-0000-0000-0000000000f5') = f AS same_after_rollover FROM before_rollover;
COMMIT;

-- ---------------------------------------------------------------------------
-- Bad input: a clear error with its SQLSTATE.
-- ---------------------------------------------------------------------------
SELECT pg_temp.err($$SELECT grse.forecast_budget(NULL)$$) AS null_region;
SELECT pg_temp.err($$SELECT grse.forecast_budget('00000000-0000-0000-0000-0000000000ff')$$) AS unknown_region;
SELECT pg_temp.err($$SELECT grse.forecast_budget('00000000-0000-0000-0000-0000000000f1', NULL)$$) AS null_window;
SELECT pg_temp.err($$SELECT grse.forecast_budget('00000000-0000-0000-0000-0000000000f1', '0')$$) AS zero_window;
SELECT pg_temp.err($$SELECT grse.forecast_budget('00000000-0000-0000-0000-0000000000f1', '-1 day')$$) AS negative_window;
SELECT pg_temp.err($$SELECT grse.forecast_budget('00000000-0000-0000-0000-0000000000f1', interval '1 hour' - interval '2 hours')$$) AS net_negative_window;
SELECT pg_temp.err($$SELECT grse.forecast_budget('00000000-0000-0000-0000-0000000000f1', '367 days')$$) AS window_too_long;
SELECT pg_temp.err($$SELECT grse.forecast_budget('00000000-0000-0000-0000-0000000000f1', '1000 years')$$) AS thousand_years;

-- Privileges: readers forecast (a read); a tenant only its own regions.
SET ROLE grse_reader;
SELECT (grse.forecast_budget('00000000-0000-0000-0000-0000000000f1')) ->> 'burn_rate_per_day' AS reader_rate;
RESET ROLE;
INSERT INTO grse.agency_regions (agency_id, region_id) VALUES
    ('00000000-0000-0000-0000-00000000aaaa', '00000000-0000-0000-0000-0000000000f2');
SET ROLE grse_tenant;
SET request.jwt.claims = '{"agency_id": "00000000-0000-0000-0000-00000000aaaa"}';
SELECT (grse.forecast_budget('00000000-0000-0000-0000-0000000000f2')) ->> 'window_net_spend' AS own_region_net_spend;
SELECT pg_temp.err($$SELECT grse.forecast_budget('00000000-0000-0000-0000-0000000000f1')$$) AS other_region;
RESET request.jwt.claims;
RESET ROLE;
