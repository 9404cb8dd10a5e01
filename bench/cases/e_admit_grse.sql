-- (e) admission, grse: admit_job for a posting job of 1..100 cents in a random
-- region of 100 (all normal: bench/run.sh resets pressures and queues first),
-- for one of 100,000 tenants: mode, budget check, priority, wait, shard key
-- (FNV-1a + jump hash), queue + 1, under the region's row lock.
\set r random(1, 100)
\set cost random(1, 100)
\set t random(1, 100000)
SELECT * FROM grse.admit_job('posting',
                             tenant_id => ('00000000-0000-4000-9000-' || lpad(:t::text, 12, '0'))::uuid,
                             region_id => ('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid,
                             estimated_cost => :cost);
