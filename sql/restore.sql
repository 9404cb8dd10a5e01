-- Restoring a dump of a database with grse (the form TimescaleDB uses):
--
--   createdb new
--   psql -d new -c 'CREATE EXTENSION grse' -c 'SELECT grse.pre_restore()'
--   pg_restore -d new dump              (any format, --jobs too; or psql -f plain.sql)
--   psql -d new -c 'SELECT grse.post_restore()'
--
-- pg_dump writes every row of grse's tables and the positions of their identity
-- sequences (pg_extension_config_dump, sql/schema.sql), but restoring them runs into
-- grse's guards (the ledger, the state rows, the slots and the policy row are written by
-- grse only) and its triggers (a restored region would get a fresh state row and opening
-- allocation). In restore mode (the setting grse.restoring, for the database) the rows
-- of a superuser's session are taken exactly as they were dumped, and grse's writing
-- functions refuse to run; a restore that skips pre_restore() fails on the first guarded
-- table, with a hint naming these steps. Sessions opened during restore mode keep it
-- (and session_replication_role = replica) until they reconnect.

-- Puts the database in restore mode; superuser only, and only while grse holds no data.
-- It then drops the (empty) extension and its schema: pg_restore creates both from the dump,
-- in restore mode, and loads the rows.
CREATE FUNCTION grse.pre_restore() RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    t regclass;
    has_rows boolean;
BEGIN
    IF NOT COALESCE((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = session_user), false) THEN
        RAISE EXCEPTION 'only a superuser can put grse in restore mode' USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- every table pg_dump writes rows of, but the policy (one row, always there)
    FOR t IN SELECT c.oid::regclass
               FROM pg_catalog.pg_extension e, LATERAL pg_catalog.unnest(e.extconfig) AS x(oid)
               JOIN pg_catalog.pg_class c ON c.oid = x.oid
              WHERE e.extname = 'grse' AND c.relkind = 'r' AND c.oid <> 'grse.policy'::regclass
              ORDER BY c.relname LOOP
        EXECUTE pg_catalog.format('SELECT EXISTS (SELECT 1 FROM %s)', t) INTO has_rows;
        IF has_rows THEN
            RAISE EXCEPTION 'grse already holds data in database %: table % is not empty', pg_catalog.current_database(), t
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Restore into a new database: createdb, CREATE EXTENSION grse, SELECT grse.pre_restore(), pg_restore, SELECT grse.post_restore().';
        END IF;
    END LOOP;
    -- restore mode for every session of the database (pg_restore --jobs opens several);
    -- session_replication_role = replica skips the foreign key checks (parallel pg_restore
    -- does not load extension tables in foreign key order: post_restore() checks them) and
    -- the ordinary triggers, which would compute or create rows
    EXECUTE pg_catalog.format('ALTER DATABASE %I SET grse.restoring = on', pg_catalog.current_database());
    EXECUTE pg_catalog.format('ALTER DATABASE %I SET session_replication_role = replica', pg_catalog.current_database());
    PERFORM pg_catalog.set_config('grse.restoring', 'on', false);
    PERFORM pg_catalog.set_config('session_replication_role', 'replica', false);
    -- The dump creates the schema grse and the extension itself (CREATE SCHEMA grse has no
    -- IF NOT EXISTS): make way for them, so that the restore runs without an error.
    DROP EXTENSION grse;
    DROP SCHEMA grse;
    RETURN true;
END
$$;
COMMENT ON FUNCTION grse.pre_restore() IS
    'Puts the database in restore mode before pg_restore (superuser only, grse still empty) and drops the empty extension and its schema, which the dump creates again: restored rows are taken as they were dumped. End it with grse.post_restore().';

-- Ends restore mode after pg_restore: moves the identity sequences past every restored
-- id, then checks the foreign keys of grse's tables and every invariant
-- (grse.verify_invariants); any violation is an error and the database stays in restore mode.
CREATE FUNCTION grse.post_restore() RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    c record;
    top bigint;
    broken bigint;
    detail text;
