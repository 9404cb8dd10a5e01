-- grse scale-out router: generation of schema grse from a node's catalog.
-- Included by scaleout/router.sql.
--
-- For every function of the nodes' schema grse, refresh() creates up to three
-- functions on the router, so that the caller sees exactly the node's signature
-- (names, types, defaults) and the node's answers and errors:
--   grse.<f>         LANGUAGE sql, the node's signature: calls grse_call.<f>
--   grse_call.<f>    LANGUAGE plpgsql: picks the node, calls grse_remote.<f> (or a
--                    merge), re-raises a node's error as the node raised it and
--                    names a node that cannot be reached
--   grse_remote.<f>  LANGUAGE plproxy: runs grse.<f> on node _node (RUN ON), or on
--                    every node (<f>__all, RUN ON ALL)
-- Signatures come from the catalog, so they never drift from the nodes; how a
-- function is routed comes from grse_router.function_rule(). A merged function
-- (scaleout/merge.sql) is grse_router.merge_<f> with the node's argument types;
-- for a function returning rows it returns them as jsonb objects, which the
-- generated caller turns into the node's columns. A merge whose arguments no
-- longer match the node's is reported by refresh() instead of being exposed.

-- Routing of the functions the default rule does not cover. The default: a
-- function whose first argument is region_id runs on that region's node; hold_id /
-- job_id: on the node of that hold's / job's region.
INSERT INTO grse_router.function_rules (name, kind, key_arg, note) VALUES
    -- every node, then merged (scaleout/merge.sql)
    ('get_all_regions_health', 'merge', NULL, 'all regions: merged in warning order'),
    ('list_region_health', 'merge', NULL, 'all regions: merged in name order'),
    ('get_regions_by_metric', 'merge', NULL, 'all regions: merged in metric order'),
    ('detect_cross_region_conflicts', 'merge', NULL, 'all regions: merged in region order'),
    ('compute_global_risk', 'merge', NULL, 'all regions: the risk of every region together'),
    ('alert_critical_issues', 'merge', NULL, 'region alerts on every node, the global risk alert on the router'),
    ('run_monitor', 'merge', NULL, 'every node''s monitor, then the global risk alert'),
    ('get_best_region_for_job', 'merge', NULL, 'the best region of every node''s candidates'),
    ('api_regions_health', 'merge', NULL, 'all regions: merged in the requested order'),
    ('verify_invariants', 'merge', NULL, 'every node''s violations and the placement''s'),
    ('resolve_region_for_agency', 'merge', NULL, 'licenses live on their regions'' nodes'),
    ('resolve_region_for_client', 'merge', NULL, 'licenses live on their regions'' nodes'),
    ('resolve_region_from_headers', 'merge', NULL, 'licenses live on their regions'' nodes'),
    ('admit_job', 'merge', NULL, 'the requested region''s node, then the best region anywhere'),
    ('route_job', 'merge', NULL, 'the region''s node, then the best region anywhere'),
    ('route_posting_job', 'merge', NULL, 'the region''s node, then the best region anywhere'),
    ('route_orchestration_job', 'merge', NULL, 'the region''s node, then the best region anywhere'),
    ('route_creative_job', 'merge', NULL, 'the region''s node, then the best region anywhere'),
    ('route_performance_job', 'merge', NULL, 'the region''s node, then the best region anywhere'),
    ('migrate_jobs', 'merge', NULL, 'within the source region''s node'),
    -- every node, summed or listed
    ('reset_daily_budget_spend', 'sum', NULL, 'every node: regions reset'),
    ('reset_monthly_budgets', 'sum', NULL, 'every node: regions reset'),
    ('save_all_snapshots', 'sum', NULL, 'every node: snapshots saved'),
    ('prune_history', 'sum', NULL, 'every node: rows pruned'),
    ('unschedule_default_jobs', 'sum', NULL, 'every node''s pg_cron'),
    ('schedule_default_jobs', 'union', NULL, 'every node''s pg_cron'),
    ('roll_over_budget_periods', 'region_or_sum', 'region_id', 'one region, or every node'),
    ('expire_budget_holds', 'region_or_sum', 'region_id', 'one region, or every node'),
    ('expire_jobs', 'region_or_sum', 'region_id', 'one region, or every node'),
    -- pure helpers: any node answers
    ('budget_percent_remaining', 'any', NULL, 'pure'),
    ('api_global_risk_json', 'any', NULL, 'pure'),
    ('is_valid_timezone', 'any', NULL, 'pure'),
    ('period_bounds', 'any', NULL, 'pure'),
    ('default_jobs', 'any', NULL, 'the same list on every node'),
    -- not exposed through the router
    ('with_slots', 'skip', NULL, 'internal: takes a state row'),
    ('api_region_health_json', 'skip', NULL, 'internal: takes table rows'),
    ('empty_budget_slots_internal', 'skip', NULL, 'internal'),
    ('route_region_job', 'skip', NULL, 'internal wrapper of route_job (node-local fallback)'),
    ('require_pg_cron', 'skip', NULL, 'internal'),
    ('tenant_agency_id', 'skip', NULL, 'reads the session''s request.jwt.claims, which PL/Proxy does not pass on'),
    ('tenant_regions', 'skip', NULL, 'reads the session''s request.jwt.claims, which PL/Proxy does not pass on'),
    ('pre_restore', 'skip', NULL, 'node maintenance: run on each node'),
    ('post_restore', 'skip', NULL, 'node maintenance: run on each node')
ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, key_arg = EXCLUDED.key_arg, note = EXCLUDED.note;

