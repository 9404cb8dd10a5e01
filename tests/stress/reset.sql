-- pgbench script (low weight): roll_over_budget_periods() of all regions (k 1-10)
-- or one (11-14), reset_daily_budget_spend() (15-18) or reset_monthly_budgets() (19-20).
\set n random(1, 8)
\set k random(1, 20)
SELECT st_reset(:phase, :client_id, :n, :k);
