-- 13_periods: budget periods. Region-local period bounds; the seed's manual
-- resets (reset_daily_budget_spend, reset_monthly_budgets); the automatic,
-- idempotent roll-over (roll_over_budget_periods, and lazily the first budget
-- call of a new period); at most one automatic roll-over per region and period.
\ir ../common/preamble.sql
-- this file's helper functions (public schema), dropped again at the end
DROP FUNCTION IF EXISTS public.budgets(), public.rollovers(), public.end_period_now(uuid, text);
-- timestamps below are printed in UTC, ISO style, whatever the client's settings
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres_verbose';

-- Budget columns of every region, with ledger and roll-over row counts.
CREATE OR REPLACE FUNCTION public.budgets(OUT slug text, OUT monthly bigint, OUT remaining bigint,
    OUT spent_today bigint, OUT refunded_today bigint, OUT period_spent bigint, OUT period_refunded bigint,
    OUT ledger_rows bigint, OUT rollovers bigint)
RETURNS SETOF record
LANGUAGE sql AS $$
    SELECT r.slug, s.ai_budget_monthly, s.ai_budget_remaining, s.ai_spend_today, s.refunded_today,
           s.period_spent, s.period_refunded,
           (SELECT count(*) FROM grse.region_budget_transactions t WHERE t.region_id = r.id),
           (SELECT count(*) FROM grse.budget_rollovers b WHERE b.region_id = r.id)
      FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id
     ORDER BY r.slug
$$;

-- Roll-over rows: kind, source, and whether period_start is the region-local
-- date of the period that contains now() (dates themselves depend on the clock).
CREATE OR REPLACE FUNCTION public.rollovers(OUT slug text, OUT period_kind text, OUT source text,
    OUT current_period boolean, OUT n bigint)
RETURNS SETOF record
LANGUAGE sql AS $$
    SELECT r.slug, b.period_kind, b.source,
           b.period_start = (grse.period_bounds(CASE b.period_kind WHEN 'daily' THEN 'day' ELSE 'month' END,
                                                r.timezone, now())).local_start,
           count(*)
      FROM grse.budget_rollovers b JOIN grse.regions r ON r.id = b.region_id
     GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
$$;

-- ---------------------------------------------------------------------------
-- Region-local period bounds: [starts_at, ends_at) as instants, and the local
-- date the period starts on.
-- ---------------------------------------------------------------------------
-- 2026-03-31 20:00 UTC is 2026-04-01 05:00 in Tokyo (UTC+9): the Tokyo day is
-- 2026-03-31 15:00 .. 2026-04-01 15:00 UTC and the Tokyo month is April;
-- in UTC it is still March 31; in Los Angeles (UTC−7 in summer time) 13:00 on March 31,
-- and its month started on March 1 at 00:00 PST = 08:00 UTC (before the DST change of March 8).
SELECT z.tz, p.period, b.starts_at, b.ends_at, b.local_start, b.ends_at - b.starts_at AS length
  FROM (VALUES (1, 'Asia/Tokyo'), (2, 'UTC'), (3, 'America/Los_Angeles'), (4, 'Asia/Kathmandu')) AS z(n, tz),
       (VALUES (1, 'day'), (2, 'month')) AS p(n, period),
       grse.period_bounds(p.period, z.tz, '2026-03-31 20:00:00+00') AS b
 ORDER BY z.n, p.n;
-- Berlin switches to summer time on 2026-03-29: that local day is 23 hours long
-- (00:00 CET = 23:00 UTC the day before, to 00:00 CEST = 22:00 UTC);
-- on 2026-10-25 it switches back: 25 hours.
SELECT d.at, b.starts_at, b.ends_at, b.local_start, b.ends_at - b.starts_at AS length
  FROM (VALUES ('2026-03-29 12:00:00+00'::timestamptz), ('2026-10-25 12:00:00+00'),
               ('2026-03-28 22:59:59+00'), ('2026-03-28 23:00:00+00')) AS d(at),
       grse.period_bounds('day', 'Europe/Berlin', d.at) AS b
 ORDER BY d.at;
