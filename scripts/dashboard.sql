-- After scripts/demo.sql: a day of hourly snapshots for the dashboard's health trend.
-- Each region's load is replayed hour by hour through ordinary metric writes (the state trigger
-- recomputes capacity, warning index and mode as always), saved with save_region_snapshot(), and
-- each snapshot row is dated back to its hour; then every region gets its demo load back.
\set ON_ERROR_STOP 1
DO $$
DECLARE
    r record;
    h integer;
    f numeric;
    snap uuid;
BEGIN
    FOR r IN SELECT s.region_id, s.posting_pressure AS p, s.orchestration_pressure AS o,
                    s.creative_pressure AS c, s.intel_pressure AS i
               FROM grse.region_scaling_state s ORDER BY s.region_id LOOP
        FOR h IN REVERSE 23..1 LOOP
            -- the load ramps up over the day to where the demo left it, with an hourly wobble
            f := 0.55 + 0.45 * (24 - h) / 24.0;
            UPDATE grse.region_scaling_state s
               SET posting_pressure = least(100, greatest(0, round(r.p * f + 4 * sin(h / 2.0)::numeric, 2))),
                   orchestration_pressure = least(100, greatest(0, round(r.o * f + 3 * cos(h / 3.0)::numeric, 2))),
                   creative_pressure = least(100, greatest(0, round(r.c * f, 2))),
                   intel_pressure = least(100, greatest(0, round(r.i * f + 2 * sin(h)::numeric, 2)))
             WHERE s.region_id = r.region_id;
            snap := grse.save_region_snapshot(r.region_id, 'hourly');
            UPDATE grse.region_scaling_history SET created_at = now() - make_interval(hours => h) WHERE id = snap;
        END LOOP;
        UPDATE grse.region_scaling_state s
           SET posting_pressure = r.p, orchestration_pressure = r.o, creative_pressure = r.c, intel_pressure = r.i
         WHERE s.region_id = r.region_id;
        PERFORM grse.save_region_snapshot(r.region_id, 'hourly');
    END LOOP;
END
$$;
SELECT grse.alert_critical_issues() AS new_alerts;
