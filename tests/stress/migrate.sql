-- pgbench script (low weight): migrate_jobs of a random region's queued jobs, each
-- to the best region for its type, to the next region, or of one job type.
\set n random(1, 8)
\set k random(1, 5)
\set jt random(0, 4)
SELECT st_migrate(:phase, :client_id, :n, :k, :jt);