-- the Berlin month of March 2026 is 31 days minus the lost hour
SELECT b.starts_at, b.ends_at, b.local_start, b.ends_at - b.starts_at AS length
  FROM grse.period_bounds('month', 'Europe/Berlin', '2026-03-15 00:00:00+00') AS b;
-- a period ends exactly where the next begins
SELECT (grse.period_bounds('day', 'Asia/Tokyo', '2026-03-31 20:00:00+00')).ends_at
     = (grse.period_bounds('day', 'Asia/Tokyo', '2026-04-01 15:00:00+00')).starts_at AS contiguous;
-- budget periods are days and months only: any other period (even one that
-- date_trunc knows, or 'Day' in capitals) is refused with 22023; an unknown
-- timezone is PostgreSQL's own 22023
SELECT p.period, pg_temp.err(format('SELECT * FROM grse.period_bounds(%L, %L, %L)', p.period, 'UTC', '2026-03-31 20:00:00+00')) AS result
  FROM (VALUES (1, 'week'), (2, 'year'), (3, 'hour'), (4, 'Day'), (5, ''), (6, 'days')) AS p(n, period)
 ORDER BY p.n;
SELECT pg_temp.err($$SELECT * FROM grse.period_bounds('day', 'Mars/Base', now())$$) AS bad_timezone;

-- ---------------------------------------------------------------------------
-- Three regions; 'tokyo' is inactive (manual resets still cover it).
-- ---------------------------------------------------------------------------
INSERT INTO grse.regions (id, name, slug, country_code, timezone, active) VALUES
    ('00000000-0000-0000-0000-0000000000d1', 'Berlin', 'berlin', 'DE', 'Europe/Berlin', true),
    ('00000000-0000-0000-0000-0000000000d2', 'New York', 'new-york', 'US', 'America/New_York', true),
    ('00000000-0000-0000-0000-0000000000d3', 'Tokyo', 'tokyo', 'JP', 'Asia/Tokyo', false);
-- each state row's periods are the region-local day and month containing now()
SELECT r.slug,
       s.day_started_at = (grse.period_bounds('day', r.timezone, now())).starts_at
       AND s.day_ends_at = (grse.period_bounds('day', r.timezone, now())).ends_at AS day_is_local,
       s.month_started_at = (grse.period_bounds('month', r.timezone, now())).starts_at
       AND s.month_ends_at = (grse.period_bounds('month', r.timezone, now())).ends_at AS month_is_local
  FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id ORDER BY r.slug;

SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000d1', 3000);
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000d1', 2000);
SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000d1', 500);
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000d2', 700);
SELECT * FROM budgets();

-- ---------------------------------------------------------------------------
-- Nothing is due: the automatic roll-over does nothing, however often it runs.
-- ---------------------------------------------------------------------------
SELECT grse.roll_over_budget_periods() AS rolled;
SELECT grse.roll_over_budget_periods() AS rolled_again;
SELECT grse.roll_over_budget_periods('00000000-0000-0000-0000-0000000000d1') AS rolled_berlin;
SELECT grse.roll_over_budget_periods('00000000-0000-0000-0000-0000000000d3') AS rolled_inactive_tokyo;
SELECT * FROM budgets();

-- ---------------------------------------------------------------------------
-- Manual daily reset: every region's spend (and refunds) of the day back to 0
-- now; returns the number of regions (3, the inactive one included); one
-- 'manual' daily row per region for its current local day; budgets untouched.
-- ---------------------------------------------------------------------------
SELECT grse.reset_daily_budget_spend() AS regions_reset;
SELECT * FROM budgets();
SELECT * FROM rollovers();
SELECT pg_temp.ledger_ok();
-- a manual reset does not stop the automatic roll-over from being idempotent
SELECT grse.roll_over_budget_periods() AS rolled;

-- spend after the reset counts from 0 again: 1200 today
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000d1', 1200);
SELECT * FROM budgets();

