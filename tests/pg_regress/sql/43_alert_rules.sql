-- 43_alert_rules: custom alert rules evaluated by alert_critical_issues() (and so by
-- run_monitor()): an open alert per (region, rule) while `metric comparison threshold`
-- holds, once it has held for for_duration; resolved when it clears; NOTIFY grse_alerts.
-- Bad rules are refused (23514 naming the rule, 23505, 23503); only admins write rules.
\ir ../common/preamble.sql

INSERT INTO grse.regions (id, name, slug, country_code) VALUES
    ('00000000-0000-0000-0000-0000000000e1', 'Busy', 'busy', 'DE'),
    ('00000000-0000-0000-0000-0000000000e2', 'Quiet', 'quiet', 'FR');

CREATE FUNCTION pg_temp.set_pressures(region uuid, x numeric) RETURNS void
LANGUAGE sql AS $$
    UPDATE grse.region_scaling_state
       SET posting_pressure = x, orchestration_pressure = x, creative_pressure = x, intel_pressure = x
     WHERE region_id = region
$$;

-- The open and resolved alerts of the rules (not the built-in findings).
CREATE FUNCTION pg_temp.rule_alerts()
RETURNS TABLE (region text, alert_type text, severity text, message text, open boolean)
LANGUAGE sql AS $$
    SELECT r.slug, a.alert_type, a.severity, a.message, a.resolved_at IS NULL
      FROM grse.alerts a JOIN grse.regions r ON r.id = a.region_id
     WHERE a.alert_type IN (SELECT name FROM grse.alert_rules)
     ORDER BY a.id
$$;

INSERT INTO grse.alert_rules (name, metric, comparison, threshold, severity, region_id, for_duration) VALUES
    ('pressure-high', 'pressure', '>', 50, 'warning', NULL, '0'),
    ('busy-queue', 'queue', '>=', 10, 'critical', '00000000-0000-0000-0000-0000000000e1', '0'),
    ('capacity-low-for-a-while', 'capacity', '<', 90, 'warning', NULL, '1 hour'),
    ('budget-short', 'budget_percent', '<=', 50, 'critical', NULL, '0'),
    ('runs-out-soon', 'forecast_days_left', '<', 3, 'critical', NULL, '0');
INSERT INTO grse.alert_rules (name, metric, comparison, threshold, enabled) VALUES
    ('disabled-rule', 'pressure', '>=', 0, false);
SELECT name, metric, comparison, threshold, severity, region_id IS NOT NULL AS one_region, for_duration, enabled
  FROM grse.alert_rules ORDER BY id;

-- Nothing holds yet: no alert.
SELECT grse.alert_critical_issues() AS new_alerts;
SELECT * FROM pg_temp.rule_alerts();

-- Busy: pressure 60 (> 50), capacity 100 − 0.35·60 = 79 (< 90), queue 12 (>= 10).
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000e1', 60);
SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000e1', 12);
-- Quiet: queue 12 too, but busy-queue covers only Busy.
SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000e2', 12);

-- a second connection listens on grse_alerts (as in 15_notify)
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_connect('listener', format('dbname=%s port=%s host=%s', current_database(),
                      current_setting('port'), split_part(current_setting('unix_socket_directories'), ',', 1))) AS connected;
SELECT dblink_exec('listener', 'LISTEN grse_alerts');
-- pressure-high and busy-queue fire at once; capacity-low-for-a-while is pending (1 hour)
SELECT grse.alert_critical_issues() AS new_alerts;
SELECT * FROM pg_temp.rule_alerts();
SELECT r.slug, p.since > now() - interval '1 minute' AS pending_since_the_last_evaluation
  FROM grse.alert_rule_pending p JOIN grse.alert_rules a ON a.id = p.rule_id JOIN grse.regions r ON r.id = p.region_id
 WHERE a.name = 'capacity-low-for-a-while';
