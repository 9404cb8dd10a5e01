-- pgbench script: admitted jobs as records: admit with a hold of the estimated cost
-- (by region, client or tenant), or a worker's start / finish / cancel of a job
-- (see st_job).
\set n random(1, 8)
\set k random(1, 8)
\set how random(0, 2)
\set cost random(0, 300)
\set jt random(0, 4)
SELECT st_job(:phase, :client_id, :n, :k, :how, :cost, :jt);
