-- 44_geo: get_best_region_for_job(job_type, preferred_region, near_latitude,
-- near_longitude). With a location, the nearest normal or cautious region by
-- great-circle distance wins; regions without coordinates come last; an equal
-- distance goes to the lower pressure of the job type. A preferred region with
-- capacity above 30 still wins. Bad locations are refused.
\ir ../common/preamble.sql

INSERT INTO grse.regions (id, name, slug, country_code, latitude, longitude) VALUES
    ('00000000-0000-0000-0000-0000000000a1', 'Berlin', 'berlin', 'DE', 52.52, 13.405),
    ('00000000-0000-0000-0000-0000000000a2', 'Paris', 'paris', 'FR', 48.8566, 2.3522),
    ('00000000-0000-0000-0000-0000000000a3', 'New York', 'new-york', 'US', 40.7128, -74.006),
    ('00000000-0000-0000-0000-0000000000a4', 'Tokyo', 'tokyo', 'JP', 35.6762, 139.6503),
    ('00000000-0000-0000-0000-0000000000a5', 'Nowhere', 'nowhere', 'NL', NULL, NULL),
    ('00000000-0000-0000-0000-0000000000a6', 'Berlin Two', 'berlin-two', 'DE', 52.52, 13.405);

CREATE FUNCTION pg_temp.slug(id uuid) RETURNS text LANGUAGE sql AS $$
    SELECT COALESCE((SELECT slug FROM grse.regions WHERE regions.id = slug.id), '(none)')
$$;
CREATE FUNCTION pg_temp.set_pressures(region uuid, x numeric) RETURNS void
LANGUAGE sql AS $$
    UPDATE grse.region_scaling_state
       SET posting_pressure = x, orchestration_pressure = x, creative_pressure = x, intel_pressure = x
     WHERE region_id = region
$$;
-- Berlin Two is busier than Berlin (same place): pressure 20 against 10.
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000a1', 10);
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000a6', 20);

-- The nearest region to a few places (Lyon, Boston, Osaka, Warsaw, Sydney); at Berlin's own
-- coordinates two regions are at distance 0 and the lower pressure (Berlin) wins.
SELECT place, pg_temp.slug(grse.get_best_region_for_job('posting', NULL, lat, lon)) AS best
  FROM (VALUES ('lyon', 45.764, 4.8357), ('boston', 42.3601, -71.0589), ('osaka', 34.6937, 135.5023),
               ('warsaw', 52.2297, 21.0122), ('sydney', -33.8688, 151.2093), ('berlin', 52.52, 13.405)) v(place, lat, lon)
 ORDER BY place;
-- the pressure of the job type in question breaks the tie: Berlin's creative pressure above Berlin Two's
UPDATE grse.region_scaling_state SET creative_pressure = 30 WHERE region_id = '00000000-0000-0000-0000-0000000000a1';
SELECT pg_temp.slug(grse.get_best_region_for_job('creative', NULL, 52.52, 13.405)) AS creative_at_berlin,
       pg_temp.slug(grse.get_best_region_for_job('posting', NULL, 52.52, 13.405)) AS posting_at_berlin;
UPDATE grse.region_scaling_state SET creative_pressure = 10 WHERE region_id = '00000000-0000-0000-0000-0000000000a1';

-- Only normal and cautious regions: with both Berlins throttled (pressure 80), Paris is the
-- nearest to Warsaw; cautious (pressure 65) is still eligible.
SELECT pg_temp.set_pressures(r, 80)
  FROM unnest(ARRAY['00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000a6']::uuid[]) r;
SELECT pg_temp.slug(grse.get_best_region_for_job('posting', NULL, 52.2297, 21.0122)) AS best_at_warsaw;
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000a1', 65);
SELECT scaling_mode FROM grse.region_scaling_state WHERE region_id = '00000000-0000-0000-0000-0000000000a1';
SELECT pg_temp.slug(grse.get_best_region_for_job('posting', NULL, 52.2297, 21.0122)) AS best_at_warsaw;

-- A preferred region with capacity above 30 wins over the nearest.
SELECT pg_temp.slug(grse.get_best_region_for_job('posting', '00000000-0000-0000-0000-0000000000a4', 52.2297, 21.0122))
       AS preferred_tokyo_at_warsaw;

