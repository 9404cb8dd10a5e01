-- 14_scaling: compute_region_pressure / compute_region_capacity against
-- hand-computed values (rounding half up at the 3rd decimal), fatigue and
-- update_scaling_mode, the moving-average update_pressure_scores, the
-- region summary JSON and get_all_regions_health().
\ir ../common/preamble.sql
-- this file's helper functions (public schema), dropped again at the end
DROP FUNCTION IF EXISTS public.pressure_fixture(uuid, numeric, numeric, numeric, numeric);

INSERT INTO grse.regions (id, name, slug, country_code, timezone) VALUES
    ('00000000-0000-0000-0000-0000000000e1', 'Alpha', 'alpha', 'DE', 'Europe/Berlin'),
    ('00000000-0000-0000-0000-0000000000e2', 'Bravo', 'bravo', 'FR', 'Europe/Paris'),
    ('00000000-0000-0000-0000-0000000000e3', 'Charlie', 'charlie', 'US', 'America/Denver'),
    ('00000000-0000-0000-0000-0000000000e4', 'Delta', 'delta', 'BR', 'America/Sao_Paulo'),
    ('00000000-0000-0000-0000-0000000000e5', 'Echo', 'echo', 'IN', 'Asia/Kolkata'),
    ('00000000-0000-0000-0000-0000000000e6', 'Foxtrot', 'foxtrot', 'AU', 'Australia/Sydney');

-- Writes the four pressures of a region and reads back both the functions'
-- answers and the columns the trigger stored (they must agree).
CREATE OR REPLACE FUNCTION public.pressure_fixture(region uuid, posting numeric, orchestration numeric,
    creative numeric, intel numeric,
    OUT compute_pressure numeric, OUT stored_pressure numeric,
    OUT compute_capacity numeric, OUT stored_capacity numeric, OUT scaling_mode text)
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE grse.region_scaling_state
       SET posting_pressure = posting, orchestration_pressure = orchestration,
           creative_pressure = creative, intel_pressure = intel
     WHERE region_id = region;
    SELECT grse.compute_region_pressure(region), s.overall_pressure,
           grse.compute_region_capacity(region), s.capacity_score, s.scaling_mode
      INTO compute_pressure, stored_pressure, compute_capacity, stored_capacity, scaling_mode
      FROM grse.region_scaling_state s WHERE s.region_id = region;
END
$$;

