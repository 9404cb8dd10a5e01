-- mixed workload on the hot regions [:rmin, :rmax] (weight 8 %): a spend and a metric write of the
-- same region in one transaction.
\set r random(:rmin, :rmax)
\set amount random(1, 500)
\set p1 random(0, 90)
\set p2 random(0, 90)
\set p3 random(0, 90)
\set p4 random(0, 90)
BEGIN;
SELECT grse.check_and_decrement_budget(('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid, :amount, NULL, 'creative');
UPDATE grse.region_scaling_state
   SET posting_pressure = :p1, orchestration_pressure = :p2, creative_pressure = :p3, intel_pressure = :p4
 WHERE region_id = ('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid;
COMMIT;
