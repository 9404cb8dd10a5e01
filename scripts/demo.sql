-- grse demo scenario, run by scripts/demo.sh (psql, aligned output) on a
-- throw-away cluster where `CREATE EXTENSION grse` has just been run.
--
-- Story: three regions; AI spend drains one region's budget; load pressure
-- rises until scaling modes change (the state trigger recomputes capacity,
-- warning index and mode on every metric write); then the monitoring views.
\set ON_ERROR_STOP 1

-- A compact view of every region's live state, reused after each step.
CREATE TEMP VIEW demo_state AS
SELECT r.name                                   AS region,
       s.scaling_mode                           AS mode,
       s.capacity_score                         AS capacity,
       grse.compute_region_pressure(r.id)       AS pressure,
       s.warning_index                          AS warning,
       s.ai_budget_remaining                    AS budget_left,
       s.ai_budget_monthly                      AS budget_month,
       s.ai_spend_today                         AS spent_today,
       s.posting_pressure                       AS posting,
       s.creative_pressure                      AS creative
FROM grse.regions r
JOIN grse.region_scaling_state s ON s.region_id = r.id
ORDER BY r.name;

\echo
\echo '=============================================================================='
\echo ' 1. Three regions'
\echo '    Inserting a region creates its scaling state row and the first ledger row'
\echo '    (the allocation of the policy default budget: 100000 cents = 1000.00).'
\echo '=============================================================================='
INSERT INTO grse.regions (name, slug, country_code, timezone) VALUES
    ('Frankfurt', 'eu-frankfurt', 'DE', 'Europe/Berlin'),
    ('Sydney',    'ap-sydney',    'AU', 'Australia/Sydney'),
    ('Virginia',  'us-virginia',  'US', 'America/New_York');

SELECT id AS frankfurt FROM grse.regions WHERE slug = 'eu-frankfurt' \gset
SELECT id AS sydney    FROM grse.regions WHERE slug = 'ap-sydney' \gset
SELECT id AS virginia  FROM grse.regions WHERE slug = 'us-virginia' \gset

TABLE demo_state;

\echo
\echo '=============================================================================='
\echo ' 2. Monthly AI budgets (cents)'
\echo '    set_monthly_budget() changes the budget and moves remaining by the same'
\echo '    difference, as one allocation row in the ledger.'
\echo '=============================================================================='
SELECT grse.set_monthly_budget(:'frankfurt', 250000) IS NOT NULL AS frankfurt_set,
       grse.set_monthly_budget(:'sydney',     20000) IS NOT NULL AS sydney_set;

TABLE demo_state;

\echo
\echo '=============================================================================='
\echo ' 3. AI spend'
\echo '    check_and_decrement_budget() charges atomically: true = charged,'
\echo '    false = insufficient budget (nothing written).'
\echo '=============================================================================='
\echo '--- Frankfurt and Virginia: a normal working day'
WITH attempts AS (
    SELECT grse.check_and_decrement_budget(:'frankfurt', 1200, NULL, 'posting') AS ok
    FROM generate_series(1, 10)
    UNION ALL
    SELECT grse.check_and_decrement_budget(:'virginia', 800, NULL, 'intel')
    FROM generate_series(1, 12)
)
SELECT count(*) FILTER (WHERE ok) AS accepted, count(*) FILTER (WHERE NOT ok) AS refused
FROM attempts;

\echo '--- Sydney: a creative campaign of 38 jobs at 500 cents each'
WITH attempts AS (
    SELECT grse.check_and_decrement_budget(:'sydney', 500, NULL, 'creative') AS ok
    FROM generate_series(1, 38)
)
SELECT count(*) FILTER (WHERE ok) AS accepted, count(*) FILTER (WHERE NOT ok) AS refused
FROM attempts;

\echo '--- Sydney: the next big job does not fit'
SELECT * FROM grse.check_budget(:'sydney', 2500);
SELECT grse.check_and_decrement_budget(:'sydney', 2500, NULL, 'creative') AS charged;

\echo '--- Sydney: one failed job is refunded'
SELECT grse.refund_budget(:'sydney', 500, 'creative job failed, refunded') IS NOT NULL AS refunded;