-- ---------------------------------------------------------------------------
-- Overall pressure = 0.30·posting + 0.25·orchestration + 0.25·creative + 0.20·intel,
-- 2 decimals, half up. Capacity here with full budget and fatigue 0:
-- 100·(0.40 + 0.35·(1 − P/100) + 0.25) = 100 − 0.35·P.
-- ---------------------------------------------------------------------------
-- 24 + 15 + 10 + 4 = 53.00; capacity 100 − 18.55 = 81.45
SELECT * FROM pressure_fixture('00000000-0000-0000-0000-0000000000e1', 80, 60, 40, 20);
-- 0.30·33.33 = 9.999 -> 10.00; capacity 100 − 3.5 = 96.50
SELECT * FROM pressure_fixture('00000000-0000-0000-0000-0000000000e1', 33.33, 0, 0, 0);
-- 0.25·0.02 = 0.005 -> 0.01 (half up); capacity 100 − 0.0035 = 99.9965 -> 100.00
SELECT * FROM pressure_fixture('00000000-0000-0000-0000-0000000000e1', 0, 0.02, 0, 0);
-- 0.25·0.01 = 0.0025 -> 0.00; capacity 100.00
SELECT * FROM pressure_fixture('00000000-0000-0000-0000-0000000000e1', 0, 0.01, 0, 0);
-- 0.30·12.35 = 3.705 -> 3.71 (half up); capacity 100 − 1.2985 = 98.7015 -> 98.70
SELECT * FROM pressure_fixture('00000000-0000-0000-0000-0000000000e1', 12.35, 0, 0, 0);
-- 0.30·0.05 + 0.25·0.01 = 0.015 + 0.0025 = 0.0175 -> 0.02; capacity 99.993 -> 99.99
SELECT * FROM pressure_fixture('00000000-0000-0000-0000-0000000000e1', 0.05, 0, 0.01, 0);
-- 0.30·99.99 + 0.25·99.99 + 0.25·99.99 + 0.20·99.99 = 99.99; capacity 100 − 34.9965 = 65.0035 -> 65.00; frozen
SELECT * FROM pressure_fixture('00000000-0000-0000-0000-0000000000e1', 99.99, 99.99, 99.99, 99.99);
-- all 41.10 -> 41.10; capacity 100 − 14.385 = 85.615 -> 85.62 (half up)
SELECT * FROM pressure_fixture('00000000-0000-0000-0000-0000000000e1', 41.10, 41.10, 41.10, 41.10);
-- all 40: capacity 100 − 14 = 86.00; then half the budget spent:
-- 100·(0.40·0.5 + 0.35·0.6 + 0.25·1) = 20 + 21 + 25 = 66.00
SELECT * FROM pressure_fixture('00000000-0000-0000-0000-0000000000e1', 40, 40, 40, 40);
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000e1', 50000);
SELECT grse.compute_region_capacity('00000000-0000-0000-0000-0000000000e1') AS capacity,
       (SELECT capacity_score FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000e1') AS stored;
-- budget factor in thirds: monthly 3 cents, remaining 2: 40·2/3 = 26.666.. + 60 = 86.67;
-- remaining 1: 13.333.. + 60 = 73.33 (pressures 0)
SELECT * FROM pressure_fixture('00000000-0000-0000-0000-0000000000e2', 0, 0, 0, 0);
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000e2', 3);
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000e2', 1);
SELECT grse.compute_region_capacity('00000000-0000-0000-0000-0000000000e2') AS capacity_two_thirds;
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000e2', 1);
SELECT grse.compute_region_capacity('00000000-0000-0000-0000-0000000000e2') AS capacity_one_third;
-- nothing left and all pressures 100: 0 + 0 + 25 = 25.00 (fatigue part only)
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000e2', 1);
SELECT * FROM pressure_fixture('00000000-0000-0000-0000-0000000000e2', 100, 100, 100, 100);
SELECT * FROM pressure_fixture('00000000-0000-0000-0000-0000000000e2', 0, 0, 0, 0);

-- ---------------------------------------------------------------------------
-- Fatigue and update_scaling_mode. Fatigue = 100 · time outside 'normal' in
-- the trailing policy window (24 h) / window. Fixture: charlie was created two
-- days ago and spent 3 hours in cautious, from 6 h ago to 3 h ago (transition
-- rows written here as history): fatigue 3/24 = 12.50;
-- capacity 100·(0.40 + 0.35 + 0.25·0.875) = 96.875 -> 96.88; still normal.
-- The transitions are grse's record, written by grse only: a direct INSERT
-- is refused (42501), also with session_replication_role = replica (the guard
-- is ENABLE ALWAYS). The clock cannot move back, so to write that history the
-- test turns the guard off on purpose, as an owner would, inside one
-- transaction, and turns it back on as ENABLE ALWAYS.
-- ---------------------------------------------------------------------------
-- a region that never left normal: fatigue 0
SELECT grse.update_scaling_mode('00000000-0000-0000-0000-0000000000e3') AS mode;
SELECT fatigue_score, capacity_score FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000e3';
UPDATE grse.regions SET created_at = now() - interval '2 days' WHERE id = '00000000-0000-0000-0000-0000000000e3';
INSERT INTO grse.region_mode_transitions (region_id, from_mode, to_mode, capacity, pressure, reason, created_at) VALUES
    ('00000000-0000-0000-0000-0000000000e3', 'normal', 'cautious', 49.00, 10.00, 'fixture', now() - interval '6 hours');
SET session_replication_role = replica;
INSERT INTO grse.region_mode_transitions (region_id, from_mode, to_mode, capacity, pressure, reason, created_at) VALUES
    ('00000000-0000-0000-0000-0000000000e3', 'normal', 'cautious', 49.00, 10.00, 'fixture', now() - interval '6 hours');
RESET session_replication_role;
SELECT count(*) AS charlie_transitions FROM grse.region_mode_transitions WHERE region_id = '00000000-0000-0000-0000-0000000000e3';
BEGIN;
ALTER TABLE grse.region_mode_transitions DISABLE TRIGGER region_mode_transitions_append_only;
INSERT INTO grse.region_mode_transitions (region_id, from_mode, to_mode, capacity, pressure, reason, created_at) VALUES
    ('00000000-0000-0000-0000-0000000000e3', 'normal', 'cautious', 49.00, 10.00, 'fixture', now() - interval '6 hours'),
    ('00000000-0000-0000-0000-0000000000e3', 'cautious', 'normal', 60.00, 10.00, 'fixture', now() - interval '3 hours');
ALTER TABLE grse.region_mode_transitions ENABLE ALWAYS TRIGGER region_mode_transitions_append_only;
COMMIT;
-- the guard is back ('A' = always)
SELECT tgname, tgenabled FROM pg_trigger
 WHERE tgrelid = 'grse.region_mode_transitions'::regclass AND NOT tgisinternal ORDER BY tgname;
SELECT from_mode, to_mode, reason FROM grse.region_mode_transitions
 WHERE region_id = '00000000-0000-0000-0000-0000000000e3' ORDER BY id;
-- the stored fatigue changes only when grse refreshes it
SELECT fatigue_score FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000e3';
SELECT grse.update_scaling_mode('00000000-0000-0000-0000-0000000000e3') AS mode;
SELECT fatigue_score, capacity_score, scaling_mode FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000e3';
SELECT grse.compute_region_capacity('00000000-0000-0000-0000-0000000000e3') AS capacity;
-- a 12 hour window: 3/12 = 25.00; capacity 75 + 25·0.75 = 93.75
UPDATE grse.policy SET fatigue_window = '12 hours';
SELECT grse.update_scaling_mode('00000000-0000-0000-0000-0000000000e3') AS mode;
SELECT fatigue_score, capacity_score FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000e3';
-- a 2 hour window lies after the cautious episode: 0.00, capacity 100.00
UPDATE grse.policy SET fatigue_window = '2 hours';
SELECT grse.update_scaling_mode('00000000-0000-0000-0000-0000000000e3') AS mode;
SELECT fatigue_score, capacity_score FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000e3';
UPDATE grse.policy SET fatigue_window = '24 hours';

-- update_scaling_mode returns the mode the metrics give. Within one
-- transaction no time passes, so a mode entered in it adds no fatigue:
-- pressures 70 -> cautious (70 > 60), capacity 100 − 24.5 = 75.50;
-- pressures 80 -> throttled; pressures 95 -> frozen.
BEGIN;
UPDATE grse.region_scaling_state SET posting_pressure = 70, orchestration_pressure = 70, creative_pressure = 70, intel_pressure = 70
 WHERE region_id = '00000000-0000-0000-0000-0000000000e4';
SELECT grse.update_scaling_mode('00000000-0000-0000-0000-0000000000e4') AS mode;
SELECT fatigue_score, capacity_score FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000e4';
UPDATE grse.region_scaling_state SET posting_pressure = 80, orchestration_pressure = 80, creative_pressure = 80, intel_pressure = 80
 WHERE region_id = '00000000-0000-0000-0000-0000000000e4';
SELECT grse.update_scaling_mode('00000000-0000-0000-0000-0000000000e4') AS mode;
UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95, creative_pressure = 95, intel_pressure = 95
 WHERE region_id = '00000000-0000-0000-0000-0000000000e4';
SELECT grse.update_scaling_mode('00000000-0000-0000-0000-0000000000e4') AS mode;
UPDATE grse.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0, creative_pressure = 0, intel_pressure = 0
 WHERE region_id = '00000000-0000-0000-0000-0000000000e4';
SELECT grse.update_scaling_mode('00000000-0000-0000-0000-0000000000e4') AS mode;
SELECT fatigue_score, capacity_score FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000e4';
SELECT from_mode, to_mode FROM grse.region_mode_transitions WHERE region_id = '00000000-0000-0000-0000-0000000000e4' ORDER BY id;
COMMIT;

-- ---------------------------------------------------------------------------
-- update_pressure_scores: per named job type, new = min(100, old·0.7 + jobs·10·0.3),
-- 2 decimals half up; other types keep their pressure. Returns the pressures,
-- overall, capacity and mode afterwards (printed without region_id).
-- ---------------------------------------------------------------------------
UPDATE grse.region_scaling_state SET posting_pressure = 50 WHERE region_id = '00000000-0000-0000-0000-0000000000e5';
-- posting 50·0.7 + 30·0.3 = 35 + 9 = 44.00; creative 0 + 10·0.3 = 3.00;
-- overall 0.30·44 + 0.25·3 = 13.2 + 0.75 = 13.95; capacity 100 − 0.35·13.95 = 95.1175 -> 95.12
SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000e5', '{"posting": 3, "creative": 1}') - 'region_id' AS result;
-- posting 44·0.7 + 50·0.3 = 30.8 + 15 = 45.80; 'performance' moves intel: 0 + 20·0.3 = 6.00; creative stays 3.00;
-- overall 13.74 + 0.75 + 1.2 = 15.69; capacity 100 − 5.4915 = 94.5085 -> 94.51
SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000e5', '{"posting": 5, "performance": 2}') - 'region_id' AS result;
-- nothing named: nothing moves
SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000e5', '{}') - 'region_id' AS result;
-- no activity decays: posting 45.8·0.7 = 32.06; overall 9.618 + 0.75 + 1.2 = 11.568 -> 11.57;
-- capacity 100 − 4.0495 = 95.9505 -> 95.95
SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000e5', '{"posting": 0}') - 'region_id' AS result;
SELECT posting_pressure, orchestration_pressure, creative_pressure, intel_pressure, overall_pressure
  FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000e5';
-- rounding and the cap: orchestration 33.33·0.7 + 3 = 26.331 -> 26.33; creative 0.05·0.7 = 0.035 -> 0.04;
-- intel 90·0.7 + 1000·0.3 = 363 -> capped at 100.00;
-- overall 6.5825 + 0.01 + 20 = 26.5925 -> 26.59; capacity 100 − 9.3065 = 90.6935 -> 90.69
UPDATE grse.region_scaling_state SET orchestration_pressure = 33.33, creative_pressure = 0.05, intel_pressure = 90
 WHERE region_id = '00000000-0000-0000-0000-0000000000e6';
SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000e6',
                                   '{"orchestration": 1, "creative": 0, "intel": 100}') - 'region_id' AS result;