CREATE OR REPLACE FUNCTION grse_router.function_rule(name text, in_names text[], OUT kind text, OUT key_arg text)
LANGUAGE sql STABLE
AS $$
    SELECT COALESCE(r.kind, d.kind), COALESCE(r.key_arg, d.key_arg)
      FROM (SELECT CASE in_names[1] WHEN 'region_id' THEN 'region' WHEN 'hold_id' THEN 'hold'
                                    WHEN 'job_id' THEN 'job' END AS kind,
                   in_names[1] AS key_arg) d
      LEFT JOIN grse_router.function_rules r ON r.name = function_rule.name
$$;

-- 'a1 uuid, a2 numeric' / 'a1, a2' / 'x.a1' ...
CREATE OR REPLACE FUNCTION grse_router.arg_list(types text[], with_types boolean) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT COALESCE(string_agg('a' || i || CASE WHEN with_types THEN ' ' || t ELSE '' END, ', ' ORDER BY i), '')
      FROM unnest(types) WITH ORDINALITY AS x(t, i)
$$;

CREATE OR REPLACE FUNCTION grse_router.table_decl(names text[], types text[]) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT 'TABLE(' || string_agg(format('%I %s', n, t), ', ' ORDER BY i) || ')'
      FROM unnest(names, types) WITH ORDINALITY AS x(n, t, i)
$$;

