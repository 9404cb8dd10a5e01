-- grse schema: tables, constraints and indexes.
-- Loaded first by CREATE EXTENSION grse (before the Rust functions).
-- Money is bigint cents; scores are numeric(5,2) in [0, 100].
-- Closed sets (modes, job types, transaction and period types) are CHECKs on text,
-- so clients read and write plain strings.
-- The three tables every spend writes (region_scaling_state, region_budget_slots and
-- region_budget_transactions) keep only keys and NOT NULLs: their row rules are checked
-- by the row triggers they fire on every write (src/triggers/rules.rs), because
-- PostgreSQL re-reads and re-plans a table's CHECK expressions for every statement,
-- which cost a spend more than its own work. A broken rule is SQLSTATE 23514 naming it
-- as the CHECK did; the rules are listed with each table below.

-- A time zone name of the tz (IANA) database, as pg_timezone_names lists them ("UTC",
-- "Europe/Berlin", "America/Argentina/Buenos_Aires", "EST5EDT"; case-insensitive, as
-- PostgreSQL reads them). AT TIME ZONE also accepts POSIX specs ('UTC+5', which POSIX reads
-- as five hours west of Greenwich, 'EST5', '<+03>-3') and abbreviations ('CEST'): refused.
-- An Area/Location name (one with a slash and no comma) is never a POSIX spec, so PostgreSQL
-- loading it proves it a zone of the database; the few names without a slash are looked up
-- in pg_timezone_names (which reads every zone file: slow, so only for them).
CREATE FUNCTION grse.is_valid_timezone(tz text) RETURNS boolean
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tz = 'UTC' THEN
        RETURN true;
    END IF;
    IF tz ~ '^[A-Za-z][A-Za-z_-]*(/[A-Za-z0-9_+-]+)+$' AND tz !~* '^right/' THEN
        PERFORM now() AT TIME ZONE tz;
        RETURN true;
    END IF;
    RETURN EXISTS (SELECT 1 FROM pg_timezone_names n WHERE lower(n.name) = lower(tz) AND n.name !~ '/');
EXCEPTION WHEN invalid_parameter_value THEN
    RETURN false;
END
$$;

-- The region-local period ('day' or 'month') that contains `at`, as instants,
-- and the local date it starts on. Budget periods roll over at these bounds.
CREATE FUNCTION grse.period_bounds(period text, tz text, at timestamptz,
                                   OUT starts_at timestamptz, OUT ends_at timestamptz, OUT local_start date)
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    local_start_ts timestamp;
BEGIN
    IF period NOT IN ('day', 'month') THEN
        RAISE EXCEPTION 'unknown budget period "%"', period USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use day or month.';
    END IF;
    local_start_ts := pg_catalog.date_trunc(period, at AT TIME ZONE tz);
    starts_at := local_start_ts AT TIME ZONE tz;
    ends_at := (local_start_ts + pg_catalog.concat('1 ', period)::interval) AT TIME ZONE tz;
    local_start := local_start_ts::date;
END
$$;

