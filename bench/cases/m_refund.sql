-- mixed workload on the hot regions [:rmin, :rmax] (weight 10 %): a refund of 1..100 cents
-- (bench.refund: a refund above the period's spend, right after a monthly reset, is refused without an
-- error).
\set r random(:rmin, :rmax)
\set amount random(1, 100)
SELECT bench.refund(('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid, :amount);
