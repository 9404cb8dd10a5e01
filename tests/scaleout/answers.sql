-- Answers of grse, printed so that two databases holding the same regions can be
-- compared line by line: run after scripts/demo.sql on one node and through the
-- router (tests/scaleout/run.sh diffs the two outputs). Region ids are shown as
-- region slugs, times as <time>, ledger and alert ids are left out; errors are
-- printed as "error SQLSTATE: message". Writes go through the same statements
-- on both sides (licenses, clients, admissions, alerts).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
\pset tuples_only on
\pset format unaligned

-- text of a value with region ids replaced by slugs and times masked
CREATE FUNCTION pg_temp.norm(v text) RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT id::text AS id, slug FROM grse.regions LOOP
        v := replace(v, r.id, '<' || r.slug || '>');
    END LOOP;
    RETURN regexp_replace(v, '\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d(:\d\d)?)?', '<time>', 'g');
END
$$;

-- runs a query; its rows (as jsonb, normalized, in order) or its error
CREATE FUNCTION pg_temp.try(label text, q text) RETURNS SETOF text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    r record;
BEGIN
    FOR r IN EXECUTE format('WITH x AS (%s) SELECT to_jsonb(x) AS j FROM x', q) LOOP
        RETURN NEXT label || ': ' || pg_temp.norm(r.j::text);
    END LOOP;
EXCEPTION WHEN OTHERS THEN
    RETURN NEXT label || ': error ' || SQLSTATE || ': ' || pg_temp.norm(SQLERRM);
END
$$;

CREATE FUNCTION pg_temp.rid(s text) RETURNS uuid LANGUAGE sql AS $$ SELECT id FROM grse.regions WHERE slug = s $$;

-- fatigue counts the time a region spent outside normal over this window: over a
-- year, the seconds between the two runs do not show (the policy goes to every node)
UPDATE grse.policy SET fatigue_window = '366 days';

-- licenses and clients spread over the nodes (the same rows on both sides)
INSERT INTO grse.agency_regions (agency_id, region_id, status, is_primary, created_at)
SELECT a::uuid, pg_temp.rid(s), st, p, t::timestamptz
  FROM (VALUES ('aaaaaaaa-0000-0000-0000-000000000001', 'eu-frankfurt', 'active', false, '2024-03-01'),
               ('aaaaaaaa-0000-0000-0000-000000000001', 'us-virginia', 'active', false, '2024-01-01'),
               ('aaaaaaaa-0000-0000-0000-000000000002', 'ap-sydney', 'active', false, '2023-01-01'),
               ('aaaaaaaa-0000-0000-0000-000000000002', 'us-virginia', 'active', true, '2024-06-01'),
               ('aaaaaaaa-0000-0000-0000-000000000003', 'eu-frankfurt', 'suspended', true, '2024-01-01')) v(a, s, st, p, t);
INSERT INTO grse.client_agencies (client_id, agency_id, created_at) VALUES
    ('cccccccc-0000-0000-0000-000000000001', 'aaaaaaaa-0000-0000-0000-000000000001', '2024-01-01'),
    ('cccccccc-0000-0000-0000-000000000002', 'aaaaaaaa-0000-0000-0000-000000000003', '2024-01-01');

SELECT pg_temp.try('health', 'SELECT * FROM grse.get_all_regions_health()');
SELECT pg_temp.try('list', 'SELECT * FROM grse.list_region_health()');
SELECT pg_temp.try(format('by_metric %s %s', m, o), format('SELECT * FROM grse.get_regions_by_metric(%L, %L)', m, o))
  FROM unnest(ARRAY['capacity', 'pressure', 'budget', 'warning', 'bogus']) m, unnest(ARRAY['asc', 'desc', 'up']) o;
SELECT pg_temp.try('by_metric default', 'SELECT * FROM grse.get_regions_by_metric(''pressure'')');
SELECT pg_temp.try('conflicts', 'SELECT * FROM grse.detect_cross_region_conflicts()');
SELECT pg_temp.try('risk', 'SELECT grse.compute_global_risk() - ''assessed_at''');
SELECT pg_temp.try(format('api health %s %s %s', s, o, r),
                   format('SELECT grse.api_regions_health(%L, %L, %L)', s, o, r))
  FROM unnest(ARRAY[NULL, 'capacity', 'pressure', 'budget', 'warning', 'name', 'size']) s,
       unnest(ARRAY['asc', 'desc']) o, unnest(ARRAY[false, true]) r;
