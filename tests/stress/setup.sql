-- Stress/crash test fixture: the extension, eight regions in different
-- timezones with budgets, agencies with licenses, clients, and test-owned
-- tables in which the pgbench clients record what they did IN THE SAME
-- TRANSACTION as the operation (so after a crash the records are exactly
-- what committed).
--
-- psql variable :midnight_tz: the timezone of region 8, chosen by run.sh so
-- that its local midnight comes as soon as possible after the start of the
-- load (a day roll-over under load, if the run is long enough to reach it).
\set ON_ERROR_STOP 1

CREATE EXTENSION grse;

-- ---------------------------------------------------------------------------
-- Regions (n = 1..8 is what the pgbench scripts pick at random)
-- ---------------------------------------------------------------------------
CREATE TABLE st_regions (
    n           integer PRIMARY KEY,
    id          uuid NOT NULL UNIQUE,
    slug        text NOT NULL,
    timezone    text NOT NULL,
    budget      bigint NOT NULL,
    -- the region-local day and month when the fixture was made: every local
    -- day/month that starts after these must roll over exactly once
    local_day0   date NOT NULL,
    local_month0 date NOT NULL
);

WITH spec (n, name, slug, cc, tz, budget) AS (VALUES
    (1, 'Frankfurt', 'fra', 'DE', 'Europe/Berlin',      200000),
    (2, 'Virginia',  'iad', 'US', 'America/New_York',   600000),
    (3, 'Tokyo',     'nrt', 'JP', 'Asia/Tokyo',         100000),
    (4, 'Mumbai',    'bom', 'IN', 'Asia/Kolkata',       400000),     -- +05:30
    (5, 'Kathmandu', 'ktm', 'NP', 'Asia/Kathmandu',      50000),     -- +05:45
    (6, 'St Johns',  'yyt', 'CA', 'America/St_Johns',   800000),     -- -03:30 / -02:30
    (7, 'Chatham',   'cht', 'NZ', 'Pacific/Chatham',    150000),     -- +12:45 / +13:45
    (8, 'Midnight',  'mid', 'ZZ', :'midnight_tz',       300000)),
ins AS (
    INSERT INTO grse.regions (name, slug, country_code, timezone)
    SELECT name, slug, cc, tz FROM spec ORDER BY n
    RETURNING id, slug)
INSERT INTO st_regions (n, id, slug, timezone, budget, local_day0, local_month0)
SELECT s.n, i.id, s.slug, s.tz, s.budget,
       (now() AT TIME ZONE s.tz)::date, date_trunc('month', now() AT TIME ZONE s.tz)::date
  FROM spec s JOIN ins i USING (slug);

SELECT count(grse.set_monthly_budget(id, budget)) AS budgets_set FROM st_regions;

-- Budget slots on for the even regions (4 slots each): spends there charge
-- slot rows, and refunds, resets, budget changes and metric writes empty them.
SELECT count(grse.set_budget_slots(id, 4)) AS slotted_regions FROM st_regions WHERE n % 2 = 0;

-- ---------------------------------------------------------------------------
-- Agencies (3 per region, licensed there; each also holds a suspended
-- license elsewhere, which must not resolve) and clients (2 per agency)
-- ---------------------------------------------------------------------------
CREATE TABLE st_agencies (n integer PRIMARY KEY, id uuid NOT NULL UNIQUE, region_n integer NOT NULL);
INSERT INTO st_agencies
SELECT (r.n - 1) * 3 + k, gen_random_uuid(), r.n FROM st_regions r, generate_series(1, 3) k;
INSERT INTO grse.agency_regions (agency_id, region_id, status, is_primary)
SELECT a.id, r.id, 'active', true FROM st_agencies a JOIN st_regions r ON r.n = a.region_n;
INSERT INTO grse.agency_regions (agency_id, region_id, status)
SELECT a.id, r.id, 'suspended' FROM st_agencies a JOIN st_regions r ON r.n = a.region_n % 8 + 1;

CREATE TABLE st_clients (n integer PRIMARY KEY, id uuid NOT NULL UNIQUE, agency_n integer NOT NULL, region_n integer NOT NULL);
INSERT INTO st_clients
SELECT (a.n - 1) * 2 + k, gen_random_uuid(), a.n, a.region_n FROM st_agencies a, generate_series(1, 2) k;
INSERT INTO grse.client_agencies (client_id, agency_id)
SELECT c.id, a.id FROM st_clients c JOIN st_agencies a ON a.n = c.agency_n;

