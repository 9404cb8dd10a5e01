-- One line per grse table and identity sequence: its rows (count and md5 of the rows
-- sorted as text) or its position. Two databases with the same output hold the same grse
-- data. Tables that pg_dump would not write (not marked with pg_extension_config_dump)
-- are listed as such, so that a new table without the mark is noticed.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only on
SELECT format('table %s is not dumped with the extension', c.oid::regclass)
  FROM pg_class c
 WHERE c.relnamespace = 'grse'::regnamespace AND c.relkind IN ('r', 'p', 'S')
   AND c.oid NOT IN (SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'grse')
 ORDER BY 1;
SELECT CASE c.relkind
         WHEN 'S' THEN format($q$SELECT 'sequence %1$s ' || last_value || ' ' || is_called FROM %1$s$q$, c.oid::regclass)
         ELSE format($q$SELECT 'table %1$s ' || count(*) || ' ' || md5(COALESCE(string_agg(t::text, E'\n' ORDER BY t::text), ''))
                        FROM %1$s t$q$, c.oid::regclass) END
  FROM pg_extension e, unnest(e.extconfig) AS x(oid) JOIN pg_class c ON c.oid = x.oid
 WHERE e.extname = 'grse'
 ORDER BY c.oid::regclass::text
\gexec
