-- "The floor": the bare statements, without grse's functions and triggers.
--
-- The tables copy grse's tables (LIKE ... INCLUDING ALL: the same columns,
-- defaults, CHECKs, identity and indexes, plus the same foreign keys), so the
-- floor writes exactly the rows grse writes, with none of the machinery:
-- no trigger, no function call, no argument checks, no period bounds, no
-- active-region join. What grse costs above these statements is the price of
-- being an extension (function call, SPI, validation, the derive trigger).
--
-- Needs grse installed in the same database (CREATE EXTENSION grse) because
-- the tables are copied from grse's. Load with:
--   psql -v ON_ERROR_STOP=1 -f bench/floor.sql
--
-- The statements the benchmark runs (bench/cases/*_floor.sql), :r being the
-- region id and :amount cents:
--
--   spend (cases a, b) — one statement, no race: the conditional UPDATE takes
--   the row lock and re-checks the condition on the latest row:
--     WITH s AS (
--       UPDATE floor.state
--          SET ai_budget_remaining = ai_budget_remaining - :amount,
--              ai_spend_today = ai_spend_today + :amount,
--              period_spent = period_spent + :amount
--        WHERE region_id = :r AND ai_budget_remaining >= :amount
--       RETURNING region_id, ai_budget_remaining)
--     INSERT INTO floor.ledger (region_id, transaction_type, amount, delta, balance_after, job_type)
--     SELECT region_id, 'spend', :amount, - :amount::bigint, ai_budget_remaining, 'creative' FROM s;
--
--   metric write (case c) — the same UPDATE as on grse.region_scaling_state,
--   on an untriggered table with the same columns (nothing is derived):
--     UPDATE floor.state
--        SET posting_pressure = :p1, orchestration_pressure = :p2,
--            creative_pressure = :p3, intel_pressure = :p4
--      WHERE region_id = :r;

CREATE SCHEMA IF NOT EXISTS floor;

CREATE TABLE floor.regions (
    id      uuid PRIMARY KEY,
    name    text NOT NULL,
    slug    text NOT NULL UNIQUE,
    active  boolean NOT NULL DEFAULT true
);

-- Same columns, defaults, CHECKs and indexes as grse.region_scaling_state; no triggers.
CREATE TABLE floor.state (LIKE grse.region_scaling_state INCLUDING ALL);
ALTER TABLE floor.state ADD FOREIGN KEY (region_id) REFERENCES floor.regions (id);

-- Same columns, identity, CHECKs and indexes as grse.region_budget_transactions; no triggers.
CREATE TABLE floor.ledger (LIKE grse.region_budget_transactions INCLUDING ALL);
ALTER TABLE floor.ledger ADD FOREIGN KEY (region_id) REFERENCES floor.regions (id);

-- Fixture helper: a region with its state row and opening allocation.
CREATE FUNCTION floor.add_region(p_id uuid, p_name text, p_slug text, p_monthly bigint)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO floor.regions (id, name, slug) VALUES (p_id, p_name, p_slug);
    INSERT INTO floor.state (region_id, ai_budget_monthly, ai_budget_remaining,
                             day_started_at, day_ends_at, month_started_at, month_ends_at)
    VALUES (p_id, p_monthly, p_monthly,
            date_trunc('day', now()), date_trunc('day', now()) + interval '1 day',
            date_trunc('month', now()), date_trunc('month', now()) + interval '1 month');
    INSERT INTO floor.ledger (region_id, transaction_type, amount, delta, balance_after, description)
    VALUES (p_id, 'allocation', p_monthly, p_monthly, p_monthly, 'initial monthly budget');
$$;
