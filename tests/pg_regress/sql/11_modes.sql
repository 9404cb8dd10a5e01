-- 11_modes: the state trigger recomputes overall pressure, capacity, warning
-- index and scaling mode on every write; exact mode boundaries by pressure and
-- by capacity; one transition row per real mode change; policy changes
-- re-judge regions at once.
\ir ../common/preamble.sql
-- this file's helper functions (public schema), dropped again at the end
DROP FUNCTION IF EXISTS public.set_pressures(uuid, numeric), public.derived(uuid), public.spend_down_to(uuid, bigint);

INSERT INTO grse.regions (id, name, slug, country_code, timezone) VALUES
    ('00000000-0000-0000-0000-0000000000b1', 'Pressure Boundaries', 'pressure', 'DE', 'UTC'),
    ('00000000-0000-0000-0000-0000000000b2', 'Capacity Fifty', 'cap-fifty', 'FR', 'Europe/Paris'),
    ('00000000-0000-0000-0000-0000000000b3', 'Capacity Ladder', 'cap-ladder', 'US', 'America/New_York'),
    ('00000000-0000-0000-0000-0000000000b4', 'Policy Rejudge', 'policy', 'JP', 'Asia/Tokyo');

-- Sets all four pressures of a region to x: overall = (0.30+0.25+0.25+0.20)·x = x.
CREATE OR REPLACE FUNCTION public.set_pressures(region uuid, x numeric) RETURNS void
LANGUAGE sql AS $$
    UPDATE grse.region_scaling_state
       SET posting_pressure = x, orchestration_pressure = x, creative_pressure = x, intel_pressure = x
     WHERE region_id = region
$$;

-- The derived columns and the number of transition rows of a region.
CREATE OR REPLACE FUNCTION public.derived(region uuid,
    OUT overall_pressure numeric, OUT capacity_score numeric, OUT warning_index numeric,
    OUT scaling_mode text, OUT transitions bigint)
LANGUAGE sql AS $$
    SELECT s.overall_pressure, s.capacity_score, s.warning_index, s.scaling_mode,
           (SELECT count(*) FROM grse.region_mode_transitions t WHERE t.region_id = s.region_id)
      FROM grse.region_scaling_state s WHERE s.region_id = region
$$;

-- ---------------------------------------------------------------------------
-- Pressure boundaries (full budget, fatigue 0):
--   capacity = 100·(0.40·1 + 0.35·(1 − X/100) + 0.25·1) = 100 − 0.35·X
--   warning_index: pressure > 60 is a warning (15), > 75 critical (35);
--   throttled adds a warning (15), frozen a critical (35).
-- ---------------------------------------------------------------------------
-- X = 60.00: capacity 100 − 21 = 79.00; 60 is not > 60: normal, no conditions, no transition
SELECT set_pressures('00000000-0000-0000-0000-0000000000b1', 60.00);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b1');
-- X = 60.01: capacity 100 − 21.0035 = 78.9965 -> 79.00; cautious (pressure warning 15); 1st transition
SELECT set_pressures('00000000-0000-0000-0000-0000000000b1', 60.01);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b1');
-- X = 75.00: capacity 100 − 26.25 = 73.75; still cautious (15), no new transition
SELECT set_pressures('00000000-0000-0000-0000-0000000000b1', 75.00);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b1');
-- X = 75.01: capacity 100 − 26.2535 = 73.7465 -> 73.75; throttled: 15 (throttled) + 35 (pressure > 75) = 50
SELECT set_pressures('00000000-0000-0000-0000-0000000000b1', 75.01);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b1');
-- X = 90.00: capacity 100 − 31.5 = 68.50; still throttled (50), no new transition
SELECT set_pressures('00000000-0000-0000-0000-0000000000b1', 90.00);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b1');
-- X = 90.01: capacity 100 − 31.5035 = 68.4965 -> 68.50; frozen: 35 (frozen) + 35 (pressure > 75) = 70
SELECT set_pressures('00000000-0000-0000-0000-0000000000b1', 90.01);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b1');
-- X = 100: capacity 100 − 35 = 65.00; still frozen, no new transition
SELECT set_pressures('00000000-0000-0000-0000-0000000000b1', 100);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b1');
-- back to 0: capacity 100.00, normal, one transition frozen -> normal (no stop in between)
SELECT set_pressures('00000000-0000-0000-0000-0000000000b1', 0);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b1');

-- one pressure alone: posting 100 -> overall 0.30·100 = 30.00,
-- capacity 100 − 0.35·30 = 89.50, normal; intel 100 too -> 30 + 20 = 50.00, 82.50
UPDATE grse.region_scaling_state SET posting_pressure = 100 WHERE region_id = '00000000-0000-0000-0000-0000000000b1';
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b1');
UPDATE grse.region_scaling_state SET intel_pressure = 100 WHERE region_id = '00000000-0000-0000-0000-0000000000b1';
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b1');

