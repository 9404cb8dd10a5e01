-- mixed workload on the hot regions [:rmin, :rmax] (weight 50 %): one AI spend of 1..500 cents.
\set r random(:rmin, :rmax)
\set amount random(1, 500)
SELECT grse.check_and_decrement_budget(('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid, :amount, NULL, 'creative');
