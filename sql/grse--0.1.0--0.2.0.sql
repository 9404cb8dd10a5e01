-- grse 0.1.0 -> 0.2.0: budget slots (escrow) for hot regions, and a faster
-- budget_percent_remaining (bigint arithmetic, inlinable).
-- Applied by ALTER EXTENSION grse UPDATE TO '0.2.0', after installing 0.2.0 and
-- restarting the server (README, "Upgrading"). tests/upgrade/run.sh checks that an
-- upgraded database has the same catalog as a fresh 0.2.0 install.
\echo Use "ALTER EXTENSION grse UPDATE TO '0.2.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------
ALTER TABLE grse.policy ADD COLUMN default_budget_slots integer NOT NULL DEFAULT 1;
ALTER TABLE grse.policy DROP CONSTRAINT policy_limits_valid;
ALTER TABLE grse.policy ADD CONSTRAINT policy_limits_valid CHECK (
        small_job_max_cents >= 0 AND default_monthly_budget_cents >= 0
        AND default_shard_count BETWEEN 1 AND 65536
        AND default_budget_slots BETWEEN 1 AND 64
        AND fatigue_window > interval '0' AND fatigue_window <= interval '366 days'
        AND history_retention > interval '0');

ALTER TABLE grse.region_scaling_state
    DROP CONSTRAINT state_refunds_within_spend,   -- slots count spend too: checked by refund_budget and verify_invariants
    ADD COLUMN budget_slots integer CONSTRAINT state_budget_slots_range CHECK (budget_slots BETWEEN 1 AND 64),
    ADD COLUMN slot_allotment bigint NOT NULL DEFAULT 0 CONSTRAINT state_slot_allotment_nonneg CHECK (slot_allotment >= 0);
COMMENT ON COLUMN grse.region_scaling_state.budget_slots IS
    'Budget slots of this region (set with grse.set_budget_slots); NULL means policy.default_budget_slots.';
COMMENT ON COLUMN grse.region_scaling_state.slot_allotment IS
    'Budget handed to the region''s slots at their last filling (they hold at most this). While it is above 0, ai_budget_remaining, ai_spend_today and period_spent count the pool only: add grse.region_budget_slots for the true totals (the read functions do).';

CREATE TABLE grse.region_budget_slots (
    region_id     uuid NOT NULL REFERENCES grse.regions (id),
    slot_no       integer NOT NULL CONSTRAINT slots_slot_no_range CHECK (slot_no BETWEEN 1 AND 64),
    balance       bigint NOT NULL DEFAULT 0 CONSTRAINT slots_balance_nonneg CHECK (balance >= 0),
    spent_today   bigint NOT NULL DEFAULT 0 CONSTRAINT slots_spent_today_nonneg CHECK (spent_today >= 0),
    period_spent  bigint NOT NULL DEFAULT 0 CONSTRAINT slots_period_spent_nonneg CHECK (period_spent >= 0),
    PRIMARY KEY (region_id, slot_no)
) WITH (fillfactor = 50);
COMMENT ON TABLE grse.region_budget_slots IS
    'Budget slots of hot regions: the part of ai_budget_remaining handed out for spending without the state row lock. True remaining = state.ai_budget_remaining + sum(balance).';

ALTER TABLE grse.region_budget_transactions
    ADD COLUMN slot_no integer NOT NULL DEFAULT 0 CONSTRAINT ledger_slot_no_range CHECK (slot_no BETWEEN 0 AND 64),
    DROP CONSTRAINT ledger_type_valid,
    ADD CONSTRAINT ledger_type_valid CHECK (transaction_type IN ('allocation', 'spend', 'refund', 'reset', 'transfer')),
    DROP CONSTRAINT ledger_delta_sign,
    ADD CONSTRAINT ledger_delta_sign CHECK (
        (transaction_type = 'spend' AND delta < 0)
        OR (transaction_type = 'refund' AND delta > 0)
        OR transaction_type IN ('allocation', 'reset', 'transfer')),
    ADD CONSTRAINT ledger_slot_only_spend_or_transfer CHECK (slot_no = 0 OR transaction_type IN ('spend', 'transfer'));