TABLE demo_state;

\echo
\echo '=============================================================================='
\echo ' 4. Pressure rises'
\echo '    Writing pressures is enough: the trigger recomputes capacity_score,'
\echo '    warning_index and scaling_mode, and records every mode change.'
\echo '=============================================================================='
\echo '--- Virginia: a posting surge (overall pressure > 60: cautious)'
UPDATE grse.region_scaling_state
   SET posting_pressure = 85, creative_pressure = 60, orchestration_pressure = 55, intel_pressure = 40
 WHERE region_id = :'virginia';
SELECT region, mode, capacity, pressure, warning FROM demo_state WHERE region = 'Virginia';

\echo '--- Virginia: the surge grows (pressure > 75: throttled, creative jobs blocked)'
UPDATE grse.region_scaling_state
   SET posting_pressure = 95, creative_pressure = 80, orchestration_pressure = 75, intel_pressure = 60
 WHERE region_id = :'virginia';
SELECT region, mode, capacity, pressure, warning FROM demo_state WHERE region = 'Virginia';

\echo '--- Virginia: everything at the limit (pressure > 90: frozen, nothing admitted)'
UPDATE grse.region_scaling_state
   SET posting_pressure = 100, creative_pressure = 95, orchestration_pressure = 90, intel_pressure = 85
 WHERE region_id = :'virginia';
SELECT region, mode, capacity, pressure, warning FROM demo_state WHERE region = 'Virginia';

\echo '--- Sydney: heavy creative load on a nearly empty budget (throttled)'
UPDATE grse.region_scaling_state
   SET posting_pressure = 80, creative_pressure = 90, orchestration_pressure = 75, intel_pressure = 65
 WHERE region_id = :'sydney';
SELECT region, mode, capacity, pressure, warning FROM demo_state WHERE region = 'Sydney';

\echo '--- Sydney: throttled admits only small jobs (policy small_job_max_cents = 100)'
SELECT * FROM grse.check_budget(:'sydney', 80);
SELECT * FROM grse.check_budget(:'sydney', 900);

TABLE demo_state;

\echo
\echo '=============================================================================='
\echo ' 5. Mode transitions (grse.region_mode_transitions)'
\echo '=============================================================================='
SELECT r.name AS region, t.from_mode, t.to_mode, t.capacity, t.pressure, t.reason, t.created_at
FROM grse.region_mode_transitions t
JOIN grse.regions r ON r.id = t.region_id
ORDER BY t.created_at, r.name;

\echo
\echo '=============================================================================='
\echo ' 6. Health of all regions (grse.get_all_regions_health())'
\echo '=============================================================================='
SELECT * FROM grse.get_all_regions_health();

\echo
\echo '=============================================================================='
\echo ' 7. Budget stats for Sydney (grse.get_budget_stats(id))'
\echo '    (its recent_transactions are shown as a table in step 9)'
\echo '=============================================================================='
SELECT jsonb_pretty(grse.get_budget_stats(:'sydney') - 'recent_transactions') AS sydney_budget_stats;

\echo
\echo '=============================================================================='
\echo ' 8. Scaling summary for Virginia (grse.get_region_scaling_summary(id))'
\echo '=============================================================================='
SELECT jsonb_pretty(grse.get_region_scaling_summary(:'virginia')) AS virginia_summary;

\echo
\echo '=============================================================================='
\echo ' 9. Budget ledger for Sydney (grse.region_budget_transactions)'
\echo '    Each balance_after = previous balance_after + delta; the last one equals'
\echo '    the region''s remaining budget.'
\echo '=============================================================================='
SELECT *
FROM (SELECT id, transaction_type, amount, delta, balance_after, job_type, description
      FROM grse.region_budget_transactions
      WHERE region_id = :'sydney'
      ORDER BY id DESC
      LIMIT 8) AS last_rows
ORDER BY id;

