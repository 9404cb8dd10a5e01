-- pgbench script: work that is rolled back on purpose: a spend, a refund, an
-- admission, a metric write, a budget hold and a job admitted with a hold (no
-- fallbacks: one region only), then ROLLBACK. None of it (ledger rows, holds, job records,
-- client records, queue count) may survive.
\set n random(1, 8)
\set amount random(1, 2500)
\set p random(0, 100)
BEGIN;
SELECT st_spend(:phase, :client_id, :n, :amount, 'rollback');
SELECT st_refund(:phase, :client_id, :n, :amount, 'rollback');
SELECT st_admit(:phase, :client_id, :n, 0, :amount, :p, false, 'rollback');
SELECT st_metric(:phase, :client_id, :n, 1, :p, :p, :p, :p, 'rollback');
SELECT st_hold(:phase, :client_id, :n, 1, :amount, 5, :p, 'rollback');
SELECT st_job(:phase, :client_id, :n, 1, 0, :p, :p, false, 'rollback');
ROLLBACK;