COMMENT ON TABLE grse.region_budget_transactions IS
    'Append-only budget ledger. Per region and slot_no, ordered by id: each balance_after = previous balance_after + delta; the sum of delta is the region''s true remaining budget (pool + slots). slot_no 0 is the pool (the state row); transfer rows move budget between the pool and the slots and sum to zero.';
COMMENT ON COLUMN grse.region_budget_transactions.slot_no IS
    '0 for the pool (the state row), else the budget slot the row belongs to.';

SELECT pg_catalog.pg_extension_config_dump('grse.region_budget_slots', '');

-- ---------------------------------------------------------------------------
-- Functions of the library (grse 0.2.0)
-- ---------------------------------------------------------------------------
CREATE  FUNCTION grse."set_budget_slots"(
	"region_id" uuid, /* Option < Uuid > */
	"slots" INT /* Option < i32 > */
) RETURNS INT /* GResult < i32 > */
VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'set_budget_slots_wrapper';

CREATE  FUNCTION grse."empty_budget_slots_internal"(
	"region_id" uuid, /* Uuid */
	"pool" bigint, /* i64 */
	"wait" bool /* bool */
) RETURNS bigint[] /* GResult < Vec < i64 > > */
STRICT VOLATILE PARALLEL UNSAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'empty_budget_slots_internal_wrapper';

CREATE FUNCTION grse."internal_write_guard"()
	RETURNS TRIGGER
	LANGUAGE c
	AS 'MODULE_PATHNAME', 'internal_write_guard_wrapper';

-- Budget slots are written by grse's budget functions only.
CREATE TRIGGER region_budget_slots_internal_only
    BEFORE INSERT OR UPDATE OR DELETE ON grse.region_budget_slots
    FOR EACH ROW EXECUTE FUNCTION grse.internal_write_guard();
CREATE TRIGGER region_budget_slots_no_truncate
    BEFORE TRUNCATE ON grse.region_budget_slots
    FOR EACH STATEMENT EXECUTE FUNCTION grse.internal_write_guard();
ALTER TABLE grse.region_budget_slots
    ENABLE ALWAYS TRIGGER region_budget_slots_internal_only,
    ENABLE ALWAYS TRIGGER region_budget_slots_no_truncate;

-- ---------------------------------------------------------------------------
-- SQL functions: new, and the read functions that now count the slots
-- ---------------------------------------------------------------------------
COMMENT ON COLUMN grse.region_scaling_state.period_refunded IS
    'Refunds of the current monthly budget period, cents; never more than the period''s spend, slots included (refund_budget refuses more; verify_invariants checks it).';
