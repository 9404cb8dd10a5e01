#!/usr/bin/env bash
# Scale-out test: grse on two nodes behind a PL/Proxy router (scaleout/), on
# three throw-away clusters (router, node eu, node us; a third node is added
# later as a second database of the us cluster).
#
#   1. set-up: CREATE EXTENSION grse + scaleout/node.sql on the nodes,
#      scaleout/router.sql on the router, the nodes added, schema grse generated;
#      every node function is exposed (or deliberately not), with the node's signature.
#   2. the demo (scripts/demo.sql) through the router and on one database holding
#      every region give the same answers; so do tests/scaleout/answers.sql (every
#      all-region function, routing and admission across nodes, bad input).
#   3. a concurrent spend workload through the router (pgbench): every accepted
#      spend is in its node's ledger, grse.verify_invariants() is empty on every node.
#   4. a node stopped mid-run: its regions' calls fail naming it (08006), the other
#      node's regions keep working under load, nothing acknowledged is lost when it returns.
#   5. a node added, and regions moved between nodes under load: every call waits
#      for the move and then goes to the new node; the ledger moves exactly.
#   6. holds and jobs (grse 0.3), routed by their id, when the nodes have them.
#
# Needs grse installed and postgresql-15-plproxy (scripts/setup.sh). Output: one
# `ok - ...` / `not ok - ...` line per check, then `scaleout: N passed, M failed`.
# KEEP=1 keeps the work directory.
set -euo pipefail

SUITE=scaleout
CLIENTS=${CLIENTS:-8}
# shellcheck source=tests/scaleout/lib.sh
source "$(cd "$(dirname "$0")" && pwd)/lib.sh"

LOAD_TX=${LOAD_TX:-150}          # spends per client in the workload phase
DOWN_SECONDS=${DOWN_SECONDS:-8}  # length of the node-down phase
MOVE_SECONDS=${MOVE_SECONDS:-8}  # length of the move phase

if [ ! -f "$("$PG_CONFIG" --pkglibdir)/plproxy.so" ]; then
    fail "PL/Proxy is installed (postgresql-15-plproxy; scripts/setup.sh installs it)"
    finish
fi

# ---- 1. set-up ----------------------------------------------------------------
scaleout_setup
pass "three clusters: router with nodes ${NODE_NAMES[*]}, schema grse generated from the node catalog"

ASSERT_FN="CREATE FUNCTION scaleout_assert(ok boolean, msg text) RETURNS boolean LANGUAGE plpgsql AS \$\$
BEGIN IF ok IS NOT TRUE THEN RAISE EXCEPTION 'assertion failed: %', msg; END IF; RETURN true; END \$\$"
psql_q -c "$ASSERT_FN" >/dev/null
for n in "${NODE_NAMES[@]}"; do node_psql "$n" -c "$ASSERT_FN" >/dev/null; done

check "every function of the nodes' schema grse is exposed by the router or deliberately not (grse_router.unrouted is empty)" "
SELECT scaleout_assert(count(*) = 0, string_agg(signature || ': ' || reason, '; ')) FROM grse_router.unrouted"

# the router's grse functions have the node's names, arguments (names, types,
# defaults) and results; the deliberately skipped ones are absent
SKIPPED=$(psql_q -c "SELECT string_agg(quote_literal(name), ',') FROM grse_router.node_functions WHERE kind = 'skip'")
SIG="SELECT string_agg(format('%s(%s) -> %s', p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid)),
                        E'\n' ORDER BY p.proname, pg_get_function_arguments(p.oid))
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'grse' AND p.prorettype <> 'trigger'::regtype AND p.proname <> ALL (ARRAY[$SKIPPED]::text[])"
ROUTER_SIG=$(psql_q -c "$SIG")
NODE_SIG=$(node_psql eu -c "$SIG")
if [ -n "$NODE_SIG" ] && [ "$ROUTER_SIG" = "$NODE_SIG" ]; then
    pass "the router's grse functions have the nodes' signatures ($(wc -l <<<"$NODE_SIG") functions)"