BEGIN
    IF NOT COALESCE((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = session_user), false) THEN
        RAISE EXCEPTION 'only a superuser can end grse''s restore mode' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF COALESCE(pg_catalog.current_setting('grse.restoring', true), 'off') <> 'on' THEN
        RAISE EXCEPTION 'grse is not in restore mode in database %', pg_catalog.current_database()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'SELECT grse.pre_restore() was not run before pg_restore (or this session was opened before it): grse''s guards refused the ledger, state and policy rows of the dump.',
                  HINT = 'Drop the database and restore again: createdb, CREATE EXTENSION grse, SELECT grse.pre_restore(), pg_restore, SELECT grse.post_restore().';
    END IF;
    -- ids continue after the restored ones, whether or not the dump carried the sequences
    FOR c IN SELECT a.attrelid::regclass AS tbl, a.attname,
                    pg_catalog.pg_get_serial_sequence(a.attrelid::regclass::text, a.attname)::regclass AS seq
               FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class k ON k.oid = a.attrelid
              WHERE k.relnamespace = 'grse'::regnamespace AND k.relkind = 'r'
                AND a.attidentity <> '' AND NOT a.attisdropped
              ORDER BY k.relname LOOP
        EXECUTE pg_catalog.format('SELECT max(%I) FROM %s', c.attname, c.tbl) INTO top;
        IF top > COALESCE(pg_catalog.pg_sequence_last_value(c.seq), 0) THEN
            PERFORM pg_catalog.setval(c.seq, top, true);
        END IF;
    END LOOP;
    -- the foreign keys, which the restore did not check
    FOR c IN SELECT k.conname, k.conrelid::regclass AS child, k.confrelid::regclass AS parent,
                    (SELECT pg_catalog.string_agg(pg_catalog.format('c.%I = p.%I', ca.attname, pa.attname), ' AND ')
                       FROM unnest(k.conkey, k.confkey) AS u(ck, pk)  -- (multi-argument unnest is syntax: no schema)
                       JOIN pg_catalog.pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = u.ck
                       JOIN pg_catalog.pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = u.pk) AS joined,
                    (SELECT pg_catalog.string_agg(pg_catalog.format('c.%I IS NOT NULL', ca.attname), ' AND ')
                       FROM pg_catalog.unnest(k.conkey) AS u(ck)
                       JOIN pg_catalog.pg_attribute ca ON ca.attrelid = k.conrelid AND ca.attnum = u.ck) AS present
               FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class r ON r.oid = k.conrelid
              WHERE k.contype = 'f' AND r.relnamespace = 'grse'::regnamespace
              ORDER BY k.conname LOOP
        EXECUTE pg_catalog.format('SELECT count(*) FROM %s c WHERE %s AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s)',
                                  c.child, c.present, c.parent, c.joined) INTO broken;
        IF broken > 0 THEN
            RAISE EXCEPTION 'the restored grse data breaks foreign key % of %: % rows refer to missing rows of %',
                            c.conname, c.child, broken, c.parent
                USING ERRCODE = 'foreign_key_violation',
                      HINT = 'grse stays in restore mode. Restore the dump again into a new database; was every grse table in it?';
        END IF;
    END LOOP;
    SELECT count(*), pg_catalog.string_agg(pg_catalog.format('%s (region %s): %s', v.invariant, v.region_id, v.detail),
                                           E'\n' ORDER BY v.invariant, v.region_id) FILTER (WHERE v.n <= 20)
      INTO broken, detail
      FROM (SELECT i.*, row_number() OVER (ORDER BY i.invariant, i.region_id) AS n FROM grse.verify_invariants() i) v;
    IF broken > 0 THEN
        RAISE EXCEPTION 'the restored grse data breaks % invariant checks', broken
            USING ERRCODE = 'integrity_constraint_violation',
                  DETAIL = detail,
                  HINT = 'grse stays in restore mode. Check the dump (was it taken from a consistent grse database, with every grse table?) and restore it again into a new database.';
    END IF;
    EXECUTE pg_catalog.format('ALTER DATABASE %I RESET grse.restoring', pg_catalog.current_database());
    EXECUTE pg_catalog.format('ALTER DATABASE %I RESET session_replication_role', pg_catalog.current_database());
    PERFORM pg_catalog.set_config('grse.restoring', 'off', false);
    PERFORM pg_catalog.set_config('session_replication_role', 'origin', false);
    RETURN true;
END
$$;
COMMENT ON FUNCTION grse.post_restore() IS
    'Ends restore mode after pg_restore (superuser only): moves the identity sequences past the restored ids and checks the foreign keys and every invariant (grse.verify_invariants); fails, staying in restore mode, if any is broken.';