CREATE OR REPLACE FUNCTION grse.budget_percent_remaining(remaining bigint, monthly bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN remaining IS NULL OR monthly IS NULL THEN NULL::pg_catalog.numeric
                WHEN monthly OPERATOR(pg_catalog.<=) 0 THEN 0::pg_catalog.numeric
                WHEN GREATEST(remaining, monthly) OPERATOR(pg_catalog.<) 400000000000000
                THEN ((GREATEST(remaining, 0) OPERATOR(pg_catalog.*) 20000 OPERATOR(pg_catalog.+) monthly)
                      OPERATOR(pg_catalog./) (2 OPERATOR(pg_catalog.*) monthly))
                     OPERATOR(pg_catalog.*) 0.01::pg_catalog.numeric
                ELSE pg_catalog.round(GREATEST(remaining, 0)::pg_catalog.numeric OPERATOR(pg_catalog.*) 100
                                      OPERATOR(pg_catalog./) monthly, 2) END
$$;

CREATE FUNCTION grse.slot_totals(region_id uuid, OUT balance bigint, OUT spent_today bigint, OUT period_spent bigint)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT COALESCE(sum(b.balance), 0)::bigint, COALESCE(sum(b.spent_today), 0)::bigint,
           COALESCE(sum(b.period_spent), 0)::bigint
      FROM grse.region_budget_slots b WHERE b.region_id = slot_totals.region_id
$$;

CREATE FUNCTION grse.with_slots(s grse.region_scaling_state) RETURNS grse.region_scaling_state
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    t record;
BEGIN
    IF s.slot_allotment > 0 THEN
        t := grse.slot_totals(s.region_id);
        s.ai_budget_remaining := s.ai_budget_remaining + t.balance;
        s.ai_spend_today := s.ai_spend_today + t.spent_today;
        s.period_spent := s.period_spent + t.period_spent;
        s.capacity_score := grse.compute_region_capacity(s.region_id);
    END IF;
    RETURN s;
END
$$;

CREATE OR REPLACE FUNCTION grse.get_all_regions_health()
RETURNS TABLE (region_id uuid, region_name text, scaling_mode text, capacity_score numeric,
               overall_pressure numeric, budget_percent_remaining numeric, warning_index numeric)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    -- grse.with_slots inlined: a region whose slots hold budget reads its true totals
    SELECT r.id, r.name, s.scaling_mode,
           CASE WHEN s.slot_allotment OPERATOR(pg_catalog.>) 0 THEN grse.compute_region_capacity(r.id)
                ELSE s.capacity_score END,
           s.overall_pressure,
           CASE WHEN s.slot_allotment OPERATOR(pg_catalog.>) 0
                THEN grse.budget_percent_remaining(
                         s.ai_budget_remaining OPERATOR(pg_catalog.+) (grse.slot_totals(r.id)).balance,
                         s.ai_budget_monthly)
                ELSE grse.budget_percent_remaining(s.ai_budget_remaining, s.ai_budget_monthly) END,
           s.warning_index
      FROM grse.regions r
      JOIN grse.region_scaling_state s ON s.region_id OPERATOR(pg_catalog.=) r.id
     WHERE r.active
     ORDER BY s.warning_index DESC, r.name, r.id
$$;

CREATE OR REPLACE FUNCTION grse.get_region_scaling_summary(region_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    result jsonb;
BEGIN
    IF region_id IS NULL THEN
        RAISE EXCEPTION 'region_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT pg_catalog.jsonb_build_object(
               'region_id', r.id,
               'region_name', r.name,
               'region_slug', r.slug,
               'country_code', r.country_code,
               'timezone', r.timezone,
               'active', r.active,
               'scaling_mode', s.scaling_mode,
               'mode_since', s.mode_since,
               'capacity_score', s.capacity_score,
               'overall_pressure', s.overall_pressure,
               'warning_index', s.warning_index,
               'fatigue_score', s.fatigue_score,
               'pressures', pg_catalog.jsonb_build_object(
                   'posting', s.posting_pressure,
                   'orchestration', s.orchestration_pressure,
                   'creative', s.creative_pressure,
                   'intel', s.intel_pressure,
                   'overall', s.overall_pressure),
               'budget', pg_catalog.jsonb_build_object(
                   'monthly', s.ai_budget_monthly,
                   'remaining', s.ai_budget_remaining,
                   'spent_today', s.ai_spend_today,
                   'spent_this_month', s.ai_budget_monthly - s.ai_budget_remaining,
                   'percent_remaining', grse.budget_percent_remaining(s.ai_budget_remaining, s.ai_budget_monthly)),
               'utilization', pg_catalog.jsonb_build_object(
                   'active_agencies', s.active_agencies,
                   'active_clients', s.active_clients,
                   'jobs_in_queue', s.jobs_in_queue),
               'updated_at', s.updated_at)
      INTO result
      FROM grse.regions r
      JOIN grse.region_scaling_state s0 ON s0.region_id = r.id
     CROSS JOIN LATERAL grse.with_slots(s0) s
     WHERE r.id = get_region_scaling_summary.region_id;
    RETURN result;
END
$$;

CREATE OR REPLACE FUNCTION grse.get_budget_stats(region_id uuid) RETURNS jsonb
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    result jsonb;
BEGIN
    IF region_id IS NULL THEN
        RAISE EXCEPTION 'region_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- visible to the caller? (row-level security: a tenant sees only its regions)
    IF NOT EXISTS (SELECT 1 FROM grse.region_scaling_state s WHERE s.region_id = get_budget_stats.region_id) THEN
        RAISE EXCEPTION 'region % not found', get_budget_stats.region_id USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM grse.roll_over_budget_periods(get_budget_stats.region_id);
    SELECT pg_catalog.jsonb_build_object(
               'region_id', s.region_id,
               'monthly', s.ai_budget_monthly,
               'remaining', s.ai_budget_remaining,
               'spent_today', s.ai_spend_today,
               'refunded_today', s.refunded_today,
               'spent_this_month', s.ai_budget_monthly - s.ai_budget_remaining,
               'percent_used', CASE WHEN s.ai_budget_monthly > 0
                                    THEN pg_catalog.round((s.ai_budget_monthly - s.ai_budget_remaining)::numeric * 100
                                                          / s.ai_budget_monthly, 2)
                                    ELSE 0 END,
               'percent_remaining', grse.budget_percent_remaining(s.ai_budget_remaining, s.ai_budget_monthly),
               'period_spent', s.period_spent,
               'period_refunded', s.period_refunded,
               'period_started_at', s.month_started_at,
               'period_ends_at', s.month_ends_at,
               'recent_transactions', COALESCE((
                   SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                              'id', t.id, 'transaction_type', t.transaction_type, 'amount', t.amount,
                              'delta', t.delta, 'balance_after', t.balance_after, 'agency_id', t.agency_id,
                              'job_type', t.job_type, 'description', t.description, 'created_at', t.created_at,
                              'slot_no', t.slot_no)
                          ORDER BY t.id DESC)
                     FROM (SELECT * FROM grse.region_budget_transactions l
                            WHERE l.region_id = s.region_id ORDER BY l.id DESC LIMIT 10) t), '[]'::jsonb),
               'spend_by_job_type', COALESCE((
                   SELECT pg_catalog.jsonb_object_agg(j.job_type, j.total)
                     FROM (SELECT COALESCE(l.job_type, 'unknown') AS job_type, sum(l.amount) AS total
                             FROM grse.region_budget_transactions l
                            WHERE l.region_id = s.region_id AND l.transaction_type = 'spend'
                              AND l.created_at >= s.month_started_at
                            GROUP BY 1) j), '{}'::jsonb))
      INTO result
      FROM grse.region_scaling_state s0
     CROSS JOIN LATERAL grse.with_slots(s0) s
     WHERE s0.region_id = get_budget_stats.region_id;
    RETURN result;