else
    fail "the router's grse functions have the nodes' signatures"
    diff <(echo "$NODE_SIG") <(echo "$ROUTER_SIG") | head -n 20 | sed 's/^/#   /' || true
fi

check "the router has a writable view of every grse table of the nodes" "
SELECT scaleout_assert(count(*) = 0, 'missing: ' || string_agg(t.name, ', '))
  FROM grse_router.tables t
 WHERE to_regclass(format('grse.%I', t.name)) IS NULL
    OR NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = to_regclass(format('grse.%I', t.name)))"

# ---- 2. the same answers as one node ---------------------------------------------
# The reference: one database holding every region (on the eu cluster).
node_psql eu -c "CREATE DATABASE grse_single" >/dev/null
single_psql() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "${NODE_DIR[eu]}/sock" -p "$(cat "${NODE_DIR[eu]}/port")" \
        -U postgres -d grse_single "$@"
}
single_psql -c "CREATE EXTENSION grse"
# Sydney on us, the others on eu: admissions from Sydney fall back across nodes;
# Oregon's jobs migrate to Frankfurt on the same node (jobs move within a node)
psql_q -c "SELECT grse_router.set_country_rule('DE', 'eu'), grse_router.set_country_rule('AU', 'us'),
                  grse_router.set_country_rule('US', 'eu')" >/dev/null

# Output of the demo with what legitimately differs masked: region ids (random),
# times, and ledger ids (each node numbers its own ledger); the alert list of
# step 13 is ordered by alert id, which is per node, and the jobs migrated in
# step 17 are listed in no order: their rows are compared as sets.
normalize_demo() {
    perl -pe 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/<uuid>/g;
              s/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d(:\d\d)?)?/<time>/g;
              s/^\| +\d+ \| (spend|refund|allocation|reset|transfer|hold|release) /| <id> | $1 /;
              s/ +/ /g; s/-+/-/g;' \
    | perl -e 'my @buf; my $in = 0;
               while (<>) {
                   if (/^\| (alert_type +\| severity|to_region +\| shard_key)/) { print; $in = 1; next }
                   if ($in && /^\+-/) { if (@buf) { print sort @buf; @buf = () } print; next }
                   if ($in && /^\| /) { push @buf, $_; next }
                   $in = 0 if /^\s*$/; print;
               }'
}
demo_on() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -P pager=off -P border=2 -P footer=off -P null='(null)' \
        "$@" -f "$ROOT/scripts/demo.sql" 2>&1
}
if single_out=$(demo_on -h "${NODE_DIR[eu]}/sock" -p "$(cat "${NODE_DIR[eu]}/port")" -U postgres -d grse_single) \
   && router_out=$(demo_on); then
    if diff <(normalize_demo <<<"$single_out") <(normalize_demo <<<"$router_out") >"$WORK/demo.diff"; then
        pass "scripts/demo.sql through the router gives the answers of one node ($(wc -l <<<"$router_out") lines)"
    else
        fail "scripts/demo.sql through the router gives the answers of one node"
        head -n 40 "$WORK/demo.diff" | sed 's/^/#   /'
    fi
else
    fail "scripts/demo.sql runs on one node and through the router"
    tail -n 5 <<<"${router_out:-$single_out}" | sed 's/^/#   /'
fi

check "the demo's regions are placed by country: Sydney on us, the others on eu" "
SELECT scaleout_assert(string_agg(p.slug || '@' || n.name, ' ' ORDER BY p.slug)
                       = 'ap-sydney@us eu-frankfurt@eu us-oregon@eu us-virginia@eu',
                       string_agg(p.slug || '@' || n.name, ' ' ORDER BY p.slug))
  FROM grse_router.placement p JOIN grse_router.nodes n USING (node_no)"
