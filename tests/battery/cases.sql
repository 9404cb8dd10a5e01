-- The bad-input battery, generated from the catalog: every function of schema grse and
-- every column of grse's tables, called or written with NULL, NaN, ±Infinity, huge,
-- negative, empty, unknown and deeply nested values, one argument at a time (the others
-- good). Fills battery.cases; tests/battery/run.sh runs them (battery.run) and reports.
-- The database holds the rows of tests/restore/fixture.sql.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE SCHEMA battery;

-- Values that stand for "a sensible argument", by argument name, then by type.
CREATE TABLE battery.good_by_name (name text PRIMARY KEY, expr text NOT NULL);
INSERT INTO battery.good_by_name VALUES
    ('region_id', $$'00000000-0000-4000-8000-0000000000b1'$$),
    ('preferred_region', $$'00000000-0000-4000-8000-0000000000b1'$$),
    ('from_region', $$'00000000-0000-4000-8000-0000000000b1'$$),
    ('to_region', $$'00000000-0000-4000-8000-0000000000b3'$$),
    ('agency_id', $$'00000000-0000-4000-8000-0000000000a1'$$),
    ('tenant_id', $$'00000000-0000-4000-8000-0000000000a1'$$),
    ('client_id', $$'00000000-0000-4000-8000-0000000000c1'$$),
    ('job_type', $$'posting'$$),
    ('metric', $$'capacity'$$),
    ('sort_order', $$'desc'$$),
    ('sort_by', $$'capacity'$$),
    ('period_type', $$'hourly'$$),
    ('period', $$'day'$$),
    ('tz', $$'Europe/Berlin'$$),
    ('periods', '24'),
    ('amount', '10'),
    ('actual_amount', '5'),
    ('actual_cost', '5'),
    ('cost', '10'),
    ('estimated_cost', '10'),
    ('priority', '5'),
    ('delta', '1'),
    ('slots', '4'),
    ('mode', $$'cautious'$$),
    ('headers', $$'{"x-region-id": "00000000-0000-4000-8000-0000000000b1"}'$$),
    ('activity', $$'{"posting": 2}'$$),
    ('risk', $$'{"overall_risk": 10, "conflicts": []}'$$),
    ('idempotency_key', 'NULL'),
    ('until', 'NULL'),
    ('hold_id', '(SELECT h.id FROM grse.budget_holds h ORDER BY h.status <> ''held'', h.created_at LIMIT 1)'),
    ('job_id', '(SELECT j.id FROM grse.jobs j ORDER BY j.created_at LIMIT 1)'),
    ('ttl', $$'5 minutes'$$),
    ('window', $$'7 days'$$),
    ('near_latitude', '50.1'),
    ('near_longitude', '8.7'),
    ('remaining', '50'),
    ('monthly', '100'),
    ('pool', '0'),
    ('allow_fallback', 'true'),
    ('include_risk', 'false'),
    ('include_history', 'true'),
    ('hold_budget', 'false'),
    ('succeeded', 'true'),
    ('wait', 'false'),
    ('s', '(SELECT s FROM grse.region_scaling_state s WHERE s.region_id = ''00000000-0000-4000-8000-0000000000b1'')'),
    ('h', '(SELECT s FROM grse.region_scaling_state s WHERE s.region_id = ''00000000-0000-4000-8000-0000000000b1'')'),
    ('r', '(SELECT r FROM grse.regions r WHERE r.id = ''00000000-0000-4000-8000-0000000000b1'')');

CREATE TABLE battery.good_by_type (typ regtype PRIMARY KEY, expr text NOT NULL);
INSERT INTO battery.good_by_type VALUES
    ('uuid', $$'00000000-0000-4000-8000-0000000000b1'$$),
    ('text', $$'battery'$$),
    ('numeric', '10'),
    ('bigint', '10'),
    ('integer', '1'),
    ('smallint', '1'),
    ('double precision', '1'),
    ('boolean', 'false'),
    ('jsonb', $$'{}'$$),
    ('interval', $$'1 hour'$$),
    ('timestamp with time zone', 'now()');

