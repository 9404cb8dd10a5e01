-- 40_hysteresis: policy mode_recovery_margin and mode_min_dwell. A region moves
-- to a worse mode at once; to a better one only when capacity and pressure clear
-- that mode's thresholds by the margin and it has held its mode for the dwell.
-- Dwell-held regions improve on the next write or monitor run after the dwell.
-- The defaults (0, 0) keep the plain thresholds.
\ir ../common/preamble.sql

INSERT INTO grse.regions (id, name, slug, country_code) VALUES
    ('00000000-0000-0000-0000-0000000000c1', 'Hover', 'hover', 'DE'),
    ('00000000-0000-0000-0000-0000000000c2', 'Budget Margin', 'budget-margin', 'FR'),
    ('00000000-0000-0000-0000-0000000000c3', 'Dwell Write', 'dwell-write', 'NL'),
    ('00000000-0000-0000-0000-0000000000c4', 'Dwell Monitor', 'dwell-monitor', 'BE');

-- All four pressures of a region set to x: overall pressure = x.
CREATE FUNCTION pg_temp.set_pressures(region uuid, x numeric) RETURNS void
LANGUAGE sql AS $$
    UPDATE grse.region_scaling_state
       SET posting_pressure = x, orchestration_pressure = x, creative_pressure = x, intel_pressure = x
     WHERE region_id = region
$$;

-- A region's mode, pressure, capacity, whether a dwell holds it, and its number of transitions.
CREATE FUNCTION pg_temp.state(region uuid,
    OUT scaling_mode text, OUT overall_pressure numeric, OUT capacity_score numeric,
    OUT held_by_dwell boolean, OUT transitions bigint)
LANGUAGE sql AS $$
    SELECT s.scaling_mode, s.overall_pressure, s.capacity_score, s.mode_held_until IS NOT NULL,
           (SELECT count(*) FROM grse.region_mode_transitions t WHERE t.region_id = s.region_id)
      FROM grse.region_scaling_state s WHERE s.region_id = region
$$;

-- ---------------------------------------------------------------------------
-- Defaults: margin 0, dwell 0, the plain thresholds; a pressure hovering
-- around 60 flips the mode on every crossing.
-- ---------------------------------------------------------------------------
SELECT mode_recovery_margin, mode_min_dwell FROM grse.policy;
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000c1', x)
  FROM unnest(ARRAY[60.01, 60.00, 60.01, 59.00]) AS x;
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000c1');

-- ---------------------------------------------------------------------------
-- Margin 5 points: the same hovering gives one transition (into cautious);
-- back to normal only at pressure <= 60 − 5 = 55 (capacity >= 50 + 5 holds here).
-- ---------------------------------------------------------------------------
UPDATE grse.policy SET mode_recovery_margin = 5;
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000c1', 62);
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000c1');
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000c1', x)
  FROM unnest(ARRAY[58.00, 60.01, 59.99, 55.01, 61.00, 56.00]) AS x;
-- still cautious, still that one transition
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000c1');
-- 55.00 clears the normal thresholds by the margin exactly: normal
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000c1', 55.00);
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000c1');
SELECT from_mode, to_mode, cause, reason FROM grse.region_mode_transitions
 WHERE region_id = '00000000-0000-0000-0000-0000000000c1' ORDER BY id DESC LIMIT 2;
-- worse at once: 75.01 jumps from normal straight to throttled
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000c1', 75.01);
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000c1');
-- partial recovery: 58 would be normal by the thresholds, cautious is as far as the margin allows
-- (58 + 5 > 60, but 58 + 5 <= 75)
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000c1', 58);
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000c1');

-- ---------------------------------------------------------------------------
-- The margin applies to capacity too. Pressure 40 (normal by pressure), fatigue 0:
-- capacity = 100·(0.40·b + 0.35·0.60 + 0.25) = 46 + 40·b, b = remaining / monthly:
-- cautious below b = 0.10 (capacity 50); back to normal only from capacity 55 (b = 0.225).
-- ---------------------------------------------------------------------------
SELECT grse.set_monthly_budget('00000000-0000-0000-0000-0000000000c2', 1000);
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000c2', 40);
-- b = 0.05: capacity 48.00, cautious
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000c2', 950);
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000c2');
-- b = 0.15: capacity 52.00 is normal by the thresholds, not by the margin: still cautious
SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000c2', 100);
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000c2');
-- b = 0.25: capacity 56.00 >= 55: normal
SELECT grse.refund_budget('00000000-0000-0000-0000-0000000000c2', 100);
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000c2');

-- ---------------------------------------------------------------------------
-- Dwell: a region moves to a better mode only after holding its mode for
-- mode_min_dwell; worse moves ignore the dwell.
-- ---------------------------------------------------------------------------
UPDATE grse.policy SET mode_recovery_margin = 0, mode_min_dwell = '1 hour';
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000c3', 62);
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000c3', 76);
-- normal -> cautious -> throttled at once, two transitions
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000c3');
-- pressure 10 says normal, but the region became throttled just now: held by the dwell
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000c3', 10);
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000c3');
SELECT mode_held_until = mode_since + interval '1 hour' AS held_until_is_mode_since_plus_dwell
  FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000c3';
