#!/usr/bin/env bash
# Replication test, on three throw-away clusters:
#
#   publisher (wal_level = logical): grse with every kind of row (tests/restore/fixture.sql),
#     a publication of every grse table, then a mixed workload (pgbench: spends, slot spends,
#     refunds, metric writes, admissions, snapshots, policy changes, monitor runs);
#   subscriber: CREATE EXTENSION grse and a subscription (initial copy, then the changes):
#     every table equals the publisher's, row for row; the apply worker's rows pass grse's
#     guards, the applications' direct writes are still refused, a session that cached the
#     policy sees a replicated policy change;
#   hot standby (pg_basebackup -R of the publisher): every read function answers in a
#     read-only transaction, exactly as on the publisher, and a region whose day and month
#     have ended reads as rolled over — without writing, on the standby or the publisher.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DB=grse_repl
SUITE=replication
# shellcheck source=tests/concurrency/lib.sh
source "$HERE/../concurrency/lib.sh"

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
SUB="$WORK/subscriber"
STANDBY="$WORK/standby"
trap 'bash "$CLUSTER" stop "$STANDBY" || true; bash "$CLUSTER" stop "$SUB" || true; cleanup' EXIT

PUB_PORT=$PGPORT
pub() { psql_q -d "$DB" "$@"; }
sub() { psql_q -h "$SUB/sock" -p "$(cat "$SUB/port")" -d "$DB" "$@"; }
standby() { psql_q -h "$STANDBY/sock" -p "$(cat "$STANDBY/port")" -d "$DB" "$@"; }

