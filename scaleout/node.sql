-- grse scale-out: what every region node needs besides the grse extension.
--
--   psql -d NODE_DB -c 'CREATE EXTENSION grse' -f scaleout/node.sql
--
-- Schema grse_node holds the helpers the router calls through PL/Proxy: the
-- catalog the router generates its proxies from, generic row writes for the
-- router's table views, the facts the router merges all-region answers from,
-- and the steps of moving a region between nodes (export, import, retire,
-- activate). Nothing here changes what grse itself does; the helpers call grse's
-- functions or read its tables. Idempotent: run it again after upgrading grse.
--
-- Writes through these helpers run as the calling role (SECURITY INVOKER), so
-- grse's grants, guards and row-level security apply exactly as to a direct
-- call. Moving a region (import/retire/activate) copies grse's append-only
-- records verbatim, which only the owner of the grse tables (the superuser that
-- ran CREATE EXTENSION) may do: see docs/scaleout.md.

\set ON_ERROR_STOP 1

CREATE SCHEMA IF NOT EXISTS grse_node;
COMMENT ON SCHEMA grse_node IS 'grse scale-out: node-side helpers called by the router (scaleout/node.sql)';

-- Regions being moved onto this node: copied, not yet switched over. They are
-- kept inactive (hidden from grse's all-region functions) and left out of the
-- router's table scans until grse_node.activate_region().
CREATE TABLE IF NOT EXISTS grse_node.incoming (
    region_id   uuid PRIMARY KEY,
    active      boolean NOT NULL,
    source_node text NOT NULL,
    copied_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE grse_node.incoming IS
    'Regions copied onto this node by a move that has not switched over yet (hidden, inactive).';

-- ---------------------------------------------------------------------------
-- Catalog: what the router generates its proxies, types and views from.
-- ---------------------------------------------------------------------------

-- Every function of schema grse with what a proxy of the same signature needs.
-- Types are printed schema-qualified (search_path = pg_catalog).
CREATE OR REPLACE FUNCTION grse_node.catalog_functions()
RETURNS TABLE (name text, signature text, arguments text, result text, retset boolean,
               volatility "char", in_names text[], in_types text[], out_names text[], out_types text[],
               result_kind text, comment text)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT p.proname::text,
           p.oid::regprocedure::text,
           pg_get_function_arguments(p.oid),
           pg_get_function_result(p.oid),
           p.proretset,
           p.provolatile,
           COALESCE((SELECT array_agg(COALESCE(NULLIF(a.n, ''), 'arg' || a.i) ORDER BY a.i)
                       FROM unnest(COALESCE(p.proargnames, array_fill(''::text, ARRAY[p.pronargs])),
                                   COALESCE(p.proargmodes, array_fill('i'::"char", ARRAY[p.pronargs])))
                            WITH ORDINALITY AS a(n, m, i)
                      WHERE a.m IN ('i', 'b', 'v')), '{}'),
           COALESCE((SELECT array_agg(format_type(t.t, NULL) ORDER BY t.i)
                       FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS t(t, i)), '{}'),
           -- result columns: OUT/TABLE parameters, or the attributes of a composite result
           COALESCE((SELECT array_agg(a.n ORDER BY a.i)
                       FROM unnest(p.proargnames, p.proargmodes) WITH ORDINALITY AS a(n, m, i)
                      WHERE a.m IN ('o', 'b', 't')),
                    (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
                      WHERE a.attrelid = t.typrelid AND t.typtype = 'c' AND a.attnum > 0 AND NOT a.attisdropped),
                    '{}'),
           COALESCE((SELECT array_agg(format_type(a.t, NULL) ORDER BY a.i)
                       FROM unnest(p.proallargtypes::oid[], p.proargmodes) WITH ORDINALITY AS a(t, m, i)
                      WHERE a.m IN ('o', 'b', 't')),
                    (SELECT array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum) FROM pg_attribute a
                      WHERE a.attrelid = t.typrelid AND t.typtype = 'c' AND a.attnum > 0 AND NOT a.attisdropped),
                    '{}'),
           CASE WHEN p.proretset THEN 'set'
                WHEN p.proargmodes IS NOT NULL AND p.proargmodes && ARRAY['o', 'b']::"char"[] THEN 'out'
                WHEN t.typtype = 'c' THEN 'composite'
                ELSE 'scalar' END,
           obj_description(p.oid, 'pg_proc')
      FROM pg_proc p
      JOIN pg_namespace n ON n.oid = p.pronamespace
      JOIN pg_type t ON t.oid = p.prorettype
     WHERE n.nspname = 'grse' AND p.prokind = 'f' AND p.prorettype <> 'trigger'::regtype
     ORDER BY 1, 2
$$;

-- Stand-alone types of schema grse (composite, enum, domain) as DDL.
CREATE OR REPLACE FUNCTION grse_node.catalog_types()
RETURNS TABLE (name text, ddl text)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT t.typname::text,
           CASE t.typtype
               WHEN 'c' THEN format('CREATE TYPE grse.%I AS (%s)', t.typname,
                   (SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', '
                                      ORDER BY a.attnum)
                      FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped))
               WHEN 'e' THEN format('CREATE TYPE grse.%I AS ENUM (%s)', t.typname,
                   (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                      FROM pg_enum e WHERE e.enumtypid = t.oid))
               ELSE format('CREATE DOMAIN grse.%I AS %s%s', t.typname, format_type(t.typbasetype, t.typtypmod),
                   COALESCE((SELECT string_agg(' ' || pg_get_constraintdef(c.oid), '' ORDER BY c.conname)
                               FROM pg_constraint c WHERE c.contypid = t.oid), ''))
           END
      FROM pg_type t
      JOIN pg_namespace n ON n.oid = t.typnamespace
      LEFT JOIN pg_class c ON c.oid = t.typrelid
     WHERE n.nspname = 'grse'
       AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND c.relkind = 'c'))
     ORDER BY t.oid