check_node us "node us holds only its region's rows (Sydney)" "
SELECT scaleout_assert(array_agg(slug) = ARRAY['ap-sydney'], array_agg(slug)::text) FROM grse.regions"

answers_on() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@" -f "$HERE/answers.sql" 2>&1
}
if single_ans=$(answers_on -h "${NODE_DIR[eu]}/sock" -p "$(cat "${NODE_DIR[eu]}/port")" -U postgres -d grse_single) \
   && router_ans=$(answers_on); then
    echo "$router_ans" >"$WORK/answers.router"
    if diff <(echo "$single_ans") <(echo "$router_ans") >"$WORK/answers.diff"; then
        pass "all-region functions, routing, admission with fallback and bad input: the same answers as one node ($(wc -l <<<"$router_ans") answers)"
    else
        fail "all-region functions, routing, admission with fallback and bad input: the same answers as one node"
        head -n 40 "$WORK/answers.diff" | sed 's/^/#   /'
    fi
else
    fail "tests/scaleout/answers.sql runs on one node and through the router"
    tail -n 5 <<<"${router_ans:-$single_ans}" | sed 's/^/#   /'
fi
for want in 'check unknown: error P0002: region 00000000-0000-0000-0000-00000000abcd not found' \
            'admit creative ap-sydney 300 fallback t: .*"reason": "Admitted by fallback region".*"region_id": "<eu-frankfurt>".*"requested_region_id": "<ap-sydney>"'; do
    if grep -qE "$want" <<<"$router_ans"; then
        pass "the router's answers include: ${want:0:90}"
    else
        fail "the router's answers include: $want"
    fi
done
# a role that is not a superuser: the router passes it on, the nodes' grants decide
psql_q -c "CREATE ROLE scaleout_reader LOGIN"
for n in eu us; do node_psql "$n" -c "CREATE ROLE scaleout_reader LOGIN IN ROLE grse_reader"; done
if out=$("$PG_BIN/psql" -X -qAt -U scaleout_reader \
            -c "SELECT count(*) FROM grse.get_all_regions_health()" -c "SELECT count(*) FROM grse.regions" 2>&1) \
   && [ "$out" = "$(printf '4\n4')" ]; then
    pass "a role with grse_reader on the nodes reads every region through the router"
else
    fail "a role with grse_reader on the nodes reads every region through the router"
    printf '%s\n' "$out" | sed 's/^/#   /'
fi
AS_ROLE=scaleout_reader check_error "the same role may not spend through the router: the node refuses (42501)" 42501 \
    'permission denied for function check_and_decrement_budget' \
    "SELECT grse.check_and_decrement_budget((SELECT region_id FROM grse_router.placement WHERE slug = 'eu-frankfurt'), 1)"
check_error "jobs do not migrate to a region on another node: 0A000 naming both nodes" 0A000 \
    'cannot migrate jobs to region .* on node "us": region .* is on node "eu"' \
    "SELECT * FROM grse.migrate_jobs((SELECT region_id FROM grse_router.placement WHERE slug = 'eu-frankfurt'),
                                     (SELECT region_id FROM grse_router.placement WHERE slug = 'ap-sydney'))"

# ---- 3. a concurrent spend workload through the router ----------------------------
# Four regions, two per node (one with budget slots); clients spend at random on
# them; every call and its answer is logged on the router in the same transaction.
psql_q >/dev/null <<'SQL'
SELECT grse_router.set_country_rule('FR', 'eu'), grse_router.set_country_rule('CA', 'us');
INSERT INTO grse.regions (name, slug, country_code, timezone) VALUES
    ('Load EU 1', 'load-eu-1', 'FR', 'Europe/Paris'), ('Load EU 2', 'load-eu-2', 'FR', 'UTC'),
    ('Load US 1', 'load-us-1', 'CA', 'America/Toronto'), ('Load US 2', 'load-us-2', 'CA', 'UTC');