END
$$;

CREATE OR REPLACE FUNCTION grse.list_region_health()
RETURNS TABLE (region_id uuid, region_name text, region_slug text, scaling_mode text,
               capacity_score numeric, overall_pressure numeric, budget_percent_remaining numeric,
               warning_index numeric, fatigue_score numeric, posting_pressure numeric,
               orchestration_pressure numeric, creative_pressure numeric, intel_pressure numeric,
               ai_budget_monthly bigint, ai_budget_remaining bigint, ai_spend_today bigint,
               jobs_in_queue integer, mode_since timestamptz, updated_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT r.id, r.name, r.slug, s.scaling_mode, s.capacity_score, s.overall_pressure,
           grse.budget_percent_remaining(s.ai_budget_remaining, s.ai_budget_monthly),
           s.warning_index, s.fatigue_score, s.posting_pressure, s.orchestration_pressure,
           s.creative_pressure, s.intel_pressure, s.ai_budget_monthly, s.ai_budget_remaining,
           s.ai_spend_today, s.jobs_in_queue, s.mode_since, s.updated_at
      FROM grse.regions r
      JOIN grse.region_scaling_state s0 ON s0.region_id = r.id
     CROSS JOIN LATERAL grse.with_slots(s0) s
     WHERE r.active
     ORDER BY r.name, r.id
$$;

CREATE OR REPLACE FUNCTION grse.api_regions_health(sort_by text DEFAULT NULL, sort_order text DEFAULT 'desc',
                                        include_risk boolean DEFAULT false) RETURNS jsonb
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    regions jsonb;
    result jsonb;
BEGIN
    IF sort_order IS NULL THEN
        RAISE EXCEPTION 'sort_order must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF sort_order NOT IN ('asc', 'desc') THEN
        RAISE EXCEPTION 'unknown sort order "%"', sort_order USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use asc or desc.';
    END IF;
    IF sort_by IS NOT NULL AND sort_by NOT IN ('capacity', 'pressure', 'budget', 'warning', 'name') THEN
        RAISE EXCEPTION 'unknown sort key "%"', sort_by USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use capacity, pressure, budget, warning or name.';
    END IF;
    IF include_risk IS NULL THEN
        RAISE EXCEPTION 'include_risk must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT COALESCE(pg_catalog.jsonb_agg(grse.api_region_health_json(s, r) ORDER BY
               CASE WHEN sort_by = 'name' AND sort_order = 'asc' THEN r.name END ASC,
               CASE WHEN sort_by = 'name' AND sort_order = 'desc' THEN r.name END DESC,
               (CASE sort_order WHEN 'asc' THEN 1 ELSE -1 END) * CASE COALESCE(sort_by, 'warning')
                   WHEN 'capacity' THEN s.capacity_score
                   WHEN 'pressure' THEN s.overall_pressure
                   WHEN 'budget' THEN grse.budget_percent_remaining(s.ai_budget_remaining, s.ai_budget_monthly)
                   WHEN 'warning' THEN s.warning_index
                   ELSE 0 END,
               r.name, r.id), '[]'::jsonb)
      INTO regions
      FROM grse.regions r JOIN grse.region_scaling_state s0 ON s0.region_id = r.id
     CROSS JOIN LATERAL grse.with_slots(s0) s
     WHERE r.active;
    result := pg_catalog.jsonb_build_object('success', true, 'regions', regions);
    IF include_risk THEN
        result := result || pg_catalog.jsonb_build_object('globalRisk', grse.api_global_risk_json(grse.compute_global_risk()));
    END IF;
    RETURN result;
