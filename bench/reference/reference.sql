-- "The original": what a team would write instead of grse — plain tables and
-- PL/pgSQL, ported from the formulas in the README's "Formulas" section and from
-- the seed's TypeScript services, in its own schema `ref`. It is the baseline
-- of the benchmark (bench/run.sh), not part of the extension.
--
-- It is written the way the seed's code works, without strawmen:
--   * tables with the same columns, CHECKs and indexes as grse's (bigint
--     cents, numeric(5,2) scores), so the comparison measures code, not schema;
--   * check_and_decrement_budget in the seed's style: SELECT ... FOR UPDATE,
--     compare, UPDATE, INSERT a ledger row with balance_after;
--   * a PL/pgSQL BEFORE INSERT OR UPDATE trigger recomputing overall pressure,
--     capacity, warning index and mode with the README formulas (same
--     defaults as grse.policy, written as constants), and an AFTER UPDATE
--     trigger that records a mode transition and notifies, as grse does;
--   * get_all_regions_health and compute_global_risk as loops over regions,
--     like the seed's services (listRegionHealth / computeGlobalRisk);
--   * admit_job: mode check, budget check, priority and wait, a shard key from
--     hashtext(tenant) % 16, queue bump — under the region's row lock.
-- Not covered (grse does these, the original did not): budget periods and
-- roll-overs, refund limits, fatigue, guards on budget columns, append-only
-- ledger, tenant isolation, argument validation beyond the basics.
--
-- Load with:  psql -v ON_ERROR_STOP=1 -f bench/reference/reference.sql

CREATE SCHEMA IF NOT EXISTS ref;