CREATE TABLE scaleout_regions (no integer PRIMARY KEY, id uuid NOT NULL);
INSERT INTO scaleout_regions
SELECT row_number() OVER (ORDER BY slug), id FROM grse.regions WHERE slug LIKE 'load-%';
SELECT grse.set_monthly_budget(id, 50000) FROM scaleout_regions;
SELECT grse.set_budget_slots(id, 4) FROM scaleout_regions WHERE no = 2;
CREATE FUNCTION scaleout_region(n integer) RETURNS uuid LANGUAGE sql STABLE
AS $$ SELECT id FROM scaleout_regions WHERE no = n $$;
CREATE TABLE scaleout_log (region_no integer NOT NULL, amount integer NOT NULL, ok boolean NOT NULL,
                           phase text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
-- spends whose outcome the router never saw (a node stopped mid-call): per region
CREATE TABLE scaleout_in_doubt (region_no integer PRIMARY KEY, n bigint NOT NULL, total bigint NOT NULL);
SQL
cat >"$WORK/spend.sql" <<'SQL'
\set r random(:lo, :hi)
\set amount random(1, 400)
INSERT INTO scaleout_log (region_no, amount, ok, phase)
SELECT :r, :amount, grse.check_and_decrement_budget(scaleout_region(:r), :amount, NULL, 'posting'), :phase;
SQL

# The ledger through the router agrees with the log, region by region: every
# accepted spend is one spend row (count and sum), beyond the in-doubt ones.
check_ledger_matches_log() {
    check "$1" "
    SELECT scaleout_assert(count(*) = 0, string_agg(format('region %s: log %s spends / %s cents, ledger %s / %s',
                                                          g.no, g.n, g.total, l.n, l.total), '; '))
      FROM (SELECT r.no, r.id, count(x.*) FILTER (WHERE x.ok) + COALESCE(d.n, 0) AS n,
                   COALESCE(sum(x.amount) FILTER (WHERE x.ok), 0) + COALESCE(d.total, 0) AS total
              FROM scaleout_regions r LEFT JOIN scaleout_log x ON x.region_no = r.no
              LEFT JOIN scaleout_in_doubt d ON d.region_no = r.no
             GROUP BY r.no, r.id, d.n, d.total) g
      LEFT JOIN (SELECT t.region_id, count(*) AS n, sum(t.amount) AS total FROM grse.region_budget_transactions t
                  WHERE t.transaction_type = 'spend' GROUP BY 1) l ON l.region_id = g.id
     WHERE (g.n, g.total) IS DISTINCT FROM (COALESCE(l.n, 0), COALESCE(l.total, 0))"
}
# check_invariants_everywhere LABEL: grse.verify_invariants() on every node, and through the router
check_invariants_everywhere() {
    local n
    for n in "${NODE_NAMES[@]}"; do
        check_node "$n" "$1 node $n: grse.verify_invariants() is empty" "
        SELECT scaleout_assert(count(*) = 0, string_agg(invariant || ' ' || COALESCE(region_id::text, '') || ': ' || detail, '; '))
          FROM grse.verify_invariants()"
    done
    check "$1 router: grse.verify_invariants() (every node's, and the placement's) is empty" "
    SELECT scaleout_assert(count(*) = 0, string_agg(invariant || ' ' || COALESCE(region_id::text, '') || ': ' || detail, '; '))
      FROM grse.verify_invariants()"
}

PGBENCH_DEFINES=(-D lo=1 -D hi=4 -D phase=load)
run_pgbench spend "$LOAD_TX" -f "$WORK/spend.sql"
check "the workload ran some regions dry: spends were accepted and refused" "
SELECT scaleout_assert(count(*) FILTER (WHERE ok) > 0 AND count(*) FILTER (WHERE NOT ok) > 0,
                       format('%s accepted, %s refused', count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok)))
  FROM scaleout_log"