\echo
\echo '=============================================================================='
\echo ' 10. Routing jobs (priority, shard key, estimated wait)'
\echo '     priority = max(1, base - floor(type pressure / divisor)); the shard is a'
\echo '     stable hash of the tenant (jump consistent hash over 16 shards).'
\echo '=============================================================================='
\set tenant_a '''11111111-1111-1111-1111-111111111111'''
\set tenant_b '''22222222-2222-2222-2222-222222222222'''
SELECT grse.update_job_queue(:'frankfurt', 12) AS frankfurt_queue;
\echo '--- posting jobs of two tenants in Frankfurt (the same tenant always gets the same shard)'
SELECT 'tenant A' AS tenant, r.* FROM grse.route_posting_job(:tenant_a, :'frankfurt') r
UNION ALL
SELECT 'tenant A again', r.* FROM grse.route_posting_job(:tenant_a, :'frankfurt') r
UNION ALL
SELECT 'tenant B', r.* FROM grse.route_posting_job(:tenant_b, :'frankfurt') r;
\echo '--- a creative job for frozen Virginia: refused (NULL), then with fallback to the best region'
SELECT grse.route_creative_job(:'virginia') IS NULL AS refused,
       (SELECT name FROM grse.regions WHERE id = grse.get_best_region_for_job('creative')) AS best_region_for_creative;
SELECT r.name AS routed_to, j.shard_key, j.priority, j.estimated_wait, j.scaling_mode
  FROM grse.route_creative_job(:'virginia', :tenant_a, allow_fallback => true) j
  JOIN grse.regions r ON r.id = j.region_id;

\echo
\echo '=============================================================================='
\echo ' 11. One-call admission (grse.admit_job): region, mode, budget, priority,'
\echo '     shard key and queue count in one statement, with the reason for a refusal'
\echo '=============================================================================='
\echo '--- Sydney is throttled: a creative job is refused there, and no fallback asked'
SELECT admitted, reason FROM grse.admit_job('creative', region_id => :'sydney', estimated_cost => 300,
                                            allow_fallback => false);
\echo '--- Virginia is frozen: the same job with fallback lands in the best other region'
SELECT a.admitted, r.name AS region, a.fallback_used, a.shard_key, a.priority, a.queue_depth, a.reason
  FROM grse.admit_job('creative', region_id => :'virginia', tenant_id => :tenant_b, estimated_cost => 300) a
  LEFT JOIN grse.regions r ON r.id = a.region_id;
\echo '--- a job bigger than Frankfurt''s remaining budget'
SELECT admitted, reason FROM grse.admit_job('posting', region_id => :'frankfurt', estimated_cost => 500000,
                                            allow_fallback => false);

\echo
\echo '=============================================================================='
\echo ' 12. Cross-region conflicts (grse.detect_cross_region_conflicts())'
\echo '=============================================================================='
SELECT type, region_name, severity, message FROM grse.detect_cross_region_conflicts();

\echo
\echo '=============================================================================='
\echo ' 13. Global risk (grse.compute_global_risk(); its conflicts are listed above)'
\echo '     = min(100, 20 per critical + 10 per warning conflict + 15/5 per region'
\echo '       with capacity < 30/50 + 25 per frozen region)'
\echo '=============================================================================='
SELECT jsonb_pretty(grse.compute_global_risk() - 'conflicts' - 'assessed_at') AS global_risk;
SELECT grse.alert_critical_issues() AS alerts_raised;
SELECT alert_type, severity, message FROM grse.alerts ORDER BY id;

\echo
\echo '=============================================================================='
\echo ' 14. Budget slots for a hot region (grse.set_budget_slots)'
\echo '     Frankfurt''s budget above the floor of its mode goes into 8 slot rows, so'
\echo '     concurrent spends lock different rows; reads count the slots.'
\echo '=============================================================================='
SELECT grse.set_budget_slots(:'frankfurt', 8) AS slots;
SELECT count(*) FILTER (WHERE grse.check_and_decrement_budget(:'frankfurt', 25, NULL, 'posting')) AS charged
  FROM generate_series(1, 200);
