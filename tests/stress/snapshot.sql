-- pgbench script: save_region_snapshot (hourly, daily or weekly) and read the budget stats.
\set n random(1, 8)
\set k random(0, 3)
SELECT st_snapshot(:phase, :client_id, :n, :k);