END
$$;

CREATE OR REPLACE FUNCTION grse.verify_invariants()
RETURNS TABLE (invariant text, region_id uuid, detail text)
LANGUAGE sql STABLE
AS $$
    -- budget state within its bounds (true remaining = pool + slots)
    SELECT 'remaining_in_bounds', s.region_id,
           pg_catalog.format('remaining %s (pool %s), monthly %s', s.ai_budget_remaining + h.balance,
                             s.ai_budget_remaining, s.ai_budget_monthly)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h
     WHERE s.ai_budget_remaining < 0 OR s.ai_budget_remaining + h.balance > s.ai_budget_monthly
    UNION ALL
    -- the ledger adds up to the true remaining budget
    SELECT 'ledger_sum_is_remaining', s.region_id,
           pg_catalog.format('sum(delta) %s, remaining %s', l.total, s.ai_budget_remaining + h.balance)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h,
           LATERAL (SELECT COALESCE(sum(t.delta), 0) AS total FROM grse.region_budget_transactions t
                     WHERE t.region_id = s.region_id) l
     WHERE l.total <> s.ai_budget_remaining + h.balance
    UNION ALL
    -- ... and, account by account, to the pool and to each slot
    SELECT 'ledger_sum_per_slot', a.region_id,
           pg_catalog.format('slot %s: sum(delta) %s, balance %s', a.slot_no, COALESCE(l.total, 0), a.balance)
      FROM (SELECT s.region_id, 0 AS slot_no, s.ai_budget_remaining AS balance FROM grse.region_scaling_state s
            UNION ALL
            SELECT b.region_id, b.slot_no, b.balance FROM grse.region_budget_slots b) a
      LEFT JOIN (SELECT t.region_id, t.slot_no, sum(t.delta) AS total FROM grse.region_budget_transactions t
                  GROUP BY 1, 2) l ON l.region_id = a.region_id AND l.slot_no = a.slot_no
     WHERE COALESCE(l.total, 0) <> a.balance
    UNION ALL
    -- slots hold no more than was handed to them, and nothing when nothing was
    SELECT 'slots_within_allotment', s.region_id,
           pg_catalog.format('slots hold %s (spent today %s, period %s), allotment %s',
                             h.balance, h.spent_today, h.period_spent, s.slot_allotment)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h
     WHERE h.balance > s.slot_allotment
        OR (s.slot_allotment = 0 AND (h.spent_today, h.period_spent) <> (0, 0))
    UNION ALL
    -- moves between the pool and the slots net to zero
    SELECT 'transfers_net_zero', t.region_id, pg_catalog.format('transfers sum to %s', sum(t.delta))
      FROM grse.region_budget_transactions t WHERE t.transaction_type = 'transfer'
     GROUP BY t.region_id HAVING sum(t.delta) <> 0
    UNION ALL
    -- each balance_after = previous balance_after + delta, in id order, per account (pool or slot)
    SELECT 'ledger_chain', c.region_id,
           pg_catalog.format('ledger row %s (slot %s) breaks the chain', c.id, c.slot_no)
      FROM (SELECT t.id, t.region_id, t.slot_no, t.delta, t.balance_after,
                   lag(t.balance_after, 1, 0::bigint) OVER (PARTITION BY t.region_id, t.slot_no ORDER BY t.id) AS prev
              FROM grse.region_budget_transactions t) c
     WHERE c.balance_after <> c.prev + c.delta
    UNION ALL
    -- the day's spend and refunds are the ledger's since the day began
    SELECT 'spend_today_matches_ledger', s.region_id,
           pg_catalog.format('ai_spend_today %s, ledger %s; refunded_today %s, ledger %s',
                             s.ai_spend_today + h.spent_today, l.spent, s.refunded_today, l.refunded)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h,
           LATERAL (SELECT COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'spend'), 0) AS spent,
                           COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'refund'), 0) AS refunded
                      FROM grse.region_budget_transactions t
                     WHERE t.region_id = s.region_id AND t.id > s.day_ledger_mark) l
     WHERE l.spent <> s.ai_spend_today + h.spent_today OR l.refunded <> s.refunded_today
    UNION ALL
    -- the budget period's spend and refunds are the ledger's since the period began
    SELECT 'period_totals_match_ledger', s.region_id,
           pg_catalog.format('period_spent %s, ledger %s; period_refunded %s, ledger %s',
                             s.period_spent + h.period_spent, l.spent, s.period_refunded, l.refunded)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h,
           LATERAL (SELECT COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'spend'), 0) AS spent,
                           COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'refund'), 0) AS refunded
                      FROM grse.region_budget_transactions t
                     WHERE t.region_id = s.region_id AND t.id > s.month_ledger_mark) l
     WHERE l.spent <> s.period_spent + h.period_spent OR l.refunded <> s.period_refunded
    UNION ALL
    -- a period's refunds never exceed its spend (the pool's and the slots')
    SELECT 'refunds_within_spend', s.region_id,
           pg_catalog.format('period_refunded %s, period_spent %s', s.period_refunded, s.period_spent + h.period_spent)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h
     WHERE s.period_refunded > s.period_spent + h.period_spent
    UNION ALL
    SELECT 'queue_nonnegative', s.region_id, pg_catalog.format('jobs_in_queue %s', s.jobs_in_queue)
      FROM grse.region_scaling_state s WHERE s.jobs_in_queue < 0
    UNION ALL
    -- modes and scores match the metrics (with the true remaining budget) under the current
    -- policy; the stored capacity of a region whose slots hold budget is the pool's (reads
    -- compute the live one), so it is compared only for the others
    SELECT 'scores_match_metrics', s.region_id,
           pg_catalog.format('stored %s/%s/%s/%s, expected %s/%s/%s/%s',
                             s.overall_pressure, s.capacity_score, s.warning_index, s.scaling_mode,
                             e.overall_pressure, e.capacity_score, e.warning_index, e.scaling_mode)
      FROM grse.region_scaling_state s, LATERAL grse.evaluate_region(s.region_id) e
     WHERE (s.overall_pressure, s.warning_index, s.scaling_mode)
           IS DISTINCT FROM (e.overall_pressure, e.warning_index, e.scaling_mode)
        OR (s.slot_allotment = 0 AND s.capacity_score IS DISTINCT FROM e.capacity_score)
    UNION ALL
    -- at most one automatic roll-over per region and period
    SELECT 'one_rollover_per_period', r.region_id,
           pg_catalog.format('%s %s roll-overs for %s', r.n, r.period_kind, r.period_start)
      FROM (SELECT b.region_id, b.period_kind, b.period_start, count(*) AS n FROM grse.budget_rollovers b
             WHERE b.source <> 'manual' GROUP BY 1, 2, 3 HAVING count(*) > 1) r
    UNION ALL
    -- every region has its state row
    SELECT 'state_row_exists', g.id, 'region without a state row'
      FROM grse.regions g
     WHERE NOT EXISTS (SELECT 1 FROM grse.region_scaling_state s WHERE s.region_id = g.id)