check_ledger_matches_log "after the workload: every accepted spend is one ledger row on its region's node (count and cents)"
check_invariants_everywhere "after the workload:"

# ---- 4. a node stopped mid-run ------------------------------------------------------
# Clients spend on eu's regions (must not notice) and on us's (they abort when
# it stops); us is stopped in the middle and started again.
bg_pgbench() {   # bg_pgbench NAME LO HI SECONDS: pgbench in the background, pid in BG_PID
    "$PG_BIN/pgbench" --no-vacuum -M prepared -c "$((CLIENTS / 2))" -j 1 -T "$4" \
        -D lo="$2" -D hi="$3" -D phase="$1" -f "$WORK/spend.sql" >"$WORK/pgbench-$1.log" 2>&1 &
    BG_PID=$!
}
bg_pgbench down-eu 1 2 "$DOWN_SECONDS"; EU_PID=$BG_PID
bg_pgbench down-us 3 4 "$DOWN_SECONDS"; US_PID=$BG_PID
sleep 2
US_REGION=$(psql_q -c "SELECT scaleout_region(3)")
EU_REGION=$(psql_q -c "SELECT scaleout_region(1)")
stop_node us
echo "# node us stopped"
check_error "a call for a region of the stopped node fails with 08006 naming the node" 08006 'grse node "us" is unreachable' \
    "SELECT grse.check_and_decrement_budget('$US_REGION', 1)"
check_error "an all-region call fails with 08006 naming the stopped node (never a partial answer)" 08006 \
    'grse node "us" is unreachable' "SELECT * FROM grse.get_all_regions_health()"
check "a call for a region of the other node works while us is down" "
SELECT scaleout_assert((SELECT allowed FROM grse.check_budget('$EU_REGION', 1)) IS NOT NULL, 'no answer')"
# admission with fallback: the requested region (frozen Virginia, on eu) refuses
# the job, the fallback needs every node and fails: nothing is left behind
VIRGINIA="(SELECT region_id FROM grse_router.placement WHERE slug = 'us-virginia')"
VIRGINIA_QUEUE=$(psql_q -c "SELECT grse.get_region_scaling_summary($VIRGINIA) #>> '{utilization,jobs_in_queue}'")
check_error "an admission whose fallback needs the stopped node fails with 08006" 08006 'grse node "us" is unreachable' \
    "SELECT * FROM grse.admit_job('creative', region_id => $VIRGINIA, estimated_cost => 50, hold_budget => true)"
check "the failed admission left no queue count and no hold behind in the requested region" "
SELECT scaleout_assert(s.q = '$VIRGINIA_QUEUE' AND (s.b ->> 'held')::bigint = 0, format('jobs_in_queue %s (was $VIRGINIA_QUEUE), budget %s', s.q, s.b))
  FROM (SELECT grse.get_region_scaling_summary($VIRGINIA) #>> '{utilization,jobs_in_queue}' AS q,
               grse.get_region_scaling_summary($VIRGINIA) -> 'budget' AS b) s"
if wait "$EU_PID"; then
    pass "the eu clients ran through the outage without an error ($(grep -oE 'processed: [0-9]+' "$WORK/pgbench-down-eu.log" || echo '?'))"
else
    fail "the eu clients ran through the outage without an error"
    grep -iE 'error|abort' "$WORK/pgbench-down-eu.log" | sort | uniq -c | head -n 5 | sed 's/^/#   /'
fi
if wait "$US_PID"; then
    fail "the us clients noticed the outage (their calls failed)"
else
    pass "the us clients noticed the outage: $(grep -m1 -oE 'grse node "us" is unreachable' "$WORK/pgbench-down-us.log" || grep -m1 -iE 'error' "$WORK/pgbench-down-us.log")"
