-- pgbench script: a metric write that may change a region's mode (0..95 pressure).
\set n random(1, 3)
\set p random(0, 95)
SELECT adm_flip(:n, :p);
