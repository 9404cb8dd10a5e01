-- Admission concurrency fixture: three regions with known budgets and
-- test-owned tables where the pgbench clients record what they did.
\set ON_ERROR_STOP 1

CREATE EXTENSION grse;

INSERT INTO grse.regions (name, slug, country_code, timezone) VALUES
    ('Alpha', 'alpha', 'DE', 'Europe/Berlin'),
    ('Beta',  'beta',  'US', 'America/New_York'),
    ('Gamma', 'gamma', 'JP', 'Asia/Tokyo');
SELECT count(grse.set_monthly_budget(id, 30000)) FROM grse.regions;

-- n = 1..3, what the pgbench scripts pick at random
CREATE TABLE adm_regions (n integer PRIMARY KEY, id uuid NOT NULL);
INSERT INTO adm_regions SELECT row_number() OVER (ORDER BY slug), id FROM grse.regions;

-- every admission attempt, written in the admitting transaction
CREATE TABLE adm_log (asked uuid, admitted boolean, region uuid, cost bigint, charged boolean,
                      mode text, fallback boolean, reason text);
-- jobs admitted and not yet completed (the queue as the clients know it)
CREATE TABLE adm_open_jobs (id bigserial PRIMARY KEY, region uuid NOT NULL, job uuid NOT NULL);

-- Admit a posting job of `cost` cents into region n (falling back when refused);
-- when admitted, charge the cost in the same transaction and open the job.
CREATE FUNCTION adm_admit(n integer, cost bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    asked uuid := (SELECT id FROM adm_regions WHERE adm_regions.n = adm_admit.n);
    d record;
    charged boolean;
BEGIN
    SELECT * INTO d FROM grse.admit_job('posting', region_id => asked, estimated_cost => cost, allow_fallback => true);
    IF d.admitted THEN
        charged := grse.decrement_budget(d.region_id, cost, NULL, 'posting', 'admitted job');
        INSERT INTO adm_open_jobs (region, job) VALUES (d.region_id, d.job_id);
    END IF;
    INSERT INTO adm_log VALUES (asked, d.admitted, d.region_id, cost, charged, d.scaling_mode, d.fallback_used, d.reason);
    RETURN d.admitted;
END
$$;

-- Complete one open job (if any) with grse.finish_job: the queue count goes down by one.
CREATE FUNCTION adm_complete() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    job record;
BEGIN
    SELECT * INTO job FROM adm_open_jobs ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    DELETE FROM adm_open_jobs WHERE id = job.id;
    PERFORM grse.finish_job(job.job);
    RETURN (SELECT jobs_in_queue FROM grse.region_scaling_state WHERE region_id = job.region);
END
$$;

-- A metric write: region n's pressures jump to p (the trigger re-judges its mode).
CREATE FUNCTION adm_flip(n integer, p integer) RETURNS text
LANGUAGE sql AS $$
    UPDATE grse.region_scaling_state
       SET posting_pressure = p, orchestration_pressure = p, creative_pressure = p, intel_pressure = p
     WHERE region_id = (SELECT id FROM adm_regions WHERE adm_regions.n = adm_flip.n)
    RETURNING scaling_mode
$$;

CREATE FUNCTION conc_assert(cond boolean, msg text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF cond IS NOT TRUE THEN
        RAISE EXCEPTION 'check failed: %', msg;
    END IF;
    RETURN true;
END
$$;