SELECT pg_temp.try('api health null risk', 'SELECT grse.api_regions_health(NULL, ''desc'', NULL)');
SELECT pg_temp.try(format('best %s %s', j, p),
                   format('SELECT grse.get_best_region_for_job(%L, pg_temp.rid(%L))', j, p))
  FROM unnest(ARRAY['posting', 'orchestration', 'creative', 'intel', 'bogus']) j,
       unnest(ARRAY[NULL, 'eu-frankfurt', 'ap-sydney', 'us-virginia']) p;
SELECT pg_temp.try('best unknown preferred',
                   'SELECT grse.get_best_region_for_job(''posting'', ''00000000-0000-0000-0000-00000000abcd'')');
SELECT pg_temp.try(format('agency %s', a), format('SELECT grse.resolve_region_for_agency(%L)', a))
  FROM unnest(ARRAY['aaaaaaaa-0000-0000-0000-000000000001', 'aaaaaaaa-0000-0000-0000-000000000002',
                    'aaaaaaaa-0000-0000-0000-000000000003', 'aaaaaaaa-0000-0000-0000-000000000009']) a;
SELECT pg_temp.try('agency null', 'SELECT grse.resolve_region_for_agency(NULL)');
SELECT pg_temp.try(format('client %s', c), format('SELECT grse.resolve_region_for_client(%L)', c))
  FROM unnest(ARRAY['cccccccc-0000-0000-0000-000000000001', 'cccccccc-0000-0000-0000-000000000002',
                    'cccccccc-0000-0000-0000-000000000009']) c;
SELECT pg_temp.try(format('headers %s', h), format('SELECT grse.resolve_region_from_headers(%L)', h))
  FROM unnest(ARRAY['{"X-Agency-Id": "aaaaaaaa-0000-0000-0000-000000000001"}',
                    '{"x-agency-id": ["aaaaaaaa-0000-0000-0000-000000000002"]}',
                    '{"x-region-id": "00000000-0000-0000-0000-00000000abcd", "x-agency-id": "aaaaaaaa-0000-0000-0000-000000000001"}',
                    '{"x-agency-id": "not-a-uuid"}', '[1]', '{}']) h;
SELECT pg_temp.try(format('headers region %s', s),
                   format('SELECT grse.resolve_region_from_headers(jsonb_build_object(''x-region-id'', pg_temp.rid(%L)))', s))
  FROM unnest(ARRAY['eu-frankfurt', 'ap-sydney', 'us-virginia']) s;

-- routing (writes nothing) and admission (writes queue counts: the same calls on both sides)
SELECT pg_temp.try(format('route %s %s fallback %s', f, s, fb),
                   format('SELECT region_id, priority, estimated_wait, scaling_mode FROM grse.%I(pg_temp.rid(%L), ''11111111-1111-1111-1111-111111111111'', allow_fallback => %L)', f, s, fb))
  FROM unnest(ARRAY['route_orchestration_job', 'route_creative_job', 'route_performance_job']) f,
       unnest(ARRAY['eu-frankfurt', 'ap-sydney', 'us-virginia']) s, unnest(ARRAY[false, true]) fb;
SELECT pg_temp.try(format('route posting %s', s),
                   format('SELECT region_id, shard_key, priority, scaling_mode FROM grse.route_posting_job(''11111111-1111-1111-1111-111111111111'', pg_temp.rid(%L), allow_fallback => true)', s))
  FROM unnest(ARRAY['eu-frankfurt', 'ap-sydney', 'us-virginia']) s;
