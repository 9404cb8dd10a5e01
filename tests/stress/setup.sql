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

-- Admitted jobs (and the holds of their estimated cost) expire 10 seconds after
-- admission unless finished: the sweeper and the lazy sweeps run during the load,
-- and a final sweep a few seconds after it finds every hold and job past due.
UPDATE grse.policy SET job_ttl = '10 seconds';

-- Budget slots on for the even regions (4 slots each): spends there charge
-- slot rows, and refunds, resets, budget changes and metric writes empty them.
-- Regions 1 and 5 never have slots (budget_slots = 1); regions 3 and 7 keep the
-- default policy: they take slots by themselves when their spends contend.
SELECT count(grse.set_budget_slots(id, 4)) AS slotted_regions FROM st_regions WHERE n % 2 = 0;
SELECT count(grse.set_budget_slots(id, 1)) AS unslotted_regions FROM st_regions WHERE n % 4 = 1;

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
    via       text NOT NULL,         -- the script it was called for
    job_id    uuid                   -- the job record of an admitted job
);
-- Jobs admitted by `admit` and not yet completed, and jobs counted by hand with
-- update_job_queue (job_id NULL: an app without job records): the queue as the
-- clients know it.
CREATE TABLE st_open_jobs (id bigserial PRIMARY KEY, region uuid NOT NULL, job_id uuid);
CREATE INDEX st_open_jobs_region_idx ON st_open_jobs (region);

-- Budget holds made by reserve_budget, and what the clients did with them
-- (status: held until a client settled or released it, or found it expired).
CREATE TABLE st_holds (
    id       uuid PRIMARY KEY,
    region   uuid NOT NULL,
    amount   bigint NOT NULL,
    status   text NOT NULL CHECK (status IN ('held', 'settled', 'released', 'expired')),
    settled  bigint,
    via      text NOT NULL
);
CREATE INDEX st_holds_open_idx ON st_holds (id) WHERE status = 'held';

-- Jobs admitted by `job` with a hold of their estimated cost, and what the
-- workers did with them (status: queued / running until a worker ended it, or
-- found it expired).
CREATE TABLE st_jobs (
    id        uuid PRIMARY KEY,
    cost      bigint NOT NULL,
    has_hold  boolean NOT NULL,
    status    text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'expired')),
    via       text NOT NULL
);
CREATE INDEX st_jobs_queued_idx ON st_jobs (id) WHERE status = 'queued';
CREATE INDEX st_jobs_running_idx ON st_jobs (id) WHERE status = 'running';

-- Keyed (idempotent) calls that succeeded, retried later with the same key and
-- arguments: the retry must give the first answer and write nothing.
CREATE TABLE st_keys (
    id        bigserial PRIMARY KEY,
    kind      text NOT NULL CHECK (kind IN ('spend', 'reserve')),
    region    uuid NOT NULL,
    amount    bigint NOT NULL,
    agency    uuid,
    job_type  text,
    ttl       interval,
    key       text NOT NULL,
    hold_id   uuid,
    retried   boolean NOT NULL DEFAULT false
);
CREATE INDEX st_keys_fresh_idx ON st_keys (id) WHERE NOT retried;

-- Every migrate_jobs call: how many jobs it moved, and how many of them took a
-- hold along (each leaves a released hold behind in its old region).
CREATE TABLE st_migrations (
    id               bigserial PRIMARY KEY,
    from_region      uuid NOT NULL,
    to_region        uuid,
    job_type         text,
    moved            integer NOT NULL,
    moved_with_hold  integer NOT NULL
);

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
        INSERT INTO st_open_jobs (region, job_id) VALUES (d.region_id, d.job_id);
    END IF;
    INSERT INTO st_admissions (asked, job_type, admitted, region, cost, charged, mode, fallback, reason, via, job_id)
    VALUES (asked, st_job_type(jt), d.admitted, d.region_id, cost, charged, d.scaling_mode, d.fallback_used,
            d.reason, script, d.job_id);
    PERFORM st_note(phase, client, script);
    RETURN d.admitted;
END
$$;

