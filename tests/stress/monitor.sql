-- pgbench script (low weight): run_monitor() (the 5-minute job) or the health/risk reads.
\set k random(1, 4)
SELECT st_monitor(:phase, :client_id, :k);