SELECT pg_temp.try('route posting by license', 'SELECT region_id, shard_key FROM grse.route_posting_job(''aaaaaaaa-0000-0000-0000-000000000002'')');
SELECT pg_temp.try('route posting best', 'SELECT region_id, priority FROM grse.route_posting_job(''aaaaaaaa-0000-0000-0000-000000000009'')');
SELECT pg_temp.try('route posting null', 'SELECT * FROM grse.route_posting_job(NULL)');
SELECT pg_temp.try('route creative null', 'SELECT * FROM grse.route_creative_job(NULL)');
SELECT pg_temp.try('route creative unknown', 'SELECT * FROM grse.route_creative_job(''00000000-0000-0000-0000-00000000abcd'')');
SELECT pg_temp.try('route job bad priority', 'SELECT * FROM grse.route_job(''posting'', pg_temp.rid(''eu-frankfurt''), priority => 0)');
SELECT pg_temp.try(format('admit %s %s %s fallback %s', j, s, c, fb),
                   format('SELECT admitted, region_id, requested_region_id, shard_key, priority, estimated_wait, scaling_mode, fallback_used, reason FROM grse.admit_job(%L, tenant_id => ''22222222-2222-2222-2222-222222222222'', region_id => pg_temp.rid(%L), estimated_cost => %s, allow_fallback => %L)', j, s, c, fb))
  FROM unnest(ARRAY['posting', 'creative']) j, unnest(ARRAY['eu-frankfurt', 'ap-sydney', 'us-virginia']) s,
       unnest(ARRAY[50, 300, 2000000]) c, unnest(ARRAY[false, true]) fb;
SELECT pg_temp.try('admit by client', 'SELECT admitted, region_id, requested_region_id, fallback_used, reason FROM grse.admit_job(''intel'', client_id => ''cccccccc-0000-0000-0000-000000000001'', estimated_cost => 10)');
SELECT pg_temp.try('admit by suspended client', 'SELECT admitted, region_id, requested_region_id, fallback_used, reason FROM grse.admit_job(''intel'', client_id => ''cccccccc-0000-0000-0000-000000000002'', estimated_cost => 10)');
SELECT pg_temp.try('admit by suspended client no fallback', 'SELECT admitted, region_id, requested_region_id, fallback_used, reason FROM grse.admit_job(''intel'', client_id => ''cccccccc-0000-0000-0000-000000000002'', allow_fallback => false)');
SELECT pg_temp.try('admit by tenant', 'SELECT admitted, region_id, requested_region_id, fallback_used, reason FROM grse.admit_job(''orchestration'', tenant_id => ''aaaaaaaa-0000-0000-0000-000000000002'')');
SELECT pg_temp.try('admit unknown client', 'SELECT * FROM grse.admit_job(''intel'', client_id => ''cccccccc-0000-0000-0000-000000000009'')');
SELECT pg_temp.try('admit unknown tenant', 'SELECT * FROM grse.admit_job(''intel'', tenant_id => ''aaaaaaaa-0000-0000-0000-000000000009'')');
SELECT pg_temp.try('admit nothing', 'SELECT * FROM grse.admit_job(''intel'')');
SELECT pg_temp.try('admit bad type', 'SELECT * FROM grse.admit_job(''video'', region_id => pg_temp.rid(''eu-frankfurt''))');
SELECT pg_temp.try('admit bad cost', 'SELECT * FROM grse.admit_job(''posting'', client_id => ''cccccccc-0000-0000-0000-000000000001'', estimated_cost => -1)');
SELECT pg_temp.try('admit null fallback', 'SELECT * FROM grse.admit_job(''posting'', region_id => pg_temp.rid(''eu-frankfurt''), allow_fallback => NULL)');
SELECT pg_temp.try('queues', 'SELECT r.slug, s.jobs_in_queue FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id ORDER BY r.slug');

