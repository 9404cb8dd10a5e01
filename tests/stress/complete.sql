-- pgbench script: complete one open job: update_job_queue(region, -1).
SELECT st_complete(:phase, :client_id);