-- writes that do not touch a pressure re-derive too; values written into
-- the derived columns themselves are replaced by the computed ones
UPDATE grse.region_scaling_state
   SET jobs_in_queue = 3, capacity_score = 1, overall_pressure = 99, warning_index = 99, scaling_mode = 'frozen'
 WHERE region_id = '00000000-0000-0000-0000-0000000000b1';
SELECT s.jobs_in_queue, d.* FROM grse.region_scaling_state s, derived(s.region_id) d
 WHERE s.region_id = '00000000-0000-0000-0000-0000000000b1';
-- a pressure outside [0, 100] is refused by the column CHECK (23514)
UPDATE grse.region_scaling_state SET posting_pressure = 100.01 WHERE region_id = '00000000-0000-0000-0000-0000000000b1';
UPDATE grse.region_scaling_state SET intel_pressure = -0.01 WHERE region_id = '00000000-0000-0000-0000-0000000000b1';

-- the transitions of the pressure region, in order, with their facts and reasons:
-- exactly one row per real change (normal->cautious, cautious->throttled,
-- throttled->frozen, frozen->normal), none while the mode stayed
SELECT from_mode, to_mode, capacity, pressure, reason
  FROM grse.region_mode_transitions WHERE region_id = '00000000-0000-0000-0000-0000000000b1' ORDER BY id;
-- mode_since moved with the last change (same transaction as its transition row)
SELECT s.mode_since = (SELECT max(created_at) FROM grse.region_mode_transitions t WHERE t.region_id = s.region_id) AS mode_since_is_last_change
  FROM grse.region_scaling_state s WHERE s.region_id = '00000000-0000-0000-0000-0000000000b1';

-- ---------------------------------------------------------------------------
-- Capacity 50 boundary by spending (default policy).
--   pressures 60 -> overall 60.00 (not > 60), pressure part 0.35·40 = 14,
--   fatigue part 25: capacity = 40·remaining/100000 + 39.
--   remaining 27500: 40·0.275 = 11.00 -> 50.00 normal.
--   remaining 27475: 40·0.27475 = 10.99 -> 49.99 cautious ("capacity 49.99 < 50.00").
-- ---------------------------------------------------------------------------
SELECT set_pressures('00000000-0000-0000-0000-0000000000b2', 60);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b2');
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000b2', 72500);
-- budget 27.50 % remaining: no budget condition (>= 25), capacity >= 40: warning_index 0
SELECT s.ai_budget_remaining, d.* FROM grse.region_scaling_state s, derived(s.region_id) d
 WHERE s.region_id = '00000000-0000-0000-0000-0000000000b2';
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000b2', 25);
SELECT s.ai_budget_remaining, d.* FROM grse.region_scaling_state s, derived(s.region_id) d
 WHERE s.region_id = '00000000-0000-0000-0000-0000000000b2';
-- a refund of the 25 cents lifts capacity back to 50.00: normal again
SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000b2', 25);
SELECT s.ai_budget_remaining, d.* FROM grse.region_scaling_state s, derived(s.region_id) d
 WHERE s.region_id = '00000000-0000-0000-0000-0000000000b2';
SELECT from_mode, to_mode, capacity, pressure, reason
  FROM grse.region_mode_transitions WHERE region_id = '00000000-0000-0000-0000-0000000000b2' ORDER BY id;

-- ---------------------------------------------------------------------------
-- Capacity ladder 50 / 30 / 10. With the seed's weights and fatigue 0 the
-- pressure part alone keeps capacity >= 28.5 while pressure <= 90, so to see
-- the capacity thresholds on their own the policy weighs only the budget:
-- capacity = 100·remaining/monthly. With monthly 10000 cents, capacity is
-- remaining/100 and budget % remaining is the same number.
-- (Every region is re-judged by this policy change: the pressure region has
--  overall 50, capacity 100 -> stays normal; cap-fifty has 27.50 % of its budget
--  -> capacity 27.50 < 30: throttled.)
-- ---------------------------------------------------------------------------
UPDATE grse.policy SET capacity_weight_budget = 1, capacity_weight_pressure = 0, capacity_weight_fatigue = 0;
SELECT r.slug, s.capacity_score, s.scaling_mode FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id ORDER BY r.slug;
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000b3', 10000);

