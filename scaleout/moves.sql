-- grse scale-out router: moving a region between nodes, and checking the
-- placement against what the nodes hold. Included by scaleout/router.sql.
--
-- A move, in one router transaction:
--   1. the region's advisory lock, exclusively: calls in flight for the region
--      finish first; new ones wait (they take the lock shared) and, once the move
--      commits, read the new placement and go to the new node;
--   2. export on the source, under the region's row locks: every row of it, with
--      a fingerprint;
--   3. import on the target: the rows as they were (identity ids renumbered in
--      order, ledger marks remapped), hidden (inactive) until the switch-over;
--   4. retire on the source: the rows must still match the fingerprint (nothing
--      wrote to the region behind the router's back), then they are deleted;
--   5. activate on the target, and the placement is switched.
-- Steps 2-5 each commit on their node. A failure before 4 removes the hidden
-- copy again (the source still holds the region); a failure after 4 leaves the
-- region on the target only, which grse_router.repair_placement() adopts.

CREATE OR REPLACE FUNCTION grse_router.move_region(region_id uuid, to_node text, wait interval DEFAULT '10 seconds')
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    src integer;
    dst integer;
    started timestamptz := clock_timestamp();
    data jsonb;
    imported jsonb;
    retired jsonb;
    m text; d text; h text; s text;
    step text;
BEGIN
    IF region_id IS NULL OR to_node IS NULL OR wait IS NULL THEN
        RAISE EXCEPTION 'region_id, to_node and wait must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT p.node_no INTO src FROM grse_router.placement p WHERE p.region_id = move_region.region_id FOR UPDATE;
    IF src IS NULL THEN
        RAISE EXCEPTION 'region % is not placed on any node', region_id USING ERRCODE = 'no_data_found';
    END IF;
    dst := grse_router.choose_node(NULL, to_node);
    IF dst = src THEN
        RAISE EXCEPTION 'region % is already on node "%"', region_id, to_node
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    -- 1. no call for the region in flight, none starting until the switch-over
    EXECUTE format('SET LOCAL lock_timeout = %L', (extract(epoch FROM wait) * 1000)::bigint || 'ms');
    BEGIN
        PERFORM pg_advisory_xact_lock(1735553893, grse_router.lock_key(region_id));
    EXCEPTION WHEN lock_not_available THEN
        RAISE EXCEPTION 'region % is in use by a transaction that did not end within %', region_id, wait
            USING ERRCODE = 'lock_not_available',
                  HINT = 'A router transaction that called a function for the region is still open; retry when it ends.';
    END;
    SET LOCAL lock_timeout = 0;
    BEGIN
        step := 'export';
        data := grse_remote.export_region(src, region_id);
        step := 'import';
        imported := grse_remote.import_region(dst, data, grse_router.node_name(src));
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT, s = RETURNED_SQLSTATE;
        PERFORM grse_router.reraise(CASE step WHEN 'export' THEN src ELSE dst END, s, m, d, h);
    END;
    BEGIN
        step := 'retire';
        retired := grse_remote.retire_region(src, region_id, data ->> 'fingerprint');
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT, s = RETURNED_SQLSTATE;
        -- the source still holds the region: remove the hidden copy
        BEGIN
            PERFORM grse_remote.drop_incoming(dst, region_id);
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'could not remove the copy of region % from node "%": %', region_id, to_node, SQLERRM
                USING HINT = 'grse_router.repair_placement() removes it when the node answers.';
        END;
        PERFORM grse_router.reraise(src, s, m, d, h);
    END;
    BEGIN
        step := 'activate';
        PERFORM grse_remote.activate_region(dst, region_id);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT, s = RETURNED_SQLSTATE;
        RAISE WARNING 'region % is on node "%" only, not yet switched over', region_id, to_node
            USING HINT = 'Run grse_router.repair_placement() when the node answers.';
        PERFORM grse_router.reraise(dst, s, m, d, h);
    END;
    UPDATE grse_router.placement p SET node_no = dst, moved_at = now() WHERE p.region_id = move_region.region_id;
    INSERT INTO grse_router.moves (region_id, from_node, to_node, started_at, rows_copied)
    VALUES (region_id, src, dst, started, imported);
    RETURN jsonb_build_object('region_id', region_id, 'from_node', grse_router.node_name(src), 'to_node', to_node,
                              'rows_copied', imported, 'rows_retired', retired,
                              'seconds', round(extract(epoch FROM clock_timestamp() - started)::numeric, 3));
END
$$;

-- What every node holds: (node_no, region_id, incoming). Fails naming a node
-- that cannot be reached.
DROP FUNCTION IF EXISTS grse_router.node_regions();
CREATE FUNCTION grse_router.node_regions() RETURNS TABLE (node_no integer, region_id uuid, slug text, incoming boolean)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    n record;
    m text; d text; h text;
BEGIN
    FOR n IN SELECT x.node_no FROM grse_router.nodes x ORDER BY x.node_no LOOP
        BEGIN
            RETURN QUERY SELECT n.node_no, r.region_id, r.slug, r.incoming FROM grse_remote.region_ids(n.node_no) r;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
            PERFORM grse_router.reraise(n.node_no, SQLSTATE, m, d, h);
        END;
    END LOOP;
END
$$;

-- Disagreements between the placement and the nodes, and between the rows
-- every node keeps the same (the policy, client_agencies, alert rules for every
-- region; updated_at and per-node ids aside), in grse.verify_invariants() form.
CREATE OR REPLACE FUNCTION grse_router.verify_placement() RETURNS TABLE (invariant text, region_id uuid, detail text)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    t record;
    prints text[];
BEGIN
    IF to_regclass('pg_temp.grse_router_held') IS NULL THEN
        CREATE TEMP TABLE grse_router_held (node_no integer, region_id uuid, slug text, incoming boolean)
        ON COMMIT DROP;
    END IF;
    DELETE FROM grse_router_held;
    INSERT INTO grse_router_held SELECT * FROM grse_router.node_regions();
    RETURN QUERY
        SELECT 'placement_matches_node', p.region_id,
               format('placed on node %s, which does not hold it', grse_router.node_name(p.node_no))
          FROM grse_router.placement p
         WHERE NOT EXISTS (SELECT 1 FROM grse_router_held x
                            WHERE x.region_id = p.region_id AND x.node_no = p.node_no AND NOT x.incoming);
    RETURN QUERY
        SELECT 'region_is_placed', x.region_id,
               format('held by node %s%s, placed %s', grse_router.node_name(x.node_no),
                      CASE WHEN x.incoming THEN ' (a copy not switched over)' ELSE '' END,
                      COALESCE('on node ' || grse_router.node_name(p.node_no), 'nowhere'))
          FROM grse_router_held x LEFT JOIN grse_router.placement p ON p.region_id = x.region_id
         WHERE p.node_no IS DISTINCT FROM x.node_no OR x.incoming;
    -- every node has the same grse (the router's functions were generated from one of them)
    SELECT array_agg(DISTINCT f.print) INTO prints
      FROM (SELECT md5(string_agg(c.signature || ' ' || c.result, ',' ORDER BY c.signature)) AS print
              FROM grse_router.nodes n, LATERAL grse_remote.catalog_functions(n.node_no) c
             GROUP BY n.node_no) f;
    IF array_length(prints, 1) > 1 THEN
        invariant := 'nodes_have_the_same_grse';
        region_id := NULL;
        detail := 'the nodes'' grse functions differ: finish upgrading every node, then run grse_router.refresh()';
        RETURN NEXT;
    END IF;
    -- rows kept the same on every node: compared without updated_at and per-node ids
    FOR t IN SELECT * FROM grse_router.tables x WHERE x.shard_column IS NULL OR x.null_rows = 'replicated'
              ORDER BY x.name LOOP
        SELECT array_agg(DISTINCT f.print) INTO prints
          FROM (SELECT md5(COALESCE(string_agg(v.j::text, ',' ORDER BY v.j::text), '')) AS print
                  FROM grse_router.nodes n
                  LEFT JOIN LATERAL (SELECT (j - 'updated_at' - ARRAY(SELECT c ->> 'name' FROM jsonb_array_elements(t.columns) c
                                                                      WHERE (c ->> 'identity')::boolean)) AS j
                                       FROM grse_remote.scan(n.node_no, t.name, 'replicated') j) v ON true
                 GROUP BY n.node_no) f;
        IF array_length(prints, 1) > 1 THEN
            invariant := 'replicated_rows_same_on_nodes';
            region_id := NULL;
            detail := format('the rows of grse.%s kept on every node differ between nodes', t.name);
            RETURN NEXT;
        END IF;
    END LOOP;
END
$$;

-- Makes the placement follow what the nodes hold after an interrupted move: a
-- region held by one node is placed there (and switched over if it was a copy);
-- a copy not switched over while the source still holds the region is removed.
-- Returns what it changed.
CREATE OR REPLACE FUNCTION grse_router.repair_placement() RETURNS TABLE (region_id uuid, action text)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    r record;
BEGIN
    IF to_regclass('pg_temp.grse_router_held') IS NULL THEN
        CREATE TEMP TABLE grse_router_held (node_no integer, region_id uuid, slug text, incoming boolean)
        ON COMMIT DROP;
    END IF;
    DELETE FROM grse_router_held;
    INSERT INTO grse_router_held SELECT * FROM grse_router.node_regions();
    FOR r IN SELECT x.region_id, min(x.slug) AS slug, array_agg(x.node_no ORDER BY x.incoming, x.node_no) AS nodes,
                    array_agg(x.incoming ORDER BY x.incoming, x.node_no) AS incoming
               FROM grse_router_held x GROUP BY x.region_id LOOP
        IF array_length(r.nodes, 1) > 1 AND NOT r.incoming[1] THEN
            -- a complete region and copies of it: the copies go
            FOR i IN 2 .. array_length(r.nodes, 1) LOOP
                IF r.incoming[i] THEN
                    PERFORM grse_remote.drop_incoming(r.nodes[i], r.region_id);
                    region_id := r.region_id;
                    action := format('removed the copy on node %s', grse_router.node_name(r.nodes[i]));
                    RETURN NEXT;
                END IF;
            END LOOP;
        ELSIF array_length(r.nodes, 1) = 1 AND r.incoming[1] THEN
            PERFORM grse_remote.activate_region(r.nodes[1], r.region_id);
            region_id := r.region_id;
            action := format('switched over the copy on node %s', grse_router.node_name(r.nodes[1]));
            RETURN NEXT;
        END IF;
        IF array_length(r.nodes, 1) = 1 OR NOT r.incoming[1] THEN
            INSERT INTO grse_router.placement AS p (region_id, node_no, slug)
            VALUES (r.region_id, r.nodes[1], r.slug)
            ON CONFLICT ON CONSTRAINT placement_pkey DO UPDATE SET node_no = EXCLUDED.node_no, moved_at = now()
            WHERE p.node_no <> EXCLUDED.node_no;
            IF FOUND THEN
                region_id := r.region_id;
                action := format('placed on node %s', grse_router.node_name(r.nodes[1]));
                RETURN NEXT;
            END IF;
        END IF;
    END LOOP;
    RETURN QUERY
        WITH gone AS (
            DELETE FROM grse_router.placement p
             WHERE NOT EXISTS (SELECT 1 FROM grse_router_held x WHERE x.region_id = p.region_id)
            RETURNING p.region_id)
        SELECT gone.region_id, 'placement removed: no node holds the region'::text FROM gone;
END
$$;