$$;

-- Which column of a grse table names the region a row belongs to (NULL: a
-- reference table, kept the same on every node).
CREATE OR REPLACE FUNCTION grse_node.shard_column(table_name text) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE WHEN table_name = 'regions' THEN 'id'
                WHEN EXISTS (SELECT 1 FROM pg_attribute a
                              WHERE a.attrelid = format('grse.%I', table_name)::regclass
                                AND a.attname = 'region_id' AND NOT a.attisdropped) THEN 'region_id'
           END
$$;

-- The columns of a table's primary key ('p'), or of one unique constraint ('u', by oid).
CREATE OR REPLACE FUNCTION grse_node.key_of(rel oid, kind "char", con oid DEFAULT NULL) RETURNS text[]
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT array_agg(a.attname::text ORDER BY k.i)
      FROM pg_constraint x, unnest(x.conkey) WITH ORDINALITY AS k(attnum, i)
      JOIN pg_attribute a ON a.attrelid = rel AND a.attnum = k.attnum
     WHERE x.conrelid = rel AND x.contype = kind AND (con IS NULL OR x.oid = con)
$$;

-- How a row kept the same on every node is found on each: its primary key, or a
-- unique key without identity columns when the primary key is one (ids differ per node).
CREATE OR REPLACE FUNCTION grse_node.replica_key(rel oid) RETURNS text[]
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT COALESCE((SELECT grse_node.key_of(rel, 'p')
                      WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = rel
                                           AND a.attname = ANY (grse_node.key_of(rel, 'p')) AND a.attidentity <> '')),
                    (SELECT grse_node.key_of(rel, 'u', u.oid) FROM pg_constraint u
                      WHERE u.conrelid = rel AND u.contype = 'u'
                        AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = rel
                                           AND a.attnum = ANY (u.conkey) AND a.attidentity <> '')
                      ORDER BY u.conname LIMIT 1),
                    grse_node.key_of(rel, 'p'))
$$;

-- What a table's rows without a region are, for a table whose region column may
-- be NULL: 'replicated' (the same rows on every node: alert rules for every
-- region) or 'local' (this node's own: its node-wide alerts, which the router
-- replaces by alerts judged over every node).
CREATE OR REPLACE FUNCTION grse_node.null_rows(table_name text) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT CASE WHEN table_name = 'alerts' THEN 'local' ELSE 'replicated' END
      FROM pg_attribute a
     WHERE a.attrelid = format('grse.%I', table_name)::regclass
       AND a.attname = grse_node.shard_column(table_name) AND NOT a.attnotnull AND NOT a.attisdropped
$$;

