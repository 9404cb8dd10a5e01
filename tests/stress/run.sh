#!/usr/bin/env bash
# Stress and crash test: a random mix of grse operations on 64 connections,
# kill -9 of the server during the load, crash recovery, more load, and then
# every guarantee checked against what the clients saw commit.
#
#   tests/stress/run.sh --short   inside `make test`: ~110 s of load, one crash (~2 min in all)
#   tests/stress/run.sh           `make stress`: ~330 s of load, two crashes (~6-7 min in all)
#
# Environment: DURATION (seconds of load in all phases together), CLIENTS (64),
# THREADS (2), CRASHES (short 1, long 2), SEED (random seed for pgbench and the
# crash times; printed, so a run can be repeated), STRESS_MIX (the weighted
# scripts, 'name@weight ...', instead of the mix below), MAX_TRIES (5: pgbench's
# tries of a transaction that failed with a deadlock, 40P01), STRICT_DEADLOCKS
# (1, the default: a deadlock between grse functions is a failed check; 0: they
# are retried and only reported), KEEP=1 (keep the work dir: cluster, server
# log, pgbench logs).
#
# Needs the grse extension installed (`cargo pgrx install`) and runs as root
# or as a user who can run scripts/cluster.sh; the server runs as `postgres`
# on a throw-away cluster that listens on 127.0.0.1 and a private socket only.
#
#   1. Fixture (setup.sql): CREATE EXTENSION grse; 8 regions in 8 timezones
#      with monthly budgets, the even ones with 4 budget slots each, two never with
#      slots and two with automatic slots; 24 agencies with licenses, 48 clients; test-owned
#      tables where every client transaction records what it did, in the same
#      transaction (so after a crash the records are exactly what committed).
#   2. Load: pgbench -c CLIENTS -j THREADS -M prepared --no-vacuum, weighted
#      scripts (*.sql here): spend, hot spends on one region with the default
#      policy (so that it takes automatic slots), refund, admit (+ charge), complete (finish
#      the job record, or queue - 1 / + 1 by hand), metric writes, snapshots,
#      resets / roll-overs, set_monthly_budget, monitor, budget holds (reserve,
#      settle, release, expiry, the sweeper, keyed calls and their retries), job
#      records (admit with a hold, start, finish, cancel; job_ttl 10 s, so many
#      expire), migrations of queued jobs, and transactions rolled back on
#      purpose (ROLLBACK, ROLLBACK TO SAVEPOINT). pgbench logs every transaction
#      it saw commit (-l).
#   3. Crash: during the load, kill -9 of the postmaster (every 2nd crash also
#      of all its children at once); pgbench's clients fail (expected); the
#      cluster is restarted on the same data directory, crash recovery is
#      verified in pg_controldata and the server log, and the next load phase
#      runs on the recovered server.
#   4. Checks: grse.verify_invariants() is empty; per region the spends and
#      refunds the clients recorded = the ledger's (count and sum); nothing
#      pgbench saw commit is lost (per client and script), at most one
#      in-flight transaction per client committed unacknowledged per crash;
#      what was seen committed before each kill survived; rolled-back work left
#      no trace; remaining within [0, monthly]; queue counts = job records +
#      the jobs counted by hand; admissions charged (or held) and within the
#      mode rules; every hold and job the clients made exists, none other, each
#      resolved as the clients saw it; every local day / month begun during the
#      run started exactly once (one automatic roll-over, or a manual reset);
#      btree indexes and heaps pass amcheck; no server process died on its own.
#   5. Final sweep: once every open hold and job is past due (at most ~12 s
#      after the load), `SELECT grse.expire_budget_holds()` leaves no hold held
#      and no job queued or running, and every invariant still holds.
#
# Output: `# ...` notes, one `ok - ...` / `not ok - ...` line per check, a
# summary, and last exactly one line
#   stress: N passed, M failed
# Exit status non-zero when a check failed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CLUSTER="$ROOT/scripts/cluster.sh"
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$PG_CONFIG" --bindir)
DB=grse_stress

FORM=long
for arg in "$@"; do
    case $arg in
        --short) FORM=short ;;
        --long) FORM=long ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: $0 [--short]" >&2; exit 2 ;;
    esac
done
if [ "$FORM" = short ]; then
    DURATION=${DURATION:-110}
    CRASHES=${CRASHES:-1}
else
    DURATION=${DURATION:-330}
    CRASHES=${CRASHES:-2}
fi
CLIENTS=${CLIENTS:-64}
THREADS=${THREADS:-2}
SEED=${SEED:-$(( $(date +%s) % 1000000 ))}
MAX_TRIES=${MAX_TRIES:-5}          # pgbench retries of deadlocked transactions (reported)
RANDOM=$SEED
[ "$CRASHES" -ge 1 ] || { echo "stress: CRASHES must be >= 1" >&2; exit 2; }
[ "$DURATION" -ge $(( (CRASHES + 1) * 10 )) ] || { echo "stress: DURATION too short for $CRASHES crash(es)" >&2; exit 2; }

# The weighted mix: script name = file name without .sql; `rollback` commits nothing.
MIX=(spend@250 refund@80 admit@120 complete@110 metric@100 snapshot@35
     rollback@60 savepoint@35 reset@4 set_budget@8 monitor@4
     hold@130 job@130 migrate@12 hot_spend@300)
# STRESS_MIX='name@weight ...' replaces the mix (to press on one part of it)
if [ -n "${STRESS_MIX:-}" ]; then read -ra MIX <<<"$STRESS_MIX"; fi
SCRIPTS=()
PGBENCH_FILES=()
for m in "${MIX[@]}"; do
    SCRIPTS+=("${m%@*}")
    PGBENCH_FILES+=(-f "$HERE/${m%@*}.sql@${m#*@}")
done