-- ---------------------------------------------------------------------------
-- Policy: every threshold, weight and limit, in one validated row.
-- ---------------------------------------------------------------------------
CREATE TABLE grse.policy (
    id                              boolean PRIMARY KEY DEFAULT true CHECK (id),
    pressure_weight_posting         numeric(5,4) NOT NULL DEFAULT 0.30,
    pressure_weight_orchestration   numeric(5,4) NOT NULL DEFAULT 0.25,
    pressure_weight_creative        numeric(5,4) NOT NULL DEFAULT 0.25,
    pressure_weight_intel           numeric(5,4) NOT NULL DEFAULT 0.20,
    capacity_weight_budget          numeric(5,4) NOT NULL DEFAULT 0.40,
    capacity_weight_pressure        numeric(5,4) NOT NULL DEFAULT 0.35,
    capacity_weight_fatigue         numeric(5,4) NOT NULL DEFAULT 0.25,
    frozen_capacity_below           numeric(5,2) NOT NULL DEFAULT 10,
    throttled_capacity_below        numeric(5,2) NOT NULL DEFAULT 30,
    cautious_capacity_below         numeric(5,2) NOT NULL DEFAULT 50,
    frozen_pressure_above           numeric(5,2) NOT NULL DEFAULT 90,
    throttled_pressure_above        numeric(5,2) NOT NULL DEFAULT 75,
    cautious_pressure_above         numeric(5,2) NOT NULL DEFAULT 60,
    small_job_max_cents             bigint       NOT NULL DEFAULT 100,
    pressure_ema_alpha              numeric(5,4) NOT NULL DEFAULT 0.30,
    pressure_points_per_job         numeric(5,2) NOT NULL DEFAULT 10,
    capacity_critical_below         numeric(5,2) NOT NULL DEFAULT 20,
    capacity_warning_below          numeric(5,2) NOT NULL DEFAULT 40,
    budget_critical_below_pct       numeric(5,2) NOT NULL DEFAULT 10,
    budget_warning_below_pct        numeric(5,2) NOT NULL DEFAULT 25,
    warning_points                  numeric(5,2) NOT NULL DEFAULT 15,
    critical_points                 numeric(5,2) NOT NULL DEFAULT 35,
    fatigue_window                  interval     NOT NULL DEFAULT '24 hours',
    preferred_region_min_capacity   numeric(5,2) NOT NULL DEFAULT 30,
    default_shard_count             integer      NOT NULL DEFAULT 16,
    risk_pressure_above             numeric(5,2) NOT NULL DEFAULT 70,
    default_monthly_budget_cents    bigint       NOT NULL DEFAULT 100000,
    history_retention               interval     NOT NULL DEFAULT '90 days',
    updated_at                      timestamptz  NOT NULL DEFAULT now(),
    default_budget_slots            integer      NOT NULL DEFAULT 1,
    cautious_delay_seconds          integer      NOT NULL DEFAULT 30
                                    CONSTRAINT policy_cautious_delay_range
                                    CHECK (cautious_delay_seconds BETWEEN 0 AND 86400),
    mode_recovery_margin            numeric(5,2) NOT NULL DEFAULT 0
                                    CONSTRAINT policy_mode_recovery_margin_range
                                    CHECK (mode_recovery_margin BETWEEN 0 AND 100),
    mode_min_dwell                  interval     NOT NULL DEFAULT '0'
                                    CONSTRAINT policy_mode_min_dwell_range
                                    CHECK (mode_min_dwell >= interval '0' AND mode_min_dwell <= interval '1 day'),
    hold_ttl                        interval     NOT NULL DEFAULT '15 minutes'
                                    CONSTRAINT policy_hold_ttl_range
                                    CHECK (hold_ttl > interval '0' AND hold_ttl <= interval '7 days'),
    job_ttl                         interval     NOT NULL DEFAULT '1 hour'
                                    CONSTRAINT policy_job_ttl_range
                                    CHECK (job_ttl > interval '0' AND job_ttl <= interval '30 days'),
    auto_budget_slots               integer      NOT NULL DEFAULT 32
                                    CONSTRAINT policy_auto_budget_slots_range
                                    CHECK (auto_budget_slots BETWEEN 1 AND 64),

    CONSTRAINT policy_weights_in_unit_range CHECK (
        pressure_weight_posting BETWEEN 0 AND 1 AND pressure_weight_orchestration BETWEEN 0 AND 1
        AND pressure_weight_creative BETWEEN 0 AND 1 AND pressure_weight_intel BETWEEN 0 AND 1
        AND capacity_weight_budget BETWEEN 0 AND 1 AND capacity_weight_pressure BETWEEN 0 AND 1
        AND capacity_weight_fatigue BETWEEN 0 AND 1),
    CONSTRAINT policy_pressure_weights_sum_to_one CHECK (
        pressure_weight_posting + pressure_weight_orchestration
        + pressure_weight_creative + pressure_weight_intel = 1),
    CONSTRAINT policy_capacity_weights_sum_to_one CHECK (
        capacity_weight_budget + capacity_weight_pressure + capacity_weight_fatigue = 1),
    CONSTRAINT policy_capacity_thresholds_ordered CHECK (
        0 <= frozen_capacity_below AND frozen_capacity_below < throttled_capacity_below
        AND throttled_capacity_below < cautious_capacity_below AND cautious_capacity_below <= 100),
    CONSTRAINT policy_pressure_thresholds_ordered CHECK (
        0 <= cautious_pressure_above AND cautious_pressure_above < throttled_pressure_above
        AND throttled_pressure_above < frozen_pressure_above AND frozen_pressure_above <= 100),
    CONSTRAINT policy_conflict_thresholds_ordered CHECK (
        0 <= capacity_critical_below AND capacity_critical_below < capacity_warning_below
        AND capacity_warning_below <= 100
        AND 0 <= budget_critical_below_pct AND budget_critical_below_pct < budget_warning_below_pct
        AND budget_warning_below_pct <= 100),
    CONSTRAINT policy_points_in_range CHECK (
        pressure_points_per_job BETWEEN 0 AND 100 AND warning_points BETWEEN 0 AND 100
        AND critical_points BETWEEN 0 AND 100 AND preferred_region_min_capacity BETWEEN 0 AND 100
        AND risk_pressure_above BETWEEN 0 AND 100),
    CONSTRAINT policy_alpha_in_range CHECK (pressure_ema_alpha > 0 AND pressure_ema_alpha <= 1),
    CONSTRAINT policy_limits_valid CHECK (
        small_job_max_cents >= 0 AND default_monthly_budget_cents >= 0
        AND default_shard_count BETWEEN 1 AND 65536
        AND default_budget_slots BETWEEN 1 AND 64
        AND fatigue_window > interval '0' AND fatigue_window <= interval '366 days'
        AND history_retention > interval '0')
);
COMMENT ON TABLE grse.policy IS
    'The one policy row: thresholds, weights and limits every session judges regions by. Update it; never insert or delete.';
