-- pgbench script: work that is rolled back on purpose: a spend, a refund, an
-- admission (no fallback) and a metric write on one region, then ROLLBACK.
-- None of it (ledger rows, client records, queue count) may survive.
\set n random(1, 8)
\set amount random(1, 2500)
\set p random(0, 100)
BEGIN;
SELECT st_spend(:phase, :client_id, :n, :amount, 'rollback');
SELECT st_refund(:phase, :client_id, :n, :amount, 'rollback');
SELECT st_admit(:phase, :client_id, :n, 0, :amount, :p, false, 'rollback');
SELECT st_metric(:phase, :client_id, :n, 1, :p, :p, :p, :p, 'rollback');
ROLLBACK;
