-- 41_pins: pin_scaling_mode / unpin_scaling_mode. While pinned, metric writes
-- update every score but the mode stays the pinned one; pin, unpin and expiry
-- are recorded in region_mode_transitions with the reason; the summary and the
-- health listings show the pin; a pin ends at `until` (the first write or
-- monitor run after it unpins). Bad input: clear errors, nothing changed.
\ir ../common/preamble.sql

INSERT INTO grse.regions (id, name, slug, country_code) VALUES
    ('00000000-0000-0000-0000-0000000000d1', 'Pinned', 'pinned', 'DE'),
    ('00000000-0000-0000-0000-0000000000d2', 'Expiring', 'expiring', 'FR'),
    ('00000000-0000-0000-0000-0000000000d3', 'Monitored', 'monitored', 'NL'),
    ('00000000-0000-0000-0000-0000000000d4', 'Retired', 'retired', 'BE');
UPDATE grse.regions SET active = false WHERE slug = 'retired';

CREATE FUNCTION pg_temp.set_pressures(region uuid, x numeric) RETURNS void
LANGUAGE sql AS $$
    UPDATE grse.region_scaling_state
       SET posting_pressure = x, orchestration_pressure = x, creative_pressure = x, intel_pressure = x
     WHERE region_id = region
$$;

-- A region's mode, scores and pin.
CREATE FUNCTION pg_temp.state(region uuid,
    OUT scaling_mode text, OUT overall_pressure numeric, OUT capacity_score numeric, OUT warning_index numeric,
    OUT pinned_mode text, OUT pinned_for_a_day boolean, OUT pin_reason text, OUT transitions bigint)
LANGUAGE sql AS $$
    SELECT s.scaling_mode, s.overall_pressure, s.capacity_score, s.warning_index, s.pinned_mode,
           s.pinned_until > now() + interval '23 hours', s.pin_reason,
           (SELECT count(*) FROM grse.region_mode_transitions t WHERE t.region_id = s.region_id)
      FROM grse.region_scaling_state s WHERE s.region_id = region
$$;

-- The latest transition rows of a region.
CREATE FUNCTION pg_temp.last_transitions(region uuid, n integer)
RETURNS TABLE (from_mode text, to_mode text, cause text, reason text)
LANGUAGE sql AS $$
    SELECT t.from_mode, t.to_mode, t.cause,
           regexp_replace(t.reason, '\d{4}-\d\d-\d\dT[0-9:.]+[+-]\d\d(:\d\d)?', '<time>', 'g')
      FROM grse.region_mode_transitions t WHERE t.region_id = region ORDER BY t.id DESC LIMIT n
$$;

-- ---------------------------------------------------------------------------
-- Pin a normal region to frozen for a day: frozen at once (warning index counts
-- the frozen condition), recorded with the reason.
-- ---------------------------------------------------------------------------
SELECT grse.pin_scaling_mode('00000000-0000-0000-0000-0000000000d1', 'frozen', now() + interval '1 day', 'incident 42');
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000d1');
SELECT * FROM pg_temp.last_transitions('00000000-0000-0000-0000-0000000000d1', 1);
-- metric writes update every score, the mode stays pinned, no transition
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000d1', 20);
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000d1');
SELECT grse.update_scaling_mode('00000000-0000-0000-0000-0000000000d1');
-- the summary shows the pin
SELECT s ->> 'scaling_mode' AS mode, s -> 'pin' ->> 'mode' AS pin_mode, s -> 'pin' ->> 'reason' AS pin_reason,
       (s -> 'pin' ->> 'until')::timestamptz > now() AS pin_until_ahead, s -> 'pin' ? 'pinned_at' AS has_pinned_at
  FROM grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000d1') s;
-- and the health listings
SELECT region_slug, scaling_mode, pinned_mode, pinned_until IS NOT NULL AS has_until
  FROM grse.list_region_health() ORDER BY region_slug;
SELECT region_slug, pinned_mode FROM grse.get_regions_by_metric('capacity') ORDER BY region_slug;
-- a pinned region is consistent
SELECT * FROM grse.verify_invariants();

-- Pinning again (same mode, no until) is recorded too, though the mode stays.
SELECT grse.pin_scaling_mode('00000000-0000-0000-0000-0000000000d1', 'frozen', reason => 'incident 42, open-ended');
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000d1');
SELECT * FROM pg_temp.last_transitions('00000000-0000-0000-0000-0000000000d1', 1);
-- a pin without a reason
SELECT grse.pin_scaling_mode('00000000-0000-0000-0000-0000000000d1', 'cautious');
SELECT * FROM pg_temp.last_transitions('00000000-0000-0000-0000-0000000000d1', 1);

-- Unpin: judged by the metrics again at once (pressure 20: normal), recorded.
SELECT grse.unpin_scaling_mode('00000000-0000-0000-0000-0000000000d1');
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000d1');
SELECT * FROM pg_temp.last_transitions('00000000-0000-0000-0000-0000000000d1', 1);
-- unpinning a region without a pin changes and records nothing
SELECT grse.unpin_scaling_mode('00000000-0000-0000-0000-0000000000d1');
SELECT transitions FROM pg_temp.state('00000000-0000-0000-0000-0000000000d1');
SELECT s -> 'pin' AS pin FROM grse.get_region_scaling_summary('00000000-0000-0000-0000-0000000000d1') s;

-- A pin holds a better mode too: pressure 80 (throttled) pinned to normal.
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000d1', 80);
SELECT grse.pin_scaling_mode('00000000-0000-0000-0000-0000000000d1', 'normal', reason => 'load test');
SELECT scaling_mode, overall_pressure FROM pg_temp.state('00000000-0000-0000-0000-0000000000d1');
SELECT grse.unpin_scaling_mode('00000000-0000-0000-0000-0000000000d1');
SELECT * FROM pg_temp.last_transitions('00000000-0000-0000-0000-0000000000d1', 1);