-- ---------------------------------------------------------------------------
-- Manual monthly reset: remaining back to the monthly budget now, with one
-- 'reset' ledger row carrying the difference (berlin spent 3000 + 2000 + 1200
-- and got 500 back: 100000 − 94300 = 5700;
-- new-york: 700; tokyo: nothing spent -> no ledger row); the period's spend
-- and refunds restart at 0. Returns the number of regions.
-- ---------------------------------------------------------------------------
SELECT grse.reset_monthly_budgets() AS regions_reset;
SELECT * FROM budgets();
SELECT r.slug, t.transaction_type, t.amount, t.delta, t.balance_after, t.description
  FROM grse.region_budget_transactions t JOIN grse.regions r ON r.id = t.region_id
 WHERE t.transaction_type = 'reset' ORDER BY r.slug, t.id;
SELECT * FROM rollovers();
SELECT pg_temp.ledger_ok();
-- spends of the previous period cannot be refunded any more (nothing spent in this one)
SELECT pg_temp.err($$SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000d1', 1)$$);
-- a second manual monthly reset with nothing spent: no new ledger rows, 3 more manual rows
SELECT grse.reset_monthly_budgets() AS regions_reset;
SELECT * FROM budgets();
SELECT grse.roll_over_budget_periods() AS rolled;

-- ---------------------------------------------------------------------------
-- The roll-over record is grse's: a direct INSERT (or UPDATE, DELETE,
-- TRUNCATE) is refused (42501), for the superuser too, and also with
-- session_replication_role = replica (the guard is ENABLE ALWAYS).
-- ---------------------------------------------------------------------------
SELECT pg_temp.err($$INSERT INTO grse.budget_rollovers (region_id, period_kind, period_start, source)
                      VALUES ('00000000-0000-0000-0000-0000000000d1', 'daily', '2000-01-01', 'scheduled')$$) AS insert_row;
SELECT pg_temp.err($$UPDATE grse.budget_rollovers SET source = 'scheduled' WHERE source = 'manual'$$) AS update_rows;
SELECT pg_temp.err($$DELETE FROM grse.budget_rollovers WHERE source = 'manual'$$) AS delete_rows;
SELECT pg_temp.err($$TRUNCATE grse.budget_rollovers$$) AS truncate_table;
SET session_replication_role = replica;
SELECT pg_temp.err($$INSERT INTO grse.budget_rollovers (region_id, period_kind, period_start, source)
                      VALUES ('00000000-0000-0000-0000-0000000000d1', 'daily', '2000-01-01', 'scheduled')$$) AS insert_as_replica;
SELECT pg_temp.err($$DELETE FROM grse.budget_rollovers WHERE source = 'manual'$$) AS delete_as_replica;
RESET session_replication_role;
SELECT * FROM budgets();

-- ---------------------------------------------------------------------------
-- At most one automatic roll-over per region and period: a unique index on
-- (region, kind, period_start) for the automatic sources ('lazy', 'scheduled');
-- manual resets may repeat. (grse's own roll-overs skip a record that already
-- exists: ON CONFLICT DO NOTHING, below.) To show that the index itself
-- refuses a second automatic row (23505) and the CHECKs refuse unknown kinds
-- and sources (23514), the test turns the guard off on purpose, as an owner
-- would, inside one transaction, writes fixture rows for dates long past, and
-- turns the guard back on as ENABLE ALWAYS.
-- ---------------------------------------------------------------------------
SELECT indexdef FROM pg_indexes WHERE schemaname = 'grse' AND indexname = 'budget_rollovers_once_per_period';
BEGIN;
ALTER TABLE grse.budget_rollovers DISABLE TRIGGER budget_rollovers_append_only;
INSERT INTO grse.budget_rollovers (region_id, period_kind, period_start, source)
VALUES ('00000000-0000-0000-0000-0000000000d1', 'daily', '2000-01-01', 'scheduled');
SELECT pg_temp.err($$INSERT INTO grse.budget_rollovers (region_id, period_kind, period_start, source)
                      VALUES ('00000000-0000-0000-0000-0000000000d1', 'daily', '2000-01-01', 'lazy')$$) AS lazy_after_scheduled;