T_START=$(date +%s)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/grse-stress.XXXXXX")
chmod 755 "$WORK"                 # the cluster inside is owned by `postgres`
CL="$WORK/cluster"
BG_PID=""
# shellcheck disable=SC2317  # runs from the EXIT trap
cleanup() {
    if [ -n "$BG_PID" ] && kill -0 "$BG_PID" 2>/dev/null; then
        kill "$BG_PID" 2>/dev/null || true
        wait "$BG_PID" 2>/dev/null || true
    fi
    timeout 120 bash "$CLUSTER" stop "$CL" >/dev/null 2>&1 || true
    [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }
note() { echo "# $*"; }

finish() {
    [ "${KEEP:-0}" = 1 ] && echo "# KEEP=1: work dir kept: $WORK (cluster stopped; scripts/cluster.sh start it to look)"
    echo "stress: $PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
    exit
}

psql_q() { timeout "${PSQL_TIMEOUT:-300}" "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -v VERBOSITY=terse -qAt "$@"; }

# check DESCRIPTION SQL: the SQL must print exactly one `t` (st_assert()
# raises with a message on a violation).
check() {
    local desc=$1 sql=$2 out
    if out=$(psql_q <<<"$sql" 2>&1) && [ "$out" = t ]; then
        pass "$desc"
    else
        fail "$desc"
        printf '%s\n' "${out:-<no row>}" | sed 's/^/#   /'
    fi
}

cluster_start() {
    timeout 300 bash "$CLUSTER" start "$CL" "$DB" 2>&1 | sed 's/^/# /'
    [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
    eval "$(bash "$CLUSTER" env "$CL")"
    export PGDATABASE=$DB PGCONNECT_TIMEOUT=10
}

postmaster_pid() { head -n 1 "$CL/data/postmaster.pid" 2>/dev/null; }
children_of() { ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' ' || true; }
alive() { local p n=0; for p in "$@"; do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done; echo $n; }

echo "# grse stress: $FORM form, DURATION=${DURATION}s of load, CLIENTS=$CLIENTS, THREADS=$THREADS, CRASHES=$CRASHES, SEED=$SEED"
echo "# work dir $WORK"
MIX_LIST=""
for i in "${!MIX[@]}"; do MIX_LIST+="$i:${MIX[$i]} "; done
note "mix (pgbench script number:name@weight): $MIX_LIST"

# ---- 1. cluster and fixture -----------------------------------------------------
if ! cluster_start; then
    fail "throw-away cluster started"
    finish
fi

# Region 8 gets the real timezone whose local midnight comes first after the
# load has started: if the run reaches it, a day rolls over under load.
LEAD=20
MIDNIGHT_TZ=$(psql_q -c "
    SELECT name FROM pg_timezone_names
     WHERE name ~ '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*\$' AND name !~* '^(posix|right)/' AND name <> 'Factory'
     ORDER BY (date_trunc('day', (now() + interval '$LEAD seconds') AT TIME ZONE name) + interval '1 day') AT TIME ZONE name, name
     LIMIT 1")
MIDNIGHT_IN=$(psql_q -c "
    SELECT round(extract(epoch FROM ((date_trunc('day', (now() + interval '$LEAD seconds') AT TIME ZONE '$MIDNIGHT_TZ')
                                      + interval '1 day') AT TIME ZONE '$MIDNIGHT_TZ') - now()))::int")

if psql_q -v midnight_tz="$MIDNIGHT_TZ" -f "$HERE/setup.sql" >"$WORK/setup.log" 2>&1; then
    pass "fixture: CREATE EXTENSION grse, 8 regions in 8 timezones with budgets, 24 agencies, 48 clients, log tables"
else
    fail "fixture: CREATE EXTENSION grse, 8 regions in 8 timezones with budgets, 24 agencies, 48 clients, log tables"
    sed 's/^/#   /' "$WORK/setup.log"
    finish
fi
AMCHECK=1
psql_q -c "CREATE EXTENSION amcheck" >/dev/null 2>&1 || AMCHECK=0
psql_q -F ' ' -c "SELECT format('# region %s: %s monthly budget %s cents', n, rpad(slug || ' (' || timezone || '),', 30), budget)
                  FROM st_regions ORDER BY n"
note "region mid's local midnight is ${MIDNIGHT_IN}s from now (in the load if DURATION + restarts exceed that)"

# ---- 2./3. load phases with crashes ------------------------------------------------
# Crash i happens after about i/(CRASHES+1) of the load (+-15% of a phase).
PHASES=$((CRASHES + 1))
PER=$((DURATION / PHASES))
CRASH_AT=()
for ((i = 1; i <= CRASHES; i++)); do
    jitter=$(( (RANDOM % (PER * 30 / 100 + 1)) - PER * 15 / 100 ))
    CRASH_AT+=($(( i * PER + jitter )))
done

LOAD_SECONDS=0            # measured wall time of the pgbench runs
declare -a TPS PB_ABORTED PB_SQLERR PB_FAILED PB_RETRIED OBSERVED
CRASH_KIND=()
RECOVERED=0

run_phase() {        # run_phase PHASE PLANNED_SECONDS CRASH_AFTER(0 = none)
    local p=$1 planned=$2 crash_after=$3
    local log="$WORK/pgbench-$p.log" t0 t1 rc=0
    local limit=$planned
    note "phase $p: pgbench $CLIENTS clients, -T $planned$([ "$crash_after" -gt 0 ] && echo ", kill -9 after ${crash_after}s")"
    t0=$(date +%s.%N)
    timeout $((limit + 180)) "$PG_BIN/pgbench" --no-vacuum -M prepared -c "$CLIENTS" -j "$THREADS" -T "$limit" \
        --random-seed=$((SEED + p)) --max-tries="$MAX_TRIES" --failures-detailed \
        -l --log-prefix="$WORK/txlog-$p" -D phase="$p" "${PGBENCH_FILES[@]}" >"$log" 2>&1 &
    BG_PID=$!
    if [ "$crash_after" -gt 0 ]; then
        crash "$p" "$crash_after" "$t0"
    fi
    wait "$BG_PID" || rc=$?
    BG_PID=""
    t1=$(date +%s.%N)
    LOAD_SECONDS=$(awk -v a="$LOAD_SECONDS" -v b="$t0" -v c="$t1" 'BEGIN { printf "%.1f", a + c - b }')
    TPS[p]=$(sed -n -E 's/^tps = ([0-9.]+) .*/\1/p' "$log" | head -n 1)
    # Client aborts: on an SQL error (ERROR: ...; a failure of the extension or
    # the test) or on losing the server (FATAL / connection closed: the crash).
    PB_ABORTED[p]=$(grep -c 'aborted in command' "$log" || true)
    PB_SQLERR[p]=$(grep 'aborted in command' "$log" | grep -c 'ERROR:' || true)
    local lost=$(( PB_ABORTED[p] - PB_SQLERR[p] ))
    PB_FAILED[p]=$(sed -n -E 's/^number of failed transactions: ([0-9]+).*/\1/p' "$log" | head -n 1)
    PB_RETRIED[p]=$(sed -n -E 's/^number of transactions retried: ([0-9]+).*/\1/p' "$log" | head -n 1)
    grep -E '^(number of (transactions|failed|deadlock|serialization|transactions retried|total retries)|latency average|tps)' "$log" \
        | sed 's/^/#   /' || true
    note "phase $p: ${TPS[$p]:-?} tps (pgbench), exit status $rc, $lost clients lost their server, ${PB_SQLERR[$p]} aborted on an SQL error"
    if [ "$crash_after" -gt 0 ]; then
        # the clients lose their connections: pgbench exits 2 ("Run was aborted")
        if [ "$rc" -eq 2 ] && [ "$lost" -gt 0 ]; then
            pass "phase $p: load ran until the crash; pgbench's clients failed on it as expected (exit 2, $lost clients lost the server)"
        else
            fail "phase $p: load ran until the crash; pgbench's clients failed on it as expected (exit $rc, $lost clients lost the server; 124 = timeout)"
            grep -iE 'error|abort|fatal' "$log" | sed -E 's/client [0-9]+ script [0-9]+/client N script M/' \
                | sort | uniq -c | sort -rn | head -n 10 | sed 's/^/#   /' || true
        fi
    else
        # exit 2 is also what an SQL-error abort gives: that is the next check's
        if { [ "$rc" -eq 0 ] || [ "$rc" -eq 2 ]; } && [ "$lost" -eq 0 ]; then
            pass "phase $p: load ran -T $planned on the recovered server without losing it"
        else
            fail "phase $p: load ran -T $planned on the recovered server without losing it (exit status $rc, $lost clients lost the server; 124 = timeout)"
            grep -iE 'error|abort|fatal' "$log" | sed -E 's/client [0-9]+ script [0-9]+/client N script M/' \
                | sort | uniq -c | sort -rn | head -n 10 | sed 's/^/#   /' || true
        fi
    fi
    if [ "${PB_SQLERR[$p]}" -eq 0 ]; then
        pass "phase $p: no client aborted on an SQL error"
    else
        fail "phase $p: no client aborted on an SQL error (${PB_SQLERR[$p]} did; with the script number of -f in the order of MIX):"
        grep 'aborted in command' "$log" | grep 'ERROR:' | sed -E 's/^.*client [0-9]+ (script [0-9]+) aborted in command [0-9]+ query [0-9]+: /\1: /' \
            | sort | uniq -c | sort -rn | head -n 10 | sed 's/^/#   /' || true
    fi
}

# crash PHASE AFTER T0: a CHECKPOINT half-way (so recovery replays across
# one), then count what is committed, then kill -9.
crash() {
    local p=$1 after=$2 t0=$3 pm kids left=0 i
    local kind=postmaster
    [ $(( ${#CRASH_KIND[@]} % 2 )) -eq 1 ] && kind="postmaster+children"
    sleep_until "$t0" $((after / 2))
    if psql_q -c "CHECKPOINT" >/dev/null 2>&1; then
        note "phase $p: CHECKPOINT at $((after / 2))s"
    else
        note "phase $p: CHECKPOINT failed"
    fi
    sleep_until "$t0" "$after"
    OBSERVED[p]=$(PSQL_TIMEOUT=20 psql_q -c "SELECT count(*) FROM st_tx WHERE phase = $p" 2>/dev/null || echo 0)
    pm=$(postmaster_pid)
    if [ -z "$pm" ] || ! kill -0 "$pm" 2>/dev/null; then
        note "phase $p: no running postmaster to kill (pid '$pm')"
        CRASH_KIND+=("none")
        return
    fi
    kids=$(children_of "$pm")
    if [ "$kind" = postmaster ]; then
        kill -9 "$pm"
    else
        # shellcheck disable=SC2086
        kill -9 "$pm" $kids 2>/dev/null || true
    fi
    CRASH_KIND+=("$kind")
    note "phase $p: kill -9 $kind (pid $pm, $(echo "$kids" | wc -w) children) at ${after}s; ${OBSERVED[$p]} transactions of this phase seen committed just before"
    # Orphaned backends notice the postmaster's death when they next wait
    # (for the client, a lock, ...) and exit; the data directory must be free
    # of them before a new postmaster starts.
    for ((i = 0; i < 120; i++)); do
        # shellcheck disable=SC2086
        left=$(alive $kids)
        [ "$left" -eq 0 ] && break
        sleep 0.5
    done
    note "phase $p: orphaned server processes gone after ~$((i / 2))s"
    if [ "$left" -gt 0 ]; then
        note "phase $p: $left orphaned server processes still alive after 60s; killing them"
        # shellcheck disable=SC2086
        kill -9 $kids 2>/dev/null || true
        sleep 1
    fi
}

sleep_until() {      # sleep_until T0 SECONDS: until T0 + SECONDS (T0 from date +%s.%N)
    local d
    d=$(awk -v t0="$1" -v s="$2" -v now="$(date +%s.%N)" 'BEGIN { d = t0 + s - now; printf "%.2f", (d > 0 ? d : 0) }')
    sleep "$d"
}

restart_after_crash() {
    local p=$1 state off recovered log_new start_before
    start_before=$(cat "$WORK/start-time" 2>/dev/null || true)
    state=$(timeout 30 "$PG_BIN/pg_controldata" -D "$CL/data" 2>/dev/null | sed -n 's/^Database cluster state: *//p' || true)
    off=$(stat -c %s "$CL/log" 2>/dev/null || echo 0)
    if ! cluster_start; then
        fail "crash $p: cluster restarted on the same data directory"
        tail -n 30 "$CL/log" | sed 's/^/#   /'
        return 1
    fi
    log_new=$(tail -c +$((off + 1)) "$CL/log")
    recovered=$(grep -cE 'database system was (interrupted|not properly shut down; automatic recovery in progress)' <<<"$log_new" || true)
    local redo; redo=$(grep -E 'redo (done at|is not required)' <<<"$log_new" | head -n 1 | sed -E 's/^.*(redo .*)$/\1/; s/ system usage.*//' || true)
    local start_after; start_after=$(psql_q -c "SELECT pg_postmaster_start_time()" 2>/dev/null || true)
    echo "$start_after" >"$WORK/start-time"
    if [ "$state" = "in production" ] && [ "$recovered" -gt 0 ] && grep -q 'database system is ready to accept connections' <<<"$log_new" \
       && [ -n "$start_after" ] && [ "$start_after" != "$start_before" ]; then
        RECOVERED=$((RECOVERED + 1))
        pass "crash $p: restarted on the same data directory with crash recovery (pg_control said '$state'; log: automatic recovery, ${redo:-redo ?})"
    else
        fail "crash $p: restarted on the same data directory with crash recovery (pg_control said '${state:-?}', recovery lines $recovered)"
        tail -n 20 <<<"$log_new" | sed 's/^/#   /'
    fi
    check "crash $p: the ${OBSERVED[$p]} transactions seen committed before the kill survived it" "
SELECT st_assert(count(*) >= ${OBSERVED[$p]:-0}, format('%s rows of phase $p after recovery, %s seen before the kill', count(*), ${OBSERVED[$p]:-0}))
FROM st_tx WHERE phase = $p"
}

psql_q -c "SELECT pg_postmaster_start_time()" >"$WORK/start-time" 2>/dev/null || true
prev=0
for ((p = 1; p <= PHASES; p++)); do
    if [ "$p" -le "$CRASHES" ]; then
        at=${CRASH_AT[$((p - 1))]}
        run_phase "$p" $((DURATION - prev)) $((at - prev))
        prev=$at
        if ! restart_after_crash "$p"; then
            finish
        fi
    else
        run_phase "$p" $((DURATION - prev)) 0
    fi
done

# ---- 4. checks ---------------------------------------------------------------------
# The scheduled roll-over (what pg_cron runs every 5 minutes), so that a local
# day that began at the very end of the load has its period started too.
ROLLED=$(psql_q -c "SELECT grse.roll_over_budget_periods()" 2>&1) || ROLLED="error: $ROLLED"
note "final grse.roll_over_budget_periods(): $ROLLED"

# What pgbench saw commit: its per-transaction logs (client, tx, time|failed|skipped, script, ...).
: >"$WORK/acked.tsv"
for ((p = 1; p <= PHASES; p++)); do
    cat "$WORK"/txlog-"$p".* 2>/dev/null \
        | awk -v p="$p" -v names="${SCRIPTS[*]}" '
            BEGIN { n = split(names, s, " ") }
            $3 ~ /^[0-9]+$/ { c[$1 " " $4]++ }
            END { for (k in c) { split(k, a, " "); printf "%d\t%d\t%s\t%d\n", p, a[1], s[a[2] + 1], c[k] } }' \
        >>"$WORK/acked.tsv"
done
psql_q -c "\\copy st_acked (phase, client, script, n) FROM '$WORK/acked.tsv'" >/dev/null

check "grse.verify_invariants() finds no violation" "
SELECT st_assert(count(*) = 0, format('%s violations: %s', count(*),
                 string_agg(format('%s (%s): %s', invariant, r.slug, detail), '; ' ORDER BY invariant)))
FROM grse.verify_invariants() v LEFT JOIN st_regions r ON r.id = v.region_id"
VIOLATIONS=$(psql_q -c "SELECT count(*) FROM grse.verify_invariants()" 2>/dev/null || echo "?")
if [ "$VIOLATIONS" != 0 ]; then
    psql_q -F ' | ' -c "SELECT invariant, region_id, detail FROM grse.verify_invariants() ORDER BY 1 LIMIT 50" | sed 's/^/#   /' || true
fi

# per-region table of what the clients recorded vs the ledger
psql_q -F ' ' -c "
SELECT format('# %s: spends %s (%s cents) client log / %s (%s) ledger; refunds %s (%s) / %s (%s); remaining %s of %s, queue %s, mode %s',
              rpad(r.slug, 3), c.sn, c.ss, l.sn, l.ss, c.rn, c.rs, l.rn, l.rs,
              s.ai_budget_remaining + (grse.slot_totals(s.region_id)).balance, s.ai_budget_monthly,
              s.jobs_in_queue, s.scaling_mode)
FROM st_regions r JOIN grse.region_scaling_state s ON s.region_id = r.id,
LATERAL (SELECT count(*) FILTER (WHERE kind = 'spend') sn, coalesce(sum(amount) FILTER (WHERE kind = 'spend'), 0) ss,
                count(*) FILTER (WHERE kind = 'refund') rn, coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0) rs
           FROM st_money m WHERE m.region = r.id AND m.ok) c,
LATERAL (SELECT count(*) FILTER (WHERE transaction_type = 'spend') sn, coalesce(sum(amount) FILTER (WHERE transaction_type = 'spend'), 0) ss,
                count(*) FILTER (WHERE transaction_type = 'refund') rn, coalesce(sum(amount) FILTER (WHERE transaction_type = 'refund'), 0) rs
           FROM grse.region_budget_transactions t WHERE t.region_id = r.id) l
ORDER BY r.n" || true

check "no committed spend or refund lost or invented: per region, the client log's charged spends and refunds = the ledger's spend and refund rows (count and sum)" "
SELECT st_assert(count(*) = 0, string_agg(format('%s %s: client log %s rows / %s cents, ledger %s rows / %s cents',
                                                 slug, kind, cn, cs, ln, ls), '; '))
FROM (SELECT r.slug, k.kind,
             (SELECT count(*) FROM st_money m WHERE m.region = r.id AND m.kind = k.kind AND m.ok) cn,
             (SELECT coalesce(sum(amount), 0) FROM st_money m WHERE m.region = r.id AND m.kind = k.kind AND m.ok) cs,
             (SELECT count(*) FROM grse.region_budget_transactions t WHERE t.region_id = r.id AND t.transaction_type = k.kind) ln,
             (SELECT coalesce(sum(amount), 0) FROM grse.region_budget_transactions t WHERE t.region_id = r.id AND t.transaction_type = k.kind) ls
        FROM grse.regions g JOIN st_regions r ON r.id = g.id CROSS JOIN (VALUES ('spend'), ('refund')) k (kind)) t
WHERE cn <> ln OR cs <> ls"

CRASH_PHASES=$(seq -s, 1 "$CRASHES")
check "nothing pgbench saw commit is lost: per phase, client and script, committed records >= transactions pgbench logged as done" "
SELECT st_assert(count(*) = 0, format('%s (phase, client, script) with fewer commits than acknowledgements, e.g. %s', count(*),
                 string_agg(format('phase %s client %s %s: %s committed, %s acknowledged', phase, client, script, c, a), '; ')))
FROM (SELECT phase, client, script, coalesce(c.n, 0) c, coalesce(a.n, 0) a
        FROM (SELECT phase, client, script, count(*) n FROM st_tx GROUP BY 1, 2, 3) c
        FULL JOIN (SELECT phase, client, script, sum(n) n FROM st_acked WHERE script <> 'rollback' GROUP BY 1, 2, 3) a
        USING (phase, client, script)) t
WHERE c < a"

check "per client, at most one transaction committed without acknowledgement in a crash phase (the one in flight), none otherwise" "
SELECT st_assert(count(*) = 0, format('%s clients off, e.g. %s', count(*),
                 string_agg(format('phase %s client %s: %s committed, %s acknowledged', phase, client, c, a), '; ')))
FROM (SELECT phase, client, coalesce(c.n, 0) c, coalesce(a.n, 0) a
        FROM (SELECT phase, client, count(*) n FROM st_tx GROUP BY 1, 2) c
        FULL JOIN (SELECT phase, client, sum(n) n FROM st_acked WHERE script <> 'rollback' GROUP BY 1, 2) a
        USING (phase, client)) t
WHERE c - a NOT BETWEEN 0 AND CASE WHEN phase IN ($CRASH_PHASES) THEN 1 ELSE 0 END"

check "deliberately rolled-back work left no trace (no client records of ROLLBACK or ROLLBACK TO SAVEPOINT work)" "
SELECT st_assert(a + b + c + d + e = 0, format('%s st_tx, %s st_money, %s st_admissions, %s st_holds, %s st_jobs rows of rolled-back work',
                                               a, b, c, d, e))
FROM (SELECT (SELECT count(*) FROM st_tx WHERE script IN ('rollback', 'savepoint-undone')) a,
             (SELECT count(*) FROM st_money WHERE via IN ('rollback', 'savepoint-undone')) b,
             (SELECT count(*) FROM st_admissions WHERE via = 'rollback') c,
             (SELECT count(*) FROM st_holds WHERE via = 'rollback') d,
             (SELECT count(*) FROM st_jobs WHERE via = 'rollback') e) t"

check "remaining (pool + slots) >= 0 and <= monthly budget in every region" "
SELECT st_assert(count(*) = 0, string_agg(format('%s: remaining %s, monthly %s', r.slug, t.remaining, ai_budget_monthly), '; '))
FROM grse.region_scaling_state s JOIN st_regions r ON r.id = s.region_id,
     LATERAL (SELECT s.ai_budget_remaining + (grse.slot_totals(s.region_id)).balance AS remaining) t
WHERE s.ai_budget_remaining < 0 OR t.remaining < 0 OR t.remaining > ai_budget_monthly"

check "queue counts >= 0; each region's jobs_in_queue = its queued and running job records + the jobs counted by hand, and those = the ones the clients counted in and have not completed" "
SELECT st_assert(count(*) = 0, string_agg(format('%s: jobs_in_queue %s, open job records %s, counted by hand %s, by the clients %s',
                                                 slug, q, o, m, c), '; '))
FROM (SELECT r.slug, s.jobs_in_queue q, s.jobs_queued_manually m,
             (SELECT count(*) FROM grse.jobs j WHERE j.region_id = r.id AND j.status IN ('queued', 'running')) o,
             (SELECT count(*) FROM st_open_jobs j WHERE j.region = r.id AND j.job_id IS NULL) c
        FROM st_regions r JOIN grse.region_scaling_state s ON s.region_id = r.id) t
WHERE q < 0 OR q <> o + m OR m <> c"

check "every admitted job was charged, or its estimated cost held (admission checked the budget under the row lock)" "
SELECT st_assert(count(*) = 0, format('%s admitted jobs whose charge was refused or whose cost was not held', count(*)))
FROM st_admissions WHERE admitted AND charged IS NOT TRUE"

check "no hold lost or invented: the clients' holds, the holds of the jobs they admitted with hold_budget and the holds migrations moved are all the holds there are; each reserved hold has its region and amount, and is settled (for the amount the client charged) or released as the client saw it" "
SELECT st_assert(n_grse = n_clients + n_jobs + n_moved AND bad = 0,
                 format('holds: %s in grse, %s reserved by clients + %s of admitted jobs + %s moved by migrations; %s client holds disagree, e.g. %s',
                        n_grse, n_clients, n_jobs, n_moved, bad, example))
FROM (SELECT (SELECT count(*) FROM grse.budget_holds) n_grse,
             (SELECT count(*) FROM st_holds) n_clients,
             (SELECT count(*) FROM st_jobs WHERE has_hold) n_jobs,
             (SELECT coalesce(sum(moved_with_hold), 0) FROM st_migrations) n_moved,
             count(*) FILTER (WHERE NOT ok) bad,
             min(detail) FILTER (WHERE NOT ok) example
        FROM (SELECT h.id, format('client %s/%s/%s, grse %s/%s/%s', h.status, h.amount, h.settled, b.status, b.amount, b.settled_amount) detail,
                     b.id IS NOT NULL AND b.region_id = h.region AND b.amount = h.amount
                     AND CASE h.status WHEN 'settled' THEN b.status = 'settled' AND b.settled_amount = h.settled
                                       WHEN 'released' THEN b.status = 'released'
                                       WHEN 'expired' THEN b.status = 'expired' OR (b.status = 'held' AND b.expires_at <= now())
                                       ELSE b.status IN ('held', 'expired') END AS ok
                FROM st_holds h LEFT JOIN grse.budget_holds b ON b.id = h.id) x) t"

check "no job lost or invented: the job records are exactly the jobs the clients saw admitted, each in the status the workers left it in (or expired)" "
SELECT st_assert(missing + invented + bad = 0,
                 format('%s admitted jobs without a record, %s records no client admitted, %s statuses disagree, e.g. %s',
                        missing, invented, bad, example))
FROM (SELECT (SELECT count(*) FROM st_admissions a WHERE a.admitted AND NOT EXISTS (SELECT 1 FROM grse.jobs j WHERE j.id = a.job_id)) missing,
             (SELECT count(*) FROM grse.jobs j WHERE NOT EXISTS (SELECT 1 FROM st_admissions a WHERE a.admitted AND a.job_id = j.id)) invented,
             count(*) FILTER (WHERE NOT ok) bad,
             min(detail) FILTER (WHERE NOT ok) example
        FROM (SELECT format('client %s, grse %s', s.status, j.status) detail,
                     CASE WHEN s.status IN ('queued', 'running') THEN j.status IN (s.status, 'expired')
                          ELSE j.status = s.status END AS ok
                FROM st_jobs s JOIN grse.jobs j ON j.id = s.id
              UNION ALL
              -- jobs of the admit script: completed ones (no longer open) succeeded or expired, open ones are open or expired
              SELECT format('admit job %s, grse %s', CASE WHEN o.id IS NULL THEN 'completed' ELSE 'open' END, j.status),
                     CASE WHEN o.id IS NULL THEN j.status IN ('succeeded', 'expired') ELSE j.status IN ('queued', 'expired') END
                FROM st_admissions a JOIN grse.jobs j ON j.id = a.job_id LEFT JOIN st_open_jobs o ON o.job_id = a.job_id
               WHERE a.admitted AND a.via = 'admit') x) t"

check "no job admitted into a frozen region, no creative or >100-cent job into a throttled one" "
SELECT st_assert(count(*) = 0, format('%s admissions broke the mode rules, e.g. %s', count(*), min(format('%s %s cents in %s', job_type, cost, mode))))
FROM st_admissions WHERE admitted AND (mode = 'frozen' OR (mode = 'throttled' AND (cost > 100 OR job_type = 'creative')))"

check "every refused admission carries a reason" "
SELECT st_assert(count(*) = 0, format('%s refusals without a reason', count(*)))
FROM st_admissions WHERE NOT admitted AND coalesce(reason, '') = ''"

check "each local day and month begun during the run started exactly once per region (one automatic roll-over, or a manual reset), none is overdue" "
WITH days AS (
    SELECT r.id, r.slug, 'daily' kind, d::date AS start
      FROM st_regions r, generate_series(r.local_day0 + 1, (now() AT TIME ZONE r.timezone)::date, interval '1 day') d
    UNION ALL
    SELECT r.id, r.slug, 'monthly', d::date
      FROM st_regions r, generate_series(r.local_month0 + interval '1 month', date_trunc('month', now() AT TIME ZONE r.timezone), interval '1 month') d),
counted AS (
    SELECT d.*, count(b.*) FILTER (WHERE b.source <> 'manual') auto, count(b.*) FILTER (WHERE b.source = 'manual') manual
      FROM days d LEFT JOIN grse.budget_rollovers b
        ON b.region_id = d.id AND b.period_kind = d.kind AND b.period_start = d.start
     GROUP BY d.id, d.slug, d.kind, d.start)
SELECT st_assert(bad = 0 AND overdue = 0, format('%s periods not started exactly once (%s); %s regions overdue', bad, detail, overdue))
FROM (SELECT count(*) FILTER (WHERE auto > 1 OR auto + manual = 0) bad,
             string_agg(format('%s %s %s: %s automatic, %s manual', slug, kind, start, auto, manual), '; ')
                 FILTER (WHERE auto > 1 OR auto + manual = 0) detail,
             (SELECT count(*) FROM grse.region_scaling_state WHERE now() >= day_ends_at OR now() >= month_ends_at) overdue
        FROM counted) t"
DAYS_BEGUN=$(psql_q -c "
    SELECT count(*) FROM st_regions r, generate_series(r.local_day0 + 1, (now() AT TIME ZONE r.timezone)::date, interval '1 day') d" 2>/dev/null || echo "?")
AUTO_ROLLS=$(psql_q -c "SELECT count(*) FROM grse.budget_rollovers WHERE source <> 'manual'" 2>/dev/null || echo "?")
note "local days begun during the run: $DAYS_BEGUN; automatic roll-overs recorded: $AUTO_ROLLS"

if [ "$AMCHECK" = 1 ]; then
    check "after the crashes, every btree index of grse and the test tables passes amcheck (bt_index_check, heapallindexed) and every heap passes verify_heapam" "
SELECT st_assert(bad_heap = 0, format('%s corrupt heap tuples', bad_heap))
FROM (SELECT count(*) AS bad_heap
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
             LATERAL verify_heapam(c.oid) v
       WHERE n.nspname IN ('grse', 'public') AND c.relkind = 'r') h,
     LATERAL (SELECT count(bt_index_check(c.oid, true))
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam
               WHERE n.nspname IN ('grse', 'public') AND c.relkind = 'i' AND a.amname = 'btree') i"
else
    note "amcheck is not available: index/heap checks skipped"
fi

# The mix must really have run: every script completed transactions, and
# the refusal paths were taken too.
check "the mix exercised every script, charged and refused spends, and admitted and refused/diverted jobs" "
SELECT st_assert(missing IS NULL AND sp_ok > 0 AND sp_no > 0 AND ad_ok > 0 AND ad_other > 0,
                 format('scripts without a completed transaction: %s; spends charged %s / refused %s, jobs admitted %s / refused or by fallback %s',
                        missing, sp_ok, sp_no, ad_ok, ad_other))
FROM (SELECT (SELECT string_agg(s, ', ') FROM unnest(string_to_array('${SCRIPTS[*]}', ' ')) s
               WHERE s NOT IN (SELECT script FROM st_acked)) missing,
             (SELECT count(*) FROM st_money WHERE kind = 'spend' AND ok) sp_ok,
             (SELECT count(*) FROM st_money WHERE kind = 'spend' AND NOT ok) sp_no,
             (SELECT count(*) FILTER (WHERE admitted AND NOT fallback) FROM st_admissions) ad_ok,
             (SELECT count(*) FILTER (WHERE NOT admitted OR fallback) FROM st_admissions) ad_other) t"

check "the slotted regions charged spends to slots and moved budget between their pool and slots; the unslotted never did; of the automatic ones, only those that became hot did, and one did" "
SELECT st_assert(bool_and(CASE WHEN r.n % 2 = 0 THEN slot_spends > 0 AND transfers > 0
                               WHEN r.n % 4 = 1 THEN slot_spends = 0 AND transfers = 0
                               ELSE (slot_spends = 0 AND transfers = 0) OR s.auto_slots_until IS NOT NULL END)
                 AND bool_or(r.n % 4 = 3 AND s.auto_slots_until IS NOT NULL AND slot_spends > 0),
                 string_agg(format('%s: %s slot spends, %s transfers%s', r.slug, slot_spends, transfers,
                                   CASE WHEN r.n % 4 = 3 THEN format(' (automatic slots until %s)', s.auto_slots_until) ELSE '' END),
                            '; ' ORDER BY r.n))
FROM st_regions r JOIN grse.region_scaling_state s ON s.region_id = r.id,
LATERAL (SELECT count(*) FILTER (WHERE t.slot_no > 0 AND t.transaction_type = 'spend') AS slot_spends,
                count(*) FILTER (WHERE t.transaction_type = 'transfer') AS transfers
           FROM grse.region_budget_transactions t WHERE t.region_id = r.id) l"

check "holds and jobs took every path: holds settled, released and expired, keyed calls retried, jobs run and ended every way and expired, migrations moved jobs (some with their holds)" "
SELECT st_assert(bool_and(n > 0), string_agg(format('%s %s', what, n), ', ' ORDER BY what))
FROM (SELECT 'holds ' || s AS what, (SELECT count(*) FROM grse.budget_holds b WHERE b.status = s) n
        FROM unnest(ARRAY['settled', 'released', 'expired']) s
      UNION ALL
      SELECT 'jobs ' || s, (SELECT count(*) FROM grse.jobs j WHERE j.status = s)
        FROM unnest(ARRAY['succeeded', 'failed', 'cancelled', 'expired']) s
      UNION ALL SELECT 'keyed retries', (SELECT count(*) FROM st_keys WHERE retried)
      UNION ALL SELECT 'jobs migrated', (SELECT coalesce(sum(moved), 0) FROM st_migrations)
      UNION ALL SELECT 'holds migrated', (SELECT coalesce(sum(moved_with_hold), 0) FROM st_migrations)) t"

# Final sweep: wait until every open hold and job is past due (holds live 2..12 s,
# jobs and their holds 10 s), then run the sweeper once: nothing may stay open.
PAST_DUE_IN=$(psql_q -c "
    SELECT ceil(greatest(0, extract(epoch FROM max(e) - now())))::int
      FROM (SELECT max(expires_at) e FROM grse.budget_holds WHERE status = 'held'
            UNION ALL SELECT max(expires_at) FROM grse.jobs WHERE status IN ('queued', 'running')) x" 2>/dev/null || echo 0)
PAST_DUE_IN=${PAST_DUE_IN:-0}
[ "$PAST_DUE_IN" -le 30 ] || PAST_DUE_IN=30
note "final sweep: the last open hold or job is due in ${PAST_DUE_IN}s; waiting for it"
sleep $((PAST_DUE_IN + 1))
SWEPT=$(psql_q -c "SELECT grse.expire_budget_holds()" 2>&1) || SWEPT="error: $SWEPT"
note "final SELECT grse.expire_budget_holds(): $SWEPT holds expired"
check "after the final sweep (every hold and job past due) no hold is held and no job queued or running; held = 0 and the queue = the jobs counted by hand in every region" "
SELECT st_assert(holds + jobs + bad_regions = 0,
                 format('%s holds still held, %s jobs still queued or running, regions with held or queue left: %s',
                        holds, jobs, coalesce(detail, 'none')))
FROM (SELECT (SELECT count(*) FROM grse.budget_holds WHERE status = 'held') holds,
             (SELECT count(*) FROM grse.jobs WHERE status IN ('queued', 'running')) jobs,
             count(*) FILTER (WHERE s.ai_budget_held <> 0 OR s.jobs_in_queue <> s.jobs_queued_manually) bad_regions,
             string_agg(format('%s held %s, queue %s, by hand %s', r.slug, s.ai_budget_held, s.jobs_in_queue, s.jobs_queued_manually), '; ')
                 FILTER (WHERE s.ai_budget_held <> 0 OR s.jobs_in_queue <> s.jobs_queued_manually) detail
        FROM grse.region_scaling_state s JOIN st_regions r ON r.id = s.region_id) t"
check "after the final sweep every client hold is resolved as the client saw it or expired, and grse.verify_invariants() still finds no violation" "
SELECT st_assert(bad = 0 AND violations = 0, format('%s client holds disagree; %s violations: %s', bad, violations, v))
FROM (SELECT count(*) FILTER (WHERE NOT CASE h.status WHEN 'settled' THEN b.status = 'settled'
                                                      WHEN 'released' THEN b.status = 'released'
                                                      ELSE b.status = 'expired' END) bad
        FROM st_holds h JOIN grse.budget_holds b ON b.id = h.id) c,
     (SELECT count(*) violations, string_agg(format('%s: %s', invariant, detail), '; ') v FROM grse.verify_invariants()) i"

# Deadlocks (40P01) between grse functions: a defect. pgbench retries the
# transaction (as an application would); they are reported, and fail the run
# unless STRICT_DEADLOCKS=0. The server log names the statements involved.
DEADLOCK_LOG=$(grep -c 'ERROR:  deadlock detected' "$CL/log" || true)
if [ "$DEADLOCK_LOG" -gt 0 ]; then
    note "deadlocks detected by the server: $DEADLOCK_LOG; statements of the aborted side:"
    awk '/ERROR:  deadlock detected/ { f = 1 } f && /STATEMENT:/ { sub(/^.*STATEMENT: +/, ""); print; f = 0 }' "$CL/log" \
        | sort | uniq -c | sort -rn | head -n 12 | sed 's/^/#   /'
    # what each waited for (lock kind and the row's relation), and the first
    # reports in full: enough to find the cycle from CI's output alone
    note "locks waited for in the cycles:"
    awk '/ERROR:  deadlock detected/ { f = 1; next }
         f && /STATEMENT:/ { f = 0 }
         f { if (match($0, /waits for [A-Za-z]+ on [a-z ]+/)) print substr($0, RSTART, RLENGTH)
             if (match($0, /while [a-z ]+ \([0-9]+,[0-9]+\) in relation "[a-z_]+"/)) print substr($0, RSTART, RLENGTH) }' "$CL/log" \
        | sed 's/([0-9]*,[0-9]*)/(...)/' | sort | uniq -c | sort -rn | head -n 12 | sed 's/^/#   /'
    note "the first deadlock reports in full:"
    awk '/ERROR:  deadlock detected/ { f = 1; n++ } n > 3 { exit } f { print } f && /STATEMENT:/ { f = 0 }' "$CL/log" \
        | cut -c1-400 | sed 's/^/#   /'
fi
if [ "${STRICT_DEADLOCKS:-1}" = 1 ]; then
    if [ "$DEADLOCK_LOG" -eq 0 ]; then
        pass "no deadlock between grse functions"
    else
        fail "no deadlock between grse functions: $DEADLOCK_LOG deadlocks"
    fi
fi

# A transaction waits for a region's rows while it holds some of them only in
# bounded turns, each ending within half of deadlock_timeout (src/shortwaits.rs,
# `bounded`), so such a wait never reaches the deadlock check, where
# log_lock_waits would log it. Taking a region's slots (in slot order, holding
# the ones taken) is always such a wait: its statement is never logged waiting.
SLOT_WAITS=$(awk '/still waiting for/ { f = 1; next }
                  f && /^[0-9][0-9][0-9][0-9]-/ && !/ (DETAIL|CONTEXT|HINT|STATEMENT): / { f = 0 }
                  f && /ORDER BY slot_no FOR UPDATE"/ { n++; f = 0 }
                  END { print n + 0 }' "$CL/log")
if [ "$SLOT_WAITS" -eq 0 ]; then
    pass "no wait for a region's slots reached deadlock_timeout"
else
    fail "no wait for a region's slots reached deadlock_timeout: $SLOT_WAITS logged by log_lock_waits"
fi

# Server log: a backend may end with FATAL only because of the crash (its
# postmaster died, or the server was starting, recovering or shutting down) or a
# client connecting before the database existed; any other FATAL (a session whose
# transaction state broke, say) is a failure.
FATALS=$(grep -E 'FATAL: ' "$CL/log" | grep -vE 'unexpected postmaster exit|crash of another server process|the database system is (starting up|not yet accepting connections|in recovery mode|shutting down)|terminating connection due to administrator command|database "[^"]+" does not exist' || true)
if [ -z "$FATALS" ]; then
    pass "no backend ended with a FATAL error other than by the crash"
else
    fail "no backend ended with a FATAL error other than by the crash ($(wc -l <<<"$FATALS") did):"
    sed -E 's/^.*FATAL: +//' <<<"$FATALS" | sort | uniq -c | sort -rn | head -n 5 | sed 's/^/#   /'
fi

# Server log: our kills leave no trace there; anything else dying would.
if grep -qE 'PANIC|TRAP:|was terminated by signal|terminated by exception|server process .* exited with exit code' "$CL/log"; then
    fail "no server process died on its own (no PANIC, no backend killed by a signal) in the server log"
    grep -E 'PANIC|TRAP:|was terminated by signal|terminated by exception|exited with exit code' "$CL/log" | head -n 10 | sed 's/^/#   /'
else
    pass "no server process died on its own (no PANIC, no backend killed by a signal) in the server log"
fi

# ---- 5. summary ------------------------------------------------------------------
ACKED=$(awk -F'\t' '{ n += $4 } END { print n + 0 }' "$WORK/acked.tsv")
OPS=$(awk -v n="$ACKED" -v s="$LOAD_SECONDS" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
sum_of() { local t=0 v; for v in "$@"; do t=$((t + ${v:-0})); done; echo $t; }
ABORTED=$(sum_of "${PB_ABORTED[@]}")
SQLERR=$(sum_of "${PB_SQLERR[@]}")
PBFAILED=$(sum_of "${PB_FAILED[@]}")
RETRIED=$(sum_of "${PB_RETRIED[@]}")
TPS_LIST=""
for ((p = 1; p <= PHASES; p++)); do TPS_LIST+="phase $p: ${TPS[$p]:-?}  "; done

echo "# ---- summary ----"
psql_q -F ' ' -c "
SELECT format('# committed operations: %s spends (%s charged, %s refused for budget), %s refunds (%s refused 22023), %s admissions (%s admitted, %s by fallback), %s completions, %s metric writes, %s snapshots, %s resets/roll-overs, %s set_monthly_budget, %s monitor runs',
    (SELECT count(*) FROM st_money WHERE kind = 'spend' AND via <> 'admit'),
    (SELECT count(*) FROM st_money WHERE kind = 'spend' AND via <> 'admit' AND ok),
    (SELECT count(*) FROM st_money WHERE kind = 'spend' AND via <> 'admit' AND NOT ok),
    (SELECT count(*) FROM st_money WHERE kind = 'refund'),
    (SELECT count(*) FROM st_money WHERE kind = 'refund' AND NOT ok),
    (SELECT count(*) FROM st_admissions), (SELECT count(*) FROM st_admissions WHERE admitted),
    (SELECT count(*) FROM st_admissions WHERE fallback),
    (SELECT count(*) FROM st_tx WHERE script = 'complete'),
    (SELECT count(*) FROM st_tx WHERE script = 'metric'),
    (SELECT count(*) FROM st_tx WHERE script = 'snapshot'),
    (SELECT count(*) FROM st_tx WHERE script = 'reset'),
    (SELECT count(*) FROM st_tx WHERE script = 'set_budget'),
    (SELECT count(*) FROM st_tx WHERE script = 'monitor'))" || true
psql_q -F ' ' -c "
SELECT format('# holds: %s (%s settled, %s released, %s expired), %s by clients, %s keyed calls retried; jobs: %s (%s succeeded, %s failed, %s cancelled, %s expired), %s moved by %s migrations (%s with their holds)',
    (SELECT count(*) FROM grse.budget_holds), (SELECT count(*) FROM grse.budget_holds WHERE status = 'settled'),
    (SELECT count(*) FROM grse.budget_holds WHERE status = 'released'), (SELECT count(*) FROM grse.budget_holds WHERE status = 'expired'),
    (SELECT count(*) FROM st_holds), (SELECT count(*) FROM st_keys WHERE retried),
    (SELECT count(*) FROM grse.jobs), (SELECT count(*) FROM grse.jobs WHERE status = 'succeeded'),
    (SELECT count(*) FROM grse.jobs WHERE status = 'failed'), (SELECT count(*) FROM grse.jobs WHERE status = 'cancelled'),
    (SELECT count(*) FROM grse.jobs WHERE status = 'expired'),
    (SELECT coalesce(sum(moved), 0) FROM st_migrations), (SELECT count(*) FROM st_migrations),
    (SELECT coalesce(sum(moved_with_hold), 0) FROM st_migrations))" || true
psql_q -F ' ' -c "
SELECT format('# ledger: %s rows; mode transitions: %s; snapshots: %s; roll-overs: %s (%s manual)',
    (SELECT count(*) FROM grse.region_budget_transactions), (SELECT count(*) FROM grse.region_mode_transitions),
    (SELECT count(*) FROM grse.region_scaling_history), (SELECT count(*) FROM grse.budget_rollovers),
    (SELECT count(*) FROM grse.budget_rollovers WHERE source = 'manual'))" || true
ROLLBACKS=$(psql_q -c "SELECT coalesce(sum(n) FILTER (WHERE script = 'rollback'), 0) || ' ROLLBACK, ' ||
                              coalesce(sum(n) FILTER (WHERE script = 'savepoint'), 0) || ' ROLLBACK TO SAVEPOINT'
                         FROM st_acked" 2>/dev/null || echo "?")
UNACKED=$(psql_q -c "
    SELECT coalesce(sum(c - a), 0) FROM (
      SELECT coalesce(c.n, 0) c, coalesce(a.n, 0) a
        FROM (SELECT phase, client, count(*) n FROM st_tx GROUP BY 1, 2) c
        FULL JOIN (SELECT phase, client, sum(n) n FROM st_acked WHERE script <> 'rollback' GROUP BY 1, 2) a USING (phase, client)) t" 2>/dev/null || echo "?")
note "form: $FORM; load: ${LOAD_SECONDS}s in $PHASES phases (DURATION=$DURATION), $CLIENTS clients, $THREADS threads, SEED=$SEED"
note "operations: $ACKED transactions acknowledged by pgbench, $OPS ops/s overall; pgbench tps ${TPS_LIST}"
note "faults injected: ${#CRASH_KIND[@]} crash(es) (kill -9: ${CRASH_KIND[*]}), $RECOVERED crash recoveries verified; deliberate rollbacks: $ROLLBACKS;"
note "client errors from the crashes: $((ABORTED - SQLERR)) pgbench client connections lost, $UNACKED transactions committed but never acknowledged"
note "other client failures: $SQLERR clients aborted on an SQL error; ${DEADLOCK_LOG:-0} deadlocks (40P01) in the server log, $RETRIED transactions retried by pgbench, $PBFAILED failed after $MAX_TRIES tries (deadlocks fail the run unless STRICT_DEADLOCKS=0)"
note "violations: ${VIOLATIONS} rows from grse.verify_invariants(), $FAILED failed checks"
note "wall time: $(( $(date +%s) - T_START ))s"
finish