COMMENT ON COLUMN grse.policy.cautious_delay_seconds IS
    'Seconds a cautious region delays each job it admits (delay_seconds of route_* and admit_job rows, added to estimated_wait); 0 to 86400.';
COMMENT ON COLUMN grse.policy.mode_recovery_margin IS
    'Hysteresis: a region moves to a better mode only when its capacity and pressure clear that mode''s thresholds by this many points; 0 to 100 (0 = the plain thresholds).';
COMMENT ON COLUMN grse.policy.mode_min_dwell IS
    'Hysteresis: a region moves to a better mode only after holding its current mode this long (worse modes apply at once); 0 to 1 day.';
COMMENT ON COLUMN grse.policy.hold_ttl IS 'Lifetime of a budget hold reserved without a ttl; more than 0, at most 7 days.';
COMMENT ON COLUMN grse.policy.job_ttl IS
    'Lifetime of an admitted job record: jobs not finished by created_at + job_ttl are expired; more than 0, at most 30 days.';
COMMENT ON COLUMN grse.policy.auto_budget_slots IS
    'Budget slots a region without budget_slots of its own takes by itself while its spends contend for its state row (region_scaling_state.auto_slots_until); 1 = never; 1 to 64.';
INSERT INTO grse.policy DEFAULT VALUES;

-- ---------------------------------------------------------------------------
-- Regions, licenses, clients
-- ---------------------------------------------------------------------------
CREATE TABLE grse.regions (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name              text NOT NULL CONSTRAINT regions_name_not_blank CHECK (btrim(name) <> ''),
    slug              text NOT NULL UNIQUE
                      CONSTRAINT regions_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    country_code      text NOT NULL CONSTRAINT regions_country_code_iso CHECK (country_code ~ '^[A-Z]{2}$'),
    timezone          text NOT NULL DEFAULT 'UTC'
                      CONSTRAINT regions_timezone_valid CHECK (grse.is_valid_timezone(timezone)),
    parent_region_id  uuid REFERENCES grse.regions (id),
    active            boolean NOT NULL DEFAULT true,
    latitude          double precision CONSTRAINT regions_latitude_range CHECK (latitude BETWEEN -90 AND 90),
    longitude         double precision CONSTRAINT regions_longitude_range CHECK (longitude BETWEEN -180 AND 180),
    metadata          jsonb NOT NULL DEFAULT '{}'
                      CONSTRAINT regions_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT regions_not_own_parent CHECK (parent_region_id IS DISTINCT FROM id)
);
COMMENT ON TABLE grse.regions IS 'Regions. Inserting one creates its scaling state and opening budget allocation.';

