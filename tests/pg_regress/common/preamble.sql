\set preamble_saved_echo :ECHO
\set ECHO none
-- The shared preamble of the pg_regress files. Every file in tests/pg_regress/sql/ starts with
--
--     \ir ../common/preamble.sql
--
-- so that it runs alone, from a fresh extension, on any database where grse can be created:
--
--     psql -X -a -q -d DB -f tests/pg_regress/sql/12_budget.sql
--
-- (scripts/run-tests.sh runs pg_regress from a copy of tests/pg_regress/sql/, where the
-- relative path finds the copy of this directory). The preamble re-creates the extension,
-- makes error output terse (the message without DETAIL, HINT or CONTEXT lines) and creates
-- the helpers below in pg_temp, so they vanish with the session and never reach another
-- file. Its statements (after the two lines above) are not echoed: expected outputs show only
-- the file's own SQL.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS grse CASCADE;
CREATE EXTENSION grse;
\set VERBOSITY terse

-- pg_temp.err(stmt): runs a statement; answers 'no error' or 'SQLSTATE: message'.
CREATE FUNCTION pg_temp.err(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- pg_temp.ledger_ok(): the ledger invariant over every region: Σ delta = ai_budget_remaining,
-- and each row's balance_after = the sum of the region's deltas up to and including it
-- (the previous balance_after + delta; the first row's balance is its delta).
CREATE FUNCTION pg_temp.ledger_ok() RETURNS boolean LANGUAGE sql AS $$
    SELECT bool_and(s.ai_budget_remaining = COALESCE(l.total, 0) AND COALESCE(l.chained, true))
      FROM grse.region_scaling_state s
      LEFT JOIN (SELECT region_id, sum(delta) AS total, bool_and(balance_after = running) AS chained
                   FROM (SELECT region_id, delta, balance_after,
                                sum(delta) OVER (PARTITION BY region_id ORDER BY id) AS running
                           FROM grse.region_budget_transactions) x
                  GROUP BY region_id) l ON l.region_id = s.region_id
$$;

\set ECHO :preamble_saved_echo
