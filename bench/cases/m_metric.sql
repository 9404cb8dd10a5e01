-- mixed workload on the hot regions [:rmin, :rmax] (weight 4 %): a metric write: the four pressures to
-- random values in 0..90.
\set r random(:rmin, :rmax)
\set p1 random(0, 90)
\set p2 random(0, 90)
\set p3 random(0, 90)
\set p4 random(0, 90)
UPDATE grse.region_scaling_state
   SET posting_pressure = :p1, orchestration_pressure = :p2, creative_pressure = :p3, intel_pressure = :p4
 WHERE region_id = ('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid;