-- a huge count is just a very high load: capped at 100
SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000e6', '{"posting": 1000000000000}') -> 'posting_pressure' AS posting;
-- the mode follows: echo with 30 jobs of every type -> each 0·0.7 + 300·0.3 = 90.00:
-- overall 90.00 (not > 90) -> throttled, capacity 100 − 31.5 = 68.50;
-- once more -> 90·0.7 + 90 = 153 -> 100.00: overall 100 > 90 -> frozen, capacity 65.00
SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000e4',
         '{"posting": 30, "orchestration": 30, "creative": 30, "intel": 30}') - 'region_id' AS result;
SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000e4',
         '{"posting": 30, "orchestration": 30, "creative": 30, "intel": 30}') - 'region_id' AS result;
SELECT from_mode, to_mode, capacity, pressure, reason
  FROM grse.region_mode_transitions WHERE region_id = '00000000-0000-0000-0000-0000000000e4' ORDER BY id DESC LIMIT 2;
-- the result's region_id is the region's
SELECT grse.update_pressure_scores('00000000-0000-0000-0000-0000000000e6', '{}') ->> 'region_id' AS region_id;

-- ---------------------------------------------------------------------------
-- get_region_scaling_summary: keys, values; NULL for an unknown region.
-- alpha: pressures 40 -> overall 40, capacity 66.00 (half the budget spent),
-- budget 100000 / 50000 remaining -> 50.00 %, spent_this_month 50000.
-- ---------------------------------------------------------------------------
UPDATE grse.region_scaling_state SET jobs_in_queue = 7, active_agencies = 2, active_clients = 5
 WHERE region_id = '00000000-0000-0000-0000-0000000000e1';
