#!/usr/bin/env bash
# Multi-connection budget test against a real server (pgbench, 32 clients).
#
# Needs the grse extension installed (`cargo pgrx install`); starts its own
# throw-away cluster (scripts/cluster.sh) and stops it on exit.
#
#   1. setup.sql: CREATE EXTENSION grse, one region "Hot" with a monthly budget
#      of 50000 cents, test-owned log tables.
#   2. mixed phase: 32 clients (-j 2) run spend.sql (random 1..500 cents, weight 9)
#      and refund.sql (25 cents, weight 1) on the same region until it runs dry
#      and beyond.
#   3. drain phase: spends only, so the region surely ends dry (< 500 cents).
#   4. Invariants, checked in SQL (each raises on violation): no negative
#      balance, ledger sums and chains to the state, spend totals agree with
#      what the clients recorded, nothing spent beyond what was allocated.
#
# SLOTS=N (default 1) gives the region N budget slots (escrow rows): the same
# checks then hold per account (the pool and each slot) and for the true total.
#
# Output: one `ok - ...` / `not ok - ...` line per check, then
#   concurrency: N passed, M failed
# and a non-zero exit status when a check failed. KEEP=1 keeps the work dir.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DB=grse_conc
# shellcheck source=tests/concurrency/lib.sh
source "$HERE/lib.sh"

MIXED_TX=${MIXED_TX:-60}       # transactions per client, mixed phase (~1700 spends: far beyond the budget)
DRAIN_TX=${DRAIN_TX:-20}       # transactions per client, drain phase
SLOTS=${SLOTS:-1}              # budget slots of the region

# ---- 1. setup ------------------------------------------------------------------
if psql_q -f "$HERE/setup.sql" >/dev/null; then
    pass "setup: CREATE EXTENSION grse, region Hot, budget set"
else
    fail "setup: CREATE EXTENSION grse, region Hot, budget set"
    finish
fi
REGION=$(psql_q -c "SELECT conc_region()")
echo "# region Hot = $REGION, budget slots: $SLOTS"
if [ "$SLOTS" -gt 1 ]; then
    check "region Hot spends from $SLOTS budget slots" "
    SELECT grse.set_budget_slots(conc_region(), $SLOTS) = $SLOTS"
fi
PGBENCH_DEFINES=(-D "region=$REGION")

check "new region's remaining is 50000 after set_monthly_budget(id, 50000)" "
SELECT conc_assert(ai_budget_remaining = 50000 AND ai_budget_monthly = 50000,
                   format('monthly = %s, remaining = %s', ai_budget_monthly, ai_budget_remaining))
FROM grse.region_scaling_state WHERE region_id = conc_region()"

# ---- 2./3. load ----------------------------------------------------------------

run_pgbench mixed "$MIXED_TX" -f "$HERE/spend.sql@9" -f "$HERE/refund.sql@1"

check "the region ran dry under load: some spends were refused in the mixed phase" "
SELECT conc_assert(count(*) FILTER (WHERE NOT ok) > 0 AND count(*) FILTER (WHERE ok) > 0,
                   format('%s accepted, %s refused', count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok)))
FROM conc_log"

run_pgbench drain "$DRAIN_TX" -f "$HERE/spend.sql"

psql_q -c "SELECT format('# spends: %s accepted (%s cents), %s refused; refunds: %s accepted, %s refused (22023)',
                         (SELECT count(*) FROM conc_log WHERE ok), (SELECT coalesce(sum(amount), 0) FROM conc_log WHERE ok),
                         (SELECT count(*) FROM conc_log WHERE NOT ok),
                         (SELECT count(*) FROM conc_refund_log WHERE ok), (SELECT count(*) FROM conc_refund_log WHERE NOT ok))" || true

# ---- 4. invariants ---------------------------------------------------------------
L="grse.region_budget_transactions"      # the ledger
S="grse.region_scaling_state"
TRUE_REMAINING="(s.ai_budget_remaining + (grse.slot_totals(s.region_id)).balance)"   # pool + slots

check "remaining never negative (every balance_after >= 0, state ai_budget_remaining >= 0)" "
SELECT conc_assert(neg = 0 AND s.ai_budget_remaining >= 0,
                   format('%s ledger rows with balance_after < 0; remaining = %s', neg, s.ai_budget_remaining))