-- Bad values by type (SQL expressions).
CREATE TABLE battery.bad (typ regtype NOT NULL, label text NOT NULL, expr text NOT NULL);
INSERT INTO battery.bad VALUES
    ('uuid', 'NULL', 'NULL'),
    ('uuid', 'unknown id', $$'00000000-0000-4000-8000-00000000dead'$$),
    ('uuid', 'inactive region', $$'00000000-0000-4000-8000-0000000000b4'$$),
    ('numeric', 'NULL', 'NULL'),
    ('numeric', 'NaN', $$'NaN'$$),
    ('numeric', 'Infinity', $$'Infinity'$$),
    ('numeric', '-Infinity', $$'-Infinity'$$),
    ('numeric', 'negative', '-1'),
    ('numeric', 'zero', '0'),
    ('numeric', 'fraction', '0.001'),
    ('numeric', 'huge', '1e30'),
    ('numeric', 'bigint max', '9223372036854775807'),
    ('numeric', 'bigint max + 1', '9223372036854775808'),
    ('numeric', 'bigint min', '-9223372036854775808'),
    ('bigint', 'NULL', 'NULL'),
    ('bigint', 'max', '9223372036854775807'),
    ('bigint', 'min', '(-9223372036854775807 - 1)'),
    ('bigint', 'negative', '-1'),
    ('integer', 'NULL', 'NULL'),
    ('integer', 'max', '2147483647'),
    ('integer', 'min', '(-2147483647 - 1)'),
    ('integer', 'negative', '-1'),
    ('integer', 'zero', '0'),
    ('smallint', 'NULL', 'NULL'),
    ('smallint', 'negative', '-1'),
    ('double precision', 'NULL', 'NULL'),
    ('double precision', 'NaN', $$'NaN'$$),
    ('double precision', 'Infinity', $$'Infinity'$$),
    ('double precision', '-Infinity', $$'-Infinity'$$),
    ('double precision', 'huge', '1e308'),
    ('double precision', 'out of range', '-181'),
    ('text', 'NULL', 'NULL'),
    ('text', 'empty', $$''$$),
    ('text', 'unknown', $$'nonsense'$$),
    ('text', 'upper case', $$'POSTING'$$),
    ('text', 'POSIX time zone', $$'UTC+5'$$),
    ('text', 'long', 'repeat(''x'', 10000)'),
    ('boolean', 'NULL', 'NULL'),
    ('boolean', 'true', 'true'),
    ('boolean', 'false', 'false'),
    ('jsonb', 'NULL', 'NULL'),
    ('jsonb', 'JSON null', $$'null'$$),
    ('jsonb', 'array', $$'[]'$$),
    ('jsonb', 'string', $$'"text"'$$),
    ('jsonb', 'number', $$'1e400'$$),
    ('jsonb', 'deep object (300)', '(repeat(''{"a": '', 300) || ''1'' || repeat(''}'', 300))'),
    ('jsonb', 'deep array (5000)', '(repeat(''['', 5000) || repeat('']'', 5000))'),
    ('jsonb', 'deep in a key (200)', '(''{"posting": '' || repeat(''['', 200) || repeat('']'', 200) || ''}'')'),
    ('jsonb', 'NaN-like counts', $$'{"posting": "NaN", "creative": -1}'$$),
    ('jsonb', 'huge count', $$'{"posting": 1e30}'$$),
    ('jsonb', 'fractional count', $$'{"posting": 0.5}'$$),
    ('jsonb', 'bad header id', $$'{"x-region-id": "not-a-uuid"}'$$),
    ('jsonb', 'repeated header', $$'{"x-region-id": ["a", "b"], "X-Agency-Id": 7}'$$),
    ('interval', 'NULL', 'NULL'),
    ('interval', 'negative', $$'-1 day'$$),
    ('interval', 'zero', $$'0'$$),
    ('interval', 'huge', $$'178000000 years'$$),
    ('timestamp with time zone', 'NULL', 'NULL'),
    ('timestamp with time zone', 'infinity', $$'infinity'$$),
    ('timestamp with time zone', '-infinity', $$'-infinity'$$),
    ('timestamp with time zone', 'long past', $$'1900-01-01'$$);

