-- spend, ref: the PL/pgSQL original with grse's CHECKs and derive trigger
-- (SELECT ... FOR UPDATE, compare, UPDATE, INSERT ledger row); same regions
-- and amounts as a_spend_grse.sql.
\set r random(:rmin, :rmax)
\set amount random(1, 500)
SELECT ref.check_and_decrement_budget(('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid, :amount, NULL, 'creative');