SELECT pg_temp.err($$INSERT INTO grse.budget_rollovers (region_id, period_kind, period_start, source)
                      VALUES ('00000000-0000-0000-0000-0000000000d1', 'daily', '2000-01-01', 'scheduled')$$) AS scheduled_twice;
-- other kind, other region, other date, or manual: allowed
SELECT pg_temp.err($$INSERT INTO grse.budget_rollovers (region_id, period_kind, period_start, source) VALUES
                      ('00000000-0000-0000-0000-0000000000d1', 'monthly', '2000-01-01', 'lazy'),
                      ('00000000-0000-0000-0000-0000000000d2', 'daily', '2000-01-01', 'lazy'),
                      ('00000000-0000-0000-0000-0000000000d1', 'daily', '2000-01-02', 'lazy'),
                      ('00000000-0000-0000-0000-0000000000d1', 'daily', '2000-01-01', 'manual'),
                      ('00000000-0000-0000-0000-0000000000d1', 'daily', '2000-01-01', 'manual')$$) AS others;
SELECT r.slug, b.period_kind, b.period_start, b.source
  FROM grse.budget_rollovers b JOIN grse.regions r ON r.id = b.region_id
 WHERE b.period_start < '2001-01-01' ORDER BY 1, 2, 3, 4;
-- closed sets: unknown kind or source is refused (23514)
SELECT pg_temp.err($$INSERT INTO grse.budget_rollovers (region_id, period_kind, period_start, source)
                      VALUES ('00000000-0000-0000-0000-0000000000d1', 'weekly', '2000-01-01', 'lazy')$$) AS bad_kind;
SELECT pg_temp.err($$INSERT INTO grse.budget_rollovers (region_id, period_kind, period_start, source)
                      VALUES ('00000000-0000-0000-0000-0000000000d1', 'daily', '2000-01-01', 'cron')$$) AS bad_source;
ALTER TABLE grse.budget_rollovers ENABLE ALWAYS TRIGGER budget_rollovers_append_only;
COMMIT;
-- the guard is back ('A' = always) and refuses again
SELECT tgname, tgenabled FROM pg_trigger
 WHERE tgrelid = 'grse.budget_rollovers'::regclass AND NOT tgisinternal ORDER BY tgname;
SELECT pg_temp.err($$INSERT INTO grse.budget_rollovers (region_id, period_kind, period_start, source)
                      VALUES ('00000000-0000-0000-0000-0000000000d1', 'daily', '2000-01-03', 'manual')$$) AS guarded_again;

