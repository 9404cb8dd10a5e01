-- pgbench script: admit one job (by region, client or tenant; with fallback)
-- of 1..300 cents; an admitted job is charged and opened in the same transaction.
\set n random(1, 8)
\set how random(0, 2)
\set cost random(1, 300)
\set jt random(0, 4)
SELECT st_admit(:phase, :client_id, :n, :how, :cost, :jt);
