-- "The floor": the bare statements, without grse's functions and triggers.
--
-- Two pairs of tables, both copies of grse's state row and ledger, so the
-- floor writes rows of exactly grse's shape with none of its machinery (no
-- trigger, no function call, no argument checks, no period bounds, no
-- active-region join):
--
--   floor.state, floor.ledger — plain tables: the same columns, NOT NULLs,
--     defaults, identity and indexes (primary keys included), and no CHECK,
--     no foreign key (LIKE ... INCLUDING DEFAULTS IDENTITY INDEXES). This is
--     the floor of the spend cases: the least a spend can cost.
--   floor.state_checked, floor.ledger_checked — the same with grse's CHECK
--     constraints and foreign keys (LIKE ... INCLUDING ALL, plus the keys):
--     grse's tables minus their triggers. The metric-write case compares
--     grse's triggered UPDATE with the same UPDATE here, so its difference is
--     the triggers' cost alone; the CPU-per-call spend case shows what the
--     constraints cost on their own.
--
-- Needs grse installed in the same database (CREATE EXTENSION grse) because
-- the tables are copied from grse's. Load with:
--   psql -v ON_ERROR_STOP=1 -f bench/floor.sql
--
-- The statements the benchmark runs (bench/cases/*_floor*.sql), :r being the
-- region id and :amount cents:
--
--   spend — one statement, no race: the conditional UPDATE takes the row lock
--   and re-checks the condition on the latest row:
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
--   metric write — the same UPDATE as on grse.region_scaling_state, on an
--   untriggered table with the same columns (nothing is derived):
--     UPDATE floor.state_checked
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

-- Plain copies: columns, NOT NULLs, defaults, identity and indexes; no CHECK, no foreign key, no trigger.
CREATE TABLE floor.state (LIKE grse.region_scaling_state INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES);
CREATE TABLE floor.ledger (LIKE grse.region_budget_transactions INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES);

-- grse's tables without their triggers: the same CHECKs and foreign keys too.
CREATE TABLE floor.state_checked (LIKE grse.region_scaling_state INCLUDING ALL);
ALTER TABLE floor.state_checked ADD FOREIGN KEY (region_id) REFERENCES floor.regions (id);
CREATE TABLE floor.ledger_checked (LIKE grse.region_budget_transactions INCLUDING ALL);
ALTER TABLE floor.ledger_checked ADD FOREIGN KEY (region_id) REFERENCES floor.regions (id);

-- Fixture helper: a region with its state rows and opening allocations in both pairs.
CREATE FUNCTION floor.add_region(p_id uuid, p_name text, p_slug text, p_monthly bigint)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO floor.regions (id, name, slug) VALUES (p_id, p_name, p_slug);
    INSERT INTO floor.state (region_id, ai_budget_monthly, ai_budget_remaining,
                             day_started_at, day_ends_at, month_started_at, month_ends_at)
    VALUES (p_id, p_monthly, p_monthly,
            date_trunc('day', now()), date_trunc('day', now()) + interval '1 day',
            date_trunc('month', now()), date_trunc('month', now()) + interval '1 month');
    INSERT INTO floor.state_checked SELECT * FROM floor.state WHERE region_id = p_id;
    INSERT INTO floor.ledger (region_id, transaction_type, amount, delta, balance_after, description)
    VALUES (p_id, 'allocation', p_monthly, p_monthly, p_monthly, 'initial monthly budget');
    INSERT INTO floor.ledger_checked (region_id, transaction_type, amount, delta, balance_after, description)
    VALUES (p_id, 'allocation', p_monthly, p_monthly, p_monthly, 'initial monthly budget');
$$;