-- ---------------------------------------------------------------------------
-- Expiry at `until`: lazily by the first write after it (d2), or by the
-- monitor (d3).
-- ---------------------------------------------------------------------------
SELECT grse.pin_scaling_mode(r, 'throttled', now() + interval '1 second', 'short')
  FROM unnest(ARRAY['00000000-0000-0000-0000-0000000000d2', '00000000-0000-0000-0000-0000000000d3']::uuid[]) r;
SELECT pg_sleep(1.2);
-- until has passed, nothing written yet: the stored mode is still the pinned one
SELECT scaling_mode, pinned_mode FROM pg_temp.state('00000000-0000-0000-0000-0000000000d2');
SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000d2', 1);
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000d2');
SELECT * FROM pg_temp.last_transitions('00000000-0000-0000-0000-0000000000d2', 1);
SELECT (grse.run_monitor()) ->> 'pins_expired' AS pins_expired;
SELECT * FROM pg_temp.state('00000000-0000-0000-0000-0000000000d3');
SELECT * FROM pg_temp.last_transitions('00000000-0000-0000-0000-0000000000d3', 1);
SELECT * FROM grse.verify_invariants();

-- ---------------------------------------------------------------------------
-- Bad input: a clear error with its SQLSTATE, and nothing changed.
-- ---------------------------------------------------------------------------
SELECT pg_temp.err($$SELECT grse.pin_scaling_mode('00000000-0000-0000-0000-0000000000d1', 'Frozen')$$) AS mode_wrong_case;
SELECT pg_temp.err($$SELECT grse.pin_scaling_mode('00000000-0000-0000-0000-0000000000d1', 'paused')$$) AS unknown_mode;
SELECT pg_temp.err($$SELECT grse.pin_scaling_mode('00000000-0000-0000-0000-0000000000d1', NULL)$$) AS null_mode;
SELECT pg_temp.err($$SELECT grse.pin_scaling_mode(NULL, 'frozen')$$) AS null_region;
SELECT pg_temp.err($$SELECT grse.pin_scaling_mode('00000000-0000-0000-0000-0000000000ff', 'frozen')$$) AS unknown_region;
SELECT pg_temp.err($$SELECT grse.pin_scaling_mode('00000000-0000-0000-0000-0000000000d4', 'frozen')$$) AS inactive_region;
SELECT pg_temp.err($$SELECT grse.pin_scaling_mode('00000000-0000-0000-0000-0000000000d1', 'frozen', now() - interval '1 minute')$$)
       ~ '^22023: until must be in the future, got ' AS until_in_the_past;
SELECT pg_temp.err($$SELECT grse.pin_scaling_mode('00000000-0000-0000-0000-0000000000d1', 'frozen', now())$$)
       ~ '^22023: until must be in the future, got ' AS until_now;
SELECT pg_temp.err($$SELECT grse.pin_scaling_mode('00000000-0000-0000-0000-0000000000d1', 'frozen', '-infinity')$$)
       AS until_minus_infinity;
SELECT pg_temp.err($$SELECT grse.unpin_scaling_mode(NULL)$$) AS unpin_null_region;
SELECT pg_temp.err($$SELECT grse.unpin_scaling_mode('00000000-0000-0000-0000-0000000000ff')$$) AS unpin_unknown_region;
SELECT pg_temp.err($$SELECT grse.unpin_scaling_mode('00000000-0000-0000-0000-0000000000d4')$$) AS unpin_inactive_region;
-- the pin columns are grse's: direct writes are refused for every role
SELECT pg_temp.err($$UPDATE grse.region_scaling_state SET pinned_mode = 'frozen', pinned_at = now()
                      WHERE region_id = '00000000-0000-0000-0000-0000000000d1'$$) AS direct_pin;
SELECT pg_temp.err($$UPDATE grse.region_scaling_state SET pin_reason = 'x'
                      WHERE region_id = '00000000-0000-0000-0000-0000000000d1'$$) AS direct_pin_reason;
-- nothing changed: no pin anywhere, no new transition
SELECT count(*) FILTER (WHERE pinned_mode IS NOT NULL) AS pinned_regions FROM grse.region_scaling_state;
SELECT transitions FROM pg_temp.state('00000000-0000-0000-0000-0000000000d1');

-- ---------------------------------------------------------------------------
-- Privileges: operators pin, readers and tenants do not.
-- ---------------------------------------------------------------------------
SET ROLE grse_reader;
SELECT pg_temp.err($$SELECT grse.pin_scaling_mode('00000000-0000-0000-0000-0000000000d1', 'frozen')$$) AS reader_pins;
SELECT pg_temp.err($$SELECT grse.unpin_scaling_mode('00000000-0000-0000-0000-0000000000d1')$$) AS reader_unpins;
RESET ROLE;
SET ROLE grse_tenant;
SELECT pg_temp.err($$SELECT grse.pin_scaling_mode('00000000-0000-0000-0000-0000000000d1', 'frozen')$$) AS tenant_pins;
RESET ROLE;
SET ROLE grse_operator;
SELECT grse.pin_scaling_mode('00000000-0000-0000-0000-0000000000d1', 'cautious', reason => 'operator');
SELECT grse.unpin_scaling_mode('00000000-0000-0000-0000-0000000000d1');
RESET ROLE;
SELECT * FROM pg_temp.last_transitions('00000000-0000-0000-0000-0000000000d1', 2);
