-- A grse database with every kind of row, for the restore and replication tests:
-- regions (one a child listed before its parent, one inactive), licenses, clients, a
-- changed policy, spends and refunds with agencies and job types, an allocation, budget
-- slots with their transfers, mode transitions, manual, scheduled and lazy roll-overs,
-- hourly and daily snapshots, alerts, and the objects of 0.3 where they exist (holds,
-- jobs, alert rules). Run as a superuser (the due periods are faked with
-- session_replication_role = replica, which skips the state trigger).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
\o /dev/null

INSERT INTO grse.regions (id, name, slug, country_code, timezone, parent_region_id, latitude, longitude, metadata) VALUES
    ('00000000-0000-4000-8000-0000000000b2', 'France', 'fr', 'FR', 'Europe/Paris',
     '00000000-0000-4000-8000-0000000000b1', 48.86, 2.35, '{"tier": 2}'),
    ('00000000-0000-4000-8000-0000000000b1', 'Europe', 'eu', 'DE', 'Europe/Berlin', NULL, 50.11, 8.68, '{"tier": 1}'),
    ('00000000-0000-4000-8000-0000000000b3', 'Tokyo', 'jp', 'JP', 'Asia/Tokyo', NULL, 35.68, 139.69, '{}'),
    ('00000000-0000-4000-8000-0000000000b4', 'Retired', 'old', 'US', 'America/New_York', NULL, NULL, NULL, '{}');
INSERT INTO grse.agency_regions (agency_id, region_id, status, is_primary) VALUES
    ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000b1', 'active', true),
    ('00000000-0000-4000-8000-0000000000a1', '00000000-0000-4000-8000-0000000000b2', 'active', false),
    ('00000000-0000-4000-8000-0000000000a2', '00000000-0000-4000-8000-0000000000b3', 'suspended', true);
INSERT INTO grse.client_agencies (client_id, agency_id) VALUES
    ('00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-0000000000a1'),
    ('00000000-0000-4000-8000-0000000000c2', '00000000-0000-4000-8000-0000000000a2');

UPDATE grse.policy SET small_job_max_cents = 250, cautious_pressure_above = 55;
SELECT grse.set_monthly_budget('00000000-0000-4000-8000-0000000000b1', 200000);
SELECT grse.set_budget_slots('00000000-0000-4000-8000-0000000000b2', 4);

-- spends (with and without agency and job type), refunds; slot spends on fr
SELECT grse.check_and_decrement_budget('00000000-0000-4000-8000-0000000000b1', 1500,
                                       '00000000-0000-4000-8000-0000000000a1', 'posting');
SELECT grse.decrement_budget('00000000-0000-4000-8000-0000000000b1', 2500, NULL, 'creative', 'batch render');
SELECT grse.refund_budget('00000000-0000-4000-8000-0000000000b1', 700, 'render failed');
SELECT grse.check_and_decrement_budget('00000000-0000-4000-8000-0000000000b2', 120 + n, NULL, 'intel')
  FROM generate_series(1, 40) n;
SELECT grse.refund_budget('00000000-0000-4000-8000-0000000000b2', 90);
SELECT grse.check_and_decrement_budget('00000000-0000-4000-8000-0000000000b3', 99000, NULL, 'orchestration');

-- metric writes: transitions (jp frozen by pressure and budget), queue counts
UPDATE grse.region_scaling_state
   SET posting_pressure = 80, orchestration_pressure = 70, creative_pressure = 95, intel_pressure = 40,
       active_agencies = 3, active_clients = 12, metadata = '{"note": "peak"}'
 WHERE region_id = '00000000-0000-4000-8000-0000000000b3';
UPDATE grse.region_scaling_state SET posting_pressure = 58 WHERE region_id = '00000000-0000-4000-8000-0000000000b1';
SELECT grse.update_pressure_scores('00000000-0000-4000-8000-0000000000b2', '{"posting": 4, "creative": 2}');
SELECT grse.update_job_queue('00000000-0000-4000-8000-0000000000b1', 5);
SELECT grse.update_scaling_mode('00000000-0000-4000-8000-0000000000b3');

-- snapshots and alerts
SELECT grse.save_all_snapshots('hourly');
SELECT grse.save_all_snapshots('hourly');
SELECT grse.save_all_snapshots('daily');
SELECT grse.alert_critical_issues();

-- roll-overs: a manual daily reset, then due periods rolled over by the scheduled job and lazily
SELECT grse.reset_daily_budget_spend();
SET session_replication_role = replica;
UPDATE grse.region_scaling_state
   SET day_started_at = day_started_at - interval '1 day', day_ends_at = now() - interval '1 minute'
 WHERE region_id IN ('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000b3');
UPDATE grse.region_scaling_state
   SET month_started_at = month_started_at - interval '1 month', month_ends_at = now() - interval '1 minute'
 WHERE region_id = '00000000-0000-4000-8000-0000000000b3';
RESET session_replication_role;
SELECT grse.roll_over_budget_periods();
SET session_replication_role = replica;
UPDATE grse.region_scaling_state
   SET day_started_at = day_started_at - interval '1 day', day_ends_at = now() - interval '1 minute'
 WHERE region_id = '00000000-0000-4000-8000-0000000000b2';
RESET session_replication_role;
SELECT grse.check_and_decrement_budget('00000000-0000-4000-8000-0000000000b2', 300, NULL, 'posting');

-- a retired region
UPDATE grse.regions SET active = false WHERE id = '00000000-0000-4000-8000-0000000000b4';

-- 0.3: holds, jobs and alert rules, where they exist
DO $$
BEGIN
    IF to_regprocedure('grse.reserve_budget(uuid, numeric, uuid, text, interval, text)') IS NOT NULL THEN
        PERFORM grse.reserve_budget('00000000-0000-4000-8000-0000000000b1', 400, NULL, 'posting', NULL, 'fixture-hold-1');
        PERFORM grse.settle_budget_hold(h.hold_id, 250)
           FROM grse.reserve_budget('00000000-0000-4000-8000-0000000000b1', 600) h;
    END IF;
    IF to_regclass('grse.jobs') IS NOT NULL THEN
        EXECUTE $q$SELECT grse.admit_job('posting', region_id => '00000000-0000-4000-8000-0000000000b1',
                                         estimated_cost => 50, hold_budget => true)$q$;
    END IF;
    IF to_regclass('grse.alert_rules') IS NOT NULL THEN
        EXECUTE $q$INSERT INTO grse.alert_rules (name, metric, comparison, threshold, severity, for_duration)
                   VALUES ('low capacity', 'capacity', '<', 50, 'warning', '0'),
                          ('slow burn', 'budget_percent', '<', 99, 'warning', '1 hour')$q$;
        PERFORM grse.alert_critical_issues();
    END IF;
END
$$;
\o
