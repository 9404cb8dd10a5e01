-- Search-path safety: a hostile user puts look-alike functions and operators in
-- public, ahead of pg_catalog in search_path; grse still computes correctly,
-- because every grse function pins search_path = pg_catalog, pg_temp and its
-- SQL is schema-qualified.
\ir ../common/preamble.sql
CREATE SCHEMA hostile;

INSERT INTO grse.regions (id, name, slug, country_code, timezone)
VALUES ('00000000-0000-0000-0000-0000000000a1', 'Alpha', 'alpha', 'DE', 'Europe/Berlin');

-- look-alikes: more specific argument types than the built-ins they imitate,
-- so an unpinned, unqualified call would pick them
CREATE FUNCTION hostile.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT '2000-01-01'::timestamptz $$;
CREATE FUNCTION hostile.abs(bigint) RETURNS bigint LANGUAGE sql AS $$ SELECT 0::bigint $$;
CREATE FUNCTION hostile.count(anyelement) RETURNS bigint LANGUAGE sql AS $$ SELECT 0::bigint $$;
CREATE FUNCTION hostile.evil_ge(bigint, bigint) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE OPERATOR hostile.>= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = hostile.evil_ge);
CREATE FUNCTION hostile.evil_minus(bigint, bigint) RETURNS bigint LANGUAGE sql AS $$ SELECT $1 $$;
CREATE OPERATOR hostile.- (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = hostile.evil_minus);
CREATE FUNCTION hostile.evil_plus(numeric, numeric) RETURNS numeric LANGUAGE sql AS $$ SELECT 42::numeric $$;
CREATE OPERATOR hostile.+ (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = hostile.evil_plus);
CREATE FUNCTION hostile.round(numeric, integer) RETURNS numeric LANGUAGE sql AS $$ SELECT 7::numeric $$;
CREATE FUNCTION hostile.jsonb_build_object(VARIADIC "any") RETURNS jsonb LANGUAGE sql AS $$ SELECT '{"evil": true}'::jsonb $$;
CREATE TABLE hostile.regions (id uuid, active boolean);

-- the hostile path: look-alikes first, pg_catalog after
SET search_path = hostile, pg_catalog, public;
SELECT 5::bigint >= 9::bigint AS hostile_ge_is_live;   -- proves the trap works here

-- spends: one that fits, one that does not (a hostile >= would let it through)
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000a1', 99000) AS fits;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000a1', 5000) AS too_much;
SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000a1', 500, 'back') AS remaining_after_refund;
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000a1', 120000) AS remaining_after_allocation;
-- metric writes through the trigger and the functions
UPDATE grse.region_scaling_state SET posting_pressure = 80, creative_pressure = 70
 WHERE region_id = '00000000-0000-0000-0000-0000000000a1';
SELECT grse.compute_region_pressure('00000000-0000-0000-0000-0000000000a1') AS pressure,
       grse.compute_region_capacity('00000000-0000-0000-0000-0000000000a1') AS capacity;
SELECT scaling_mode, capacity_score, overall_pressure, warning_index
  FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000a1';
SELECT grse.get_budget_stats('00000000-0000-0000-0000-0000000000a1') ->> 'percent_used' AS percent_used,
       grse.get_budget_stats('00000000-0000-0000-0000-0000000000a1') ? 'evil' AS hostile_json;
SELECT region_name, budget_percent_remaining FROM grse.get_all_regions_health();
SELECT admitted, shard_key, priority FROM grse.admit_job('posting', region_id => '00000000-0000-0000-0000-0000000000a1',
                                                          tenant_id => '00000000-0000-0000-0000-00000000000f');
SELECT (grse.compute_global_risk() ->> 'regions_assessed')::int AS regions_assessed;

-- the books still balance, the dates are today's
RESET search_path;
SELECT count(*) AS violations FROM grse.verify_invariants();
SELECT transaction_type, amount, delta, balance_after FROM grse.region_budget_transactions ORDER BY id;
SELECT count(*) FILTER (WHERE created_at < '2001-01-01') AS rows_dated_2000 FROM grse.region_budget_transactions;

DROP SCHEMA hostile CASCADE;