-- DDL of everything the router exposes for one node function, in creation order:
-- rows (object, drop statement, create statement).
CREATE OR REPLACE FUNCTION grse_router.function_ddl(f record, kind text, key_arg text)
RETURNS TABLE (object text, drop_ddl text, ddl text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    n integer := coalesce(array_length(f.in_types, 1), 0);
    args text := grse_router.arg_list(f.in_types, true);
    call_args text := grse_router.arg_list(f.in_types, false);
    remote_args text := '_node integer' || CASE WHEN n > 0 THEN ', ' || args ELSE '' END;
    remote_call_args text := '_n' || CASE WHEN n > 0 THEN ', ' || call_args ELSE '' END;
    tabular boolean := coalesce(array_length(f.out_names, 1), 0) > 0;
    rdecl text := CASE WHEN tabular THEN grse_router.table_decl(f.out_names, f.out_types) ELSE f.result END;
    sel text := CASE WHEN tabular OR f.retset THEN '* FROM ' ELSE '' END;
    ident text := array_to_string(f.in_types, ', ');
    key_pos integer := array_position(f.in_names, key_arg);
    node_expr text;
    body text;
    ret text := CASE WHEN tabular OR f.retset THEN 'RETURN;' ELSE 'RETURN NULL;' END;
    vol text := CASE f.volatility WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END;
    remember text := '';
    merge_name text := 'merge_' || f.name;
    dollar_args text := COALESCE((SELECT string_agg('$' || i, ', ' ORDER BY i) FROM generate_series(1, n) i), '');
BEGIN
    IF kind IN ('region', 'hold', 'job', 'region_or_sum') AND key_pos IS NULL THEN
        RAISE EXCEPTION 'function grse.% has no argument %', f.name, key_arg USING ERRCODE = 'undefined_parameter';
    END IF;
    -- remote halves
    IF kind IN ('region', 'hold', 'job', 'any', 'region_or_sum', 'merge') THEN
        object := format('function grse_remote.%I(integer%s)', f.name, CASE WHEN n > 0 THEN ', ' || ident ELSE '' END);
        drop_ddl := 'DROP ' || object;
        ddl := format(E'CREATE FUNCTION grse_remote.%I(%s) RETURNS %s LANGUAGE plproxy AS $p$\n'
                      '    CLUSTER ''grse''; RUN ON _node; SELECT %sgrse.%I(%s)%s;\n$p$',
                      f.name, remote_args, CASE WHEN tabular THEN rdecl ELSE f.result END,
                      sel, f.name, call_args, CASE WHEN sel = '' THEN ' AS v' ELSE '' END);
        RETURN NEXT;
    END IF;
    IF kind IN ('sum', 'region_or_sum', 'union', 'merge') THEN
        object := format('function grse_remote.%I(%s)', f.name || '__all', ident);
        drop_ddl := 'DROP ' || object;
        ddl := format(E'CREATE FUNCTION grse_remote.%I(%s) RETURNS %s LANGUAGE plproxy AS $p$\n'
                      '    CLUSTER ''grse''; RUN ON ALL; SELECT %sgrse.%I(%s)%s;\n$p$',
                      f.name || '__all', args,
                      CASE WHEN tabular THEN rdecl WHEN f.retset THEN f.result ELSE 'SETOF ' || f.result END,
                      sel, f.name, call_args, CASE WHEN sel = '' THEN ' AS v' ELSE '' END);
        RETURN NEXT;
    END IF;
    -- the caller
    node_expr := CASE kind
        WHEN 'region' THEN format('grse_router.region_node(a%s)', key_pos)
        WHEN 'region_or_sum' THEN format('grse_router.region_node(a%s)', key_pos)
        WHEN 'hold' THEN format('grse_router.hold_node(a%s)', key_pos)
        WHEN 'job' THEN format('grse_router.job_node(a%s)', key_pos)
        WHEN 'any' THEN 'grse_router.any_node()'
        ELSE 'NULL' END;
    IF tabular AND kind IN ('region', 'hold', 'job') THEN
        -- ids the call creates are recorded with their region
        IF 'hold_id' = ANY (f.out_names) THEN
            remember := remember || format(' AND grse_router.remember(''hold'', x.hold_id, %s)',
                                           CASE WHEN 'region_id' = ANY (f.out_names) THEN 'x.region_id'
                                                WHEN kind = 'region' THEN 'a' || key_pos ELSE 'NULL' END);
        END IF;
        IF 'job_id' = ANY (f.out_names) THEN
            remember := remember || format(' AND grse_router.remember(''job'', x.job_id, %s)',
                                           CASE WHEN 'region_id' = ANY (f.out_names) THEN 'x.region_id'
                                                WHEN kind = 'region' THEN 'a' || key_pos ELSE 'NULL' END);
        END IF;
        IF remember <> '' THEN
            remember := ' WHERE true' || remember;
        END IF;
    END IF;
    body := CASE
        WHEN kind = 'merge' AND tabular THEN
            -- a merge of a tabular function returns its rows as jsonb objects: the
            -- columns are the node's (new columns pass through the merge untouched)
            format('RETURN QUERY SELECT x.* FROM grse_router.%I(%s) j, jsonb_to_record(j) AS x(%s);',
                   merge_name, call_args,
                   (SELECT string_agg(format('%I %s', o.n, o.t), ', ' ORDER BY o.i)
                      FROM unnest(f.out_names, f.out_types) WITH ORDINALITY AS o(n, t, i)))
        WHEN kind = 'merge' AND f.retset THEN
            format('RETURN QUERY SELECT * FROM grse_router.%I(%s);', merge_name, call_args)
        WHEN kind = 'merge' THEN
            format('RETURN grse_router.%I(%s);', merge_name, call_args)
        WHEN kind = 'sum' THEN
            format('RETURN (SELECT sum(v)::%s FROM grse_remote.%I(%s) v);', f.result, f.name || '__all', call_args)
        WHEN kind = 'region_or_sum' THEN
            format(E'IF a%s IS NULL THEN\n        RETURN (SELECT sum(v)::%s FROM grse_remote.%I(%s) v);\n    END IF;\n'
                   '    _n := %s;\n    RETURN grse_remote.%I(%s);',
                   key_pos, f.result, f.name || '__all', call_args, node_expr, f.name, remote_call_args)
        WHEN kind = 'union' THEN
            format('RETURN QUERY SELECT * FROM grse_remote.%I(%s);', f.name || '__all', call_args)
        WHEN tabular OR f.retset THEN
            format(E'_n := %s;\n    RETURN QUERY SELECT x.* FROM grse_remote.%I(%s) x%s;',
                   node_expr, f.name, remote_call_args, remember)
        ELSE
            format(E'_n := %s;\n    RETURN grse_remote.%I(%s);', node_expr, f.name, remote_call_args)
        END;
    object := format('function grse_call.%I(%s)', f.name, ident);
    drop_ddl := 'DROP ' || object;
    ddl := format(E'CREATE FUNCTION grse_call.%I(%s) RETURNS %s LANGUAGE plpgsql VOLATILE AS $c$\n'
                  '#variable_conflict use_column\n'
                  'DECLARE\n    _n integer;\n    _m text;\n    _d text;\n    _h text;\n'
                  'BEGIN\n    %s\n'
                  'EXCEPTION WHEN OTHERS THEN\n'
                  '    GET STACKED DIAGNOSTICS _m = MESSAGE_TEXT, _d = PG_EXCEPTION_DETAIL, _h = PG_EXCEPTION_HINT;\n'
                  '    PERFORM grse_router.reraise(_n, SQLSTATE, _m, _d, _h);\n    %s\nEND\n$c$',
                  f.name, args, rdecl, body, ret);
    RETURN NEXT;
    -- the node's signature
    object := format('function grse.%I(%s)', f.name, ident);
    drop_ddl := 'DROP ' || object;
    ddl := format(E'CREATE FUNCTION grse.%I(%s) RETURNS %s LANGUAGE sql %s AS $o$\n    SELECT %sgrse_call.%I(%s)\n$o$',
                  f.name, f.arguments, f.result, vol, sel, f.name, dollar_args);
    IF f.comment IS NOT NULL THEN
        ddl := ddl || format(E';\nCOMMENT ON FUNCTION grse.%I(%s) IS %L', f.name, ident, f.comment);
    END IF;
    RETURN NEXT;
END
$$;

-- DDL of a table's row type and view (with the node's portable defaults and
-- the forwarding trigger).
CREATE OR REPLACE FUNCTION grse_router.table_ddl(t record) RETURNS TABLE (object text, drop_ddl text, ddl text)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    cols text := (SELECT string_agg(format('%I %s', c ->> 'name', c ->> 'type'), ', ' ORDER BY i)
                    FROM jsonb_array_elements(t.columns) WITH ORDINALITY AS x(c, i));
    defaults text := COALESCE((
        SELECT string_agg(format(E';\nALTER VIEW grse.%I ALTER COLUMN %I SET DEFAULT %s', t.name, c ->> 'name', c ->> 'default'), '')
          FROM jsonb_array_elements(t.columns) c
         WHERE c ->> 'default' IS NOT NULL AND NOT (c ->> 'identity')::boolean
           AND c ->> 'default' !~ '(grse\.|nextval\()'), '');
    extra text := '';
