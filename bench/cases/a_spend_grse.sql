-- spend, grse (cases cpu, spend, hot, memory): one AI spend of 1..500 cents on
-- a random region in [:rmin, :rmax] (bench/run.sh passes -D rmin=1 -D rmax=100
-- for the 100 regions, 101..101 for the hot region). Region n has the id
-- 00000000-0000-4000-8000-<n, 12 digits>.
\set r random(:rmin, :rmax)
\set amount random(1, 500)
SELECT grse.check_and_decrement_budget(('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid, :amount, NULL, 'creative');
