-- NOTIFY payloads: grse_mode_changed on a real mode change, grse_alerts on a new alert.
-- A second connection (dblink) listens; notifications arrive when the writer commits.
\ir ../common/preamble.sql
CREATE EXTENSION IF NOT EXISTS dblink;

SELECT dblink_connect('listener', format('dbname=%s port=%s host=%s', current_database(),
                      current_setting('port'), split_part(current_setting('unix_socket_directories'), ',', 1))) AS connected;
SELECT dblink_exec('listener', 'LISTEN grse_mode_changed');
SELECT dblink_exec('listener', 'LISTEN grse_alerts');

INSERT INTO grse.regions (id, name, slug, country_code, timezone)
VALUES ('00000000-0000-0000-0000-0000000000a1', 'Alpha', 'alpha', 'DE', 'Europe/Berlin');

-- normal -> frozen: overall pressure 95.00 > 90; capacity = 40 + 0.35·5 + 25 = 66.75
UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95,
       creative_pressure = 95, intel_pressure = 95 WHERE region_id = '00000000-0000-0000-0000-0000000000a1';
-- the same mode again: no notification
UPDATE grse.region_scaling_state SET posting_pressure = 96 WHERE region_id = '00000000-0000-0000-0000-0000000000a1';
-- the frozen region is a critical conflict: one alert, announced once
SELECT grse.alert_critical_issues() AS new_alerts;
SELECT grse.alert_critical_issues() AS new_alerts_again;
-- a rolled-back mode change announces nothing
BEGIN;
UPDATE grse.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0,
       creative_pressure = 0, intel_pressure = 0 WHERE region_id = '00000000-0000-0000-0000-0000000000a1';
ROLLBACK;
-- grse.notify_mode_changes off: the mode change is recorded, not announced
SET grse.notify_mode_changes = off;
UPDATE grse.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0,
       creative_pressure = 0, intel_pressure = 0 WHERE region_id = '00000000-0000-0000-0000-0000000000a1';
SELECT from_mode, to_mode, cause FROM grse.region_mode_transitions
 WHERE region_id = '00000000-0000-0000-0000-0000000000a1' ORDER BY id DESC LIMIT 1;
RESET grse.notify_mode_changes;
-- on again (the default): the next change is announced
UPDATE grse.region_scaling_state SET posting_pressure = 95, orchestration_pressure = 95,
       creative_pressure = 95, intel_pressure = 95 WHERE region_id = '00000000-0000-0000-0000-0000000000a1';
-- only a superuser may turn the announcements off (42501)
SET ROLE grse_operator;
SET grse.notify_mode_changes = off;
SHOW grse.notify_mode_changes;
RESET ROLE;

-- give the listener's backend a moment to forward what the commits signalled
SELECT pg_sleep(0.5);
-- what the listener received, in order, without the timestamps and ids
SELECT notify_name,
       (extra::jsonb - 'at' - 'created_at' - 'id')::text AS payload
  FROM dblink_get_notify('listener');

SELECT dblink_disconnect('listener');
DROP EXTENSION dblink;