SELECT scaling_mode, reason FROM grse.evaluate_region('00000000-0000-0000-0000-0000000000c3');
-- the summary shows the hold
SELECT (s -> 'mode_held_until') IS NOT NULL AND s -> 'mode_held_until' <> 'null' AS summary_shows_hold
  FROM grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000c3') s;
-- a held region is consistent: verify_invariants judges it as the trigger did
SELECT * FROM grse.verify_invariants();

-- A dwell of 1 second. In one transaction (one instant), c3 and c4 freeze and then
-- fall to pressure 10: normal is due, but both just became frozen, so both are held.
UPDATE grse.policy SET mode_min_dwell = '1 second';
SELECT pg_temp.set_pressures(r::uuid, x)
  FROM (VALUES ('00000000-0000-0000-0000-0000000000c3', 95), ('00000000-0000-0000-0000-0000000000c4', 95),
               ('00000000-0000-0000-0000-0000000000c3', 10), ('00000000-0000-0000-0000-0000000000c4', 10)) v(r, x);
SELECT region_id, scaling_mode, mode_held_until IS NOT NULL AS held FROM grse.region_scaling_state
 WHERE region_id IN ('00000000-0000-0000-0000-0000000000c3', '00000000-0000-0000-0000-0000000000c4') ORDER BY region_id;
SELECT pg_sleep(1.2);
-- the next write after the dwell re-judges c3 (any write: here a queue count)
SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000c3', 1);
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000c3');
-- the monitor run re-judges c4
SELECT (grse.run_monitor()) ->> 'regions_refreshed' AS refreshed;
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000c4');
-- the transition says why the region stayed until then
SELECT from_mode, to_mode, cause, reason ~ '^capacity [0-9.]+ >= 50\.00 and pressure 10\.00 <= 60\.00; held by dwell until ' AS reason_names_the_dwell
  FROM grse.region_mode_transitions
 WHERE region_id IN ('00000000-0000-0000-0000-0000000000c3', '00000000-0000-0000-0000-0000000000c4')
   AND to_mode = 'normal' ORDER BY region_id;
SELECT * FROM grse.verify_invariants();

-- A policy change re-judges every region at once, hysteresis included: margin 0
-- and dwell 0 again, and the hovering region c1 (cautious at pressure 58) is normal.
UPDATE grse.policy SET mode_recovery_margin = 0, mode_min_dwell = '0';
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000c1');

-- ---------------------------------------------------------------------------
-- Bad policy values (the 0.3.0 columns): 23514 naming the rule, nothing changed.
-- ---------------------------------------------------------------------------
SELECT pg_temp.err($$UPDATE grse.policy SET mode_recovery_margin = -0.01$$) AS negative_margin;
SELECT pg_temp.err($$UPDATE grse.policy SET mode_recovery_margin = 100.01$$) AS margin_above_100;
SELECT pg_temp.err($$UPDATE grse.policy SET mode_min_dwell = '-1 second'$$) AS negative_dwell;
SELECT pg_temp.err($$UPDATE grse.policy SET mode_min_dwell = '1 day 1 second'$$) AS dwell_above_one_day;
SELECT pg_temp.err($$UPDATE grse.policy SET mode_min_dwell = NULL$$) AS null_dwell;
SELECT pg_temp.err($$UPDATE grse.policy SET mode_recovery_margin = 'NaN'$$) AS nan_margin;
-- the other policy columns of 0.3.0
SELECT pg_temp.err($$UPDATE grse.policy SET cautious_delay_seconds = -1$$) AS negative_delay;
SELECT pg_temp.err($$UPDATE grse.policy SET cautious_delay_seconds = 86401$$) AS delay_above_one_day;
SELECT pg_temp.err($$UPDATE grse.policy SET hold_ttl = '0'$$) AS zero_hold_ttl;
SELECT pg_temp.err($$UPDATE grse.policy SET hold_ttl = '7 days 1 second'$$) AS hold_ttl_above_7_days;
SELECT pg_temp.err($$UPDATE grse.policy SET job_ttl = '-1 hour'$$) AS negative_job_ttl;
SELECT pg_temp.err($$UPDATE grse.policy SET job_ttl = '31 days'$$) AS job_ttl_above_30_days;
SELECT mode_recovery_margin, mode_min_dwell, cautious_delay_seconds, hold_ttl, job_ttl FROM grse.policy;
-- the edges are allowed
SELECT pg_temp.err($$UPDATE grse.policy SET mode_recovery_margin = 100, mode_min_dwell = '1 day', cautious_delay_seconds = 86400,
                      hold_ttl = '7 days', job_ttl = '30 days'$$) AS edges;
SELECT pg_temp.err($$UPDATE grse.policy SET cautious_delay_seconds = 0, hold_ttl = '1 microsecond', job_ttl = '1 microsecond'$$) AS low_edges;
UPDATE grse.policy SET mode_recovery_margin = 0, mode_min_dwell = '0', cautious_delay_seconds = 30,
                       hold_ttl = '15 minutes', job_ttl = '1 hour';
