-- pgbench script: a spend rolled back to a savepoint, then another spend
-- committed: only the second may reach the ledger and the client's records.
\set n random(1, 8)
\set m random(1, 8)
\set a random(1, 2500)
\set b random(1, 2500)
BEGIN;
SAVEPOINT undo;
SELECT st_spend(:phase, :client_id, :n, :a, 'savepoint-undone');
ROLLBACK TO SAVEPOINT undo;
SELECT st_spend(:phase, :client_id, :m, :b, 'savepoint');
COMMIT;
