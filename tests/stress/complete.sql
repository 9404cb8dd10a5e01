-- pgbench script: complete the oldest open job (finish_job for a job record,
-- update_job_queue(region, -1) for a job counted by hand), or (k = 1) count a job
-- of an app without job records in by hand (update_job_queue(region, +1)).
\set k random(1, 6)
\set n random(1, 8)
SELECT st_complete(:phase, :client_id, :k, :n);
