-- pgbench script: complete one open job (queue count - 1).
SELECT adm_complete();