SELECT k FROM jsonb_object_keys(grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000e1')) AS k ORDER BY k;
SELECT s->'region_id' AS region_id, s->>'region_name' AS region_name, s->>'region_slug' AS slug,
       s->>'country_code' AS country, s->>'timezone' AS timezone, s->'active' AS active,
       s->>'scaling_mode' AS mode, s->'capacity_score' AS capacity, s->'overall_pressure' AS pressure,
       s->'warning_index' AS warning_index, s->'fatigue_score' AS fatigue
  FROM grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000e1') AS s;
SELECT s->'pressures' AS pressures FROM grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000e1') AS s;
SELECT s->'budget' AS budget FROM grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000e1') AS s;
SELECT s->'utilization' AS utilization FROM grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000e1') AS s;
-- mode_since and updated_at are the state's
SELECT (s->>'mode_since')::timestamptz = st.mode_since AND (s->>'updated_at')::timestamptz = st.updated_at AS times_match
  FROM grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000e1') AS s,
       grse.region_scaling_state st WHERE st.region_id = '00000000-0000-0000-0000-0000000000e1';
SELECT grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000ff') IS NULL AS unknown_is_null;

-- ---------------------------------------------------------------------------
-- get_all_regions_health(): active regions only, warning_index descending,
-- then name. Current facts:
--   alpha    normal,  cap 66.00, P 40, budget 50.00 %             -> warning  0
--   bravo    normal,  cap 60.00, P 0,  budget 0.00 % (critical)   -> warning 35
--   charlie  normal,  cap 100.00, P 0, budget 100.00 %            -> warning  0
--   delta    frozen,  cap 65.00, P 100: frozen 35 + pressure 35   -> warning 70
--   echo     normal,  cap 95.95, P 11.57                          -> warning  0
--   foxtrot  posting 100, orchestration 26.33, creative 0.04, intel 100:
--            P = 30 + 6.5825 + 0.01 + 20 = 56.5925 -> 56.59, cap 100 − 19.8065 = 80.19, normal;
--            then deactivated: it disappears from the list.
-- ---------------------------------------------------------------------------
SELECT r.slug, s.posting_pressure, s.overall_pressure, s.capacity_score, s.warning_index, s.scaling_mode
  FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id WHERE r.slug = 'foxtrot';
UPDATE grse.regions SET active = false WHERE id = '00000000-0000-0000-0000-0000000000e6';
SELECT region_name, scaling_mode, capacity_score, overall_pressure, budget_percent_remaining, warning_index
  FROM grse.get_all_regions_health();
-- the region ids are the regions'
SELECT count(*) AS rows, bool_and(h.region_id = r.id) AS ids_match
  FROM grse.get_all_regions_health() h JOIN grse.regions r ON r.name = h.region_name;
-- equal warning index: ordered by name (a region named 'Aardvark' sorts first among the zeros)
INSERT INTO grse.regions (id, name, slug, country_code) VALUES ('00000000-0000-0000-0000-0000000000e7', 'Aardvark', 'aardvark', 'NZ');
SELECT region_name, warning_index FROM grse.get_all_regions_health();

-- clean up the helpers
DROP FUNCTION public.pressure_fixture(uuid, numeric, numeric, numeric, numeric);
