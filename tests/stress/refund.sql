-- pgbench script: a refund of 1..1500 cents on a random region (st_refund
-- records a 22023 refusal instead of raising it).
\set n random(1, 8)
\set amount random(1, 1500)
SELECT st_refund(:phase, :client_id, :n, :amount);
