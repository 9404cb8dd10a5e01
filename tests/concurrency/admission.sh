#!/usr/bin/env bash
# Multi-connection admission test (pgbench, 32 clients) on a throw-away cluster.
#
# Three regions. Clients concurrently admit posting jobs with grse.admit_job
# (falling back when a region refuses) and charge the admitted cost, complete
# jobs with grse.finish_job(job_id), and write pressures that move
# regions between modes. Afterwards: every region's jobs_in_queue equals the
# jobs the clients admitted and did not complete, every admitted job was
# charged, the ledgers add up, and no job was admitted where its mode forbids.
#
# Output: `ok - ` / `not ok - ` lines, then `concurrency: N passed, M failed`.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DB=grse_adm
# shellcheck source=tests/concurrency/lib.sh
source "$HERE/lib.sh"

ADMIT_TX=${ADMIT_TX:-60}

if psql_q -f "$HERE/admission_setup.sql" >/dev/null; then
    pass "setup: three regions with 30000 cents each"
else
    fail "setup: three regions with 30000 cents each"
    finish
fi

run_pgbench admission "$ADMIT_TX" -f "$HERE/admit.sql@6" -f "$HERE/complete.sql@3" -f "$HERE/flip.sql@1"

psql_q -c "SELECT format('# admissions: %s admitted (%s by fallback), %s refused; open jobs: %s',
                         count(*) FILTER (WHERE admitted), count(*) FILTER (WHERE fallback),
                         count(*) FILTER (WHERE NOT admitted), (SELECT count(*) FROM adm_open_jobs))
           FROM adm_log" || true

check "the run admitted jobs and also refused or diverted some (both paths were exercised)" "
SELECT conc_assert(count(*) FILTER (WHERE admitted) > 0
                   AND count(*) FILTER (WHERE NOT admitted OR fallback) > 0,
                   format('%s admitted, %s refused, %s by fallback', count(*) FILTER (WHERE admitted),
                          count(*) FILTER (WHERE NOT admitted), count(*) FILTER (WHERE fallback)))
FROM adm_log"

check "every region's jobs_in_queue = jobs admitted there and not completed" "
SELECT conc_assert(count(*) = 0, string_agg(format('%s: queue %s, open jobs %s', slug, q, o), '; '))
FROM (SELECT r.slug, s.jobs_in_queue AS q,
             (SELECT count(*) FROM adm_open_jobs j WHERE j.region = r.id) AS o
        FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id) t
WHERE q <> o"

check "every admitted job was charged (admission checked the budget under the row lock)" "
SELECT conc_assert(count(*) = 0, format('%s admitted jobs were not charged', count(*)))
FROM adm_log WHERE admitted AND charged IS NOT TRUE"

check "per region: spend rows in the ledger = admitted costs recorded by the clients" "
SELECT conc_assert(count(*) = 0, string_agg(format('%s: ledger %s, clients %s', slug, l, c), '; '))
FROM (SELECT r.slug,
             (SELECT coalesce(sum(amount), 0) FROM grse.region_budget_transactions t
               WHERE t.region_id = r.id AND t.transaction_type = 'spend') AS l,
             (SELECT coalesce(sum(cost), 0) FROM adm_log a WHERE a.admitted AND a.region = r.id) AS c
        FROM grse.regions r) t
WHERE l <> c"

# (the true remaining: the pool plus the budget slots, which a contended region takes by itself;
# each account, the pool and every slot, has its own balance chain)
check "per region: ledger deltas sum to remaining and the balance chain is unbroken" "
SELECT conc_assert(count(*) = 0, string_agg(slug, ', '))
FROM grse.regions r JOIN grse.region_scaling_state s ON s.region_id = r.id
WHERE s.ai_budget_remaining < 0
   OR s.ai_budget_remaining + (grse.slot_totals(r.id)).balance
      <> (SELECT coalesce(sum(delta), 0) FROM grse.region_budget_transactions t WHERE t.region_id = r.id)
   OR EXISTS (SELECT 1 FROM (SELECT balance_after, delta,
                                    lag(balance_after, 1, 0::bigint) OVER (PARTITION BY slot_no ORDER BY id) AS prev
                               FROM grse.region_budget_transactions t WHERE t.region_id = r.id) c
              WHERE c.balance_after <> c.prev + c.delta)"

check "no job admitted into a frozen region, none above 100 cents into a throttled one" "
SELECT conc_assert(count(*) = 0, format('%s admissions broke the mode rules', count(*)))
FROM adm_log WHERE admitted AND (mode = 'frozen' OR (mode = 'throttled' AND cost > 100))"

check "every refusal carries a reason" "
SELECT conc_assert(count(*) = 0, format('%s refusals without a reason', count(*)))
FROM adm_log WHERE NOT admitted AND coalesce(reason, '') = ''"

check "stored overall pressure and capacity match the metrics after the run" "
SELECT conc_assert(count(*) = 0, format('%s regions whose derived scores differ from the metrics', count(*)))
FROM grse.region_scaling_state s
WHERE s.overall_pressure <> grse.compute_region_pressure(s.region_id)
   OR s.capacity_score <> grse.compute_region_capacity(s.region_id)"

finish
