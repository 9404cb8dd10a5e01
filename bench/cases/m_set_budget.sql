-- mixed workload on the hot regions [:rmin, :rmax] (weight 3 %): set_monthly_budget to 5·10^11..10^12
-- cents (an allocation).
\set r random(:rmin, :rmax)
\set amount random(500000000000, 1000000000000)
SELECT grse.set_monthly_budget(('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid, :amount);