-- Regions without coordinates come last: with every located region throttled, Nowhere.
SELECT pg_temp.set_pressures(r, 80)
  FROM unnest(ARRAY['00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000a2',
                    '00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0000-0000000000a4']::uuid[]) r;
SELECT pg_temp.slug(grse.get_best_region_for_job('posting', NULL, 52.2297, 21.0122)) AS only_unlocated_left;
-- nothing eligible at all: NULL
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000a5', 95);
SELECT pg_temp.slug(grse.get_best_region_for_job('posting', NULL, 52.2297, 21.0122)) AS none_eligible;

-- Without a location, the rule is the old one: the lowest pressure of the job type.
SELECT pg_temp.set_pressures(r, x)
  FROM (VALUES ('00000000-0000-0000-0000-0000000000a1'::uuid, 30), ('00000000-0000-0000-0000-0000000000a2', 20),
               ('00000000-0000-0000-0000-0000000000a3', 5), ('00000000-0000-0000-0000-0000000000a4', 40),
               ('00000000-0000-0000-0000-0000000000a5', 50), ('00000000-0000-0000-0000-0000000000a6', 25)) v(r, x);
SELECT pg_temp.slug(grse.get_best_region_for_job('posting')) AS without_location,
       pg_temp.slug(grse.get_best_region_for_job('posting', NULL, NULL, NULL)) AS null_location,
       pg_temp.slug(grse.get_best_region_for_job('posting', NULL, 52.2297, 21.0122)) AS at_warsaw;

-- ---------------------------------------------------------------------------
-- Bad input: a clear error with its SQLSTATE.
-- ---------------------------------------------------------------------------
SELECT pg_temp.err($$SELECT grse.get_best_region_for_job('posting', NULL, 52.0, NULL)$$) AS latitude_only;
SELECT pg_temp.err($$SELECT grse.get_best_region_for_job('posting', NULL, NULL, 13.0)$$) AS longitude_only;
SELECT pg_temp.err($$SELECT grse.get_best_region_for_job('posting', NULL, 'NaN', 13.0)$$) AS nan_latitude;
SELECT pg_temp.err($$SELECT grse.get_best_region_for_job('posting', NULL, 52.0, 'NaN')$$) AS nan_longitude;
SELECT pg_temp.err($$SELECT grse.get_best_region_for_job('posting', NULL, 'Infinity', 13.0)$$) AS infinite_latitude;
SELECT pg_temp.err($$SELECT grse.get_best_region_for_job('posting', NULL, 90.5, 13.0)$$) AS latitude_above_90;
SELECT pg_temp.err($$SELECT grse.get_best_region_for_job('posting', NULL, -91, 13.0)$$) AS latitude_below_minus_90;
SELECT pg_temp.err($$SELECT grse.get_best_region_for_job('posting', NULL, 52.0, 180.5)$$) AS longitude_above_180;
SELECT pg_temp.err($$SELECT grse.get_best_region_for_job('posting', NULL, 52.0, '-Infinity')$$) AS infinite_longitude;
SELECT pg_temp.err($$SELECT grse.get_best_region_for_job(NULL, NULL, 52.0, 13.0)$$) AS null_job_type;
SELECT pg_temp.err($$SELECT grse.get_best_region_for_job('video', NULL, 52.0, 13.0)$$) AS unknown_job_type;
SELECT pg_temp.err($$SELECT grse.get_best_region_for_job('posting', '00000000-0000-0000-0000-0000000000ff', 52.0, 13.0)$$) AS unknown_preferred;
-- the edges are locations
SELECT pg_temp.slug(grse.get_best_region_for_job('posting', NULL, 90, 180)) AS north_pole,
       pg_temp.slug(grse.get_best_region_for_job('posting', NULL, -90, -180)) AS south_pole;
-- stored coordinates are checked too
SELECT pg_temp.err($$INSERT INTO grse.regions (name, slug, country_code, latitude, longitude) VALUES ('X', 'x', 'DE', 91, 0)$$) AS stored_latitude;
SELECT pg_temp.err($$INSERT INTO grse.regions (name, slug, country_code, latitude, longitude) VALUES ('X', 'x', 'DE', 0, 'NaN')$$) AS stored_nan_longitude;
