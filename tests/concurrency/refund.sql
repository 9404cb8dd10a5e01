-- pgbench script (-M prepared, -D region=UUID): refund a small fixed amount.
-- conc_refund() records the outcome in the same transaction and turns the
-- "refund exceeds what was spent" error (22023) into a recorded refusal.
SELECT conc_refund(:region::uuid, 25::bigint);