FROM $S s,
     LATERAL (SELECT count(*) AS neg FROM $L WHERE region_id = s.region_id AND balance_after < 0) l
WHERE s.region_id = conc_region()"

check "ledger rows well-formed (amount > 0; spend delta = -amount, refund delta = +amount, |allocation/reset delta| = amount)" "
SELECT conc_assert(count(*) = 0, format('%s malformed rows, e.g. id %s', count(*), min(id)))
FROM $L
WHERE region_id = conc_region()
  AND NOT (amount > 0 AND CASE transaction_type::text
                              WHEN 'spend'  THEN delta = -amount
                              WHEN 'refund' THEN delta = amount
                              WHEN 'allocation' THEN abs(delta) = amount
                              WHEN 'reset' THEN abs(delta) = amount
                              ELSE true END)"

check "sum of ledger deltas = remaining (state pool + slots)" "
SELECT conc_assert(l.total = $TRUE_REMAINING,
                   format('sum(delta) = %s, remaining = %s', l.total, $TRUE_REMAINING))
FROM $S s,
     LATERAL (SELECT coalesce(sum(delta), 0) AS total FROM $L WHERE region_id = s.region_id) l
WHERE s.region_id = conc_region()"

check "balance chain unbroken per account (by id: balance_after = previous balance_after + delta; first = delta)" "
SELECT conc_assert(count(*) = 0, format('%s rows break the chain, first at id %s', count(*), min(id)))
FROM (SELECT id, delta, balance_after, lag(balance_after) OVER (PARTITION BY slot_no ORDER BY id) AS prev
      FROM $L WHERE region_id = conc_region()) t
WHERE balance_after IS DISTINCT FROM coalesce(prev, 0) + delta"

check "each account's last balance_after = its balance (pool: state ai_budget_remaining; slots: their rows)" "
SELECT conc_assert(count(*) = 0, format('%s accounts disagree, e.g. slot %s', count(*), min(a.slot_no)))
FROM (SELECT 0 AS slot_no, ai_budget_remaining AS balance FROM $S WHERE region_id = conc_region()
      UNION ALL
      SELECT slot_no, balance FROM grse.region_budget_slots WHERE region_id = conc_region()) a
LEFT JOIN LATERAL (SELECT balance_after FROM $L WHERE region_id = conc_region() AND slot_no = a.slot_no
                    ORDER BY id DESC LIMIT 1) l ON true
WHERE coalesce(l.balance_after, 0) <> a.balance"

check "grse.verify_invariants() finds nothing" "
SELECT conc_assert(count(*) = 0, format('%s violations, e.g. %s', count(*), min(invariant || ': ' || detail)))
FROM grse.verify_invariants()"

# ai_spend_today is the gross spend of the region's current day (its timezone).
check "ai_spend_today (state + slots) = sum of today's spend rows" "
SELECT conc_assert(s.ai_spend_today + (grse.slot_totals(s.region_id)).spent_today = l.spent,
                   format('ai_spend_today = %s, spend rows sum to %s',
                          s.ai_spend_today + (grse.slot_totals(s.region_id)).spent_today, l.spent))
FROM $S s JOIN grse.regions g ON g.id = s.region_id,
     LATERAL (SELECT coalesce(sum(amount), 0) AS spent FROM $L
              WHERE region_id = s.region_id AND transaction_type::text = 'spend'
                AND (created_at AT TIME ZONE g.timezone)::date = (now() AT TIME ZONE g.timezone)::date) l
WHERE s.region_id = conc_region()"

check "accepted spends recorded by the clients = spend rows in the ledger (count and sum)" "
SELECT conc_assert(c.n = l.n AND c.total = l.total,
                   format('clients: %s spends, %s cents; ledger: %s spends, %s cents', c.n, c.total, l.n, l.total))
FROM (SELECT count(*) AS n, coalesce(sum(amount), 0) AS total FROM conc_log WHERE ok) c,
     (SELECT count(*) AS n, coalesce(sum(amount), 0) AS total FROM $L
      WHERE region_id = conc_region() AND transaction_type::text = 'spend') l"

check "accepted refunds recorded by the clients = refund rows in the ledger (count and sum)" "
SELECT conc_assert(c.n = l.n AND c.total = l.total,
                   format('clients: %s refunds, %s cents; ledger: %s refunds, %s cents', c.n, c.total, l.n, l.total))