-- The functions and their input arguments.
CREATE VIEW battery.args AS
SELECT p.oid AS fn, u.ord, u.typ::regtype AS typ, p.proargnames[u.ord] AS name
  FROM pg_proc p, unnest(COALESCE(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY AS u(typ, ord)
 WHERE p.pronamespace = 'grse'::regnamespace
   AND COALESCE(p.proargmodes[u.ord], 'i') IN ('i', 'b', 'v');

CREATE TABLE battery.cases (
    n        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    target   text NOT NULL,   -- the function or column under test
    label    text NOT NULL,   -- what is bad about it
    kind     text NOT NULL,   -- 'call', 'trigger', 'column'
    special  boolean NOT NULL DEFAULT false,  -- NaN or infinite: must be refused with 22xxx/23xxx
    role     text,            -- run as this role (NULL: the superuser)
    sql      text NOT NULL
);
-- What each case gave, per pass (the battery runs twice: over the fixture's data, then
-- over regions with budgets near the bigint limit).
CREATE TABLE battery.results (
    pass     integer NOT NULL,
    n        integer NOT NULL REFERENCES battery.cases,
    sqlstate text,            -- NULL: accepted
    message  text,
    detail   text,
    changed  boolean,         -- refused, yet some grse table changed
    ms       numeric,         -- how long it took
    PRIMARY KEY (pass, n)
);

-- A call of a function with every argument good but one.
CREATE FUNCTION battery.call(target regprocedure, bad_ord integer, bad_expr text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('SELECT count(*) FROM %s.%I(%s) AS x', n.nspname, p.proname,
                  COALESCE(string_agg(format('(%s)::%s',
                                             CASE WHEN a.ord = $2 THEN $3
                                                  ELSE COALESCE(g.expr, t.expr, 'NULL') END,
                                             format_type(a.typ, NULL)), ', ' ORDER BY a.ord)
                             FILTER (WHERE a.ord IS NOT NULL), ''))
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      LEFT JOIN battery.args a ON a.fn = p.oid
      LEFT JOIN battery.good_by_name g ON g.name = a.name
      LEFT JOIN battery.good_by_type t ON t.typ = a.typ
     WHERE p.oid = $1
     GROUP BY n.nspname, p.proname
$$;

-- functions (not trigger functions): the good call, then one bad argument at a time
INSERT INTO battery.cases (target, label, kind, special, sql)
SELECT p.oid::regprocedure::text, 'good arguments', 'call', false, battery.call(p.oid, 0, NULL)
  FROM pg_proc p
 WHERE p.pronamespace = 'grse'::regnamespace AND p.prorettype <> 'trigger'::regtype AND p.prokind = 'f'
 ORDER BY p.oid::regprocedure::text;
INSERT INTO battery.cases (target, label, kind, special, sql)
SELECT a.fn::regprocedure::text, format('%s = %s', COALESCE(a.name, '$' || a.ord), b.label), 'call',
       b.label ~ '^(NaN|Infinity|-Infinity)$', battery.call(a.fn, a.ord::integer, b.expr)
  FROM battery.args a JOIN pg_proc p ON p.oid = a.fn JOIN battery.bad b ON b.typ = a.typ
 WHERE p.prorettype <> 'trigger'::regtype AND p.prokind = 'f'
 ORDER BY a.fn::regprocedure::text, a.ord, b.label;

-- trigger functions called as plain functions: 39P01
INSERT INTO battery.cases (target, label, kind, sql)
SELECT p.oid::regprocedure::text, 'called directly', 'trigger', format('SELECT grse.%I()', p.proname)
  FROM pg_proc p
 WHERE p.pronamespace = 'grse'::regnamespace AND p.prorettype = 'trigger'::regtype
 ORDER BY 1;

-- every column of every grse table: one row updated with each bad value of its type, as
-- the superuser, and the columns the roles may write as those roles
INSERT INTO battery.cases (target, label, kind, special, role, sql)
SELECT format('%s.%I', c.oid::regclass, a.attname), b.label || COALESCE(' as ' || r.role, ''), 'column',
       b.label ~ '^(NaN|Infinity|-Infinity)$', r.role,
       format('UPDATE %s SET %I = (%s)::%s WHERE ctid = (SELECT min(ctid) FROM %s)',
              c.oid::regclass, a.attname, b.expr, format_type(a.atttypid, a.atttypmod), c.oid::regclass)
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN battery.bad b ON b.typ = a.atttypid
  CROSS JOIN LATERAL (SELECT NULL::text AS role
                      UNION ALL
                      SELECT g.rolname::text FROM pg_roles g
                       WHERE g.rolname IN ('grse_operator', 'grse_admin')
                         AND has_column_privilege(g.rolname, c.oid, a.attname, 'UPDATE')) r
 WHERE c.relnamespace = 'grse'::regnamespace AND c.relkind = 'r'
 ORDER BY 1, 2;

-- a new region with one bad value (the others good)
INSERT INTO battery.cases (target, label, kind, special, sql)
SELECT format('grse.regions.%I (INSERT)', a.attname), b.label, 'column', b.label ~ '^(NaN|Infinity|-Infinity)$',
       format('INSERT INTO grse.regions (name, slug, country_code, timezone, latitude, longitude) VALUES (%s)',
              string_agg(CASE WHEN g.col = a.attname THEN format('(%s)::%s', b.expr, format_type(a.atttypid, a.atttypmod))
                              ELSE g.expr END, ', ' ORDER BY g.ord))
  FROM pg_attribute a JOIN battery.bad b ON b.typ = a.atttypid
 CROSS JOIN (VALUES (1, 'name', $$'Battery'$$), (2, 'slug', $$'b' || left(md5(random()::text), 12)$$),
                    (3, 'country_code', $$'DE'$$), (4, 'timezone', $$'UTC'$$),
                    (5, 'latitude', '1'), (6, 'longitude', '1')) AS g(ord, col, expr)
 WHERE a.attrelid = 'grse.regions'::regclass
   AND a.attname IN ('name', 'slug', 'country_code', 'timezone', 'latitude', 'longitude')
 GROUP BY a.attname, b.label, b.expr, a.atttypid, a.atttypmod
 ORDER BY 1, 2;

-- What every grse table holds, as one hash (sequences excluded: a refused INSERT may still
-- have taken an identity value, and they are not data).
CREATE FUNCTION battery.checksum() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
    h text;
    acc text := '';
BEGIN
    FOR t IN SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'grse'::regnamespace AND c.relkind = 'r'
              ORDER BY c.relname LOOP
        EXECUTE format($q$SELECT md5(COALESCE(string_agg(x::text, E'\n' ORDER BY x::text), '')) FROM %s x$q$, t) INTO h;
        acc := acc || t::text || ':' || h || ' ';
    END LOOP;
    RETURN md5(acc);
END
$$;

-- Runs every case in a subtransaction (as its role), recording its SQLSTATE, message and
-- detail, and for a refused case whether anything changed.
CREATE FUNCTION battery.run(pass integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    c record;
    sum_before text := battery.checksum();
    st text;
    msg text;
    det text;
    ran integer := 0;
    t0 timestamptz;
BEGIN
    FOR c IN SELECT * FROM battery.cases ORDER BY n LOOP
        st := NULL; msg := NULL; det := NULL;
        t0 := clock_timestamp();
        BEGIN
            IF c.role IS NOT NULL THEN
                EXECUTE format('SET ROLE %I', c.role);
            END IF;
            EXECUTE c.sql;
            RESET ROLE;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
        END;
        RESET ROLE;
        IF st IS NULL THEN
            sum_before := battery.checksum();   -- an accepted call may change the data
            INSERT INTO battery.results (pass, n, ms)
            VALUES (run.pass, c.n, extract(epoch FROM clock_timestamp() - t0) * 1000);
        ELSE
            INSERT INTO battery.results (pass, n, sqlstate, message, detail, changed, ms)
            VALUES (run.pass, c.n, st, msg, det, battery.checksum() IS DISTINCT FROM sum_before,
                    extract(epoch FROM clock_timestamp() - t0) * 1000);
        END IF;
        ran := ran + 1;
    END LOOP;
    RETURN ran;
END
$$;
