-- Everything about extension grse that a user could tell apart, one line per
-- fact, sorted: two databases with the same output have the same grse.
-- (Used by tests/upgrade/run.sh to compare an upgraded database with a fresh one.)
WITH objs AS (
    SELECT d.classid, d.objid FROM pg_depend d
     WHERE d.refclassid = 'pg_extension'::regclass
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'grse') AND d.deptype = 'e'
), rels AS (
    SELECT c.oid, c.relname, c.relkind FROM pg_class c WHERE c.relnamespace = 'grse'::regnamespace
), procs AS (
    SELECT p.* FROM pg_proc p WHERE p.pronamespace = 'grse'::regnamespace
)
SELECT line FROM (
    SELECT 'extension ' || e.extversion || ' config ' ||
           (SELECT string_agg(c::regclass::text, ',' ORDER BY c::regclass::text) FROM unnest(e.extconfig) c) AS line
      FROM pg_extension e WHERE e.extname = 'grse'
    UNION ALL
    SELECT 'member ' || pg_describe_object(o.classid, o.objid, 0) FROM objs o
    UNION ALL
    SELECT format('relation %s kind %s options %s rls %s acl %s comment %s', r.relname, r.relkind, c.reloptions,
                  c.relrowsecurity, c.relacl, obj_description(r.oid, 'pg_class'))
      FROM rels r JOIN pg_class c ON c.oid = r.oid
    UNION ALL
    SELECT format('column %s.%s #%s %s notnull %s default %s acl %s comment %s', r.relname, a.attname, a.attnum,
                  format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid), a.attacl,
                  col_description(r.oid, a.attnum))
      FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef ad ON ad.adrelid = r.oid AND ad.adnum = a.attnum
    UNION ALL
    SELECT format('constraint %s.%s %s', r.relname, k.conname, pg_get_constraintdef(k.oid))
      FROM rels r JOIN pg_constraint k ON k.conrelid = r.oid
    UNION ALL
    SELECT format('index %s', pg_get_indexdef(i.indexrelid)) FROM rels r JOIN pg_index i ON i.indrelid = r.oid
    UNION ALL
    SELECT format('trigger %s enabled %s', pg_get_triggerdef(t.oid), t.tgenabled)
      FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT format('policy %s.%s %s %s using %s check %s', p.tablename, p.policyname, p.cmd, p.roles, p.qual, p.with_check)
      FROM pg_policies p WHERE p.schemaname = 'grse'
    UNION ALL
    SELECT format('function %s(%s) returns %s lang %s volatile %s parallel %s strict %s definer %s config %s rows %s cost %s acl %s src %s bin %s comment %s',
                  p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid),
                  (SELECT lanname FROM pg_language l WHERE l.oid = p.prolang), p.provolatile, p.proparallel,
                  p.proisstrict, p.prosecdef, p.proconfig, p.prorows, p.procost, p.proacl, md5(p.prosrc), p.probin,
                  obj_description(p.oid, 'pg_proc'))
      FROM procs p
    UNION ALL
    SELECT format('type %s', t.typname) FROM pg_type t
     WHERE t.typnamespace = 'grse'::regnamespace AND t.typtype = 'c'
       AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
) facts
ORDER BY line;