-- ---------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------
CREATE TABLE ref.regions (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name              text NOT NULL,
    slug              text NOT NULL UNIQUE,
    country_code      text NOT NULL DEFAULT 'ZZ',
    timezone          text NOT NULL DEFAULT 'UTC',
    active            boolean NOT NULL DEFAULT true,
    metadata          jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ref.region_scaling_state (
    region_id               uuid PRIMARY KEY REFERENCES ref.regions (id),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    ai_budget_monthly       bigint NOT NULL DEFAULT 100000 CHECK (ai_budget_monthly >= 0),
    ai_budget_remaining     bigint NOT NULL DEFAULT 100000 CHECK (ai_budget_remaining >= 0),
    ai_spend_today          bigint NOT NULL DEFAULT 0 CHECK (ai_spend_today >= 0),
    posting_pressure        numeric(5,2) NOT NULL DEFAULT 0 CHECK (posting_pressure BETWEEN 0 AND 100),
    orchestration_pressure  numeric(5,2) NOT NULL DEFAULT 0 CHECK (orchestration_pressure BETWEEN 0 AND 100),
    creative_pressure       numeric(5,2) NOT NULL DEFAULT 0 CHECK (creative_pressure BETWEEN 0 AND 100),
    intel_pressure          numeric(5,2) NOT NULL DEFAULT 0 CHECK (intel_pressure BETWEEN 0 AND 100),
    warning_index           numeric(5,2) NOT NULL DEFAULT 0 CHECK (warning_index BETWEEN 0 AND 100),
    capacity_score          numeric(5,2) NOT NULL DEFAULT 100 CHECK (capacity_score BETWEEN 0 AND 100),
    fatigue_score           numeric(5,2) NOT NULL DEFAULT 0 CHECK (fatigue_score BETWEEN 0 AND 100),
    active_agencies         integer NOT NULL DEFAULT 0 CHECK (active_agencies >= 0),
    active_clients          integer NOT NULL DEFAULT 0 CHECK (active_clients >= 0),
    jobs_in_queue           integer NOT NULL DEFAULT 0 CHECK (jobs_in_queue >= 0),
    scaling_mode            text NOT NULL DEFAULT 'normal'
                            CHECK (scaling_mode IN ('normal', 'cautious', 'throttled', 'frozen')),
    metadata                jsonb NOT NULL DEFAULT '{}',
    overall_pressure        numeric(5,2) NOT NULL DEFAULT 0 CHECK (overall_pressure BETWEEN 0 AND 100),
    mode_since              timestamptz NOT NULL DEFAULT now(),
    shard_count             integer CHECK (shard_count BETWEEN 1 AND 65536),
    CHECK (ai_budget_remaining <= ai_budget_monthly)
);
CREATE INDEX region_scaling_state_mode_idx ON ref.region_scaling_state (scaling_mode);

CREATE TABLE ref.region_budget_transactions (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id         uuid NOT NULL REFERENCES ref.regions (id),
    agency_id         uuid,
    transaction_type  text NOT NULL CHECK (transaction_type IN ('allocation', 'spend', 'refund', 'reset')),
    amount            bigint NOT NULL CHECK (amount > 0),
    delta             bigint NOT NULL,
    balance_after     bigint NOT NULL CHECK (balance_after >= 0),
    description       text,
    job_type          text CHECK (job_type IN ('posting', 'orchestration', 'creative', 'intel')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (amount = abs(delta))
);
CREATE INDEX region_budget_transactions_region_idx ON ref.region_budget_transactions (region_id, id);
CREATE INDEX region_budget_transactions_region_time_idx ON ref.region_budget_transactions (region_id, created_at);

CREATE TABLE ref.region_mode_transitions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id   uuid NOT NULL REFERENCES ref.regions (id),
    from_mode   text NOT NULL,
    to_mode     text NOT NULL,
    capacity    numeric(5,2) NOT NULL,
    pressure    numeric(5,2) NOT NULL,
    reason      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX region_mode_transitions_region_idx ON ref.region_mode_transitions (region_id, created_at, id);

-- The row type get_all_regions_health() collects before sorting.
CREATE TYPE ref.region_health AS (
    region_id uuid, region_name text, scaling_mode text, capacity_score numeric,
    overall_pressure numeric, budget_percent_remaining numeric, warning_index numeric);

-- ---------------------------------------------------------------------------
-- Formulas (README "Formulas"; grse.policy defaults as constants)
-- ---------------------------------------------------------------------------
-- Overall pressure = 0.30·posting + 0.25·orchestration + 0.25·creative + 0.20·intel, 2 decimals.
CREATE FUNCTION ref.calc_pressure(posting numeric, orchestration numeric, creative numeric, intel numeric)
RETURNS numeric LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN round(0.30 * posting + 0.25 * orchestration + 0.25 * creative + 0.20 * intel, 2);
END
$$;

-- Capacity = 100·(0.40·remaining/max(monthly,1) + 0.35·(1 − pressure/100) + 0.25·(1 − fatigue/100)), [0,100], 2 decimals.
CREATE FUNCTION ref.calc_capacity(remaining bigint, monthly bigint, pressure numeric, fatigue numeric)
RETURNS numeric LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN LEAST(100, GREATEST(0, round(100 * (
               0.40 * LEAST(GREATEST(remaining, 0), GREATEST(monthly, 1))::numeric / GREATEST(monthly, 1)
             + 0.35 * (1 - pressure / 100)
             + 0.25 * (1 - fatigue / 100)), 2)));
END
$$;

-- Mode thresholds of the seed.
CREATE FUNCTION ref.calc_mode(capacity numeric, pressure numeric)
RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF capacity < 10 OR pressure > 90 THEN
        RETURN 'frozen';
    ELSIF capacity < 30 OR pressure > 75 THEN
        RETURN 'throttled';
    ELSIF capacity < 50 OR pressure > 60 THEN
        RETURN 'cautious';
    END IF;
    RETURN 'normal';
END
$$;

-- Budget percent remaining = round(100·remaining/monthly, 2), 0 when monthly is 0.
CREATE FUNCTION ref.budget_percent(remaining bigint, monthly bigint)
RETURNS numeric LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF monthly > 0 THEN
        RETURN round(GREATEST(remaining, 0)::numeric * 100 / monthly, 2);
    END IF;
    RETURN 0;
END
$$;

-- ---------------------------------------------------------------------------
-- The seed's helper functions
-- ---------------------------------------------------------------------------
CREATE FUNCTION ref.compute_region_pressure(p_region_id uuid)
RETURNS numeric LANGUAGE plpgsql STABLE AS $$
DECLARE
    s ref.region_scaling_state%ROWTYPE;
BEGIN
    SELECT * INTO s FROM ref.region_scaling_state WHERE region_id = p_region_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'region % not found', p_region_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN ref.calc_pressure(s.posting_pressure, s.orchestration_pressure, s.creative_pressure, s.intel_pressure);
END
$$;

CREATE FUNCTION ref.compute_region_capacity(p_region_id uuid)
RETURNS numeric LANGUAGE plpgsql STABLE AS $$
DECLARE
    s ref.region_scaling_state%ROWTYPE;
BEGIN
    SELECT * INTO s FROM ref.region_scaling_state WHERE region_id = p_region_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'region % not found', p_region_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN ref.calc_capacity(s.ai_budget_remaining, s.ai_budget_monthly,
                             ref.calc_pressure(s.posting_pressure, s.orchestration_pressure,
                                               s.creative_pressure, s.intel_pressure),
                             s.fatigue_score);
END
$$;

-- The seed's SQL helper: lock, compare, update, write the ledger row.
CREATE FUNCTION ref.check_and_decrement_budget(p_region_id uuid, p_amount bigint,
                                               p_agency_id uuid DEFAULT NULL, p_job_type text DEFAULT NULL)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_remaining bigint;
BEGIN
    IF p_amount IS NULL OR p_amount <= 0 THEN
        RAISE EXCEPTION 'amount must be positive' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT ai_budget_remaining INTO v_remaining
      FROM ref.region_scaling_state
     WHERE region_id = p_region_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'region % not found', p_region_id USING ERRCODE = 'no_data_found';
    END IF;
    IF v_remaining < p_amount THEN
        RETURN false;
    END IF;
    UPDATE ref.region_scaling_state
       SET ai_budget_remaining = ai_budget_remaining - p_amount,
           ai_spend_today = ai_spend_today + p_amount
     WHERE region_id = p_region_id;
    INSERT INTO ref.region_budget_transactions
           (region_id, agency_id, transaction_type, amount, delta, balance_after, job_type)
    VALUES (p_region_id, p_agency_id, 'spend', p_amount, -p_amount, v_remaining - p_amount,
            CASE WHEN p_job_type = 'performance' THEN 'intel' ELSE p_job_type END);
    RETURN true;
END
$$;

-- Allocation: set the monthly budget, move remaining by the same difference.
CREATE FUNCTION ref.set_monthly_budget(p_region_id uuid, p_amount bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    s ref.region_scaling_state%ROWTYPE;
    v_new bigint;
BEGIN
    SELECT * INTO s FROM ref.region_scaling_state WHERE region_id = p_region_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'region % not found', p_region_id USING ERRCODE = 'no_data_found';
    END IF;
    v_new := LEAST(GREATEST(s.ai_budget_remaining + (p_amount - s.ai_budget_monthly), 0), p_amount);
    UPDATE ref.region_scaling_state SET ai_budget_monthly = p_amount, ai_budget_remaining = v_new
     WHERE region_id = p_region_id;
    IF v_new <> s.ai_budget_remaining THEN
        INSERT INTO ref.region_budget_transactions
               (region_id, transaction_type, amount, delta, balance_after, description)
        VALUES (p_region_id, 'allocation', abs(v_new - s.ai_budget_remaining), v_new - s.ai_budget_remaining,
                v_new, 'monthly budget set to ' || p_amount);
    END IF;
    RETURN v_new;
END
$$;

-- ---------------------------------------------------------------------------
-- Triggers: derived scores and mode on every write; transitions on change
-- ---------------------------------------------------------------------------
CREATE FUNCTION ref.state_before_write() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_pressure numeric;
    v_capacity numeric;
    v_mode     text;
    v_pct      numeric;
    v_warnings integer := 0;
    v_critical integer := 0;
BEGIN
    v_pressure := round(0.30 * NEW.posting_pressure + 0.25 * NEW.orchestration_pressure
                        + 0.25 * NEW.creative_pressure + 0.20 * NEW.intel_pressure, 2);
    v_capacity := LEAST(100, GREATEST(0, round(100 * (
                      0.40 * LEAST(GREATEST(NEW.ai_budget_remaining, 0), GREATEST(NEW.ai_budget_monthly, 1))::numeric
                           / GREATEST(NEW.ai_budget_monthly, 1)
                    + 0.35 * (1 - v_pressure / 100)
                    + 0.25 * (1 - NEW.fatigue_score / 100)), 2)));
    IF v_capacity < 10 OR v_pressure > 90 THEN
        v_mode := 'frozen';
    ELSIF v_capacity < 30 OR v_pressure > 75 THEN
        v_mode := 'throttled';
    ELSIF v_capacity < 50 OR v_pressure > 60 THEN
        v_mode := 'cautious';
    ELSE
        v_mode := 'normal';
    END IF;

    -- warning index = min(100, 15·warnings + 35·criticals) over the region's conditions
    IF NEW.ai_budget_monthly > 0 THEN
        v_pct := round(GREATEST(NEW.ai_budget_remaining, 0)::numeric * 100 / NEW.ai_budget_monthly, 2);
    ELSE
        v_pct := 0;
    END IF;
    IF v_capacity < 20 THEN v_critical := v_critical + 1;
    ELSIF v_capacity < 40 THEN v_warnings := v_warnings + 1; END IF;
    IF v_pct < 10 THEN v_critical := v_critical + 1;
    ELSIF v_pct < 25 THEN v_warnings := v_warnings + 1; END IF;
    IF v_mode = 'frozen' THEN v_critical := v_critical + 1;
    ELSIF v_mode = 'throttled' THEN v_warnings := v_warnings + 1; END IF;
    IF v_pressure > 75 THEN v_critical := v_critical + 1;
    ELSIF v_pressure > 60 THEN v_warnings := v_warnings + 1; END IF;

    NEW.overall_pressure := v_pressure;
    NEW.capacity_score := v_capacity;
    NEW.warning_index := LEAST(100, 15 * v_warnings + 35 * v_critical);
    NEW.updated_at := now();
    IF TG_OP = 'INSERT' OR OLD.scaling_mode IS DISTINCT FROM v_mode THEN
        NEW.mode_since := now();
    END IF;
    NEW.scaling_mode := v_mode;
    RETURN NEW;
END
$$;

CREATE TRIGGER region_scaling_state_derive
    BEFORE INSERT OR UPDATE ON ref.region_scaling_state
    FOR EACH ROW EXECUTE FUNCTION ref.state_before_write();

CREATE FUNCTION ref.state_after_mode_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_reason text := format('capacity %s, pressure %s', NEW.capacity_score, NEW.overall_pressure);
BEGIN
    INSERT INTO ref.region_mode_transitions (region_id, from_mode, to_mode, capacity, pressure, reason)
    VALUES (NEW.region_id, OLD.scaling_mode, NEW.scaling_mode, NEW.capacity_score, NEW.overall_pressure, v_reason);
    PERFORM pg_notify('ref_mode_changed', json_build_object(
                'region_id', NEW.region_id, 'from', OLD.scaling_mode, 'to', NEW.scaling_mode,
                'capacity', NEW.capacity_score, 'pressure', NEW.overall_pressure,
                'reason', v_reason, 'at', now())::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER region_scaling_state_mode_changed
    AFTER UPDATE ON ref.region_scaling_state
    FOR EACH ROW WHEN (OLD.scaling_mode IS DISTINCT FROM NEW.scaling_mode)
    EXECUTE FUNCTION ref.state_after_mode_change();

-- A new region gets its state row (and opening allocation), like the seed's migration.
CREATE FUNCTION ref.region_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ref.region_scaling_state (region_id) VALUES (NEW.id);
    INSERT INTO ref.region_budget_transactions (region_id, transaction_type, amount, delta, balance_after, description)
    VALUES (NEW.id, 'allocation', 100000, 100000, 100000, 'initial monthly budget');
    RETURN NULL;
END
$$;

CREATE TRIGGER regions_create_state
    AFTER INSERT ON ref.regions
    FOR EACH ROW EXECUTE FUNCTION ref.region_after_insert();

-- ---------------------------------------------------------------------------
-- Monitor: health and global risk, per region in loops (the seed's services)
-- ---------------------------------------------------------------------------
-- listRegionHealth(): for every active region read its state and compute its
-- health figures, then sort by warning index (desc), then name.
CREATE FUNCTION ref.get_all_regions_health()
RETURNS TABLE (region_id uuid, region_name text, scaling_mode text, capacity_score numeric,
               overall_pressure numeric, budget_percent_remaining numeric, warning_index numeric)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r       record;
    s       ref.region_scaling_state%ROWTYPE;
    v_p     numeric;
    v_rows  ref.region_health[] := '{}';
BEGIN
    FOR r IN SELECT g.id, g.name FROM ref.regions g WHERE g.active LOOP
        SELECT * INTO s FROM ref.region_scaling_state st WHERE st.region_id = r.id;
        CONTINUE WHEN NOT FOUND;
        v_p := ref.calc_pressure(s.posting_pressure, s.orchestration_pressure, s.creative_pressure, s.intel_pressure);
        v_rows := array_append(v_rows, ROW(
            r.id, r.name, s.scaling_mode,
            ref.calc_capacity(s.ai_budget_remaining, s.ai_budget_monthly, v_p, s.fatigue_score),
            v_p,
            ref.budget_percent(s.ai_budget_remaining, s.ai_budget_monthly),
            s.warning_index)::ref.region_health);
    END LOOP;
    RETURN QUERY
        SELECT h.region_id, h.region_name, h.scaling_mode, h.capacity_score, h.overall_pressure,
               h.budget_percent_remaining, h.warning_index
          FROM unnest(v_rows) h
         ORDER BY h.warning_index DESC, h.region_name, h.region_id;
END
$$;

-- computeGlobalRisk(): one pass over the active regions (name order):
-- conflicts, score, recommendations; the same JSON shape and texts as grse.
CREATE FUNCTION ref.compute_global_risk()
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    r            record;
    v_at         timestamptz := now();
    v_pct        numeric;
    v_score      integer := 0;
    v_regions    integer := 0;
    v_level      text;
    v_conflicts  jsonb[] := '{}';
    rec_frozen   text[] := '{}';
    rec_budget   text[] := '{}';
    rec_pressure text[] := '{}';
    rec_capacity text[] := '{}';
    v_recs       text[];
BEGIN
    FOR r IN
        SELECT g.id, g.name, s.scaling_mode, s.capacity_score, s.overall_pressure,
               s.ai_budget_remaining, s.ai_budget_monthly
          FROM ref.regions g JOIN ref.region_scaling_state s ON s.region_id = g.id
         WHERE g.active
         ORDER BY g.name, g.id
    LOOP
        v_regions := v_regions + 1;
        v_pct := ref.budget_percent(r.ai_budget_remaining, r.ai_budget_monthly);

        -- conflicts
        IF r.scaling_mode = 'frozen' THEN
            v_conflicts := array_append(v_conflicts, jsonb_build_object(
                'type', 'mode_frozen', 'region_id', r.id, 'region_name', r.name, 'severity', 'critical',
                'message', 'Region is frozen: no new jobs are admitted', 'detected_at', v_at));
            v_score := v_score + 20;
        END IF;
        IF r.capacity_score < 20 THEN
            v_conflicts := array_append(v_conflicts, jsonb_build_object(
                'type', 'capacity_critical', 'region_id', r.id, 'region_name', r.name, 'severity', 'critical',
                'message', format('Capacity %s is below 20.00', r.capacity_score), 'detected_at', v_at));
            v_score := v_score + 20;
        ELSIF r.capacity_score < 40 THEN
            v_conflicts := array_append(v_conflicts, jsonb_build_object(
                'type', 'capacity_critical', 'region_id', r.id, 'region_name', r.name, 'severity', 'warning',
                'message', format('Capacity %s is below 40.00', r.capacity_score), 'detected_at', v_at));
            v_score := v_score + 10;
        END IF;
        IF v_pct < 10 THEN
            v_conflicts := array_append(v_conflicts, jsonb_build_object(
                'type', 'budget_exceeded', 'region_id', r.id, 'region_name', r.name, 'severity', 'critical',
                'message', format('Budget %s%% remaining is below 10.00%%', v_pct), 'detected_at', v_at));
            v_score := v_score + 20;
        ELSIF v_pct < 25 THEN
            v_conflicts := array_append(v_conflicts, jsonb_build_object(
                'type', 'budget_exceeded', 'region_id', r.id, 'region_name', r.name, 'severity', 'warning',
                'message', format('Budget %s%% remaining is below 25.00%%', v_pct), 'detected_at', v_at));
            v_score := v_score + 10;
        END IF;

        -- capacity and frozen points
        IF r.capacity_score < 30 THEN
            v_score := v_score + 15;
        ELSIF r.capacity_score < 50 THEN
            v_score := v_score + 5;
        END IF;
        IF r.scaling_mode = 'frozen' THEN
            v_score := v_score + 25;
        END IF;

        -- recommendations, grouped as grse orders them
        IF r.scaling_mode = 'frozen' THEN
            rec_frozen := array_append(rec_frozen, format(
                'Region %s is frozen: move new jobs to another region and restore its budget or reduce its load', r.name));
        END IF;
        IF v_pct < 25 THEN
            rec_budget := array_append(rec_budget, format(
                'Region %s has %s%% of its budget remaining: raise its monthly budget or slow AI spend', r.name, v_pct));
        END IF;
        IF r.overall_pressure > 70 THEN
            rec_pressure := array_append(rec_pressure, format(
                'Region %s pressure is %s: route new jobs to less loaded regions', r.name, r.overall_pressure));
        END IF;
        IF r.capacity_score < 40 THEN
            rec_capacity := array_append(rec_capacity, format(
                'Region %s capacity is %s: reduce its load or add budget', r.name, r.capacity_score));
        END IF;
    END LOOP;

    v_score := LEAST(100, v_score);
    v_level := CASE WHEN v_score >= 70 THEN 'critical' WHEN v_score >= 50 THEN 'high'
                    WHEN v_score >= 25 THEN 'medium' ELSE 'low' END;
    v_recs := rec_frozen || rec_budget || rec_pressure || rec_capacity;
    IF cardinality(v_recs) = 0 THEN
        v_recs := ARRAY['All regions operating normally'];
    END IF;
    RETURN jsonb_build_object(
        'overall_risk', v_score,
        'risk_level', v_level,
        'conflicts', to_jsonb(v_conflicts),
        'recommendations', to_jsonb(v_recs),
        'regions_assessed', v_regions,
        'assessed_at', v_at);
END
$$;

-- ---------------------------------------------------------------------------
-- Admission: mode, budget, priority/wait, shard key, queue bump, one region
-- ---------------------------------------------------------------------------
CREATE FUNCTION ref.admit_job(job_type text, region uuid, cost bigint DEFAULT 0, tenant uuid DEFAULT NULL)
RETURNS TABLE (admitted boolean, region_id uuid, shard_key text, priority integer, estimated_wait integer,
               scaling_mode text, queue_depth integer, reason text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_type     text := CASE WHEN admit_job.job_type = 'performance' THEN 'intel' ELSE admit_job.job_type END;
    v_base     integer;
    v_divisor  integer;
    v_secs     integer;
    v_pressure numeric;
    v_shard    integer;
    v_depth    integer;
    s          record;
BEGIN
    CASE v_type
        WHEN 'posting'       THEN v_base := 5; v_divisor := 20; v_secs := 2;
        WHEN 'orchestration' THEN v_base := 7; v_divisor := 25; v_secs := 3;
        WHEN 'creative'      THEN v_base := 4; v_divisor := 20; v_secs := 5;
        WHEN 'intel'         THEN v_base := 3; v_divisor := 30; v_secs := 4;
        ELSE RAISE EXCEPTION 'unknown job type "%"', admit_job.job_type USING ERRCODE = 'invalid_parameter_value';
    END CASE;
    IF cost IS NULL OR cost < 0 THEN
        RAISE EXCEPTION 'cost must not be negative' USING ERRCODE = 'invalid_parameter_value';
    END IF;

    SELECT g.slug, g.active, st.scaling_mode, st.ai_budget_remaining, st.jobs_in_queue,
           st.posting_pressure, st.orchestration_pressure, st.creative_pressure, st.intel_pressure
      INTO s
      FROM ref.regions g JOIN ref.region_scaling_state st ON st.region_id = g.id
     WHERE g.id = admit_job.region
       FOR UPDATE OF st;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'region % not found', admit_job.region USING ERRCODE = 'no_data_found';
    END IF;
    IF NOT s.active THEN
        RAISE EXCEPTION 'region % is inactive', admit_job.region USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    IF s.scaling_mode = 'frozen' THEN
        RETURN QUERY SELECT false, admit_job.region, NULL::text, NULL::integer, NULL::integer,
                            s.scaling_mode, NULL::integer, 'Region is frozen';
        RETURN;
    ELSIF s.scaling_mode = 'throttled' AND v_type = 'creative' THEN
        RETURN QUERY SELECT false, admit_job.region, NULL::text, NULL::integer, NULL::integer,
                            s.scaling_mode, NULL::integer, 'Region is throttled: creative jobs are blocked';
        RETURN;
    ELSIF s.scaling_mode = 'throttled' AND cost > 100 THEN
        RETURN QUERY SELECT false, admit_job.region, NULL::text, NULL::integer, NULL::integer, s.scaling_mode,
                            NULL::integer,
                            format('Region is throttled: only small operations are allowed (cost %s > 100 cents)', cost);
        RETURN;
    ELSIF s.ai_budget_remaining < cost THEN
        RETURN QUERY SELECT false, admit_job.region, NULL::text, NULL::integer, NULL::integer, s.scaling_mode,
                            NULL::integer,
                            format('Insufficient budget: %s remaining, %s requested', s.ai_budget_remaining, cost);
        RETURN;
    END IF;

    v_pressure := CASE v_type WHEN 'posting' THEN s.posting_pressure
                              WHEN 'orchestration' THEN s.orchestration_pressure
                              WHEN 'creative' THEN s.creative_pressure
                              ELSE s.intel_pressure END;
    v_shard := (hashtext(COALESCE(tenant, gen_random_uuid())::text) & 2147483647) % 16;

    UPDATE ref.region_scaling_state st SET jobs_in_queue = st.jobs_in_queue + 1
     WHERE st.region_id = admit_job.region
    RETURNING st.jobs_in_queue INTO v_depth;

    RETURN QUERY SELECT true, admit_job.region,
                        s.slug || '/' || v_type || '/' || lpad(v_shard::text, 2, '0'),
                        GREATEST(1, v_base - floor(v_pressure / v_divisor)::integer),
                        s.jobs_in_queue * v_secs,
                        s.scaling_mode, v_depth, 'Admitted'::text;
END
$$;
