-- spend, seed: the seed-style PL/pgSQL on plain tables (SELECT ... FOR UPDATE,
-- compare, UPDATE, INSERT ledger row); same regions and amounts as a_spend_grse.sql.
\set r random(:rmin, :rmax)
\set amount random(1, 500)
SELECT seed.check_and_decrement_budget(('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid, :amount, NULL, 'creative');
