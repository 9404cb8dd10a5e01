-- pgbench script: admit one posting job of 1..300 cents into a random region.
\set n random(1, 3)
\set cost random(1, 300)
SELECT adm_admit(:n, :cost);
