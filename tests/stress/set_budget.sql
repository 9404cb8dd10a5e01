-- pgbench script (low weight): set_monthly_budget to 200..4000 currency units.
\set n random(1, 8)
\set amount random(20000, 400000)
SELECT st_set_budget(:phase, :client_id, :n, :amount);
