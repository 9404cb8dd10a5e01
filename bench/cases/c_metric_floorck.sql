-- metric write, untriggered: the same UPDATE on floor.state_checked (grse's
-- table with its CHECKs and foreign key, without its triggers: nothing is
-- derived). grse's overhead over this is what its triggers cost.
\set r random(1, 100)
\set p1 random(0, :pmax)
\set p2 random(0, :pmax)
\set p3 random(0, :pmax)
\set p4 random(0, :pmax)
UPDATE floor.state_checked
   SET posting_pressure = :p1, orchestration_pressure = :p2, creative_pressure = :p3, intel_pressure = :p4
 WHERE region_id = ('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid;
