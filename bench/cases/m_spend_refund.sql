-- mixed workload on the hot regions [:rmin, :rmax] (weight 15 %): a spend and a refund of part of it
-- in one transaction (the spend's budget row or slot is still held when the refund locks the region).
\set r random(:rmin, :rmax)
\set amount random(2, 500)
\set half :amount / 2
BEGIN;
SELECT grse.check_and_decrement_budget(('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid, :amount, NULL, 'creative');
SELECT bench.refund(('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid, :half);
COMMIT;
