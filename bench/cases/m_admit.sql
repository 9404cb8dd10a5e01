-- mixed workload on the hot regions [:rmin, :rmax] (weight 15 %): admit_job for a posting job of
-- 1..100 cents for one of 100,000 tenants (a job record, queued).
\set r random(:rmin, :rmax)
\set cost random(1, 100)
\set t random(1, 100000)
SELECT admitted, job_id FROM grse.admit_job('posting',
       tenant_id => ('00000000-0000-4000-9000-' || lpad(:t::text, 12, '0'))::uuid,
       region_id => ('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid, estimated_cost => :cost);