FROM (SELECT count(*) AS n, coalesce(sum(amount), 0) AS total FROM conc_refund_log WHERE ok) c,
     (SELECT count(*) AS n, coalesce(sum(amount), 0) AS total FROM $L
      WHERE region_id = conc_region() AND transaction_type::text = 'refund') l"

check "refunds never exceed spends (sum of refunds <= sum of spends)" "
SELECT conc_assert(refunded <= spent, format('refunded %s > spent %s', refunded, spent))
FROM (SELECT coalesce(sum(amount) FILTER (WHERE transaction_type::text = 'refund'), 0) AS refunded,
             coalesce(sum(amount) FILTER (WHERE transaction_type::text = 'spend'), 0) AS spent
      FROM $L WHERE region_id = conc_region()) t"

check "accepted spends <= allocated (allocation/reset deltas) + refunds" "
SELECT conc_assert(spent <= allocated + refunded,
                   format('spent %s > allocated %s + refunded %s', spent, allocated, refunded))
FROM (SELECT coalesce(sum(delta) FILTER (WHERE transaction_type::text IN ('allocation', 'reset')), 0) AS allocated,
             coalesce(sum(amount) FILTER (WHERE transaction_type::text = 'refund'), 0) AS refunded,
             coalesce(sum(amount) FILTER (WHERE transaction_type::text = 'spend'), 0) AS spent
      FROM $L WHERE region_id = conc_region()) t"

check "remaining never above what was allocated (at every ledger row, balance_after <= allocation/reset deltas so far)" "
SELECT conc_assert(count(*) = 0, format('%s rows exceed the allocation so far, first at id %s', count(*), min(id)))
FROM (SELECT id, balance_after,
             sum(delta) FILTER (WHERE transaction_type::text IN ('allocation', 'reset')) OVER (ORDER BY id) AS allocated
      FROM $L WHERE region_id = conc_region()) t
WHERE balance_after > coalesce(allocated, 0)"

check "the region ended dry (remaining < 500)" "
SELECT conc_assert($TRUE_REMAINING < 500, format('remaining = %s', $TRUE_REMAINING))
FROM $S s WHERE region_id = conc_region()"

if [ "$SLOTS" -gt 1 ]; then
    check "spends were charged to slots, and budget moved between the pool and the slots" "
    SELECT conc_assert(count(*) FILTER (WHERE slot_no > 0 AND transaction_type = 'spend') > 0
                       AND count(*) FILTER (WHERE transaction_type = 'transfer') > 0,
                       format('%s slot spends, %s transfers', count(*) FILTER (WHERE slot_no > 0 AND transaction_type = 'spend'),
                              count(*) FILTER (WHERE transaction_type = 'transfer')))
    FROM $L WHERE region_id = conc_region()"
fi

# ---- 5. refusals write nothing -----------------------------------------------------
check "a spend beyond remaining returns false and writes nothing" "
DO \$\$
DECLARE
    r uuid := conc_region();
    rows_before bigint := (SELECT count(*) FROM $L WHERE region_id = r);
    rem bigint := (SELECT $TRUE_REMAINING FROM $S s WHERE region_id = r);
    accepted boolean;
BEGIN
    accepted := grse.check_and_decrement_budget(r, rem + 1, NULL, 'creative');
    PERFORM conc_assert(NOT accepted, format('spend of %s with %s remaining was accepted', rem + 1, rem));
    PERFORM conc_assert((SELECT count(*) FROM $L WHERE region_id = r) = rows_before
                        AND (SELECT $TRUE_REMAINING FROM $S s WHERE region_id = r) = rem,
                        'a refused spend changed the ledger or the state');
END
\$\$;
SELECT true;"

check "a refund beyond what was spent raises SQLSTATE 22023 and writes nothing" "
DO \$\$
DECLARE
    r uuid := conc_region();
    rows_before bigint := (SELECT count(*) FROM $L WHERE region_id = r);
BEGIN
    BEGIN
        PERFORM grse.refund_budget(r, 1000000000000, 'too much');
        RAISE EXCEPTION 'refund of 10^12 cents was accepted';
    EXCEPTION WHEN invalid_parameter_value THEN
        NULL;       -- expected
    END;
    PERFORM conc_assert((SELECT count(*) FROM $L WHERE region_id = r) = rows_before,
                        'a refused refund wrote a ledger row');
END
\$\$;
SELECT true;"

finish