fi
start_node us
psql_q -c "SELECT grse_router.alter_node('us', '$(node_connstr us)')" >/dev/null
echo "# node us started again"
check "calls for the node's regions work again once it is back" "
INSERT INTO scaleout_log (region_no, amount, ok, phase)
SELECT 3, 1, grse.check_and_decrement_budget('$US_REGION', 1), 'after';
SELECT scaleout_assert(ok IS NOT NULL, 'no answer') FROM scaleout_log WHERE phase = 'after'"
# a call in flight when the node stopped may have committed there without its
# answer reaching the router: at most one per us client
check "nothing acknowledged was lost on the stopped node: its ledger has every logged spend (plus at most one in-doubt call per client)" "
WITH l AS (SELECT r.no, count(*) AS n, sum(t.amount) AS total
             FROM scaleout_regions r JOIN grse.region_budget_transactions t ON t.region_id = r.id
            WHERE t.transaction_type = 'spend' GROUP BY r.no),
     g AS (SELECT region_no AS no, count(*) FILTER (WHERE ok) AS n, COALESCE(sum(amount) FILTER (WHERE ok), 0) AS total
             FROM scaleout_log GROUP BY 1),
     d AS (INSERT INTO scaleout_in_doubt SELECT l.no, l.n - g.n, l.total - g.total FROM l JOIN g USING (no)
            WHERE l.n > g.n RETURNING *)
SELECT scaleout_assert(bool_and(l.n - g.n BETWEEN 0 AND $((CLIENTS / 2)) AND l.total >= g.total AND (l.no >= 3 OR l.n = g.n)),
                       string_agg(format('region %s: log %s, ledger %s', l.no, g.n, l.n), '; '))
       AND (SELECT count(*) >= 0 FROM d)
  FROM l JOIN g USING (no)"
check_ledger_matches_log "after the outage: the ledger agrees with the log (in-doubt calls counted)"
check_invariants_everywhere "after the outage:"

# ---- 5. a node added; regions moved between nodes under load ------------------------
# The new node "ap" is a second database of the us cluster.
NODE_DIR[ap]=${NODE_DIR[us]}
NODE_DB[ap]=grse_ap
node_psql us -c "CREATE DATABASE grse_ap" >/dev/null
if node_psql ap -c "CREATE EXTENSION grse" -f "$SCALEOUT/node.sql" -c "$ASSERT_FN" >/dev/null \
   && psql_q -c "SELECT grse_router.add_node('ap', '$(node_connstr ap)')" >/dev/null; then
    pass "a node is added: grse_router.add_node('ap', ...)"
    NODE_NAMES+=(ap)
    check_node ap "the new node got the rows every node keeps (the policy and client_agencies, from node eu)" "
    SELECT scaleout_assert((SELECT count(*) FROM grse.client_agencies) = 2
                           AND (SELECT small_job_max_cents FROM grse.policy) = $(node_psql eu -c "SELECT small_job_max_cents FROM grse.policy"),
                           'client_agencies or policy missing')"
else
    fail "a node is added: grse_router.add_node('ap', ...)"
fi
check "a new region without a country rule goes to the node with the fewest regions (the new one)" "
INSERT INTO grse.regions (name, slug, country_code) VALUES ('Tokyo', 'ap-tokyo', 'JP');
SELECT scaleout_assert(n.name = 'ap', n.name) FROM grse_router.placement p JOIN grse_router.nodes n USING (node_no)
 WHERE p.slug = 'ap-tokyo'"
check_error "adding a node under a name in use fails (23505)" 23505 'nodes_name_key' \
    "SELECT grse_router.add_node('eu', '$(node_connstr eu)')"
check_error "adding a node that already holds regions fails (55000)" 55000 'node "eu2" already holds [0-9]+ regions' \
    "SELECT grse_router.add_node('eu2', '$(node_connstr eu)')"
check_error "moving a region without naming the node fails (22004)" 22004 'must not be NULL' \
    "SELECT grse_router.move_region(scaleout_region(1), NULL)"