-- the details name the rule and the value
SELECT a.details - 'holding_since' AS details FROM grse.alerts a WHERE a.alert_type = 'busy-queue';
-- evaluating again: still open, no new alert (one open alert per region and rule)
SELECT grse.alert_critical_issues() AS new_alerts;
SELECT count(*) AS open_rule_alerts FROM pg_temp.rule_alerts() WHERE open;
SELECT pg_sleep(0.5);
-- the two new alerts were announced, once each
SELECT notify_name, (extra::jsonb - 'created_at' - 'id')::text AS payload
  FROM dblink_get_notify('listener') ORDER BY 2;
SELECT dblink_disconnect('listener');
DROP EXTENSION dblink;

-- for_duration: once the condition has held for an hour, it fires. The pending time is
-- moved back an hour (as if the first evaluation had been then; the test, as superuser,
-- writes the table grse keeps).
UPDATE grse.alert_rule_pending SET since = since - interval '1 hour'
 WHERE rule_id = (SELECT id FROM grse.alert_rules WHERE name = 'capacity-low-for-a-while');
SELECT grse.alert_critical_issues() AS new_alerts;
SELECT * FROM pg_temp.rule_alerts() WHERE alert_type = 'capacity-low-for-a-while';

-- Clearing: pressure 40 (capacity 86), queue 0: pressure-high and busy-queue resolve, the
-- capacity rule still holds (86 < 90) and stays open.
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000e1', 40);
SELECT grse.update_job_queue('00000000-0000-0000-0000-0000000000e1', -12);
SELECT grse.alert_critical_issues() AS new_alerts;
SELECT * FROM pg_temp.rule_alerts();
-- pressure 0 (capacity 100): the capacity rule clears too, and its pending time is gone
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000e1', 0);
SELECT (grse.run_monitor()) ->> 'alerts_raised' AS raised_by_monitor;
SELECT count(*) AS open_rule_alerts FROM pg_temp.rule_alerts() WHERE open;
SELECT count(*) AS pending FROM grse.alert_rule_pending;
-- it comes back: a new alert (the resolved one stays resolved)
SELECT pg_temp.set_pressures('00000000-0000-0000-0000-0000000000e1', 60);
SELECT grse.alert_critical_issues() AS new_alerts;
SELECT alert_type, count(*) FILTER (WHERE open) AS open, count(*) FILTER (WHERE NOT open) AS resolved
  FROM pg_temp.rule_alerts() GROUP BY alert_type ORDER BY alert_type;

-- budget_percent and forecast_days_left: Quiet spends 60% of its budget (40% left <= 50);
-- at that rate (60000 cents since it was created, moments ago) it runs out within 3 days.
SELECT grse.check_and_decrement_budget('00000000-0000-0000-0000-0000000000e2', 60000);
SELECT grse.alert_critical_issues() AS new_alerts;
SELECT region, alert_type, severity, open FROM pg_temp.rule_alerts()
 WHERE alert_type IN ('budget-short', 'runs-out-soon') ORDER BY region, alert_type;
-- a region that is never exhausted (no spend) never matches "forecast_days_left < 3"
SELECT count(*) AS busy_runs_out FROM pg_temp.rule_alerts() WHERE alert_type = 'runs-out-soon' AND region = 'busy';

-- Disabling a rule resolves its open alerts at the next evaluation; so does deleting one.
UPDATE grse.alert_rules SET enabled = false WHERE name = 'pressure-high';
DELETE FROM grse.alert_rules WHERE name = 'budget-short';
SELECT grse.alert_critical_issues() AS new_alerts;
SELECT count(*) FILTER (WHERE alert_type = 'pressure-high' AND resolved_at IS NULL) AS pressure_high_open,
       count(*) FILTER (WHERE alert_type = 'budget-short' AND resolved_at IS NULL) AS budget_short_open
  FROM grse.alerts;