SELECT s.ai_budget_remaining AS pool, t.balance AS in_slots, s.ai_budget_remaining + t.balance AS remaining,
       (grse.get_region_scaling_summary(s.region_id) -> 'budget' ->> 'remaining')::bigint AS summary_remaining,
       s.scaling_mode
  FROM grse.region_scaling_state s, grse.slot_totals(s.region_id) t WHERE s.region_id = :'frankfurt';
SELECT transaction_type, slot_no > 0 AS in_a_slot, count(*) AS ledger_rows, sum(delta) AS sum_delta
  FROM grse.region_budget_transactions WHERE region_id = :'frankfurt'
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS invariant_violations FROM grse.verify_invariants();

\echo
\echo '=============================================================================='
\echo ' 15. An AI operation protected by a budget hold (grse.reserve_budget)'
\echo '     The money is reserved before the call runs outside the transaction, then'
\echo '     settled with what the call cost; the rest goes back.'
\echo '=============================================================================='
SELECT allowed, hold_id, remaining, expires_at > now() AS expires_later, message
  FROM grse.reserve_budget(:'frankfurt', 400, job_type => 'creative', idempotency_key => 'render-42') \gset
\echo '--- reserved: remaining and held'
SELECT ai_budget_remaining + (grse.slot_totals(region_id)).balance AS remaining, ai_budget_held AS held
  FROM grse.region_scaling_state WHERE region_id = :'frankfurt';
\echo '--- the client timed out and retried with the same key: the same hold, nothing new written'
SELECT hold_id = :'hold_id' AS same_hold, remaining FROM grse.reserve_budget(:'frankfurt', 400, job_type => 'creative',
                                                                       idempotency_key => 'render-42');
\echo '--- the call cost 310 cents: settle the hold'
SELECT grse.settle_budget_hold(:'hold_id', 310) AS remaining_after_settle;
SELECT transaction_type, delta, description FROM grse.region_budget_transactions
 WHERE hold_id = :'hold_id' ORDER BY id;
SELECT status, amount, settled_amount FROM grse.budget_holds WHERE id = :'hold_id';

\echo
\echo '=============================================================================='
\echo ' 16. A retried spend is charged once (idempotency_key)'
\echo '=============================================================================='
SELECT grse.check_and_decrement_budget(:'frankfurt', 120, NULL, 'posting', 'request-7') AS first_call,
       grse.check_and_decrement_budget(:'frankfurt', 120, NULL, 'posting', 'request-7') AS retry;
SELECT count(*) AS ledger_rows_for_the_key FROM grse.region_budget_transactions
 WHERE region_id = :'frankfurt' AND idempotency_key = 'request-7';

\echo
\echo '=============================================================================='
\echo ' 17. Jobs migrating out of a frozen region (grse.admit_job records, grse.migrate_jobs)'
\echo '     Oregon admits three jobs with holds; an operator freezes it for an incident;'
\echo '     its queued jobs move, with their holds, to the best region for each.'
\echo '=============================================================================='
INSERT INTO grse.regions (name, slug, country_code, timezone) VALUES ('Oregon', 'us-oregon', 'US', 'America/Los_Angeles');
SELECT id AS oregon FROM grse.regions WHERE slug = 'us-oregon' \gset
SELECT admitted, region_id = :'oregon' AS in_oregon, shard_key, hold_id IS NOT NULL AS holds_budget
  FROM generate_series(1, 3) i,
       LATERAL grse.admit_job('posting', region_id => :'oregon', estimated_cost => 150, hold_budget => true,
                              tenant_id => ('00000000-0000-4000-8000-00000000000' || i)::uuid);
SELECT grse.pin_scaling_mode(:'oregon', 'frozen', reason => 'incident 1234') AS pinned;
SELECT r.slug AS to_region, m.shard_key
  FROM grse.migrate_jobs(:'oregon') m JOIN grse.regions r ON r.id = m.to_region;
SELECT r.slug, s.jobs_in_queue, s.ai_budget_held AS held
  FROM grse.region_scaling_state s JOIN grse.regions r ON r.id = s.region_id
 WHERE r.slug IN ('us-oregon', 'eu-frankfurt') ORDER BY r.slug;
SELECT count(*) AS invariant_violations FROM grse.verify_invariants();

\echo
\echo 'Demo finished.'
