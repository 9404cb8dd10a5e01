-- grse.verify_invariants(): every violation of grse's guarantees, one row each.
-- An empty result means the database is consistent. Used by the stress and
-- crash tests; cheap enough to run by hand at any time.
CREATE FUNCTION grse.verify_invariants()
RETURNS TABLE (invariant text, region_id uuid, detail text)
LANGUAGE sql STABLE
AS $$
    -- budget state within its bounds (true remaining = pool + slots)
    SELECT 'remaining_in_bounds', s.region_id,
           pg_catalog.format('remaining %s (pool %s), monthly %s', s.ai_budget_remaining::numeric + h.balance,
                             s.ai_budget_remaining, s.ai_budget_monthly)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h
     WHERE s.ai_budget_remaining < 0 OR s.ai_budget_remaining::numeric + h.balance > s.ai_budget_monthly
    UNION ALL
    -- the ledger adds up to the true remaining budget
    SELECT 'ledger_sum_is_remaining', s.region_id,
           pg_catalog.format('sum(delta) %s, remaining %s', l.total, s.ai_budget_remaining::numeric + h.balance)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h,
           LATERAL (SELECT COALESCE(sum(t.delta), 0) AS total FROM grse.region_budget_transactions t
                     WHERE t.region_id = s.region_id) l
     WHERE l.total <> s.ai_budget_remaining::numeric + h.balance
    UNION ALL
    -- the state row's rules: its trigger checks them on every write; a restore (which loads
    -- rows without that trigger) is checked here
    SELECT 'state_rules', s.region_id, pg_catalog.format('breaks %s', r.rule)
      FROM grse.region_scaling_state s,
           LATERAL (VALUES
                   ('state_budget_monthly_nonneg', s.ai_budget_monthly >= 0),
                   ('state_budget_remaining_nonneg', s.ai_budget_remaining >= 0),
                   ('state_spend_today_nonneg', s.ai_spend_today >= 0),
                   ('state_refunded_today_nonneg', s.refunded_today >= 0),
                   ('state_period_spent_nonneg', s.period_spent >= 0),
                   ('state_period_refunded_nonneg', s.period_refunded >= 0),
                   ('state_slot_allotment_nonneg', s.slot_allotment >= 0),
                   ('state_budget_held_nonneg', s.ai_budget_held >= 0),
                   ('state_active_agencies_nonneg', s.active_agencies >= 0),
                   ('state_active_clients_nonneg', s.active_clients >= 0),
                   ('state_jobs_in_queue_nonneg', s.jobs_in_queue >= 0),
                   ('state_jobs_queued_manually_nonneg', s.jobs_queued_manually >= 0),
                   ('state_posting_pressure_range', s.posting_pressure BETWEEN 0 AND 100),
                   ('state_orchestration_pressure_range', s.orchestration_pressure BETWEEN 0 AND 100),
                   ('state_creative_pressure_range', s.creative_pressure BETWEEN 0 AND 100),
                   ('state_intel_pressure_range', s.intel_pressure BETWEEN 0 AND 100),
                   ('state_overall_pressure_range', s.overall_pressure BETWEEN 0 AND 100),
                   ('state_warning_index_range', s.warning_index BETWEEN 0 AND 100),
                   ('state_capacity_score_range', s.capacity_score BETWEEN 0 AND 100),
                   ('state_fatigue_score_range', s.fatigue_score BETWEEN 0 AND 100),
                   ('state_scaling_mode_valid', s.scaling_mode IN ('normal', 'cautious', 'throttled', 'frozen')),
                   ('state_pinned_mode_valid', s.pinned_mode IN ('normal', 'cautious', 'throttled', 'frozen')),
                   ('state_metadata_object', pg_catalog.jsonb_typeof(s.metadata) = 'object'),
                   ('state_shard_count_range', s.shard_count BETWEEN 1 AND 65536),
                   ('state_budget_slots_range', s.budget_slots BETWEEN 1 AND 64),
                   ('state_remaining_within_monthly', s.ai_budget_remaining <= s.ai_budget_monthly),
                   ('state_day_window', s.day_started_at < s.day_ends_at),
                   ('state_month_window', s.month_started_at < s.month_ends_at),
                   ('state_pin_complete', (s.pinned_mode IS NULL) = (s.pinned_at IS NULL) AND (s.pinned_mode IS NOT NULL OR (s.pinned_until IS NULL AND s.pin_reason IS NULL)))) AS r(rule, ok)
     WHERE NOT r.ok
    UNION ALL
    -- the state row's copy of its region's active flag (kept by the regions trigger)
    SELECT 'state_region_active', s.region_id,
           pg_catalog.format('region_active %s, regions.active %s', s.region_active, r.active)
      FROM grse.region_scaling_state s JOIN grse.regions r ON r.id = s.region_id
     WHERE s.region_active IS DISTINCT FROM r.active
    UNION ALL
    -- every ledger row belongs to a region with a state row
    SELECT 'ledger_region', t.region_id, pg_catalog.format('%s ledger rows, no such region', count(*))
      FROM grse.region_budget_transactions t
     WHERE NOT EXISTS (SELECT 1 FROM grse.region_scaling_state s WHERE s.region_id = t.region_id)
     GROUP BY t.region_id
    UNION ALL
    -- every job record belongs to a region with a state row, requested for an existing region
    SELECT 'job_region', j.region_id, pg_catalog.format('%s job records, no such region', count(*))
      FROM grse.jobs j
     WHERE NOT EXISTS (SELECT 1 FROM grse.region_scaling_state s WHERE s.region_id = j.region_id)
     GROUP BY j.region_id
    UNION ALL
    SELECT 'job_requested_region', j.requested_region_id,
           pg_catalog.format('%s job records requested for no such region', count(*))
      FROM grse.jobs j
     WHERE j.requested_region_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM grse.regions r WHERE r.id = j.requested_region_id)
     GROUP BY j.requested_region_id
    UNION ALL
    -- every mode transition belongs to a region with a state row
    SELECT 'transition_region', t.region_id, pg_catalog.format('%s mode transitions, no such region', count(*))
      FROM grse.region_mode_transitions t
     WHERE NOT EXISTS (SELECT 1 FROM grse.region_scaling_state s WHERE s.region_id = t.region_id)
     GROUP BY t.region_id
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
     WHERE c.balance_after <> c.prev::numeric + c.delta
    UNION ALL
    -- the day's spend and refunds are the ledger's since the day began
    SELECT 'spend_today_matches_ledger', s.region_id,
           pg_catalog.format('ai_spend_today %s, ledger %s; refunded_today %s, ledger %s',
                             s.ai_spend_today::numeric + h.spent_today, l.spent, s.refunded_today, l.refunded)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h,
           LATERAL (SELECT COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'spend'), 0) AS spent,
                           COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'refund'), 0) AS refunded
                      FROM grse.region_budget_transactions t
                     WHERE t.region_id = s.region_id AND t.id > s.day_ledger_mark) l
     WHERE l.spent <> s.ai_spend_today::numeric + h.spent_today OR l.refunded <> s.refunded_today
    UNION ALL
    -- the budget period's spend and refunds are the ledger's since the period began
    SELECT 'period_totals_match_ledger', s.region_id,
           pg_catalog.format('period_spent %s, ledger %s; period_refunded %s, ledger %s',
                             s.period_spent::numeric + h.period_spent, l.spent, s.period_refunded, l.refunded)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h,
           LATERAL (SELECT COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'spend'), 0) AS spent,
                           COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'refund'), 0) AS refunded
                      FROM grse.region_budget_transactions t
                     WHERE t.region_id = s.region_id AND t.id > s.month_ledger_mark) l
     WHERE l.spent <> s.period_spent::numeric + h.period_spent OR l.refunded <> s.period_refunded
    UNION ALL
    -- a period's refunds never exceed its spend (the pool's and the slots')
    SELECT 'refunds_within_spend', s.region_id,
           pg_catalog.format('period_refunded %s, period_spent %s', s.period_refunded, s.period_spent::numeric + h.period_spent)
      FROM grse.region_scaling_state s, LATERAL grse.slot_totals(s.region_id) h
     WHERE s.period_refunded > s.period_spent::numeric + h.period_spent
    UNION ALL
    SELECT 'queue_nonnegative', s.region_id, pg_catalog.format('jobs_in_queue %s', s.jobs_in_queue)
      FROM grse.region_scaling_state s WHERE s.jobs_in_queue < 0
    UNION ALL
    -- modes and scores match the metrics (with the true remaining budget) under the current
    -- policy; the stored capacity of a region whose slots hold budget is the pool's (reads
    -- compute the live one), so it is compared only for the others; a region whose month has
    -- ended is judged by evaluate_region as rolled over, so it is compared after its roll-over
    SELECT 'scores_match_metrics', s.region_id,
           pg_catalog.format('stored %s/%s/%s/%s, expected %s/%s/%s/%s',
                             s.overall_pressure, s.capacity_score, s.warning_index, s.scaling_mode,
                             e.overall_pressure, e.capacity_score, e.warning_index, e.scaling_mode)
      FROM grse.region_scaling_state s, LATERAL grse.evaluate_region(s.region_id) e
     WHERE pg_catalog.now() < s.month_ends_at
       AND ((s.overall_pressure, s.warning_index, s.scaling_mode)
            IS DISTINCT FROM (e.overall_pressure, e.warning_index, e.scaling_mode)
            OR (s.slot_allotment = 0 AND s.capacity_score IS DISTINCT FROM e.capacity_score))
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
    UNION ALL
    -- what is held is the sum of the open holds
    SELECT 'held_is_open_holds', s.region_id,
           pg_catalog.format('ai_budget_held %s, open holds %s', s.ai_budget_held, h.total)
      FROM grse.region_scaling_state s,
           LATERAL (SELECT COALESCE(sum(b.amount), 0) AS total FROM grse.budget_holds b
                     WHERE b.region_id = s.region_id AND b.status = 'held') h
     WHERE s.ai_budget_held <> h.total
    UNION ALL
    -- each hold moved its amount in once, out once when it resolved, and a settled one charged its spend
    SELECT 'hold_ledger_rows', b.region_id,
           pg_catalog.format('hold %s (%s, %s cents): hold rows %s, released %s, spent %s', b.id, b.status, b.amount,
                             l.held, l.released, l.spent)
      FROM grse.budget_holds b,
           LATERAL (SELECT COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'hold'), 0) AS held,
                           COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'release'), 0) AS released,
                           COALESCE(sum(t.amount) FILTER (WHERE t.transaction_type = 'spend'), 0) AS spent
                      FROM grse.region_budget_transactions t
                     WHERE t.region_id = b.region_id AND t.hold_id = b.id) l
     WHERE l.held <> b.amount
        OR l.released <> CASE WHEN b.status = 'held' THEN 0 ELSE b.amount END
        OR l.spent <> COALESCE(b.settled_amount, 0)
    UNION ALL
    -- no open hold or job expires before the instant the region's sweep waits for
    SELECT 'expiry_tracked', s.region_id,
           pg_catalog.format('next_expiry_at %s, earliest open expiry %s', s.next_expiry_at, e.first)
      FROM grse.region_scaling_state s,
           LATERAL (SELECT LEAST((SELECT min(b.expires_at) FROM grse.budget_holds b
                                   WHERE b.region_id = s.region_id AND b.status = 'held'),
                                 (SELECT min(j.expires_at) FROM grse.jobs j
                                   WHERE j.region_id = s.region_id AND j.status IN ('queued', 'running'))) AS first) e
     WHERE e.first IS NOT NULL AND (s.next_expiry_at IS NULL OR e.first < s.next_expiry_at)
    UNION ALL
    -- the queue count is the jobs with records plus what update_job_queue counted
    SELECT 'queue_matches_jobs', s.region_id,
           pg_catalog.format('jobs_in_queue %s, queued or running jobs %s, counted manually %s',
                             s.jobs_in_queue, j.n, s.jobs_queued_manually)
      FROM grse.region_scaling_state s,
           LATERAL (SELECT count(*) AS n FROM grse.jobs j
                     WHERE j.region_id = s.region_id AND j.status IN ('queued', 'running')) j
     WHERE s.jobs_in_queue <> j.n + s.jobs_queued_manually
$$;
COMMENT ON FUNCTION grse.verify_invariants() IS
    'Every violation of grse''s guarantees (ledger sums and chains per pool and slot, period totals, bounds, budget slots within their allotment, scores vs metrics, one roll-over per period, holds and their ledger rows, expiry tracking, queue counts vs job records); empty when consistent.';