CREATE TABLE grse.agency_regions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agency_id   uuid NOT NULL,
    region_id   uuid NOT NULL REFERENCES grse.regions (id),
    status      text NOT NULL DEFAULT 'active'
                CONSTRAINT agency_regions_status_valid
                CHECK (status IN ('active', 'suspended', 'expired', 'cancelled')),
    is_primary  boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (agency_id, region_id)
);
COMMENT ON TABLE grse.agency_regions IS
    'Agency licenses: which agency may run work in which region. Only active licenses resolve.';
CREATE INDEX agency_regions_region_idx ON grse.agency_regions (region_id);

CREATE TABLE grse.client_agencies (
    client_id   uuid PRIMARY KEY,
    agency_id   uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE grse.client_agencies IS 'Which agency a client belongs to (how a client reaches its region).';
CREATE INDEX client_agencies_agency_idx ON grse.client_agencies (agency_id);

-- ---------------------------------------------------------------------------
-- Live scaling state, one row per region
--
-- Rules (checked by grse.state_before_write on the row as written):
--   state_<column>_range: the four pressures, warning_index, capacity_score,
--     fatigue_score and overall_pressure in [0, 100];
--   *_nonneg: ai_budget_monthly, ai_budget_remaining, ai_spend_today,
--     refunded_today, period_spent, period_refunded, slot_allotment,
--     ai_budget_held, active_agencies, active_clients, jobs_in_queue,
--     jobs_queued_manually >= 0 (state_budget_monthly_nonneg, ...);
--   state_scaling_mode_valid, state_pinned_mode_valid: a mode name;
--   state_metadata_object: metadata is a JSON object;
--   state_shard_count_range: 1..65536; state_budget_slots_range: 1..64 (or NULL);
--   state_remaining_within_monthly, state_day_window, state_month_window,
--   state_pin_complete (pinned_mode and pinned_at together; until and reason
--   only with a pin).
-- ---------------------------------------------------------------------------
CREATE TABLE grse.region_scaling_state (
    region_id               uuid PRIMARY KEY REFERENCES grse.regions (id),
    updated_at              timestamptz NOT NULL DEFAULT now(),

    -- AI budget, cents
    ai_budget_monthly       bigint NOT NULL DEFAULT 100000,
    ai_budget_remaining     bigint NOT NULL DEFAULT 100000,
    ai_spend_today          bigint NOT NULL DEFAULT 0,

    -- pressure scores, 0-100
    posting_pressure        numeric(5,2) NOT NULL DEFAULT 0,
    orchestration_pressure  numeric(5,2) NOT NULL DEFAULT 0,
    creative_pressure       numeric(5,2) NOT NULL DEFAULT 0,
    intel_pressure          numeric(5,2) NOT NULL DEFAULT 0,

    -- health indicators, computed by the state trigger
    warning_index           numeric(5,2) NOT NULL DEFAULT 0,
    capacity_score          numeric(5,2) NOT NULL DEFAULT 100,
    fatigue_score           numeric(5,2) NOT NULL DEFAULT 0,

    -- utilization
    active_agencies         integer NOT NULL DEFAULT 0,
    active_clients          integer NOT NULL DEFAULT 0,
    jobs_in_queue           integer NOT NULL DEFAULT 0,

    scaling_mode            text NOT NULL DEFAULT 'normal',
    metadata                jsonb NOT NULL DEFAULT '{}',

    -- what the engine needs
    overall_pressure        numeric(5,2) NOT NULL DEFAULT 0,
    mode_since              timestamptz NOT NULL DEFAULT now(),
    shard_count             integer,
    refunded_today          bigint NOT NULL DEFAULT 0,
    period_spent            bigint NOT NULL DEFAULT 0,
    period_refunded         bigint NOT NULL DEFAULT 0,
    day_started_at          timestamptz NOT NULL,
    day_ends_at             timestamptz NOT NULL,
    month_started_at        timestamptz NOT NULL,
    month_ends_at           timestamptz NOT NULL,
    day_ledger_mark         bigint NOT NULL DEFAULT 0,
    month_ledger_mark       bigint NOT NULL DEFAULT 0,
    budget_slots            integer,
    slot_allotment          bigint NOT NULL DEFAULT 0,
    mode_held_until         timestamptz,
    pinned_mode             text,
    pinned_until            timestamptz,
    pin_reason              text,
    pinned_at               timestamptz,
    ai_budget_held          bigint NOT NULL DEFAULT 0,
    jobs_queued_manually    integer NOT NULL DEFAULT 0,
    next_expiry_at          timestamptz,
    auto_slots_until        timestamptz,
    auto_slots_off_until    timestamptz,
    region_active           boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE grse.region_scaling_state IS
    'Live metrics of each region. Write pressures and utilization directly; capacity, warning index, overall pressure and mode are recomputed by a trigger on every write. Budget columns change only through the grse budget functions.';
COMMENT ON COLUMN grse.region_scaling_state.shard_count IS 'Shards of this region; NULL means policy.default_shard_count.';
COMMENT ON COLUMN grse.region_scaling_state.period_spent IS 'Gross spend of the current monthly budget period, cents.';
COMMENT ON COLUMN grse.region_scaling_state.period_refunded IS
    'Refunds of the current monthly budget period, cents; never more than the period''s spend, slots included (refund_budget refuses more; verify_invariants checks it).';
COMMENT ON COLUMN grse.region_scaling_state.day_ends_at IS 'End of the region-local day that ai_spend_today counts.';
COMMENT ON COLUMN grse.region_scaling_state.month_ends_at IS 'End of the region-local month of the current budget period.';
COMMENT ON COLUMN grse.region_scaling_state.day_ledger_mark IS
    'Last ledger id before the current day period: ai_spend_today is the spend of the ledger rows after it.';
COMMENT ON COLUMN grse.region_scaling_state.month_ledger_mark IS
    'Last ledger id before the current budget period: period_spent/period_refunded count the rows after it.';
COMMENT ON COLUMN grse.region_scaling_state.budget_slots IS
    'Budget slots of this region (set with grse.set_budget_slots); NULL means policy.default_budget_slots.';
COMMENT ON COLUMN grse.region_scaling_state.slot_allotment IS
    'Budget handed to the region''s slots at their last filling (they hold at most this). While it is above 0, ai_budget_remaining, ai_spend_today and period_spent count the pool only: add grse.region_budget_slots for the true totals (the read functions do).';
COMMENT ON COLUMN grse.region_scaling_state.mode_held_until IS
    'While a better mode waits for policy.mode_min_dwell: when the dwell ends (the next write or monitor run after it re-judges the region); else NULL.';
COMMENT ON COLUMN grse.region_scaling_state.pinned_mode IS
    'The mode an operator pinned the region to (grse.pin_scaling_mode); NULL when not pinned. While pinned, metric writes update every score but not the mode.';
COMMENT ON COLUMN grse.region_scaling_state.pinned_until IS
    'When the pin ends (the first write or monitor run after it unpins); NULL = until grse.unpin_scaling_mode.';
COMMENT ON COLUMN grse.region_scaling_state.pin_reason IS 'The reason given with the pin.';
COMMENT ON COLUMN grse.region_scaling_state.pinned_at IS 'When the pin was set.';
COMMENT ON COLUMN grse.region_scaling_state.ai_budget_held IS
    'Budget reserved by open holds (grse.budget_holds with status held), cents: already out of ai_budget_remaining.';
COMMENT ON COLUMN grse.region_scaling_state.jobs_queued_manually IS
    'The part of jobs_in_queue counted by grse.update_job_queue (apps without job records); the rest are grse.jobs queued or running.';
COMMENT ON COLUMN grse.region_scaling_state.auto_slots_until IS
    'While in the future and budget_slots is NULL: the region spends from policy.auto_budget_slots budget slots, which it took by itself when its spends contended (extended whenever its slots are filled); NULL or past: from policy.default_budget_slots.';
COMMENT ON COLUMN grse.region_scaling_state.auto_slots_off_until IS
    'Set when a call that needed every budget slot of the region back in the pool (a reset, a period start, an allocation the pool could not take, a keyed call) ended its automatic slots: until then the region takes none by itself; NULL: never ended so.';
COMMENT ON COLUMN grse.region_scaling_state.region_active IS
    'grse''s copy of grse.regions.active, kept by the regions trigger (every change of active updates it in the same statement): the budget calls read the region''s state row only.';
COMMENT ON COLUMN grse.region_scaling_state.next_expiry_at IS
    'No open hold or job of the region expires before this instant (NULL: none open); budget calls sweep expired ones once it has passed.';
-- No index on scaling_mode: four values over a few thousand rows are read by scanning, and an
-- index on a column the state trigger changes would make every mode-changing metric write a
-- non-HOT update (new entries in every index of the table).

-- ---------------------------------------------------------------------------
-- Budget slots (escrow): a hot region's budget split over several rows, so
-- concurrent spends lock different rows. Filled from the pool (the state
-- row) only with budget whose spending cannot change the region's mode or
-- conditions; emptied back into the pool whenever the state row is locked
-- for a budget change. Written only by grse.
--
-- Rules (checked by grse.slot_guard): slots_slot_no_range (1..64),
-- slots_balance_nonneg, slots_spent_today_nonneg, slots_period_spent_nonneg.
-- ---------------------------------------------------------------------------
CREATE TABLE grse.region_budget_slots (
    region_id     uuid NOT NULL REFERENCES grse.regions (id),
    slot_no       integer NOT NULL,
    balance       bigint NOT NULL DEFAULT 0,
    spent_today   bigint NOT NULL DEFAULT 0,
    period_spent  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (region_id, slot_no)
) WITH (fillfactor = 50);
COMMENT ON TABLE grse.region_budget_slots IS
    'Budget slots of hot regions: the part of ai_budget_remaining handed out for spending without the state row lock. True remaining = state.ai_budget_remaining + sum(balance).';

-- ---------------------------------------------------------------------------
-- The budget ledger (append-only)
--
-- Rules (checked by grse.ledger_guard on every row inserted, restored rows
-- included): ledger_type_valid (allocation, spend, refund, reset, transfer,
-- hold, release), ledger_amount_positive, ledger_balance_nonneg,
-- ledger_job_type_valid (posting, orchestration, creative, intel),
-- ledger_slot_no_range (0..64), ledger_idempotency_key_length (1..200),
-- ledger_amount_is_abs_delta, ledger_delta_sign (spend and hold < 0, refund
-- and release > 0), ledger_slot_only_spend_or_transfer. region_id names a
-- region with a state row: grse appends a row only in the statement that
-- updates that region's state or slot row (a state row and so its region
-- cannot be deleted), and verify_invariants() checks it (ledger_region).
-- ---------------------------------------------------------------------------
CREATE TABLE grse.region_budget_transactions (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id         uuid NOT NULL,
    agency_id         uuid,
    transaction_type  text NOT NULL,
    amount            bigint NOT NULL,
    delta             bigint NOT NULL,
    balance_after     bigint NOT NULL,
    description       text,
    job_type          text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    slot_no           integer NOT NULL DEFAULT 0,
    idempotency_key   text,
    hold_id           uuid
);
COMMENT ON TABLE grse.region_budget_transactions IS
    'Append-only budget ledger. Per region and slot_no, ordered by id: each balance_after = previous balance_after + delta; the sum of delta is the region''s true remaining budget (pool + slots). slot_no 0 is the pool (the state row); transfer rows move budget between the pool and the slots and sum to zero.';
COMMENT ON COLUMN grse.region_budget_transactions.slot_no IS
    '0 for the pool (the state row), else the budget slot the row belongs to.';
CREATE INDEX region_budget_transactions_region_idx ON grse.region_budget_transactions (region_id, id);
COMMENT ON COLUMN grse.region_budget_transactions.idempotency_key IS
    'The idempotency key of the call that wrote the row (unique per region): a retry with it returns the first answer.';
COMMENT ON COLUMN grse.region_budget_transactions.hold_id IS
    'The budget hold a hold, release or settled spend row belongs to (grse.budget_holds).';
CREATE UNIQUE INDEX region_budget_transactions_idempotency_key
    ON grse.region_budget_transactions (region_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX region_budget_transactions_region_time_idx ON grse.region_budget_transactions (region_id, created_at);

-- Each automatic budget period roll-over, at most once per region and period.
CREATE TABLE grse.budget_rollovers (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id     uuid NOT NULL REFERENCES grse.regions (id),
    period_kind   text NOT NULL CONSTRAINT rollover_kind_valid CHECK (period_kind IN ('daily', 'monthly')),
    period_start  date NOT NULL,
    source        text NOT NULL CONSTRAINT rollover_source_valid CHECK (source IN ('lazy', 'scheduled', 'manual')),
    created_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE grse.budget_rollovers IS
    'Budget period starts: automatic roll-overs (lazy or scheduled, unique per region and period) and manual resets.';
CREATE UNIQUE INDEX budget_rollovers_once_per_period
    ON grse.budget_rollovers (region_id, period_kind, period_start) WHERE source <> 'manual';

-- ---------------------------------------------------------------------------
-- Mode transitions, history snapshots, alerts
-- ---------------------------------------------------------------------------
-- Mode transitions (append-only).
--
-- Rules (checked by grse.transition_guard on every row inserted, restored rows
-- included): transition_from_valid and transition_to_valid (normal, cautious,
-- throttled, frozen), transition_cause_valid (metrics, pin, unpin,
-- pin_expired), transition_changes_mode (a transition caused by the metrics
-- changes the mode). region_id names a region with a state row: the state
-- trigger writes a row only for the state row it is writing, and
-- verify_invariants() checks it (transition_region).
CREATE TABLE grse.region_mode_transitions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id   uuid NOT NULL,
    from_mode   text NOT NULL,
    to_mode     text NOT NULL,
    capacity    numeric(5,2) NOT NULL,
    pressure    numeric(5,2) NOT NULL,
    reason      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    cause       text NOT NULL DEFAULT 'metrics'
);
COMMENT ON TABLE grse.region_mode_transitions IS
    'Every change of a region''s scaling_mode, and every pin, unpin and pin expiry (which may keep the mode), written by the state trigger.';
COMMENT ON COLUMN grse.region_mode_transitions.cause IS
    'metrics (the thresholds and hysteresis moved the mode), pin, unpin or pin_expired.';
CREATE INDEX region_mode_transitions_region_idx ON grse.region_mode_transitions (region_id, created_at, id);

CREATE TABLE grse.region_scaling_history (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    region_id      uuid NOT NULL REFERENCES grse.regions (id),
    snapshot       jsonb NOT NULL,
    period_type    text NOT NULL CONSTRAINT history_period_type_valid CHECK (period_type IN ('hourly', 'daily', 'weekly')),
    avg_capacity   numeric(5,2) CONSTRAINT history_avg_capacity_range CHECK (avg_capacity BETWEEN 0 AND 100),
    peak_pressure  numeric(5,2) CONSTRAINT history_peak_pressure_range CHECK (peak_pressure BETWEEN 0 AND 100),
    budget_used    bigint CONSTRAINT history_budget_used_nonneg CHECK (budget_used >= 0),
    created_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE grse.region_scaling_history IS 'Snapshots of region state: hourly, and daily/weekly aggregates of them.';
CREATE INDEX region_scaling_history_region_idx ON grse.region_scaling_history (region_id, period_type, created_at DESC);

CREATE TABLE grse.alerts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id    uuid REFERENCES grse.regions (id),
    alert_type   text NOT NULL,
    severity     text NOT NULL CONSTRAINT alerts_severity_valid CHECK (severity IN ('warning', 'critical')),
    message      text NOT NULL,
    details      jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz,
    CONSTRAINT alerts_resolved_after_created CHECK (resolved_at IS NULL OR resolved_at >= created_at)
);
COMMENT ON TABLE grse.alerts IS 'Critical findings written by alert_critical_issues(); one open alert per finding.';
CREATE UNIQUE INDEX alerts_one_open_per_finding
    ON grse.alerts (COALESCE(region_id, '00000000-0000-0000-0000-000000000000'::uuid), alert_type)
    WHERE resolved_at IS NULL;

-- Custom alert rules: alert_critical_issues() raises an alert (alert_type = the rule's
-- name) for every region where `metric comparison threshold` has held for for_duration.
CREATE TABLE grse.alert_rules (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE
                  CONSTRAINT alert_rules_name_valid CHECK (btrim(name) <> '' AND length(name) <= 100)
                  CONSTRAINT alert_rules_name_not_builtin
                  CHECK (name NOT IN ('mode_frozen', 'capacity_critical', 'budget_exceeded', 'global_risk_critical')),
    metric        text NOT NULL
                  CONSTRAINT alert_rules_metric_valid CHECK (metric IN ('capacity', 'pressure', 'budget_percent',
                                                                      'warning', 'fatigue', 'queue', 'forecast_days_left')),
    comparison    text NOT NULL CONSTRAINT alert_rules_comparison_valid CHECK (comparison IN ('<', '<=', '>', '>=')),
    threshold     numeric(14,2) NOT NULL,
    severity      text NOT NULL DEFAULT 'warning'
                  CONSTRAINT alert_rules_severity_valid CHECK (severity IN ('warning', 'critical')),
    region_id     uuid REFERENCES grse.regions (id),
    for_duration  interval NOT NULL DEFAULT '0'
                  CONSTRAINT alert_rules_for_duration_range
                  CHECK (for_duration >= interval '0' AND for_duration <= interval '30 days'),
    enabled       boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT alert_rules_threshold_in_range CHECK (
        threshold <> 'NaN' AND CASE WHEN metric IN ('queue', 'forecast_days_left') THEN threshold >= 0
                                    ELSE threshold BETWEEN 0 AND 100 END)
);
COMMENT ON TABLE grse.alert_rules IS
    'Custom alert rules: an alert (alert_type = name) per region where metric comparison threshold has held for for_duration; region_id NULL = every active region.';
COMMENT ON COLUMN grse.alert_rules.metric IS
    'capacity, pressure, warning, fatigue (scores 0-100), budget_percent (percent of the monthly budget remaining), queue (jobs_in_queue), forecast_days_left (days until the budget runs out at its 7-day net spend rate; never = +infinity).';
COMMENT ON COLUMN grse.alert_rules.for_duration IS
    'How long the condition must hold, from the first evaluation that finds it, before it alerts (0: at once).';

-- Since when each enabled rule has held for each region (written by alert_critical_issues()).
CREATE TABLE grse.alert_rule_pending (
    rule_id    bigint NOT NULL REFERENCES grse.alert_rules (id) ON DELETE CASCADE,
    region_id  uuid NOT NULL REFERENCES grse.regions (id),
    since      timestamptz NOT NULL,
    PRIMARY KEY (rule_id, region_id)
);
COMMENT ON TABLE grse.alert_rule_pending IS
    'Since when a rule''s condition has held for a region, as of the last evaluation; written by alert_critical_issues() only (no role may write it).';

-- ---------------------------------------------------------------------------
-- Types returned by the router
-- ---------------------------------------------------------------------------
CREATE TYPE grse.job_route AS (
    region_id       uuid,
    shard_key       text,
    priority        integer,
    estimated_wait  integer,
    scaling_mode    text,
    delay_seconds   integer
);
COMMENT ON TYPE grse.job_route IS
    'Where a job goes: region, shard key, priority, estimated wait (seconds, the delay included), the region''s mode and the delay before the job may run (cautious regions).';

-- User data in extension tables must survive pg_dump / pg_restore: every table's rows
-- (the policy row too: a restore replaces the default row with the dumped one) and the
-- positions of the identity sequences, so that ids continue after a restore. Restoring
-- needs grse.pre_restore() / grse.post_restore() around pg_restore (sql/restore.sql).
SELECT pg_catalog.pg_extension_config_dump('grse.policy', '');
SELECT pg_catalog.pg_extension_config_dump('grse.regions', '');
SELECT pg_catalog.pg_extension_config_dump('grse.agency_regions', '');
SELECT pg_catalog.pg_extension_config_dump('grse.client_agencies', '');
SELECT pg_catalog.pg_extension_config_dump('grse.region_scaling_state', '');
SELECT pg_catalog.pg_extension_config_dump('grse.region_budget_transactions', '');
SELECT pg_catalog.pg_extension_config_dump('grse.budget_rollovers', '');
SELECT pg_catalog.pg_extension_config_dump('grse.region_budget_slots', '');
SELECT pg_catalog.pg_extension_config_dump('grse.region_mode_transitions', '');
SELECT pg_catalog.pg_extension_config_dump('grse.region_scaling_history', '');
SELECT pg_catalog.pg_extension_config_dump('grse.alerts', '');
SELECT pg_catalog.pg_extension_config_dump('grse.alert_rules', '');
SELECT pg_catalog.pg_extension_config_dump('grse.alert_rule_pending', '');
SELECT pg_catalog.pg_extension_config_dump('grse.alert_rules_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('grse.region_budget_transactions_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('grse.budget_rollovers_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('grse.region_mode_transitions_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('grse.alerts_id_seq', '');
