-- mixed workload on the hot regions [:rmin, :rmax] (weight 1 %): the manual monthly reset of every
-- region (reset_monthly_budgets).
SELECT grse.reset_monthly_budgets();
