-- pgbench script (-M prepared, -D region=UUID): one AI spend of 1..500 cents.
-- The spend and the client's record of its outcome commit together, so the
-- test can compare what clients saw with what the ledger holds.
\set amount random(1, 500)
BEGIN;
INSERT INTO conc_log (ok, amount)
SELECT grse.check_and_decrement_budget(:region::uuid, :amount::bigint, NULL, 'creative'), :amount::bigint;
COMMIT;
