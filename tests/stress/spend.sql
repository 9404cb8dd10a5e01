-- pgbench script: one AI spend (check_and_decrement_budget) of 1..2500 cents
-- on a random region; the outcome is recorded in the same transaction.
\set n random(1, 8)
\set amount random(1, 2500)
SELECT st_spend(:phase, :client_id, :n, :amount);