-- ---------------------------------------------------------------------------
-- Bad rules: refused with the constraint's name, nothing written.
-- ---------------------------------------------------------------------------
SELECT pg_temp.err($$INSERT INTO grse.alert_rules (name, metric, comparison, threshold) VALUES ('x', 'latency', '>', 1)$$) AS unknown_metric;
SELECT pg_temp.err($$INSERT INTO grse.alert_rules (name, metric, comparison, threshold) VALUES ('x', 'Capacity', '>', 1)$$) AS metric_wrong_case;
SELECT pg_temp.err($$INSERT INTO grse.alert_rules (name, metric, comparison, threshold) VALUES ('x', 'capacity', '==', 1)$$) AS unknown_comparison;
SELECT pg_temp.err($$INSERT INTO grse.alert_rules (name, metric, comparison, threshold) VALUES ('x', 'capacity', '<', 101)$$) AS score_threshold_above_100;
SELECT pg_temp.err($$INSERT INTO grse.alert_rules (name, metric, comparison, threshold) VALUES ('x', 'queue', '>', -1)$$) AS negative_queue_threshold;
SELECT pg_temp.err($$INSERT INTO grse.alert_rules (name, metric, comparison, threshold) VALUES ('x', 'capacity', '<', 'NaN')$$) AS nan_threshold;
SELECT pg_temp.err($$INSERT INTO grse.alert_rules (name, metric, comparison, threshold) VALUES ('x', 'capacity', '<', NULL)$$) AS null_threshold;
SELECT pg_temp.err($$INSERT INTO grse.alert_rules (name, metric, comparison, threshold, severity) VALUES ('x', 'capacity', '<', 1, 'info')$$) AS unknown_severity;
SELECT pg_temp.err($$INSERT INTO grse.alert_rules (name, metric, comparison, threshold, for_duration) VALUES ('x', 'capacity', '<', 1, '-1 minute')$$) AS negative_for_duration;
SELECT pg_temp.err($$INSERT INTO grse.alert_rules (name, metric, comparison, threshold, for_duration) VALUES ('x', 'capacity', '<', 1, '31 days')$$) AS for_duration_too_long;
SELECT pg_temp.err($$INSERT INTO grse.alert_rules (name, metric, comparison, threshold) VALUES ('  ', 'capacity', '<', 1)$$) AS blank_name;
SELECT pg_temp.err($$INSERT INTO grse.alert_rules (name, metric, comparison, threshold) VALUES ('mode_frozen', 'capacity', '<', 1)$$) AS builtin_name;
SELECT pg_temp.err($$INSERT INTO grse.alert_rules (name, metric, comparison, threshold) VALUES ('busy-queue', 'capacity', '<', 1)$$) AS duplicate_name;
SELECT pg_temp.err($$INSERT INTO grse.alert_rules (name, metric, comparison, threshold, region_id) VALUES ('x', 'capacity', '<', 1, '00000000-0000-0000-0000-0000000000ff')$$) AS unknown_region;
SELECT pg_temp.err($$UPDATE grse.alert_rules SET comparison = '!=' WHERE name = 'busy-queue'$$) AS bad_update;
SELECT count(*) AS rules, count(*) FILTER (WHERE name = 'x') AS bad_rules FROM grse.alert_rules;

-- ---------------------------------------------------------------------------
-- Privileges: admins write rules, readers read them, nobody writes the pending state.
-- ---------------------------------------------------------------------------
SET ROLE grse_operator;
SELECT pg_temp.err($$INSERT INTO grse.alert_rules (name, metric, comparison, threshold) VALUES ('y', 'capacity', '<', 1)$$) AS operator_inserts;
SELECT count(*) AS operator_reads FROM grse.alert_rules;
RESET ROLE;
SET ROLE grse_admin;
INSERT INTO grse.alert_rules (name, metric, comparison, threshold) VALUES ('admin-rule', 'fatigue', '>', 50);
UPDATE grse.alert_rules SET threshold = 60 WHERE name = 'admin-rule';
SELECT pg_temp.err($$DELETE FROM grse.alert_rule_pending$$) AS admin_writes_pending;
DELETE FROM grse.alert_rules WHERE name = 'admin-rule';
RESET ROLE;
SET ROLE grse_tenant;
SELECT pg_temp.err($$SELECT count(*) FROM grse.alert_rules$$) AS tenant_reads_rules;
RESET ROLE;