-- The tables of schema grse: columns, primary key and how rows belong to a region.
--   shard_column: the column naming the row's region ('id' for grse.regions), or NULL
--   for a reference table (the same rows on every node, e.g. the policy);
--   null_rows: see null_rows() (NULL when every row has a region);
--   replica_key: how a row kept the same on every node is found on each (its primary
--   key, or a unique key without identity columns when the key is one: ids differ per node).
DROP FUNCTION IF EXISTS grse_node.catalog_tables();
CREATE FUNCTION grse_node.catalog_tables()
RETURNS TABLE (name text, columns jsonb, key_columns text[], shard_column text, null_rows text, replica_key text[])
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT c.relname::text,
           (SELECT jsonb_agg(jsonb_build_object(
                       'name', a.attname,
                       'type', format_type(a.atttypid, a.atttypmod),
                       'identity', a.attidentity <> '' OR a.attgenerated <> '',
                       'default', pg_get_expr(d.adbin, d.adrelid)) ORDER BY a.attnum)
              FROM pg_attribute a
              LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
           grse_node.key_of(c.oid, 'p'),
           grse_node.shard_column(c.relname::text),
           grse_node.null_rows(c.relname::text),
           grse_node.replica_key(c.oid)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'grse' AND c.relkind IN ('r', 'p')
     ORDER BY c.relname
$$;

-- The regions stored on this node (switched over: incoming copies excluded).
DROP FUNCTION IF EXISTS grse_node.region_ids();
CREATE FUNCTION grse_node.region_ids() RETURNS TABLE (region_id uuid, slug text, incoming boolean)
LANGUAGE sql STABLE
AS $$
    SELECT r.id, r.slug, EXISTS (SELECT 1 FROM grse_node.incoming i WHERE i.region_id = r.id)
      FROM grse.regions r ORDER BY r.id
$$;

-- ---------------------------------------------------------------------------
-- Rows for the router's table views, and writes through them.
-- ---------------------------------------------------------------------------

-- Rows of a grse table as jsonb, leaving out the rows of regions still being
-- copied onto this node. part 'region': the rows that belong to a region;
-- 'replicated': the rows kept the same on every node (every row of a reference
-- table, the rows without a region of a table whose null_rows are replicated).
DROP FUNCTION IF EXISTS grse_node.scan(text);
CREATE OR REPLACE FUNCTION grse_node.scan(table_name text, part text DEFAULT 'region') RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    shard text := grse_node.shard_column(table_name);
BEGIN
    IF part NOT IN ('region', 'replicated') THEN
        RAISE EXCEPTION 'unknown part "%"', part USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF shard IS NULL THEN
        IF part = 'replicated' THEN
            RETURN QUERY EXECUTE format('SELECT to_jsonb(t) FROM grse.%I t', table_name);
        END IF;
    ELSIF part = 'region' THEN
        RETURN QUERY EXECUTE format(
            'SELECT to_jsonb(t) FROM grse.%1$I t
              WHERE t.%2$I IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM grse_node.incoming i WHERE i.region_id = t.%2$I)', table_name, shard);
    ELSIF grse_node.null_rows(table_name) = 'replicated' THEN
        RETURN QUERY EXECUTE format('SELECT to_jsonb(t) FROM grse.%I t WHERE t.%I IS NULL', table_name, shard);
    END IF;
END
$$;

-- The column list and a SELECT of those columns from jsonb_populate_record.
CREATE OR REPLACE FUNCTION grse_node.columns_of(table_name text, data jsonb, OUT cols text, OUT vals text)
LANGUAGE sql STABLE
AS $$
    SELECT string_agg(format('%I', k), ', ' ORDER BY k), string_agg(format('r.%I', k), ', ' ORDER BY k)
      FROM jsonb_object_keys(data) AS k
$$;

-- INSERT of one row given as jsonb (the columns present); returns the stored row.
CREATE OR REPLACE FUNCTION grse_node.insert_row(table_name text, data jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    c record := grse_node.columns_of(table_name, data);
    result jsonb;
BEGIN
    EXECUTE format('INSERT INTO grse.%1$I AS t (%2$s) SELECT %3$s FROM jsonb_populate_record(NULL::grse.%1$I, $1) r
                    RETURNING to_jsonb(t)', table_name, c.cols, c.vals)
       INTO result USING data;
    RETURN result;
END
$$;

-- WHERE clause matching a row by its key (given as a jsonb object).
CREATE OR REPLACE FUNCTION grse_node.key_match(table_name text, key jsonb) RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT string_agg(format('t.%1$I IS NOT DISTINCT FROM k.%1$I', col), ' AND ' ORDER BY col)
      FROM jsonb_object_keys(key) AS col
$$;

-- UPDATE of the row with this key, setting the given columns; returns the new row or NULL.
CREATE OR REPLACE FUNCTION grse_node.update_row(table_name text, key jsonb, changes jsonb) RETURNS SETOF jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    c record := grse_node.columns_of(table_name, changes);
BEGIN
    RETURN QUERY EXECUTE format(
        'UPDATE grse.%1$I AS t SET (%2$s) = (SELECT %3$s FROM jsonb_populate_record(NULL::grse.%1$I, $2) r)
           FROM jsonb_populate_record(NULL::grse.%1$I, $1) k
          WHERE %4$s
         RETURNING to_jsonb(t)', table_name, c.cols, c.vals, grse_node.key_match(table_name, key))
        USING key, changes;
END
$$;

-- The row with this key set to the given columns, inserted if there is none
-- (a new node taking the rows every node keeps); returns the stored row.
CREATE OR REPLACE FUNCTION grse_node.upsert_row(table_name text, key jsonb, data jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    result jsonb;
BEGIN
    SELECT r INTO result FROM grse_node.update_row(table_name, key, data - ARRAY(SELECT jsonb_object_keys(key))) r LIMIT 1;
    IF result IS NULL THEN
        result := grse_node.insert_row(table_name, data || key);
    END IF;
    RETURN result;
END
$$;

-- DELETE of the row with this key; returns the deleted row or nothing.
CREATE OR REPLACE FUNCTION grse_node.delete_row(table_name text, key jsonb) RETURNS SETOF jsonb
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'DELETE FROM grse.%1$I AS t USING jsonb_populate_record(NULL::grse.%1$I, $1) k WHERE %2$s
         RETURNING to_jsonb(t)', table_name, grse_node.key_match(table_name, key))
        USING key;
END
$$;

-- ---------------------------------------------------------------------------
-- Facts the router merges all-region answers from.
-- ---------------------------------------------------------------------------

-- Regions of this node that may take a job of this type elsewhere (active,
-- normal or cautious), with what the best-region rule compares: the pressure of
-- the job type and the live capacity (budget slots counted), and coordinates.
-- The job type and location are checked as grse checks them (through get_best_region_for_job).
DROP FUNCTION IF EXISTS grse_node.route_candidates(text);
CREATE OR REPLACE FUNCTION grse_node.route_candidates(job_type text, near_latitude double precision DEFAULT NULL,
                                                     near_longitude double precision DEFAULT NULL)
RETURNS TABLE (region_id uuid, capacity numeric, type_pressure numeric, latitude double precision,
               longitude double precision)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    PERFORM grse.get_best_region_for_job(route_candidates.job_type, NULL, near_latitude, near_longitude);
    -- the candidates grse's best-region choice reads (src/router.rs, candidates_at):
    -- active regions whose stored mode is normal or cautious, with their live capacity
    RETURN QUERY
        SELECT s.region_id,
               CASE WHEN s.slot_allotment > 0 OR now() >= s.month_ends_at
                    THEN grse.compute_region_capacity(s.region_id) ELSE s.capacity_score END,
               CASE route_candidates.job_type
                   WHEN 'posting' THEN s.posting_pressure
                   WHEN 'orchestration' THEN s.orchestration_pressure
                   WHEN 'creative' THEN s.creative_pressure
                   ELSE s.intel_pressure END,
               r.latitude, r.longitude
          FROM grse.region_scaling_state s JOIN grse.regions r ON r.id = s.region_id
         WHERE r.active AND s.scaling_mode IN ('normal', 'cautious');
END
$$;

-- The active licenses of an agency in active regions of this node, with the
-- keys grse orders them by (primary first, then oldest, then region id), and
-- whether the agency holds any license here at all.
CREATE OR REPLACE FUNCTION grse_node.agency_licenses(agency_id uuid)
RETURNS TABLE (region_id uuid, is_primary boolean, created_at timestamptz, known boolean)
LANGUAGE sql STABLE
AS $$
    SELECT l.region_id, l.is_primary, l.created_at, true
      FROM grse.agency_regions l JOIN grse.regions r ON r.id = l.region_id
     WHERE l.agency_id = agency_licenses.agency_id AND l.status = 'active' AND r.active
    UNION ALL
    SELECT NULL, NULL, NULL, EXISTS (SELECT 1 FROM grse.agency_regions l WHERE l.agency_id = agency_licenses.agency_id)
$$;

-- What resolve_region_from_headers answers on this node, with the license keys
-- of that answer when it came through the x-agency-id header (so the router can
-- pick among the nodes' answers as grse picks among licenses).
CREATE OR REPLACE FUNCTION grse_node.header_candidate(headers jsonb)
RETURNS TABLE (region_id uuid, is_primary boolean, created_at timestamptz)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    answer uuid := grse.resolve_region_from_headers(headers);
    agency uuid;
BEGIN
    IF answer IS NULL THEN
        RETURN;
    END IF;
    BEGIN
        SELECT btrim(CASE jsonb_typeof(e.value) WHEN 'array' THEN e.value ->> 0 ELSE e.value #>> '{}' END)::uuid
          INTO agency
          FROM jsonb_each(headers) e WHERE lower(e.key) = 'x-agency-id' LIMIT 1;
    EXCEPTION WHEN invalid_text_representation THEN
        agency := NULL;
    END;
    RETURN QUERY
        SELECT answer, l.is_primary, l.created_at
          FROM (SELECT NULL) one
          LEFT JOIN grse.agency_regions l
                 ON l.agency_id = agency AND l.region_id = answer AND l.status = 'active';
END
$$;

-- alert_critical_issues() for this node's regions: its return value without the
-- node-wide risk alert (region NULL), which only the router can judge.
CREATE OR REPLACE FUNCTION grse_node.alert_region_issues() RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    before bigint := (SELECT COALESCE(max(a.id), 0) FROM grse.alerts a);
    raised integer := grse.alert_critical_issues();
BEGIN
    RETURN raised - (SELECT count(*) FROM grse.alerts a WHERE a.id > before AND a.region_id IS NULL)::integer;
END
$$;

-- run_monitor() of this node, its alert count likewise without the node-wide risk alert.
CREATE OR REPLACE FUNCTION grse_node.run_region_monitor() RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    before bigint := (SELECT COALESCE(max(a.id), 0) FROM grse.alerts a);
    result jsonb := grse.run_monitor();
BEGIN
    RETURN result || jsonb_build_object('alerts_raised', (result ->> 'alerts_raised')::integer
        - (SELECT count(*) FROM grse.alerts a WHERE a.id > before AND a.region_id IS NULL)::integer);
END
$$;

-- Which region a hold or a job of this node belongs to (NULL if not here).
CREATE OR REPLACE FUNCTION grse_node.locate(kind text, id uuid) RETURNS uuid
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    result uuid;
BEGIN
    IF kind NOT IN ('hold', 'job') THEN
        RAISE EXCEPTION 'unknown id kind "%"', kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF to_regclass(CASE kind WHEN 'hold' THEN 'grse.budget_holds' ELSE 'grse.jobs' END) IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT region_id FROM grse.%I WHERE id = $1', CASE kind WHEN 'hold' THEN 'budget_holds' ELSE 'jobs' END)
       INTO result USING id;
    RETURN result;
END
$$;

-- ---------------------------------------------------------------------------
-- Moving a region: export (source) → import (target) → retire (source) → activate (target).
-- ---------------------------------------------------------------------------

-- grse tables holding a region's rows, parents before children (foreign keys).
CREATE OR REPLACE FUNCTION grse_node.region_tables()
RETURNS TABLE (name text, shard_column text, key_columns text[], identity_column text, depth integer)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    WITH RECURSIVE t AS (
        SELECT c.oid, c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'grse' AND c.relkind IN ('r', 'p') AND grse_node.shard_column(c.relname::text) IS NOT NULL),
    d (oid, depth) AS (
        SELECT t.oid, 0 FROM t
        UNION ALL
        SELECT f.conrelid, d.depth + 1
          FROM d JOIN pg_constraint f ON f.confrelid = d.oid AND f.contype = 'f' AND f.conrelid <> d.oid
         WHERE d.depth < 16)
    SELECT t.name, grse_node.shard_column(t.name),
           (SELECT array_agg(a.attname::text ORDER BY k.i)
              FROM pg_constraint pk, unnest(pk.conkey) WITH ORDINALITY AS k(attnum, i)
              JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
             WHERE pk.conrelid = t.oid AND pk.contype = 'p'),
           (SELECT a.attname::text FROM pg_attribute a
             WHERE a.attrelid = t.oid AND a.attidentity <> '' AND NOT a.attisdropped),
           (SELECT max(d.depth) FROM d WHERE d.oid = t.oid)
      FROM t
     ORDER BY 5, 1
$$;

-- Foreign keys from grse tables to grse.regions other than the column a row's
-- region is in (grse.jobs.requested_region_id: a job admitted by fallback names
-- the region it was meant for); regions.parent_region_id is not among them (a
-- region with a parent or children does not move).
CREATE OR REPLACE FUNCTION grse_node.region_references() RETURNS TABLE (table_name text, column_name text)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT c.relname::text, a.attname::text
      FROM pg_constraint f
      JOIN pg_class c ON c.oid = f.conrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = f.conkey[1]
     WHERE f.contype = 'f' AND f.confrelid = 'grse.regions'::regclass AND n.nspname = 'grse'
       AND array_length(f.conkey, 1) = 1 AND c.relname <> 'regions'
       AND a.attname::text IS DISTINCT FROM grse_node.shard_column(c.relname::text)
     ORDER BY 1, 2
$$;

-- Foreign keys from the rows of a region to an identity column (the per-node ids
-- of grse.alert_rules, from grse.alert_rule_pending): a move maps them to the
-- target's ids, by the ids it hands out for the region's own rows, or by the
-- replica key of a row kept on every node.
CREATE OR REPLACE FUNCTION grse_node.identity_references()
RETURNS TABLE (table_name text, column_name text, target_table text, target_column text)
LANGUAGE sql STABLE
SET search_path = pg_catalog
AS $$
    SELECT c.relname::text, a.attname::text, t.relname::text, ta.attname::text
      FROM pg_constraint f
      JOIN pg_class c ON c.oid = f.conrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_class t ON t.oid = f.confrelid
      JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = f.conkey[1]
      JOIN pg_attribute ta ON ta.attrelid = f.confrelid AND ta.attnum = f.confkey[1]
     WHERE f.contype = 'f' AND n.nspname = 'grse' AND array_length(f.conkey, 1) = 1 AND ta.attidentity <> ''
       AND grse_node.shard_column(c.relname::text) IS NOT NULL
     ORDER BY 1, 2
$$;

-- Columns holding ids of another table's identity column without a foreign key
-- (the state row's ledger marks): remapped when a move renumbers those ids.
-- kind 'mark': "the last id before a period": the new mark is the largest new id
-- whose old id was at or below the old mark.
CREATE OR REPLACE FUNCTION grse_node.id_references()
RETURNS TABLE (table_name text, column_name text, target_table text, kind text)
LANGUAGE sql IMMUTABLE
AS $$
    VALUES ('region_scaling_state', 'day_ledger_mark', 'region_budget_transactions', 'mark'),
           ('region_scaling_state', 'month_ledger_mark', 'region_budget_transactions', 'mark')
$$;

-- Every row of one region, table by table (rows in key order), as jsonb.
CREATE OR REPLACE FUNCTION grse_node.region_rows(region_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    t record;
    rows jsonb;
    result jsonb := '{}';
BEGIN
    FOR t IN SELECT * FROM grse_node.region_tables() LOOP
        EXECUTE format('SELECT COALESCE(jsonb_agg(to_jsonb(x) ORDER BY %s), ''[]'') FROM grse.%I x WHERE x.%I = $1',
                       (SELECT string_agg(format('x.%I', k), ', ') FROM unnest(t.key_columns) k),
                       t.name, t.shard_column)
           INTO rows USING region_id;
        result := result || jsonb_build_object(t.name, rows);
    END LOOP;
    RETURN result;
END
$$;

-- Locks what writers of one region take, so that no write of it is in flight
-- while it is read for a move: the region row (FOR UPDATE conflicts with the
-- key-share lock every insert referencing it takes), its state row and every
-- other row of it that grse updates in place.
CREATE OR REPLACE FUNCTION grse_node.lock_region(region_id uuid) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    t record;
BEGIN
    PERFORM 1 FROM grse.regions r WHERE r.id = lock_region.region_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'region % not found', region_id USING ERRCODE = 'no_data_found';
    END IF;
    FOR t IN SELECT * FROM grse_node.region_tables() WHERE name <> 'regions' AND identity_column IS NULL LOOP
        EXECUTE format('SELECT 1 FROM grse.%I x WHERE x.%I = $1 FOR UPDATE', t.name, t.shard_column) USING region_id;
    END LOOP;
END
$$;

-- Step 1 (source): the region's rows, read under the locks of lock_region, with
-- a fingerprint of them. Refuses a region with a parent or children (they must
-- live on one node: the foreign key) and a region that is itself still incoming.
CREATE OR REPLACE FUNCTION grse_node.export_region(region_id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    rows jsonb;
    ref record;
    keys jsonb;
    refs jsonb := '{}';
BEGIN
    PERFORM grse_node.lock_region(region_id);
    IF EXISTS (SELECT 1 FROM grse_node.incoming i WHERE i.region_id = export_region.region_id) THEN
        RAISE EXCEPTION 'region % is still being moved onto this node', region_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF EXISTS (SELECT 1 FROM grse.regions r
                WHERE (r.id = export_region.region_id AND r.parent_region_id IS NOT NULL)
                   OR r.parent_region_id = export_region.region_id) THEN
        RAISE EXCEPTION 'region % has a parent or child region', region_id
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'A region and its parent and child regions live on one node (grse.regions.parent_region_id is a foreign key).',
                  HINT = 'Clear parent_region_id first, or keep the family on its node.';
    END IF;
    rows := grse_node.region_rows(region_id);
    -- the replica keys of the rows kept on every node that the region's rows refer to by id
    FOR ref IN SELECT * FROM grse_node.identity_references() LOOP
        EXECUTE format('SELECT COALESCE(jsonb_object_agg(x.%2$I::text, (SELECT jsonb_object_agg(k, to_jsonb(x) -> k)
                                                                         FROM unnest($2) k)), ''{}'')
                          FROM grse.%1$I x
                         WHERE x.%2$I IN (SELECT (e ->> %3$L)::bigint FROM jsonb_array_elements($1) e)',
                       ref.target_table, ref.target_column, ref.column_name)
           INTO keys USING rows -> ref.table_name, grse_node.replica_key(format('grse.%I', ref.target_table)::regclass);
        refs := jsonb_set(refs, ARRAY[ref.target_table], COALESCE(refs -> ref.target_table, '{}') || keys);
    END LOOP;
    RETURN jsonb_build_object('region_id', region_id, 'rows', rows, 'refs', refs, 'fingerprint', md5(rows::text));
END
$$;

-- Runs a statement on grse tables with their user triggers off, inside the
-- caller's transaction: the triggers are switched back to exactly their
-- previous state before the transaction ends, so no other session ever sees
-- them off (ALTER TABLE ... DISABLE TRIGGER is transactional and the table lock
-- it takes holds every other writer of these tables back until commit).
CREATE OR REPLACE FUNCTION grse_node.set_user_triggers(tables text[], enabled boolean) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.relname, g.tgname, g.tgenabled
          FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'grse' AND c.relname = ANY (tables) AND NOT g.tgisinternal
         ORDER BY c.relname, g.tgname
    LOOP
        IF NOT enabled THEN
            -- remembered for the switch back, in this transaction only
            INSERT INTO pg_temp.grse_node_triggers VALUES (t.relname, t.tgname, t.tgenabled);
            EXECUTE format('ALTER TABLE grse.%I DISABLE TRIGGER %I', t.relname, t.tgname);
        END IF;
    END LOOP;
    IF enabled THEN
        FOR t IN SELECT * FROM pg_temp.grse_node_triggers LOOP
            EXECUTE format('ALTER TABLE grse.%I ENABLE %s TRIGGER %I', t.relname,
                           CASE t.tgenabled WHEN 'A' THEN 'ALWAYS' WHEN 'R' THEN 'REPLICA' ELSE '' END, t.tgname);
        END LOOP;
        DELETE FROM pg_temp.grse_node_triggers;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION grse_node.begin_raw_writes(tables text[]) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF to_regclass('pg_temp.grse_node_triggers') IS NULL THEN
        CREATE TEMP TABLE grse_node_triggers (relname name, tgname name, tgenabled "char") ON COMMIT DROP;
    END IF;
    -- take every table lock first, in one order, before touching rows
    EXECUTE (SELECT format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE',
                           string_agg(format('grse.%I', t), ', ' ORDER BY t)) FROM unnest(tables) t);
    PERFORM grse_node.set_user_triggers(tables, false);
END
$$;

CREATE OR REPLACE FUNCTION grse_node.end_raw_writes(tables text[]) RETURNS void
LANGUAGE sql VOLATILE
AS $$ SELECT grse_node.set_user_triggers(tables, true) $$;

-- The id on this node of a row an imported row refers to: moved: its new id
-- (moved_ids: old -> new); kept on every node: the row with the same replica key
-- (keys: old id -> key values).
CREATE OR REPLACE FUNCTION grse_node.map_id(target_table text, target_column text, old bigint, moved_ids jsonb,
                                           keys jsonb) RETURNS bigint
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    k jsonb := keys -> old::text;
    result bigint;
BEGIN
    IF old IS NULL THEN
        RETURN NULL;
    ELSIF moved_ids ? old::text THEN
        RETURN (moved_ids ->> old::text)::bigint;
    ELSIF k IS NOT NULL THEN
        EXECUTE format('SELECT x.%I FROM grse.%I x WHERE %s', target_column, target_table,
                       (SELECT string_agg(format('x.%1$I IS NOT DISTINCT FROM (jsonb_populate_record(NULL::grse.%2$I, $1)).%1$I',
                                                 c, target_table), ' AND ')
                          FROM jsonb_object_keys(k) c))
           INTO result USING k;
    END IF;
    IF result IS NULL THEN
        RAISE EXCEPTION 'grse.% row % that the region''s rows refer to has no counterpart on this node', target_table, old
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'Rows kept on every node (alert rules for every region) differ between the nodes; see grse.verify_invariants() on the router.';
    END IF;
    RETURN result;
END
$$;

-- Step 2 (target): stores the exported rows as they were, hidden (inactive,
-- listed in grse_node.incoming) until activate_region. Identity ids (ledger,
-- transitions, roll-overs, alerts) are renumbered from this node's sequences in
-- their original order, so each region's ledger keeps its order and chain, and
-- the ids that point into them (the ledger marks) are remapped.
CREATE OR REPLACE FUNCTION grse_node.import_region(data jsonb, source_node text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    rid uuid := (data ->> 'region_id')::uuid;
    rows jsonb := data -> 'rows';
    tables text[] := ARRAY(SELECT name FROM grse_node.region_tables());
    t record;
    ref record;
    map jsonb;
    trows jsonb;
    c record;
    counts jsonb := '{}';
    parent uuid;
    cleared bigint;
    maps jsonb := '{}';
BEGIN
    IF rid IS NULL OR rows IS NULL OR jsonb_typeof(rows -> 'regions') <> 'array'
       OR jsonb_array_length(rows -> 'regions') <> 1 THEN
        RAISE EXCEPTION 'not a region export' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT 1 FROM grse.regions r WHERE r.id = rid) THEN
        RAISE EXCEPTION 'region % is already on this node', rid USING ERRCODE = 'unique_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM grse.regions r WHERE r.slug = rows -> 'regions' -> 0 ->> 'slug') THEN
        RAISE EXCEPTION 'a region with slug "%" is already on this node', rows -> 'regions' -> 0 ->> 'slug'
            USING ERRCODE = 'unique_violation';
    END IF;
    parent := (rows -> 'regions' -> 0 ->> 'parent_region_id')::uuid;
    IF parent IS NOT NULL THEN
        RAISE EXCEPTION 'region % has a parent region', rid USING ERRCODE = 'feature_not_supported';
    END IF;
    PERFORM grse_node.begin_raw_writes(tables);
    INSERT INTO grse_node.incoming (region_id, active, source_node)
    VALUES (rid, (rows -> 'regions' -> 0 ->> 'active')::boolean, source_node);
    -- hidden until the switch-over
    rows := jsonb_set(rows, '{regions,0,active}', 'false');
    FOR t IN SELECT * FROM grse_node.region_tables() LOOP
        trows := COALESCE(rows -> t.name, '[]');
        IF t.identity_column IS NOT NULL AND jsonb_array_length(trows) > 0 THEN
            -- new ids from this node's sequence, handed out in the old ids' order
            EXECUTE format(
                'WITH old AS (SELECT (e ->> %1$L)::bigint AS id, row_number() OVER (ORDER BY (e ->> %1$L)::bigint) AS n
                                FROM jsonb_array_elements($1) e),
                      new AS (SELECT v AS id, row_number() OVER (ORDER BY v) AS n
                                FROM (SELECT nextval(pg_get_serial_sequence(%2$L, %1$L)) AS v
                                        FROM generate_series(1, jsonb_array_length($1))) s)
                 SELECT jsonb_object_agg(old.id::text, new.id) FROM old JOIN new USING (n)',
                t.identity_column, format('grse.%I', t.name))
               INTO map USING trows;
            SELECT jsonb_agg(e || jsonb_build_object(t.identity_column, map -> (e ->> t.identity_column)))
              INTO trows FROM jsonb_array_elements(trows) e;
            rows := jsonb_set(rows, ARRAY[t.name], trows);
            maps := maps || jsonb_build_object(t.name, map);
            -- remap what points at the renumbered ids
            FOR ref IN SELECT * FROM grse_node.id_references() r WHERE r.target_table = t.name LOOP
                SELECT jsonb_agg(e || jsonb_build_object(ref.column_name, COALESCE(
                           (SELECT max(m.value::bigint) FROM jsonb_each_text(map) m
                             WHERE m.key::bigint <= (e ->> ref.column_name)::bigint), 0)))
                  INTO trows FROM jsonb_array_elements(rows -> ref.table_name) e;
                rows := jsonb_set(rows, ARRAY[ref.table_name], COALESCE(trows, '[]'));
            END LOOP;
        END IF;
    END LOOP;
    -- ids of other tables' identity columns: the region's own rows by their new ids,
    -- rows kept on every node by their replica key
    FOR ref IN SELECT * FROM grse_node.identity_references() LOOP
        SELECT jsonb_agg(e || jsonb_build_object(ref.column_name, grse_node.map_id(
                   ref.target_table, ref.target_column, (e ->> ref.column_name)::bigint,
                   maps -> ref.target_table, data -> 'refs' -> ref.target_table)))
          INTO trows FROM jsonb_array_elements(COALESCE(rows -> ref.table_name, '[]')) e;
        rows := jsonb_set(rows, ARRAY[ref.table_name], COALESCE(trows, '[]'));
    END LOOP;
    -- references to other regions that are not on this node cannot be kept (foreign keys)
    FOR ref IN SELECT * FROM grse_node.region_references() LOOP
        SELECT jsonb_agg(CASE WHEN e ->> ref.column_name IS NOT NULL AND (e ->> ref.column_name)::uuid <> rid
                                   AND NOT EXISTS (SELECT 1 FROM grse.regions r WHERE r.id = (e ->> ref.column_name)::uuid)
                              THEN e || jsonb_build_object(ref.column_name, NULL) ELSE e END),
               count(*) FILTER (WHERE e ->> ref.column_name IS NOT NULL AND (e ->> ref.column_name)::uuid <> rid
                                  AND NOT EXISTS (SELECT 1 FROM grse.regions r WHERE r.id = (e ->> ref.column_name)::uuid))
          INTO trows, cleared
          FROM jsonb_array_elements(COALESCE(rows -> ref.table_name, '[]')) e;
        IF cleared > 0 THEN
            rows := jsonb_set(rows, ARRAY[ref.table_name], trows);
            counts := counts || jsonb_build_object(format('%s.%s cleared', ref.table_name, ref.column_name), cleared);
        END IF;
    END LOOP;
    FOR t IN SELECT * FROM grse_node.region_tables() LOOP
        trows := COALESCE(rows -> t.name, '[]');
        CONTINUE WHEN jsonb_array_length(trows) = 0;
        c := grse_node.columns_of(t.name, trows -> 0);
        EXECUTE format('INSERT INTO grse.%1$I (%2$s) OVERRIDING SYSTEM VALUE
                        SELECT %3$s FROM jsonb_populate_recordset(NULL::grse.%1$I, $1) r',
                       t.name, c.cols, c.vals) USING trows;
        counts := counts || jsonb_build_object(t.name, jsonb_array_length(trows));
    END LOOP;
    PERFORM grse_node.end_raw_writes(tables);
    RETURN counts;
END
$$;

-- Step 3 (source): checks that the region's rows are still exactly what was
-- exported (nothing was written to it meanwhile) and deletes them, all under the
-- region's locks. Raises 40001 when they changed (the move is undone and may be retried).
CREATE OR REPLACE FUNCTION grse_node.retire_region(region_id uuid, fingerprint text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    tables text[] := ARRAY(SELECT name FROM grse_node.region_tables());
    t record;
    n bigint;
    counts jsonb := '{}';
BEGIN
    -- table locks first (as every raw write takes them), then the region's rows
    PERFORM grse_node.begin_raw_writes(tables);
    PERFORM grse_node.lock_region(region_id);
    IF md5(grse_node.region_rows(region_id)::text) IS DISTINCT FROM fingerprint THEN
        RAISE EXCEPTION 'region % changed on its node while it was being copied', region_id
            USING ERRCODE = 'serialization_failure',
                  HINT = 'Something wrote to the region on its node without going through the router; retry the move.';
    END IF;
    -- rows of other regions here that name the region (a job admitted by fallback
    -- names the region it was meant for) cannot keep naming it (foreign keys)
    FOR t IN SELECT r.table_name AS name, r.column_name FROM grse_node.region_references() r LOOP
        EXECUTE format('UPDATE grse.%1$I x SET %2$I = NULL WHERE x.%2$I = $1 AND x.%3$I <> $1',
                       t.name, t.column_name, grse_node.shard_column(t.name)) USING region_id;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            counts := counts || jsonb_build_object(format('%s.%s cleared', t.name, t.column_name), n);
        END IF;
    END LOOP;
    FOR t IN SELECT * FROM grse_node.region_tables() ORDER BY depth DESC, name DESC LOOP
        EXECUTE format('DELETE FROM grse.%I x WHERE x.%I = $1', t.name, t.shard_column) USING region_id;
        GET DIAGNOSTICS n = ROW_COUNT;
        counts := counts || jsonb_build_object(t.name, n);
    END LOOP;
    PERFORM grse_node.end_raw_writes(tables);
    RETURN counts;
END
$$;

-- Step 4 (target): the switch-over: the copy takes the region's own active flag
-- again and becomes visible.
CREATE OR REPLACE FUNCTION grse_node.activate_region(region_id uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    was boolean;
BEGIN
    DELETE FROM grse_node.incoming i WHERE i.region_id = activate_region.region_id RETURNING i.active INTO was;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM grse_node.begin_raw_writes(ARRAY['regions']);
    UPDATE grse.regions r SET active = was WHERE r.id = activate_region.region_id;
    PERFORM grse_node.end_raw_writes(ARRAY['regions']);
    RETURN true;
END
$$;

-- Undoes step 2 (a move that failed before its switch-over): deletes the hidden copy.
CREATE OR REPLACE FUNCTION grse_node.drop_incoming(region_id uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    tables text[] := ARRAY(SELECT name FROM grse_node.region_tables());
    t record;
BEGIN
    PERFORM 1 FROM grse_node.incoming i WHERE i.region_id = drop_incoming.region_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM grse_node.begin_raw_writes(tables);
    FOR t IN SELECT * FROM grse_node.region_tables() ORDER BY depth DESC, name DESC LOOP
        EXECUTE format('DELETE FROM grse.%I x WHERE x.%I = $1', t.name, t.shard_column) USING region_id;
    END LOOP;
    PERFORM grse_node.end_raw_writes(tables);
    DELETE FROM grse_node.incoming i WHERE i.region_id = drop_incoming.region_id;
    RETURN true;
END
$$;

-- Privileges: the helpers run as the calling role (the router passes each session's
-- own role), so grse's grants decide what they may read and write; moving a region
-- is for the owner of the grse tables only.
GRANT USAGE ON SCHEMA grse_node TO PUBLIC;
GRANT SELECT ON grse_node.incoming TO PUBLIC;
REVOKE EXECUTE ON FUNCTION grse_node.export_region(uuid), grse_node.import_region(jsonb, text),
    grse_node.retire_region(uuid, text), grse_node.activate_region(uuid), grse_node.drop_incoming(uuid),
    grse_node.begin_raw_writes(text[]), grse_node.end_raw_writes(text[]), grse_node.set_user_triggers(text[], boolean),
    grse_node.lock_region(uuid)
    FROM PUBLIC;
