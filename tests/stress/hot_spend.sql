-- pgbench script: a small AI spend (1..5 cents) on region 7 (cht), one of the
-- two regions with the default policy, from every client: its spends wait for
-- each other often enough that the region takes automatic slots by itself
-- (16 waits of one backend within 10 s at three quarters of its spends there),
-- and the resets and allocations of the mix end them again.
\set amount random(1, 5)
SELECT st_spend(:phase, :client_id, 7, :amount, 'hot_spend');
