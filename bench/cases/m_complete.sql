-- mixed workload on the hot regions [:rmin, :rmax] (weight 12 %): a job completion: a worker takes the
-- oldest queued job of the region (SKIP LOCKED, as a queue consumer does) and finishes it with its
-- cost.
\set r random(:rmin, :rmax)
\set cost random(1, 100)
SELECT grse.finish_job(j.id, :cost)
  FROM (SELECT id FROM grse.jobs WHERE region_id = ('00000000-0000-4000-8000-' || lpad(:r::text, 12, '0'))::uuid AND status = 'queued'
         ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) j;