# ---- the publisher: wal_level = logical, grse with every kind of row ----------------------
pub -c "ALTER SYSTEM SET wal_level = logical" >/dev/null
bash "$CLUSTER" stop "$CL"
bash "$CLUSTER" start "$CL" "$DB" 2>/dev/null
eval "$(bash "$CLUSTER" env "$CL")"
PUB_PORT=$PGPORT
pub -c "CREATE EXTENSION grse"
pub -f "$HERE/../restore/fixture.sql"
# every table of grse (the ones pg_dump writes, which is every one: tests/restore checks it)
TABLES=$(pub -c "SELECT string_agg(c.oid::regclass::text, ', ' ORDER BY c.relname)
                   FROM pg_extension e, unnest(e.extconfig) AS x(oid) JOIN pg_class c ON c.oid = x.oid
                  WHERE e.extname = 'grse' AND c.relkind = 'r'")
pub -c "CREATE PUBLICATION grse_pub FOR TABLE $TABLES" >/dev/null
echo "# published: $TABLES"

# ---- the subscriber ---------------------------------------------------------------------
bash "$CLUSTER" start "$SUB" "$DB" 2>/dev/null
sub -c "CREATE EXTENSION grse"
sub -c "CREATE SUBSCRIPTION grse_sub CONNECTION 'host=$CL/sock port=$PUB_PORT dbname=$DB user=postgres'
        PUBLICATION grse_pub" >/dev/null 2>&1

# wait_synced: the subscriber has applied everything the publisher wrote so far
wait_synced() {
    local lsn
    lsn=$(pub -c "SELECT pg_current_wal_lsn()")
    for _ in $(seq 1 120); do
        if [ "$(sub -c "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'")" = 0 ] \
           && [ "$(pub -c "SELECT COALESCE(bool_and(replay_lsn >= '$lsn'), false) FROM pg_stat_replication
                           WHERE application_name = 'grse_sub'")" = t ]; then
            return 0
        fi
        sleep 0.5
    done
    echo "# the subscriber did not catch up with $lsn in 60 s"
    return 1
}

# same_tables WHAT: the subscriber's grse tables equal the publisher's (tests/restore/tables.sql)
same_tables() {
    pub -f "$HERE/../restore/tables.sql" | grep '^table' >"$WORK/pub.tables"
    sub -f "$HERE/../restore/tables.sql" | grep '^table' >"$WORK/sub.tables"
    if diff -u "$WORK/pub.tables" "$WORK/sub.tables" >"$WORK/tables.diff"; then
        pass "$1: every table of the subscriber equals the publisher's ($(wc -l <"$WORK/pub.tables") tables)"
    else
        fail "$1: every table of the subscriber equals the publisher's (- publisher, + subscriber):"
        head -n 20 "$WORK/tables.diff" | sed 's/^/#   /'
        grep -E 'ERROR|error' "$SUB/log" | tail -n 5 | sed 's/^/#   log: /'
    fi
}

if wait_synced; then pass "initial copy: every table synchronized"; else fail "initial copy: every table synchronized"; fi
same_tables "initial copy"

# a subscriber session that has the policy cached, kept open across a replicated policy change
coproc POLICY_SESSION { "$PG_BIN/psql" -X -qAt -h "$SUB/sock" -p "$(cat "$SUB/port")" -U postgres -d "$DB" 2>&1; }
echo "SELECT grse.compute_region_capacity('00000000-0000-4000-8000-0000000000b1');" >&"${POLICY_SESSION[1]}"
read -r -t 30 cap_before <&"${POLICY_SESSION[0]}" || cap_before=none

# ---- a mixed workload on the publisher --------------------------------------------------
cat >"$WORK/mixed.sql" <<'EOF'
\set r random(1, 3)
\set amount random(1, 300)
\set p random(0, 100)
SELECT grse.check_and_decrement_budget(('00000000-0000-4000-8000-0000000000b' || :r)::uuid, :amount, NULL, 'posting');
SELECT grse.check_and_decrement_budget('00000000-0000-4000-8000-0000000000b2', :amount, NULL, 'intel');
UPDATE grse.region_scaling_state SET posting_pressure = :p WHERE region_id = ('00000000-0000-4000-8000-0000000000b' || :r)::uuid;
SELECT grse.admit_job('creative', region_id => ('00000000-0000-4000-8000-0000000000b' || :r)::uuid, estimated_cost => 5);
EOF
cat >"$WORK/refund.sql" <<'EOF'
SELECT grse.refund_budget('00000000-0000-4000-8000-0000000000b1', 1);
SELECT grse.save_region_snapshot('00000000-0000-4000-8000-0000000000b3');
SELECT grse.run_monitor();
EOF
CLIENTS=4 THREADS=2 run_pgbench mixed 60 -f "$WORK/mixed.sql@8" -f "$WORK/refund.sql@1"
# b1 at a fixed pressure, and its capacity under the old policy: the change below must move it (the
# workload's random pressures alone could leave it where the cached session first saw it)
pub -q -c "UPDATE grse.region_scaling_state SET posting_pressure = 80 WHERE region_id = '00000000-0000-4000-8000-0000000000b1'"
cap_old_pub=$(pub -c "SELECT grse.compute_region_capacity('00000000-0000-4000-8000-0000000000b1')")
pub -q <<'EOF'
SET client_min_messages = warning;
\o /dev/null
UPDATE grse.policy SET capacity_weight_budget = 0.50, capacity_weight_pressure = 0.25;
SELECT grse.set_monthly_budget('00000000-0000-4000-8000-0000000000b3', 250000);
INSERT INTO grse.regions (id, name, slug, country_code, timezone)
VALUES ('00000000-0000-4000-8000-0000000000b8', 'Sydney', 'au', 'AU', 'Australia/Sydney');
SELECT grse.check_and_decrement_budget('00000000-0000-4000-8000-0000000000b8', 42);
SELECT grse.reset_daily_budget_spend();
UPDATE grse.agency_regions SET status = 'expired' WHERE region_id = '00000000-0000-4000-8000-0000000000b3';
EOF
check "the publisher's invariants hold after the workload" "SELECT count(*) = 0 FROM grse.verify_invariants()"
if wait_synced; then pass "the subscriber caught up with the workload"; else fail "the subscriber caught up with the workload"; fi
same_tables "after the workload"
check "the subscriber's invariants hold" "
\\c $DB postgres $SUB/sock $(cat "$SUB/port")
SELECT count(*) = 0 FROM grse.verify_invariants()"

echo "SELECT grse.compute_region_capacity('00000000-0000-4000-8000-0000000000b1');" >&"${POLICY_SESSION[1]}"
read -r -t 30 cap_after <&"${POLICY_SESSION[0]}" || cap_after=none
echo '\q' >&"${POLICY_SESSION[1]}"
cap_pub=$(pub -c "SELECT grse.compute_region_capacity('00000000-0000-4000-8000-0000000000b1')")
if [ "$cap_after" = "$cap_pub" ] && [ "$cap_old_pub" != "$cap_pub" ]; then
    pass "a subscriber session that had the policy cached judges by the replicated policy ($cap_before at first; old policy $cap_old_pub -> $cap_after)"
else
    fail "a subscriber session that had the policy cached judges by the replicated policy (at first $cap_before, after $cap_after, publisher $cap_pub under the new policy, $cap_old_pub under the old)"
fi

# ---- direct writes on the subscriber are still refused ----------------------------------
R1=00000000-0000-4000-8000-0000000000b1
for role_setting in origin replica; do
    for stmt in \
        "INSERT INTO grse.region_budget_transactions (region_id, transaction_type, amount, delta, balance_after) VALUES ('$R1', 'allocation', 5, 5, 5)" \
        "DELETE FROM grse.region_budget_transactions" \
        "UPDATE grse.budget_rollovers SET source = 'manual'" \
        "INSERT INTO grse.region_mode_transitions (region_id, from_mode, to_mode, capacity, pressure, reason) VALUES ('$R1', 'normal', 'frozen', 1, 1, 'x')" \
        "UPDATE grse.region_budget_slots SET balance = balance + 1" \
        "DELETE FROM grse.region_scaling_state" \
        "INSERT INTO grse.policy DEFAULT VALUES"; do
        if out=$(sub -c "SET session_replication_role = $role_setting" -c "$stmt" 2>&1); then
            fail "subscriber, superuser, session_replication_role = $role_setting: refused: ${stmt:0:60}"
        elif grep -q 'grse' <<<"$out"; then
            pass "subscriber, superuser, session_replication_role = $role_setting: refused by grse: ${stmt:0:60}"
        else
            fail "subscriber, superuser, session_replication_role = $role_setting: refused by grse: ${stmt:0:60}"
            printf "%s\n" "$out" | sed "s/^/#   /"
        fi
    done
done
if out=$(sub -c "UPDATE grse.region_scaling_state SET ai_budget_remaining = 1 WHERE region_id = '$R1'" 2>&1); then
    fail "subscriber: a direct write of a budget column is refused"
else
    pass "subscriber: a direct write of a budget column is refused ($(head -n 1 <<<"$out"))"
fi
same_tables "after the refused writes"

# ---- a hot standby of the publisher -----------------------------------------------------
# a region whose day and month have ended (and that nothing touches again): the reads
# must show it rolled over; the scheduled roll-over has not run
R9=00000000-0000-4000-8000-0000000000b9
pub -q <<EOF
SET client_min_messages = warning;
\\o /dev/null
INSERT INTO grse.regions (id, name, slug, country_code, timezone) VALUES ('$R9', 'Due', 'due', 'NZ', 'Pacific/Auckland');
SELECT grse.check_and_decrement_budget('$R9', 70000, NULL, 'creative');
UPDATE grse.region_scaling_state SET posting_pressure = 10 WHERE region_id = '$R9';
SET session_replication_role = replica;
UPDATE grse.region_scaling_state
   SET day_started_at = now() - interval '32 days', day_ends_at = now() - interval '1 minute',
       month_started_at = now() - interval '32 days', month_ends_at = now() - interval '1 minute'
 WHERE region_id = '$R9';
EOF
# the battery's calls with good arguments (tests/battery/cases.sql, from the catalog): every
# function of grse, so that the standby runs every read function there is
pub -f "$HERE/../battery/cases.sql" >/dev/null
install -d -o postgres -g postgres -m 700 "$STANDBY"
as_pg "$PG_BIN/pg_basebackup" -h "$CL/sock" -p "$PUB_PORT" -U postgres -D "$STANDBY/data" -R -X stream -c fast
as_pg tee -a "$STANDBY/data/postgresql.conf" >/dev/null <<EOF
unix_socket_directories = '$STANDBY/sock'
EOF
bash "$CLUSTER" start "$STANDBY" "$DB" 2>/dev/null
if [ "$(standby -c "SELECT pg_is_in_recovery()")" = t ]; then pass "the standby is in recovery (hot standby)"; else fail "the standby is in recovery (hot standby)"; fi

# every read function, with sensible arguments, in a read-only transaction
READS="$WORK/reads.sql"
cat >"$READS" <<EOF
\\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN TRANSACTION READ ONLY;
SELECT 'summary', grse.get_region_scaling_summary('$R1') - 'updated_at' - 'mode_since';
SELECT 'summary due', grse.get_region_scaling_summary('$R9') - 'updated_at' - 'mode_since';
SELECT 'health', h.* FROM grse.get_all_regions_health() h;
SELECT 'list', h.region_id, h.scaling_mode, h.capacity_score, h.budget_percent_remaining, h.ai_budget_remaining,
       h.ai_spend_today FROM grse.list_region_health() h;
SELECT 'by metric', h.region_id FROM grse.get_regions_by_metric('budget', 'asc') h;
SELECT 'stats', grse.get_budget_stats('$R1');
SELECT 'stats due', grse.get_budget_stats('$R9');
SELECT 'pressure', grse.compute_region_pressure(r), grse.compute_region_capacity(r), e.*
  FROM unnest(ARRAY['$R1', '$R9']::uuid[]) r, grse.evaluate_region(r) e;
SELECT 'trend', t.period_type, t.avg_capacity, t.peak_pressure FROM grse.get_region_health_trend('00000000-0000-4000-8000-0000000000b3', 5) t;
SELECT 'pressure trend', t.* FROM grse.pressure_trend('00000000-0000-4000-8000-0000000000b3') t;
SELECT 'conflicts', c.type, c.region_id, c.severity, c.message FROM grse.detect_cross_region_conflicts() c;
SELECT 'risk', grse.compute_global_risk() - 'assessed_at' - 'conflicts';
SELECT 'resolve', grse.resolve_region_for_agency('00000000-0000-4000-8000-0000000000a1'),
       grse.resolve_region_for_client('00000000-0000-4000-8000-0000000000c1'),
       grse.resolve_region_from_headers('{"x-region-id": "$R9"}');
SELECT 'best', grse.get_best_region_for_job('posting');
SELECT 'api health', jsonb_path_query_array(grse.api_regions_health('budget', 'asc', true), '\$.regions[*].regionId');
SELECT 'api snapshot', grse.api_get_region_snapshot('$R9', true, 3) #- '{summary,updated_at}' #- '{summary,mode_since}'
       #- '{snapshot,updated_at}' #- '{snapshot,mode_since}' #- '{snapshot,generated_at}';
SELECT 'invariants', count(*) FROM grse.verify_invariants();
EOF
# check_budget (which does not lock) and forecast_budget (without what depends on the
# moment it runs) read too
cat >>"$READS" <<EOF
SELECT 'check', c.* FROM grse.check_budget('$R9', 100) c;
SELECT 'forecast', grse.forecast_budget('$R1') - ARRAY['burn_rate_per_day', 'projected_exhaustion_at',
       'observed_seconds', 'days_left', 'projected_period_spend', 'exhausts_before_period_end'];
COMMIT;
EOF

# every function of grse that does not write (STABLE or IMMUTABLE), in a read-only transaction:
# none may need to write (25006) or fail internally (XX000); an answer of its own (require_pg_cron:
# 55000, pg_cron is not installed) is not a failure of the standby
failed_reads=""
n_reads=0
while IFS=$'\t' read -r target sql; do
    n_reads=$((n_reads + 1))
    if ! out=$(standby -v VERBOSITY=sqlstate -c "BEGIN TRANSACTION READ ONLY" -c "$sql" -c "COMMIT" 2>&1) \
       && grep -qE 'ERROR: +(25006|XX)' <<<"$out"; then
        failed_reads+="$target: $(head -n 1 <<<"$out"); "
    fi
done < <(pub -F $'\t' -c "
    SELECT c.target, c.sql FROM battery.cases c JOIN pg_proc p ON p.oid = c.target::regprocedure
     WHERE c.kind = 'call' AND c.label = 'good arguments' AND p.provolatile <> 'v' ORDER BY c.target")
if [ -z "$failed_reads" ] && [ "$n_reads" -gt 20 ]; then
    pass "the standby runs every read function of grse ($n_reads, STABLE or IMMUTABLE) in a read-only transaction"
else
    fail "the standby runs every read function of grse ($n_reads, STABLE or IMMUTABLE) in a read-only transaction: $failed_reads"
fi

state_version() { "$@" -c "SELECT string_agg(xmin::text || ':' || region_id, ',' ORDER BY region_id) FROM grse.region_scaling_state"; }
before=$(state_version pub)
if standby -f "$READS" >"$WORK/standby.out" 2>&1; then
    pass "the standby serves every read function in a read-only transaction"
else
    fail "the standby serves every read function in a read-only transaction"
    tail -n 5 "$WORK/standby.out" | sed 's/^/#   /'
fi
if pub -f "$READS" >"$WORK/publisher.out" 2>&1; then
    pass "the publisher serves them in a read-only transaction too"
else
    fail "the publisher serves them in a read-only transaction too"
    tail -n 5 "$WORK/publisher.out" | sed 's/^/#   /'
fi
if diff -u "$WORK/publisher.out" "$WORK/standby.out" >"$WORK/reads.diff"; then
    pass "the standby's answers equal the publisher's ($(wc -l <"$WORK/standby.out") lines)"
else
    fail "the standby's answers equal the publisher's (- publisher, + standby):"
    head -n 20 "$WORK/reads.diff" | sed 's/^/#   /'
fi
if [ "$(state_version pub)" = "$before" ]; then
    pass "the reads wrote nothing on the publisher (no state row changed)"
else
    fail "the reads wrote nothing on the publisher (no state row changed)"
fi
check "a region whose day and month have ended reads as rolled over on the standby (budget back, spend of the day 0, judged again)" "
\\c $DB postgres $STANDBY/sock $(cat "$STANDBY/port")
SELECT (s->>'remaining')::bigint = 100000 AND (s->>'spent_today')::bigint = 0 AND (s->>'period_spent')::bigint = 0
   AND (s->>'period_ends_at')::timestamptz > now()
   AND (m->'budget'->>'remaining')::bigint = 100000 AND (m->'budget'->>'percent_remaining')::numeric = 100
   AND (m->>'capacity_score')::numeric = grse.compute_region_capacity('$R9')
   AND (SELECT h.budget_percent_remaining FROM grse.get_all_regions_health() h WHERE h.region_id = '$R9') = 100
   AND (SELECT ai_budget_remaining FROM grse.region_scaling_state WHERE region_id = '$R9') = 30000
  FROM grse.get_budget_stats('$R9') s, grse.get_region_scaling_summary('$R9') m"
if standby -c "SELECT grse.check_and_decrement_budget('$R1', 1)" >/dev/null 2>&1; then
    fail "the standby refuses writes (a spend)"
else
    pass "the standby refuses writes (a spend)"
fi

finish