-- ---------------------------------------------------------------------------
-- Simulated new periods. The clock cannot move, and the period columns are
-- guarded against ordinary writes, so the test (as superuser) bypasses the
-- state's derive trigger (an ordinary trigger) with session_replication_role
-- = replica to mark a period as ended one second ago — exactly what the state
-- looks like when a new region-local day or month has begun. (grse's
-- ENABLE ALWAYS guards stay on under replica; this UPDATE touches none.)
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION public.end_period_now(region uuid, kind text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL session_replication_role = replica;
    IF kind = 'day' THEN
        UPDATE grse.region_scaling_state
           SET day_started_at = now() - interval '1 day', day_ends_at = now() - interval '1 second'
         WHERE region_id = region;
    ELSE
        UPDATE grse.region_scaling_state
           SET month_started_at = now() - interval '31 days', month_ends_at = now() - interval '1 second'
         WHERE region_id = region;
    END IF;
    SET LOCAL session_replication_role = origin;
END
$$;

-- berlin spends 400 and gets 100 back today; then its day ends
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000d1', 400);
SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000d1', 100);
SELECT end_period_now('00000000-0000-0000-0000-0000000000d1', 'day');
SELECT * FROM budgets() WHERE slug = 'berlin';
-- the scheduled roll-over starts berlin's new day: 1 region rolled; spend and
-- refunds of the day back to 0; the month is untouched (remaining 99700)
SELECT grse.roll_over_budget_periods() AS rolled;
SELECT * FROM budgets() WHERE slug = 'berlin';
-- and it is idempotent: nothing is due any more
SELECT grse.roll_over_budget_periods() AS rolled_again;
SELECT r.slug,
       s.day_started_at = (grse.period_bounds('day', r.timezone, now())).starts_at
       AND s.day_ends_at = (grse.period_bounds('day', r.timezone, now())).ends_at AS day_is_current
  FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id WHERE r.slug = 'berlin';
SELECT * FROM rollovers() WHERE source <> 'manual' AND current_period;

-- a region-local date can come round twice (after a change of the region's
-- timezone, a day can end while its new local date already has an automatic
-- record); here berlin's day is simply ended again. The roll-over happens (1
-- region rolled, the day's bounds are current again) and its record is kept
-- once (ON CONFLICT DO NOTHING): no error, still one 'scheduled' daily row
-- for the current date, and 9 roll-over rows as before.
SELECT end_period_now('00000000-0000-0000-0000-0000000000d1', 'day');
SELECT grse.roll_over_budget_periods() AS rolled_same_date;
SELECT r.slug,
       s.day_started_at = (grse.period_bounds('day', r.timezone, now())).starts_at
       AND s.day_ends_at = (grse.period_bounds('day', r.timezone, now())).ends_at AS day_is_current
  FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id WHERE r.slug = 'berlin';
SELECT * FROM rollovers() WHERE slug = 'berlin' AND source <> 'manual' AND current_period;
SELECT * FROM budgets() WHERE slug = 'berlin';

-- lazily: new-york's day and month end; its first budget call rolls both over
-- ('lazy'), with a 'reset' ledger row for the month (+700), then charges:
-- remaining 100000 − 250 = 99750, spent today 250 (the 700 were yesterday)
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000d2', 700);
SELECT * FROM budgets() WHERE slug = 'new-york';
SELECT end_period_now('00000000-0000-0000-0000-0000000000d2', 'day');
SELECT end_period_now('00000000-0000-0000-0000-0000000000d2', 'month');
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000d2', 250, NULL, 'posting');
SELECT * FROM budgets() WHERE slug = 'new-york';
SELECT t.transaction_type, t.amount, t.delta, t.balance_after, t.description
  FROM grse.region_budget_transactions t
 WHERE t.region_id = '00000000-0000-0000-0000-0000000000d2' ORDER BY t.id DESC LIMIT 2;
SELECT * FROM rollovers() WHERE slug = 'new-york' AND source <> 'manual' AND current_period;
SELECT grse.roll_over_budget_periods() AS rolled;
SELECT pg_temp.ledger_ok();

-- a budget call that is refused still rolls a due period over first:
-- berlin's month ends; an insufficient spend answers false, but the new
-- month has begun (remaining back to 100000, one reset row of +300)
SELECT end_period_now('00000000-0000-0000-0000-0000000000d1', 'month');
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000d1', 100001);
SELECT * FROM budgets() WHERE slug = 'berlin';
SELECT t.transaction_type, t.amount, t.delta, t.balance_after
  FROM grse.region_budget_transactions t
 WHERE t.region_id = '00000000-0000-0000-0000-0000000000d1' ORDER BY t.id DESC LIMIT 1;
SELECT * FROM rollovers() WHERE slug = 'berlin' AND source <> 'manual' AND current_period;

-- the inactive region still rolls over (its budget calls are refused). Asked
-- for by region id, roll_over_budget_periods records the roll-over as 'lazy'
-- (as when a budget call gets there first; without an id: 'scheduled'), and
-- the scheduled run then finds nothing due
SELECT end_period_now('00000000-0000-0000-0000-0000000000d3', 'day');
SELECT grse.roll_over_budget_periods('00000000-0000-0000-0000-0000000000d3') AS rolled_tokyo;
SELECT grse.roll_over_budget_periods() AS rolled;
SELECT * FROM rollovers() WHERE slug = 'tokyo' AND source <> 'manual';

-- final state
SELECT * FROM budgets();
SELECT pg_temp.ledger_ok();

-- clean up the helpers
DROP FUNCTION public.budgets(), public.rollovers(), public.end_period_now(uuid, text);