check_error "moving a region to a node that does not exist fails (42704)" 42704 'grse node "mars" does not exist' \
    "SELECT grse_router.move_region(scaleout_region(1), 'mars')"
check_error "moving a region to the node it is on fails (55000)" 55000 'is already on node "eu"' \
    "SELECT grse_router.move_region(scaleout_region(1), 'eu')"

# an alert rule for every region (kept on every node, ids per node) that holds
# everywhere: its evaluation state (alert_rule_pending) moves with the regions
check "an alert rule for every region is written to every node and evaluated through the router" "
INSERT INTO grse.alert_rules (name, metric, comparison, threshold, for_duration) VALUES ('queue watch', 'queue', '>=', 0, '1 hour');
SELECT grse.alert_critical_issues() >= 0;"
# budget for the spends of this phase
psql_q -c "SELECT grse.set_monthly_budget(id, 100000) FROM scaleout_regions" >/dev/null
EU1_BEFORE=$(node_psql eu -c "SELECT count(*) FROM grse.region_budget_transactions WHERE region_id = '$EU_REGION'")
bg_pgbench move-a 1 4 "$MOVE_SECONDS"; MOVE_A=$BG_PID
bg_pgbench move-b 1 2 "$MOVE_SECONDS"; MOVE_B=$BG_PID
sleep 2
# move_region NO NODE DESC: moves load region NO to NODE (a check)
move_region() {
    local out
    if out=$(psql_q -c "SELECT grse_router.move_region(scaleout_region($1), '$2')" 2>&1); then
        pass "$3 under load: $(grep -oE '"seconds": [0-9.]+' <<<"$out")"
    else
        fail "$3 under load"
        printf '%s\n' "$out" | sed 's/^/#   /'
    fi
}
move_region 1 ap "region load-eu-1 moved eu -> ap"
sleep 1
move_region 3 eu "region load-us-1 moved us -> eu"
sleep 1
move_region 2 us "region load-eu-2 (budget slots) moved eu -> us"
rc=0; wait "$MOVE_A" || rc=$?; wait "$MOVE_B" || rc=$?
if [ "$rc" -eq 0 ]; then
    pass "the clients spending on the moving regions saw no error (calls waited for each move)"
else
    fail "the clients spending on the moving regions saw no error"
    grep -ihE 'error|abort' "$WORK/pgbench-move-a.log" "$WORK/pgbench-move-b.log" | sort | uniq -c | head -n 5 | sed 's/^/#   /'
fi
check "the placement follows the moves: load-eu-1 on ap, load-eu-2 on us, load-us-1 on eu" "
SELECT scaleout_assert(string_agg(p.slug || '@' || n.name, ' ' ORDER BY p.slug) = 'load-eu-1@ap load-eu-2@us load-us-1@eu load-us-2@us',
                       string_agg(p.slug || '@' || n.name, ' ' ORDER BY p.slug))
  FROM grse_router.placement p JOIN grse_router.nodes n USING (node_no) WHERE p.slug LIKE 'load-%'"
check_node eu "the source no longer holds any row of a moved region" "
SELECT scaleout_assert(NOT EXISTS (SELECT 1 FROM grse.regions WHERE id = '$EU_REGION')
                       AND NOT EXISTS (SELECT 1 FROM grse.region_budget_transactions WHERE region_id = '$EU_REGION')
                       AND NOT EXISTS (SELECT 1 FROM grse.region_scaling_state WHERE region_id = '$EU_REGION'), 'rows left')"
check_node ap "the target holds the moved region's whole ledger, and the spends made after the move" "
SELECT scaleout_assert(count(*) > $EU1_BEFORE, format('%s ledger rows, %s before the move', count(*), $EU1_BEFORE))
  FROM grse.region_budget_transactions WHERE region_id = '$EU_REGION'"