-- complete: finish the oldest open job (if any): a job record with finish_job (it
-- was charged at admission; a job that expired meanwhile raises 55000, which is
-- recorded, not raised), a job counted by hand with update_job_queue(region, -1).
-- With k = 1 instead, a job of an app without job records is counted in by hand
-- (update_job_queue(region, +1)).
CREATE FUNCTION st_complete(phase integer, client integer, k integer, n integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    job record;
    depth integer;
BEGIN
    IF k = 1 THEN
        depth := grse.update_job_queue(st_region(n), 1);
        INSERT INTO st_open_jobs (region) VALUES (st_region(n));
    ELSE
        SELECT * INTO job FROM st_open_jobs ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF FOUND THEN
            DELETE FROM st_open_jobs WHERE id = job.id;
            IF job.job_id IS NULL THEN
                depth := grse.update_job_queue(job.region, -1);
            ELSE
                BEGIN
                    PERFORM grse.finish_job(job.job_id);
                EXCEPTION WHEN object_not_in_prerequisite_state THEN      -- 55000: expired meanwhile
                    INSERT INTO st_ops (op, region, result) VALUES ('finish_job', job.region, SQLERRM);
                END;
            END IF;
        END IF;
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

-- hold: budget holds. k 1-3: reserve_budget (ttl 2..12 s; k = 3 with an
-- idempotency key, kept for a later retry); k 4: a keyed spend (kept for a later
-- retry); k 5-6: settle (k = 5: up to the held amount, 0 included) or release the
-- newest open hold, k 7: the oldest (often expired: 55000 is recorded as such);
-- k 8: the sweeper, of every region or of one; k 9-10: retry a keyed call of an
-- earlier transaction: it must answer as the first call did and write nothing.
CREATE FUNCTION st_hold(phase integer, client integer, n integer, k integer, amount bigint, ttl_s integer,
                        jt integer, script text DEFAULT 'hold')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r uuid := st_region(n);
    agency uuid := (SELECT id FROM st_agencies a WHERE a.region_n = st_hold.n ORDER BY a.n OFFSET amount % 3 LIMIT 1);
    key text;
    d record;
    h record;
    kk record;
    ok boolean;
    charge bigint;
    result text;
BEGIN
    IF k <= 3 THEN
        key := CASE WHEN k = 3 THEN gen_random_uuid()::text END;
        SELECT * INTO d FROM grse.reserve_budget(r, amount, agency, st_job_type(jt), make_interval(secs => ttl_s), key);
        IF d.allowed THEN
            INSERT INTO st_holds (id, region, amount, status, via) VALUES (d.hold_id, r, amount, 'held', script);
            IF key IS NOT NULL THEN
                INSERT INTO st_keys (kind, region, amount, agency, job_type, ttl, key, hold_id)
                VALUES ('reserve', r, amount, agency, st_job_type(jt), make_interval(secs => ttl_s), key, d.hold_id);
            END IF;
        END IF;
        result := CASE WHEN d.allowed THEN 'reserved' ELSE 'refused' END;
    ELSIF k = 4 THEN
        key := gen_random_uuid()::text;
        ok := grse.check_and_decrement_budget(r, amount, agency, st_job_type(jt), key);
        INSERT INTO st_money (region, kind, amount, ok, via) VALUES (r, 'spend', amount, ok, script);
        IF ok THEN
            INSERT INTO st_keys (kind, region, amount, agency, job_type, key) VALUES ('spend', r, amount, agency, st_job_type(jt), key);
        END IF;
        result := CASE WHEN ok THEN 'keyed spend' ELSE 'keyed spend refused' END;
    ELSIF k <= 7 THEN
        IF k = 7 THEN
            SELECT * INTO h FROM st_holds WHERE status = 'held' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
        ELSE
            SELECT * INTO h FROM st_holds WHERE status = 'held' ORDER BY id DESC LIMIT 1 FOR UPDATE SKIP LOCKED;
        END IF;
        IF FOUND THEN
            BEGIN
                IF k = 5 THEN
                    charge := (amount * 7919) % (h.amount + 1);
                    PERFORM grse.settle_budget_hold(h.id, charge);
                    UPDATE st_holds SET status = 'settled', settled = charge WHERE id = h.id;
                    IF charge > 0 THEN
                        INSERT INTO st_money (region, kind, amount, ok, via) VALUES (h.region, 'spend', charge, true, script);
                    END IF;
                    result := 'settled';
                ELSE
                    PERFORM grse.release_budget_hold(h.id);
                    UPDATE st_holds SET status = 'released' WHERE id = h.id;
                    result := 'released';
                END IF;
            EXCEPTION WHEN object_not_in_prerequisite_state THEN          -- 55000: the hold expired
                UPDATE st_holds SET status = 'expired' WHERE id = h.id;
                result := 'expired';
            END;
        END IF;
    ELSIF k = 8 THEN
        result := 'swept ' || CASE WHEN amount % 2 = 0 THEN grse.expire_budget_holds() ELSE grse.expire_budget_holds(r) END;
    ELSE
        SELECT * INTO kk FROM st_keys WHERE NOT retried ORDER BY id DESC LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF FOUND THEN
            IF kk.kind = 'spend' THEN
                PERFORM st_assert(grse.check_and_decrement_budget(kk.region, kk.amount, kk.agency, kk.job_type, kk.key),
                                  'a retried keyed spend answered false');
                PERFORM st_assert((SELECT count(*) FROM grse.region_budget_transactions t
                                    WHERE t.region_id = kk.region AND t.idempotency_key = kk.key) = 1,
                                  'a retried keyed spend wrote a second ledger row');
            ELSE
                SELECT * INTO d FROM grse.reserve_budget(kk.region, kk.amount, kk.agency, kk.job_type, kk.ttl, kk.key);
                PERFORM st_assert(d.allowed AND d.hold_id = kk.hold_id, 'a retried keyed reserve did not answer its first hold');
                PERFORM st_assert((SELECT count(*) FROM grse.budget_holds b
                                    WHERE b.region_id = kk.region AND b.idempotency_key = kk.key) = 1,
                                  'a retried keyed reserve made a second hold');
            END IF;
            UPDATE st_keys SET retried = true WHERE id = kk.id;
            result := 'retried ' || kk.kind;
        END IF;
    END IF;
    INSERT INTO st_ops (op, region, result) VALUES ('hold', r, result);
    PERFORM st_note(phase, client, script);
    RETURN result;
END
$$;

-- job: admitted jobs as records. k 1-3: admit_job with hold_budget (by region,
-- client or tenant; with fallback unless told not to); k 4-5: a worker starts the newest queued job;
-- k 6-7: finishes the newest running one (k = 6: succeeded with an actual cost up
-- to the estimate, else failed); k 8: cancels the oldest queued or running one. A
-- job found expired (55000) is recorded as such.
CREATE FUNCTION st_job(phase integer, client integer, n integer, k integer, how integer, cost bigint, jt integer,
                       fallback boolean DEFAULT true, script text DEFAULT 'job')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d record;
    j record;
    asked text := (ARRAY['region', 'client', 'tenant'])[1 + how % 3];
    c uuid := (SELECT id FROM st_clients WHERE region_n = st_job.n ORDER BY st_clients.n OFFSET cost % 6 LIMIT 1);
    t uuid := (SELECT id FROM st_agencies WHERE region_n = st_job.n ORDER BY st_agencies.n OFFSET cost % 3 LIMIT 1);
    rec jsonb;
    h record;
    result text;
BEGIN
    IF k <= 3 THEN
        SELECT * INTO d FROM grse.admit_job(st_job_type(jt),
                                            tenant_id => CASE asked WHEN 'tenant' THEN t END,
                                            region_id => CASE asked WHEN 'region' THEN st_region(n) END,
                                            client_id => CASE asked WHEN 'client' THEN c END,
                                            estimated_cost => cost, allow_fallback => fallback, hold_budget => true);
        IF d.admitted THEN
            INSERT INTO st_jobs (id, cost, has_hold, status, via) VALUES (d.job_id, cost, d.hold_id IS NOT NULL, 'queued', script);
        END IF;
        -- charged: the estimated cost is held (or there is none)
        INSERT INTO st_admissions (asked, job_type, admitted, region, cost, charged, mode, fallback, reason, via, job_id)
        VALUES (asked, st_job_type(jt), d.admitted, d.region_id, cost, CASE WHEN d.admitted THEN cost = 0 OR d.hold_id IS NOT NULL END,
                d.scaling_mode, d.fallback_used, d.reason, script, d.job_id);
        result := CASE WHEN d.admitted THEN 'admitted' ELSE 'refused' END;
    ELSE
        IF k <= 5 THEN
            SELECT * INTO j FROM st_jobs WHERE status = 'queued' ORDER BY id DESC LIMIT 1 FOR UPDATE SKIP LOCKED;
        ELSIF k <= 7 THEN
            SELECT * INTO j FROM st_jobs WHERE status = 'running' ORDER BY id DESC LIMIT 1 FOR UPDATE SKIP LOCKED;
        ELSE
            SELECT * INTO j FROM st_jobs WHERE status IN ('queued', 'running') ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
        END IF;
        IF FOUND THEN
            BEGIN
                IF k <= 5 THEN
                    rec := grse.start_job(j.id);
                ELSIF k = 6 THEN
                    rec := grse.finish_job(j.id, (cost * 7919) % (j.cost + 1));
                ELSIF k = 7 THEN
                    rec := grse.finish_job(j.id, cost, false);
                ELSE
                    rec := grse.cancel_job(j.id);
                END IF;
                UPDATE st_jobs SET status = rec ->> 'status' WHERE id = j.id;
                -- a settled hold's spend is charged to the hold's region (the job's, after migrations)
                SELECT * INTO h FROM grse.budget_holds b WHERE b.id = (rec ->> 'hold_id')::uuid;
                IF FOUND AND h.status = 'settled' AND h.settled_amount > 0 AND rec ->> 'status' = 'succeeded' THEN
                    INSERT INTO st_money (region, kind, amount, ok, via) VALUES (h.region_id, 'spend', h.settled_amount, true, script);
                END IF;
                result := rec ->> 'status';
            EXCEPTION WHEN object_not_in_prerequisite_state THEN          -- 55000: the job expired
                UPDATE st_jobs SET status = 'expired' WHERE id = j.id;
                result := 'expired';
            END;
        END IF;
    END IF;
    INSERT INTO st_ops (op, region, result) VALUES ('job', st_region(n), result);
    PERFORM st_note(phase, client, script);
    RETURN result;
END
$$;

-- migrate: migrate_jobs of a region's queued jobs: each to the best region for
-- its type (k 1-3), to the next region (k 4), or those of one job type to the best
-- regions (k 5). Records how many moved, and how many took a hold along.
CREATE FUNCTION st_migrate(phase integer, client integer, n integer, k integer, jt integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    r uuid := st_region(n);
    target uuid := CASE WHEN k = 4 THEN st_region(n % 8 + 1) END;
    jtype text := CASE WHEN k = 5 THEN st_job_type(jt) END;
    ids uuid[];
    tos uuid[];
    moved integer;
    with_hold integer;
BEGIN
    SELECT COALESCE(array_agg(m.job_id), '{}'), COALESCE(array_agg(m.to_region), '{}') INTO ids, tos
      FROM grse.migrate_jobs(r, target, jtype) m;
    -- a later statement, so that it sees what the migration wrote: the moved jobs' new holds
    SELECT count(*), count(*) FILTER (WHERE b.region_id = m.to_region AND b.status = 'held')
      INTO moved, with_hold
      FROM unnest(ids, tos) AS m(job_id, to_region) JOIN grse.jobs j ON j.id = m.job_id
      LEFT JOIN grse.budget_holds b ON b.id = j.hold_id;
    INSERT INTO st_migrations (from_region, to_region, job_type, moved, moved_with_hold)
    VALUES (r, target, jtype, moved, with_hold);
    PERFORM st_note(phase, client, 'migrate');
    RETURN moved;
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