-- Spends remaining down to r and shows the region; expected per step:
--   r     capacity  mode       warning_index
--   5000  50.00     normal      0
--   4999  49.99     cautious    0
--   3000  30.00     cautious   15  (capacity < 40 warning)
--   2999  29.99     throttled  30  (+ throttled warning)
--   1000  10.00     throttled  65  (capacity < 20 critical 35 + throttled 15 + budget 10 % < 25 warning 15)
--    999   9.99     frozen    100  (frozen 35 + capacity 35 + budget 9.99 % < 10 critical 35 = 105, capped)
CREATE OR REPLACE FUNCTION public.spend_down_to(region uuid, target bigint) RETURNS boolean
LANGUAGE sql AS $$
    SELECT grse.check_and_decrement_budget(region,
             (SELECT ai_budget_remaining - target FROM grse.region_scaling_state WHERE region_id = region))
$$;
SELECT spend_down_to('00000000-0000-0000-0000-0000000000b3', 5000);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b3');
SELECT spend_down_to('00000000-0000-0000-0000-0000000000b3', 4999);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b3');
SELECT spend_down_to('00000000-0000-0000-0000-0000000000b3', 3000);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b3');
SELECT spend_down_to('00000000-0000-0000-0000-0000000000b3', 2999);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b3');
SELECT spend_down_to('00000000-0000-0000-0000-0000000000b3', 1000);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b3');
SELECT spend_down_to('00000000-0000-0000-0000-0000000000b3', 999);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b3');
-- a frozen region is still charged by check_and_decrement_budget (it refuses
-- only for insufficient budget): 999 -> 998, capacity 9.98, still frozen
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000b3', 1);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b3');
SELECT from_mode, to_mode, capacity, pressure, reason
  FROM grse.region_mode_transitions WHERE region_id = '00000000-0000-0000-0000-0000000000b3' ORDER BY id;

-- Back to the seed's weights: every region is re-judged immediately.
--   cap-ladder: 100·(0.40·998/10000 + 0.35 + 0.25) = 3.992 + 60 = 63.992 -> 63.99, normal,
--               warning_index 35 (budget 9.98 % < 10: critical)
--   cap-fifty:  40·0.275 + 39 = 50.00, normal
--   pressure:   overall 50: 100 − 17.5 = 82.50, normal (no change, no transition)
UPDATE grse.policy SET capacity_weight_budget = 0.40, capacity_weight_pressure = 0.35, capacity_weight_fatigue = 0.25;
SELECT r.slug, d.* FROM grse.regions r, derived(r.id) d ORDER BY r.slug;
SELECT from_mode, to_mode, capacity, pressure, reason
  FROM grse.region_mode_transitions WHERE region_id = '00000000-0000-0000-0000-0000000000b3' ORDER BY id DESC LIMIT 1;

-- ---------------------------------------------------------------------------
-- Policy thresholds re-judge at once: pressures 55 are normal under the seed
-- policy (55 <= 60; capacity 100 − 0.35·55 = 80.75); with cautious_pressure_above
-- = 50 the same region is cautious at once, and its pressure (55 > 50) is a warning (15).
-- ---------------------------------------------------------------------------
SELECT set_pressures('00000000-0000-0000-0000-0000000000b4', 55);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b4');
UPDATE grse.policy SET cautious_pressure_above = 50;
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b4');
SELECT from_mode, to_mode, capacity, pressure, reason
  FROM grse.region_mode_transitions WHERE region_id = '00000000-0000-0000-0000-0000000000b4' ORDER BY id;
-- and within one transaction, the changed policy applies to the next write at once
BEGIN;
UPDATE grse.policy SET cautious_pressure_above = 60;
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b4');
SELECT set_pressures('00000000-0000-0000-0000-0000000000b4', 56);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b4');
COMMIT;
-- warning points are policy too: pressures 70 -> cautious, capacity 100 − 24.5 = 75.50;
-- the one condition (pressure 70 > 60, a warning) counts 15, then 20 with warning_points = 20
SELECT set_pressures('00000000-0000-0000-0000-0000000000b4', 70);
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b4');
UPDATE grse.policy SET warning_points = 20;
SELECT * FROM derived('00000000-0000-0000-0000-0000000000b4');
UPDATE grse.policy SET warning_points = 15;

-- a refused policy change (23514) re-judges nothing
SELECT count(*) AS transitions_before FROM grse.region_mode_transitions;
UPDATE grse.policy SET cautious_pressure_above = 99;
SELECT count(*) AS transitions_after FROM grse.region_mode_transitions;

-- final state of every region (cap-fifty went cautious and back with the
-- cautious_pressure_above = 50 episode: its pressure 60 > 50)
SELECT r.slug, d.* FROM grse.regions r, derived(r.id) d ORDER BY r.slug;

-- clean up the helpers
DROP FUNCTION public.set_pressures(uuid, numeric), public.derived(uuid), public.spend_down_to(uuid, bigint);
