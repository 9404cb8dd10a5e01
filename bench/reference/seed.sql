-- "The seed-style PL/pgSQL": what a team would write from the seed's design
-- document, in its own schema `seed`. It is the second reference of the
-- benchmark (bench/run.sh), next to `ref` (reference.sql), and not part of
-- the extension.
--
-- Where `ref` carries grse's own CHECKs and derive triggers (so that it does
-- the same work as grse), `seed` is the plain version a user compares grse
-- with when deciding whether to use it:
--   * the seed's tables as its design document writes them: primary keys,
--     the seed's foreign keys, NOT NULL and defaults, and nothing else — no
--     CHECK, no trigger (money in bigint cents, as grse keeps it, instead of
--     the seed's integer, so that no run can overflow it; the ledger's id is
--     the seed's uuid with gen_random_uuid(), and it gains the created_at a
--     ledger needs plus one index by region and time, so that a region's
--     spend can be read back at all);
--   * check_and_decrement_budget as the seed's helper describes it:
--     SELECT remaining ... FOR UPDATE, compare, UPDATE, INSERT a ledger row
--     with balance_after; false when the budget does not cover the amount.
-- No derived scores, modes, periods, refund limits or guards: the seed's
-- services computed those in the application.
--
-- Load with:  psql -v ON_ERROR_STOP=1 -f bench/reference/seed.sql

CREATE SCHEMA IF NOT EXISTS seed;

CREATE TABLE seed.regions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    slug        text NOT NULL,
    active      boolean NOT NULL DEFAULT true
);

CREATE TABLE seed.agencies (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL
);

-- The seed's region_scaling_state: real-time region metrics.
CREATE TABLE seed.region_scaling_state (
    region_id               uuid PRIMARY KEY REFERENCES seed.regions (id),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    ai_budget_monthly       bigint NOT NULL DEFAULT 100000,
    ai_budget_remaining     bigint NOT NULL DEFAULT 100000,
    ai_spend_today          bigint NOT NULL DEFAULT 0,
    posting_pressure        numeric(5,2) NOT NULL DEFAULT 0,
    orchestration_pressure  numeric(5,2) NOT NULL DEFAULT 0,
    creative_pressure       numeric(5,2) NOT NULL DEFAULT 0,
    intel_pressure          numeric(5,2) NOT NULL DEFAULT 0,
    warning_index           numeric(5,2) NOT NULL DEFAULT 0,
    capacity_score          numeric(5,2) NOT NULL DEFAULT 100,
    fatigue_score           numeric(5,2) NOT NULL DEFAULT 0,
    active_agencies         integer NOT NULL DEFAULT 0,
    active_clients          integer NOT NULL DEFAULT 0,
    jobs_in_queue           integer NOT NULL DEFAULT 0,
    scaling_mode            text NOT NULL DEFAULT 'normal'
);

-- The seed's budget transaction log.
CREATE TABLE seed.region_budget_transactions (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    region_id         uuid NOT NULL REFERENCES seed.regions (id),
    agency_id         uuid REFERENCES seed.agencies (id),
    transaction_type  text NOT NULL,            -- allocation | spend | refund | reset
    amount            bigint NOT NULL,
    balance_after     bigint NOT NULL,
    description       text,
    job_type          text,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX region_budget_transactions_region_time_idx
    ON seed.region_budget_transactions (region_id, created_at);

-- The seed's SQL helper: lock the row, compare, update, write the ledger row.
CREATE FUNCTION seed.check_and_decrement_budget(p_region_id uuid, p_amount bigint,
                                                p_agency_id uuid DEFAULT NULL, p_job_type text DEFAULT NULL)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_remaining bigint;
BEGIN
    IF p_amount IS NULL OR p_amount <= 0 THEN
        RAISE EXCEPTION 'amount must be positive' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT ai_budget_remaining INTO v_remaining
      FROM seed.region_scaling_state
     WHERE region_id = p_region_id
       FOR UPDATE;
    IF NOT FOUND OR v_remaining < p_amount THEN
        RETURN false;
    END IF;
    UPDATE seed.region_scaling_state
       SET ai_budget_remaining = ai_budget_remaining - p_amount,
           ai_spend_today = ai_spend_today + p_amount,
           updated_at = now()
     WHERE region_id = p_region_id;
    INSERT INTO seed.region_budget_transactions
           (region_id, agency_id, transaction_type, amount, balance_after, job_type)
    VALUES (p_region_id, p_agency_id, 'spend', p_amount, v_remaining - p_amount, p_job_type);
    RETURN true;
END
$$;

-- Fixture helper: a region with its state row and its opening allocation.
CREATE FUNCTION seed.add_region(p_id uuid, p_name text, p_slug text, p_monthly bigint)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO seed.regions (id, name, slug) VALUES (p_id, p_name, p_slug);
    INSERT INTO seed.region_scaling_state (region_id, ai_budget_monthly, ai_budget_remaining)
    VALUES (p_id, p_monthly, p_monthly);
    INSERT INTO seed.region_budget_transactions (region_id, transaction_type, amount, balance_after, description)
    VALUES (p_id, 'allocation', p_monthly, p_monthly, 'initial monthly budget');
$$;