-- ---------------------------------------------------------------------------
-- What the clients record (test-owned; written in the operation's transaction)
-- ---------------------------------------------------------------------------
-- One row per committed client transaction: compared with pgbench's own
-- per-transaction log (-l) of the transactions it saw commit.
CREATE TABLE st_tx (
    id      bigserial PRIMARY KEY,
    phase   integer NOT NULL,
    client  integer NOT NULL,
    script  text NOT NULL,
    at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX st_tx_phase_client_idx ON st_tx (phase, client, script);

-- Every spend and refund attempt with its outcome: ok = charged / refunded.
CREATE TABLE st_money (
    id      bigserial PRIMARY KEY,
    region  uuid NOT NULL,
    kind    text NOT NULL CHECK (kind IN ('spend', 'refund')),
    amount  bigint NOT NULL CHECK (amount > 0),
    ok      boolean NOT NULL,
    via     text NOT NULL,
    error   text
);
CREATE INDEX st_money_region_idx ON st_money (region, kind) WHERE ok;

-- Every admission attempt.
CREATE TABLE st_admissions (
    id        bigserial PRIMARY KEY,
    asked     text NOT NULL,         -- region / client / tenant
    job_type  text NOT NULL,
    admitted  boolean NOT NULL,
    region    uuid,
    cost      bigint NOT NULL,
    charged   boolean,
    mode      text,
    fallback  boolean,
    reason    text,
    via       text NOT NULL          -- the script it was called for
);
-- Jobs admitted and not yet completed: the queue as the clients know it.
CREATE TABLE st_open_jobs (id bigserial PRIMARY KEY, region uuid NOT NULL);
CREATE INDEX st_open_jobs_region_idx ON st_open_jobs (region);

-- Other operations (metric writes, resets, snapshots, budgets, monitor).
CREATE TABLE st_ops (id bigserial PRIMARY KEY, op text NOT NULL, region uuid, result text);

-- ---------------------------------------------------------------------------
-- Client operations: each does one grse operation, records it, and records
-- the committed transaction (st_tx) with the script name it was called for.
-- ---------------------------------------------------------------------------
CREATE FUNCTION st_region(n integer) RETURNS uuid
LANGUAGE sql STABLE AS $$ SELECT id FROM st_regions WHERE st_regions.n = st_region.n $$;

CREATE FUNCTION st_job_type(k integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT (ARRAY['posting', 'orchestration', 'creative', 'intel', 'performance'])[1 + (k % 5)] $$;

CREATE FUNCTION st_note(phase integer, client integer, script text) RETURNS void
LANGUAGE sql AS $$ INSERT INTO st_tx (phase, client, script) VALUES (phase, client, script) $$;

-- spend: check_and_decrement_budget with a random amount, agency and job type
CREATE FUNCTION st_spend(phase integer, client integer, n integer, amount bigint, script text DEFAULT 'spend')
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    r uuid := st_region(n);
    agency uuid := (SELECT id FROM st_agencies a WHERE a.region_n = st_spend.n ORDER BY a.n OFFSET amount % 3 LIMIT 1);
    ok boolean;
BEGIN
    ok := grse.check_and_decrement_budget(r, amount, agency, st_job_type(amount::integer));
    INSERT INTO st_money (region, kind, amount, ok, via) VALUES (r, 'spend', amount, ok, script);
    PERFORM st_note(phase, client, script);
    RETURN ok;
END
$$;

-- refund: a refund beyond what was spent (and not refunded) this period is
-- refused with 22023; that is recorded, not raised, so clients never abort.
CREATE FUNCTION st_refund(phase integer, client integer, n integer, amount bigint, script text DEFAULT 'refund')
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    r uuid := st_region(n);
    ok boolean;
    err text;
BEGIN
    BEGIN
        PERFORM grse.refund_budget(r, amount, 'stress refund');
        ok := true;
    EXCEPTION WHEN invalid_parameter_value THEN       -- SQLSTATE 22023
        ok := false;
        err := SQLERRM;
    END;
    INSERT INTO st_money (region, kind, amount, ok, via, error) VALUES (r, 'refund', amount, ok, script, err);
    PERFORM st_note(phase, client, script);
    RETURN ok;
END
$$;

-- admit: one-call admission by region, client or tenant (with fallback);
-- an admitted job is charged its cost at once and opened (queue + 1).
CREATE FUNCTION st_admit(phase integer, client integer, n integer, how integer, cost bigint, jt integer,
                         fallback boolean DEFAULT true, script text DEFAULT 'admit')
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    d record;
    charged boolean;
    asked text := (ARRAY['region', 'client', 'tenant'])[1 + how % 3];
    c uuid := (SELECT id FROM st_clients WHERE region_n = st_admit.n ORDER BY st_clients.n OFFSET cost % 6 LIMIT 1);
    t uuid := (SELECT id FROM st_agencies WHERE region_n = st_admit.n ORDER BY st_agencies.n OFFSET cost % 3 LIMIT 1);
BEGIN
    SELECT * INTO d FROM grse.admit_job(st_job_type(jt),
                                        tenant_id => CASE asked WHEN 'tenant' THEN t END,
                                        region_id => CASE asked WHEN 'region' THEN st_region(n) END,
                                        client_id => CASE asked WHEN 'client' THEN c END,
                                        estimated_cost => cost, allow_fallback => fallback);
    IF d.admitted THEN
        charged := grse.decrement_budget(d.region_id, cost, NULL, st_job_type(jt), 'stress: admitted job');
        INSERT INTO st_money (region, kind, amount, ok, via) VALUES (d.region_id, 'spend', cost, charged, script);
        INSERT INTO st_open_jobs (region) VALUES (d.region_id);
    END IF;
    INSERT INTO st_admissions (asked, job_type, admitted, region, cost, charged, mode, fallback, reason, via)
    VALUES (asked, st_job_type(jt), d.admitted, d.region_id, cost, charged, d.scaling_mode, d.fallback_used,
            d.reason, script);
    PERFORM st_note(phase, client, script);
    RETURN d.admitted;
END
$$;

-- complete: finish one open job (if any): update_job_queue(region, -1)
CREATE FUNCTION st_complete(phase integer, client integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    job record;
    depth integer;
BEGIN
    SELECT * INTO job FROM st_open_jobs ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
        DELETE FROM st_open_jobs WHERE id = job.id;
        depth := grse.update_job_queue(job.region, -1);
    END IF;
    PERFORM st_note(phase, client, 'complete');
    RETURN depth;
END
$$;

-- metric write: either a direct UPDATE of the four pressures (the state
-- trigger re-judges the mode) or update_pressure_scores from activity counts
CREATE FUNCTION st_metric(phase integer, client integer, n integer, how integer,
                          p1 integer, p2 integer, p3 integer, p4 integer, script text DEFAULT 'metric')
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    r uuid := st_region(n);
BEGIN
    IF how = 1 THEN
        UPDATE grse.region_scaling_state
           SET posting_pressure = p1, orchestration_pressure = p2, creative_pressure = p3, intel_pressure = p4
         WHERE region_id = r;
        INSERT INTO st_ops (op, region) VALUES ('update_pressures', r);
    ELSE
        INSERT INTO st_ops (op, region, result)
        VALUES ('update_pressure_scores', r,
                grse.update_pressure_scores(r, jsonb_build_object('posting', p1 / 8, 'orchestration', p2 / 8,
                                                                  'creative', p3 / 8, 'performance', p4 / 8))::text);
    END IF;
    PERFORM st_note(phase, client, script);
END
$$;

-- resets: the automatic roll-over (all regions or one), the manual daily and
-- monthly resets
CREATE FUNCTION st_reset(phase integer, client integer, n integer, k integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    done integer;
    op text;
BEGIN
    IF k <= 10 THEN
        op := 'roll_over_budget_periods()';      done := grse.roll_over_budget_periods();
    ELSIF k <= 14 THEN
        op := 'roll_over_budget_periods(region)'; done := grse.roll_over_budget_periods(st_region(n));
    ELSIF k <= 18 THEN
        op := 'reset_daily_budget_spend';         done := grse.reset_daily_budget_spend();
    ELSE
        op := 'reset_monthly_budgets';            done := grse.reset_monthly_budgets();
    END IF;
    INSERT INTO st_ops (op, region, result) VALUES (op, CASE WHEN k BETWEEN 11 AND 14 THEN st_region(n) END, done::text);
    PERFORM st_note(phase, client, 'reset');
    RETURN done;
END
$$;

-- snapshot: save_region_snapshot hourly/daily/weekly (and read the stats)
CREATE FUNCTION st_snapshot(phase integer, client integer, n integer, k integer) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
    r uuid := st_region(n);
    id uuid;
BEGIN
    id := grse.save_region_snapshot(r, (ARRAY['hourly', 'hourly', 'daily', 'weekly'])[1 + k % 4]);
    PERFORM grse.get_budget_stats(r);
    INSERT INTO st_ops (op, region, result) VALUES ('save_region_snapshot', r, id::text);
    PERFORM st_note(phase, client, 'snapshot');
    RETURN id;
END
$$;

-- set_monthly_budget: an allocation with a random new monthly budget
CREATE FUNCTION st_set_budget(phase integer, client integer, n integer, amount bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    r uuid := st_region(n);
    rem bigint;
BEGIN
    rem := grse.set_monthly_budget(r, amount);
    INSERT INTO st_ops (op, region, result) VALUES ('set_monthly_budget', r, format('%s -> %s', amount, rem));
    PERFORM st_note(phase, client, 'set_budget');
    RETURN rem;
END
$$;

-- monitor: what pg_cron's monitor job runs, and the health reads
CREATE FUNCTION st_monitor(phase integer, client integer, k integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF k = 1 THEN
        INSERT INTO st_ops (op, result) VALUES ('run_monitor', grse.run_monitor()::text);
    ELSE
        PERFORM count(*) FROM grse.get_all_regions_health();
        INSERT INTO st_ops (op, result) VALUES ('compute_global_risk', grse.compute_global_risk() ->> 'risk_level');
    END IF;
    PERFORM st_note(phase, client, 'monitor');
END
$$;

-- Assertion helper for the checks: raises with a message on violation.
CREATE FUNCTION st_assert(cond boolean, msg text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF cond IS NOT TRUE THEN
        RAISE EXCEPTION 'check failed: %', msg;
    END IF;
    RETURN true;
END
$$;

-- pgbench's per-transaction logs (-l) of every phase, loaded after the run:
-- the transactions the clients saw commit.
CREATE TABLE st_acked (phase integer NOT NULL, client integer NOT NULL, script text NOT NULL, n bigint NOT NULL);