$$;
COMMENT ON FUNCTION grse.verify_invariants() IS
    'Every violation of grse''s guarantees (ledger sums and chains per pool and slot, period totals, bounds, budget slots within their allotment, scores vs metrics, one roll-over per period); empty when consistent.';

-- ---------------------------------------------------------------------------
-- Privileges (as sql/privileges.sql): CREATE OR REPLACE drops a function's SET
-- clause, so every function without one is pinned again; the new writers run
-- as the extension owner.
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
              WHERE p.pronamespace = 'grse'::regnamespace AND p.proconfig IS NULL
                AND NOT p.proname = ANY (ARRAY['budget_percent_remaining', 'get_all_regions_health', 'state_before_write']) LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f);
    END LOOP;
END
$$;
ALTER FUNCTION grse.set_budget_slots(uuid, integer) SECURITY DEFINER;
ALTER FUNCTION grse.empty_budget_slots_internal(uuid, bigint, boolean) SECURITY DEFINER;

REVOKE ALL ON FUNCTION grse.set_budget_slots(uuid, integer), grse.empty_budget_slots_internal(uuid, bigint, boolean),
    grse.internal_write_guard(), grse.slot_totals(uuid), grse.with_slots(grse.region_scaling_state) FROM PUBLIC;
REVOKE ALL ON grse.region_budget_slots FROM PUBLIC;
GRANT EXECUTE ON FUNCTION grse.slot_totals(uuid), grse.with_slots(grse.region_scaling_state) TO grse_reader, grse_tenant;
GRANT SELECT ON grse.region_budget_slots TO grse_reader, grse_tenant;
GRANT EXECUTE ON FUNCTION grse.empty_budget_slots_internal(uuid, bigint, boolean) TO grse_operator;
GRANT EXECUTE ON FUNCTION grse.set_budget_slots(uuid, integer) TO grse_admin;

ALTER TABLE grse.region_budget_slots ENABLE ROW LEVEL SECURITY;
CREATE POLICY staff_read ON grse.region_budget_slots FOR SELECT TO grse_reader USING (true);
CREATE POLICY tenant_read ON grse.region_budget_slots FOR SELECT TO grse_tenant
    USING (region_id IN (SELECT grse.tenant_regions()));