-- bad input: the same errors through the router
SELECT pg_temp.try('check unknown', 'SELECT * FROM grse.check_budget(''00000000-0000-0000-0000-00000000abcd'', 5)');
SELECT pg_temp.try('check null', 'SELECT * FROM grse.check_budget(NULL, 5)');
SELECT pg_temp.try('spend negative', 'SELECT grse.check_and_decrement_budget(pg_temp.rid(''eu-frankfurt''), -5)');
SELECT pg_temp.try('spend huge', 'SELECT grse.check_and_decrement_budget(pg_temp.rid(''eu-frankfurt''), 1e30)');
SELECT pg_temp.try('spend nan', 'SELECT grse.decrement_budget(pg_temp.rid(''ap-sydney''), ''NaN'', NULL, NULL, NULL)');
SELECT pg_temp.try('spend bad type', 'SELECT grse.check_and_decrement_budget(pg_temp.rid(''ap-sydney''), 5, NULL, ''video'')');
SELECT pg_temp.try('refund too much', 'SELECT grse.refund_budget(pg_temp.rid(''ap-sydney''), 10000000)');
SELECT pg_temp.try('monthly negative', 'SELECT grse.set_monthly_budget(pg_temp.rid(''us-virginia''), -1)');
SELECT pg_temp.try('pressure bad', 'SELECT grse.update_pressure_scores(pg_temp.rid(''us-virginia''), ''{"posting": "many"}'')');
SELECT pg_temp.try('snapshot bad period', 'SELECT grse.save_region_snapshot(pg_temp.rid(''us-virginia''), ''yearly'')');
SELECT pg_temp.try('trend bad periods', 'SELECT * FROM grse.get_region_health_trend(pg_temp.rid(''us-virginia''), 0)');
SELECT pg_temp.try('api snapshot unknown', 'SELECT grse.api_get_region_snapshot(''00000000-0000-0000-0000-00000000abcd'')');
SELECT pg_temp.try('api save unknown', 'SELECT grse.api_save_region_snapshot(''00000000-0000-0000-0000-00000000abcd'')');
SELECT pg_temp.try('summary unknown', 'SELECT grse.get_region_scaling_summary(''00000000-0000-0000-0000-00000000abcd'')');
SELECT pg_temp.try('summary', 'SELECT grse.get_region_scaling_summary(pg_temp.rid(''ap-sydney'')) - ''updated_at'' - ''mode_since''');
SELECT pg_temp.try('stats', 'SELECT grse.get_budget_stats(pg_temp.rid(''ap-sydney'')) - ''recent_transactions''');
SELECT pg_temp.try('capacity', 'SELECT grse.compute_region_capacity(pg_temp.rid(''us-virginia''))');
SELECT pg_temp.try('queue', 'SELECT grse.update_job_queue(pg_temp.rid(''us-virginia''), -1000)');
SELECT pg_temp.try('ledger insert', 'INSERT INTO grse.region_budget_transactions (region_id, transaction_type, amount, delta, balance_after) SELECT pg_temp.rid(''ap-sydney''), ''spend'', 1, -1, 0 RETURNING 1');
SELECT pg_temp.try('budget write', 'UPDATE grse.region_scaling_state SET ai_budget_remaining = 1 WHERE region_id = pg_temp.rid(''ap-sydney'') RETURNING 1');
SELECT pg_temp.try('state delete', 'DELETE FROM grse.region_scaling_state WHERE region_id = pg_temp.rid(''ap-sydney'') RETURNING 1');
SELECT pg_temp.try('pressure range', 'UPDATE grse.region_scaling_state SET posting_pressure = 101 WHERE region_id = pg_temp.rid(''ap-sydney'') RETURNING 1');
SELECT pg_temp.try('region bad country', 'INSERT INTO grse.regions (name, slug, country_code) VALUES (''Bad'', ''bad'', ''germany'') RETURNING slug');
SELECT pg_temp.try('region duplicate slug', 'INSERT INTO grse.regions (name, slug, country_code) VALUES (''Again'', ''ap-sydney'', ''AU'') RETURNING slug');
SELECT pg_temp.try('policy bad', 'UPDATE grse.policy SET pressure_weight_posting = 0.9 RETURNING 1');

-- monitor and alerts (alerts in region order: their ids are per node)
SELECT pg_temp.try('alerts raised', 'SELECT grse.alert_critical_issues()');
SELECT pg_temp.try('alerts raised again', 'SELECT grse.alert_critical_issues()');
SELECT pg_temp.try('alerts', 'SELECT region_id, alert_type, severity, message, details, resolved_at IS NULL AS open FROM grse.alerts ORDER BY region_id IS NULL, message');
SELECT pg_temp.try('monitor', 'SELECT grse.run_monitor()');
SELECT pg_temp.try('snapshots', 'SELECT grse.save_all_snapshots(''hourly'')');
SELECT pg_temp.try('trend', 'SELECT period_type, avg_capacity, peak_pressure, budget_used, scaling_mode, warning_index FROM grse.get_region_health_trend(pg_temp.rid(''us-virginia''))');
SELECT pg_temp.try('api snapshot', 'SELECT grse.api_get_region_snapshot(pg_temp.rid(''us-virginia''), true) #- ''{summary,updated_at}'' #- ''{summary,mode_since}''');
SELECT pg_temp.try('invariants', 'SELECT * FROM grse.verify_invariants()');
