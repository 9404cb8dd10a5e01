-- Concurrency test fixture: the extension, one hot region with a known budget,
-- and test-owned tables in which the pgbench clients record what they did.
\set ON_ERROR_STOP 1

CREATE EXTENSION grse;

-- The region under test (read by the checks through conc_region()).
CREATE TABLE conc_cfg (region uuid NOT NULL);

-- One row per spend attempt, written in the same transaction as the spend:
-- ok = what check_and_decrement_budget answered.
CREATE TABLE conc_log (ok boolean NOT NULL, amount bigint NOT NULL);

-- One row per refund attempt, written in the same transaction as the refund:
-- ok = false when refund_budget refused it with SQLSTATE 22023.
CREATE TABLE conc_refund_log (ok boolean NOT NULL, amount bigint NOT NULL, error text);

CREATE FUNCTION conc_region() RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT region FROM conc_cfg $$;

-- Refund that never aborts a pgbench client: a refund larger than what was
-- spent and not yet refunded this period is refused with 22023 (e.g. a refund
-- that runs before any spend); that is recorded, not raised.
CREATE FUNCTION conc_refund(r uuid, amt bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM grse.refund_budget(r, amt, 'test refund');
    INSERT INTO conc_refund_log (ok, amount) VALUES (true, amt);
    RETURN true;
EXCEPTION WHEN invalid_parameter_value THEN       -- SQLSTATE 22023
    INSERT INTO conc_refund_log (ok, amount, error) VALUES (false, amt, SQLERRM);
    RETURN false;
END
$$;

-- Assertion helper for the checks: raises with a message on violation.
CREATE FUNCTION conc_assert(cond boolean, msg text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF cond IS NOT TRUE THEN
        RAISE EXCEPTION 'check failed: %', msg;
    END IF;
    RETURN true;
END
$$;

INSERT INTO grse.regions (name, slug, country_code, timezone)
VALUES ('Hot', 'hot', 'DE', 'Europe/Berlin')
RETURNING id AS region \gset
INSERT INTO conc_cfg VALUES (:'region');

-- A new region starts with the policy default (100000 cents); set a known budget.
SELECT grse.set_monthly_budget(:'region', 50000) IS NOT NULL AS budget_set;