check_node ap "the moved region's alert evaluation state refers to the target's copy of the rule" "
SELECT scaleout_assert(count(*) = 1, count(*) || ' pending rows of rule queue watch')
  FROM grse.alert_rule_pending p JOIN grse.alert_rules r ON r.id = p.rule_id
 WHERE p.region_id = '$EU_REGION' AND r.name = 'queue watch'"
check_ledger_matches_log "after the moves: no spend lost or doubled (the ledger agrees with the log, region by region)"
check_invariants_everywhere "after the moves:"
check "the router records every move" "
SELECT scaleout_assert(count(*) = 3, count(*)::text) FROM grse_router.moves"

# ---- 6. holds and jobs, routed by their ids ------------------------------------------
psql_q -c "INSERT INTO grse.regions (name, slug, country_code) VALUES ('Holds', 'hold-test', 'CA')" >/dev/null
R4="(SELECT region_id FROM grse_router.placement WHERE slug = 'hold-test')"
check "a hold reserved through the router is recorded with its region (id -> region cache)" "
CREATE TABLE scaleout_hold AS SELECT * FROM grse.reserve_budget($R4, 500, idempotency_key => 'scaleout-1');
SELECT scaleout_assert(h.allowed AND c.region_id = $R4, format('allowed %s, cached region %s', h.allowed, c.region_id))
  FROM scaleout_hold h LEFT JOIN grse_router.id_regions c ON c.id = h.hold_id"
check "a retry with the same idempotency key returns the same hold" "
SELECT scaleout_assert(r.hold_id = h.hold_id, format('%s, first %s', r.hold_id, h.hold_id))
  FROM scaleout_hold h, grse.reserve_budget($R4, 500, idempotency_key => 'scaleout-1') r"
check "the hold is settled through the router (on its region's node)" "
SELECT scaleout_assert(grse.settle_budget_hold(hold_id, 320) >= 0, 'no remaining') FROM scaleout_hold"
check_error "settling it again raises 55000 naming its status" 55000 'is settled' \
    "SELECT grse.settle_budget_hold(hold_id, 1) FROM scaleout_hold"
check_error "an unknown hold raises P0002 (asked of every node, then of one)" P0002 'hold .* not found' \
    "SELECT grse.release_budget_hold('00000000-0000-0000-0000-0000000000aa')"
check "a job admitted with a hold through the router is recorded with its region" "
CREATE TABLE scaleout_job AS
SELECT * FROM grse.admit_job('intel', region_id => $R4, estimated_cost => 200, hold_budget => true, allow_fallback => false);
SELECT scaleout_assert(j.admitted AND j.hold_id IS NOT NULL AND c.region_id = $R4, format('%s %s', j.admitted, j.reason))
  FROM scaleout_job j LEFT JOIN grse_router.id_regions c ON c.id = j.job_id"
if out=$(psql_q -c "SELECT grse_router.move_region($R4, 'ap')" 2>&1); then
    pass "the job's region moved us -> ap with its open job and hold"
else
    fail "the job's region moved us -> ap with its open job and hold"
    printf '%s\n' "$out" | sed 's/^/#   /'
fi
check "the job is started and finished through the router after the move, without the cache (asked of every node)" "
TRUNCATE grse_router.id_regions;
SELECT scaleout_assert((grse.start_job(job_id) ->> 'status') = 'running'
                       AND (grse.finish_job(job_id, 150) ->> 'status') = 'succeeded', 'not finished')
  FROM scaleout_job"
check_node ap "the finished job's hold was settled on its new node: 150 charged, the rest released" "
SELECT scaleout_assert(h.status = 'settled' AND h.settled_amount = 150, format('%s %s', h.status, h.settled_amount))
  FROM grse.budget_holds h WHERE h.id = '$(psql_q -c "SELECT hold_id FROM scaleout_job")'"
check "expire_budget_holds() without a region runs on every node" "
SELECT scaleout_assert(grse.expire_budget_holds() >= 0, 'no count')"
check_invariants_everywhere "after holds and jobs:"

finish
