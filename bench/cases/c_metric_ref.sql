-- metric write, ref: the same write on ref's table, whose PL/pgSQL BEFORE
-- trigger derives the same figures and whose PL/pgSQL AFTER trigger records a
-- transition (and notifies) when the mode changes.
\set r random(1, 100)
\set p1 random(0, :pmax)
\set p2 random(0, :pmax)
\set p3 random(0, :pmax)
\set p4 random(0, :pmax)
UPDATE ref.region_scaling_state
   SET posting_pressure = :p1, orchestration_pressure = :p2, creative_pressure = :p3, intel_pressure = :p4
 WHERE region_id = ('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid;