BEGIN
    object := format('type grse_rows.%I', t.name);
    drop_ddl := 'DROP ' || object;
    ddl := format('CREATE TYPE grse_rows.%I AS (%s)', t.name, cols);
    RETURN NEXT;
    IF t.name = 'alerts' THEN
        -- the nodes' region alerts and the router's global ones
        extra := format(E'\n    UNION ALL SELECT %s FROM grse_router.global_alerts g',
            (SELECT string_agg(CASE WHEN a.attname IS NOT NULL THEN format('g.%I', c ->> 'name')
                                    ELSE format('NULL::%s', c ->> 'type') END, ', ' ORDER BY i)
               FROM jsonb_array_elements(t.columns) WITH ORDINALITY AS x(c, i)
               LEFT JOIN pg_attribute a ON a.attrelid = 'grse_router.global_alerts'::regclass
                                       AND a.attname = c ->> 'name' AND NOT a.attisdropped AND a.attnum > 0));
    END IF;
    object := format('view grse.%I', t.name);
    drop_ddl := 'DROP ' || object;
    ddl := format(E'CREATE VIEW grse.%1$I AS\n    SELECT r.* FROM grse_call.scan(%2$L) s(j),\n'
                  '                    LATERAL jsonb_populate_record(NULL::grse_rows.%1$I, s.j) r%3$s%4$s;\n'
                  'CREATE TRIGGER forward INSTEAD OF INSERT OR UPDATE OR DELETE ON grse.%1$I\n'
                  '    FOR EACH ROW EXECUTE FUNCTION grse_router.forward_write();\n'
                  -- the nodes decide who may read and write (each row is forwarded as the caller)
                  'GRANT SELECT, INSERT, UPDATE, DELETE ON grse.%1$I TO PUBLIC',
                  t.name, t.name, extra, defaults);
    RETURN NEXT;
