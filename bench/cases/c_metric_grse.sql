-- metric write, grse: the four pressures of a random region of 100 set to
-- random values in 0..pmax (bench/run.sh: -D pmax=90, where overall pressure
-- crosses the 60/75/90 mode thresholds now and then, so modes change sometimes;
-- -D pmax=40 for steady writes that keep every mode). On grse's table the Rust
-- BEFORE trigger derives overall pressure, capacity, warning index and mode;
-- the AFTER trigger records a transition (and notifies) when the mode changes.
\set r random(1, 100)
\set p1 random(0, :pmax)
\set p2 random(0, :pmax)
\set p3 random(0, :pmax)
\set p4 random(0, :pmax)
UPDATE grse.region_scaling_state
   SET posting_pressure = :p1, orchestration_pressure = :p2, creative_pressure = :p3, intel_pressure = :p4
 WHERE region_id = ('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid;
