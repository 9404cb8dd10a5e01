-- pgbench script: budget holds on a random region: reserve (ttl 2..12 s, sometimes
-- with an idempotency key), a keyed spend, settle or release an open hold (or find
-- it expired), the sweeper, or the retry of an earlier keyed call (see st_hold).
\set n random(1, 8)
\set k random(1, 10)
\set amount random(1, 2000)
\set ttl random(2, 12)
\set jt random(0, 4)
SELECT st_hold(:phase, :client_id, :n, :k, :amount, :ttl, :jt);
