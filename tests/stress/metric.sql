-- pgbench script: a metric write: UPDATE of the four pressures (how = 1) or
-- update_pressure_scores from activity counts (how = 2); modes follow.
\set n random(1, 8)
\set how random(1, 2)
\set p1 random(0, 100)
\set p2 random(0, 100)
\set p3 random(0, 100)
\set p4 random(0, 100)
SELECT st_metric(:phase, :client_id, :n, :how, :p1, :p2, :p3, :p4);