END
$$;

-- (Re)generates schema grse from a node's catalog: types, table views and a
-- function of the same signature for every node function (see function_rule).
-- Objects whose definition did not change are kept; changed ones are replaced
-- (an object of yours that depends on one makes the refresh fail: drop it first).
-- Returns what it did and every node function it did not expose (also kept in
-- grse_router.unrouted).
CREATE OR REPLACE FUNCTION grse_router.refresh(from_node text DEFAULT NULL)
RETURNS TABLE (object text, action text)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    src integer := CASE WHEN from_node IS NULL THEN grse_router.any_node() ELSE grse_router.choose_node(NULL, from_node) END;
    f record;
    t record;
    r record;
    g record;
    ord integer := 0;
    m text; d text; h text;
BEGIN
    IF to_regclass('pg_temp.grse_router_new') IS NULL THEN
        CREATE TEMP TABLE grse_router_new (object text PRIMARY KEY, kind text, drop_ddl text, ddl text, ord integer)
        ON COMMIT DROP;
    END IF;
    DELETE FROM grse_router_new;
    DELETE FROM grse_router.unrouted;
    BEGIN
        FOR t IN SELECT * FROM grse_remote.catalog_types(src) LOOP
            ord := ord + 1;
            INSERT INTO grse_router_new VALUES (format('type grse.%I', t.name), 'type',
                                                format('DROP TYPE grse.%I', t.name), t.ddl, ord);
        END LOOP;
        DELETE FROM grse_router.tables;
        FOR t IN SELECT * FROM grse_remote.catalog_tables(src) LOOP
            INSERT INTO grse_router.tables VALUES (t.name, t.key_columns, t.shard_column, t.null_rows, t.replica_key,
                                                   t.columns);
            FOR r IN SELECT * FROM grse_router.table_ddl(t) LOOP
                ord := ord + 1;
                INSERT INTO grse_router_new VALUES (r.object, 'table', r.drop_ddl, r.ddl, ord);
            END LOOP;
        END LOOP;
        DELETE FROM grse_router.node_functions;
        FOR f IN SELECT * FROM grse_remote.catalog_functions(src) LOOP
            SELECT * INTO r FROM grse_router.function_rule(f.name, f.in_names);
            INSERT INTO grse_router.node_functions VALUES (f.signature, f.name, f.in_names, f.in_types, f.out_names,
                                                           f.out_types, r.kind);
            IF r.kind IS NULL THEN
                INSERT INTO grse_router.unrouted VALUES (f.signature, 'no routing rule (add one to grse_router.function_rules)');
                CONTINUE;
            ELSIF r.kind = 'skip' THEN
                CONTINUE;
            ELSIF r.kind = 'merge' AND to_regprocedure(format('grse_router.%I(%s)', 'merge_' || f.name,
                                                              array_to_string(f.in_types, ','))) IS NULL THEN
                INSERT INTO grse_router.unrouted VALUES (f.signature,
                    format('no merge grse_router.merge_%s(%s) for this signature', f.name, array_to_string(f.in_types, ', ')));
                CONTINUE;
            END IF;
            FOR g IN SELECT * FROM grse_router.function_ddl(f, r.kind, r.key_arg) LOOP
                ord := ord + 1;
                INSERT INTO grse_router_new VALUES (g.object, 'function', g.drop_ddl, g.ddl, ord)
                ON CONFLICT ON CONSTRAINT grse_router_new_pkey DO NOTHING;
            END LOOP;
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
        PERFORM grse_router.reraise(src, SQLSTATE, m, d, h);
    END;
    -- drop what is gone or changed, dependents first; a changed type or table changes
    -- what is built on it (views, functions), so then every function and view goes too
    FOR g IN WITH changed AS (
                 SELECT o.* FROM grse_router.generated o LEFT JOIN grse_router_new x ON x.object = o.object
                  WHERE x.object IS NULL OR x.ddl IS DISTINCT FROM o.ddl)
             SELECT o.* FROM grse_router.generated o
              WHERE o.object IN (SELECT c.object FROM changed c)
                 OR (o.kind IN ('function', 'table') AND o.object NOT LIKE 'type %'
                     AND EXISTS (SELECT 1 FROM changed c WHERE c.kind IN ('type', 'table')))
              ORDER BY o.ord DESC LOOP
        EXECUTE g.drop_ddl;
        DELETE FROM grse_router.generated o WHERE o.object = g.object;
        object := g.object;
        action := 'dropped';
        RETURN NEXT;
    END LOOP;
    -- create what is new or changed
    FOR g IN SELECT x.* FROM grse_router_new x LEFT JOIN grse_router.generated o ON o.object = x.object
              WHERE o.object IS NULL ORDER BY x.ord LOOP
        EXECUTE g.ddl;
        INSERT INTO grse_router.generated (object, kind, drop_ddl, ddl, ord) VALUES (g.object, g.kind, g.drop_ddl, g.ddl, g.ord);
        object := g.object;
        action := 'created';
        RETURN NEXT;
    END LOOP;
    UPDATE grse_router.generated o SET ord = x.ord FROM grse_router_new x WHERE x.object = o.object;
    FOR g IN SELECT * FROM grse_router.unrouted LOOP
        object := 'function ' || g.signature;
        action := 'not exposed: ' || g.reason;
        RETURN NEXT;
    END LOOP;
END
$$;
