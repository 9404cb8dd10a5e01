#!/usr/bin/env bash
# grse benchmark: grse against "the original" (ref: PL/pgSQL, bench/reference/)
# and "the floor" (the bare statements on untriggered tables, bench/floor.sql),
# side by side in one run on one throw-away cluster; writes bench/RESULTS.md.
#
#   bash bench/run.sh                build + install the release build, then benchmark
#   bash bench/run.sh --no-install   benchmark the grse build installed now (skips the install)
#
# Environment: BENCH_SECONDS (20: duration of every pgbench run), BENCH_THREADS
# (2: pgbench -j, capped at the client count), BENCH_CLIENTS_A ("1 8 32"),
# BENCH_CLIENTS_B (32), BENCH_SLOTS_B (64: budget slots of the hot region in
# the second grse run of (b)), BENCH_CLIENTS_C (8), BENCH_CLIENTS_E (8),
# BENCH_RSS_SPENDS (50000: spends of the backend memory sample),
# BENCH_RESULTS (bench/RESULTS.md: where the report goes), KEEP=1 (keep the
# work dir: cluster, server log, pgbench logs).
#
# Cases (see bench/README.md): (a) spend, 100 regions, at 1/8/32 clients;
# (b) spend, one hot region, 32 clients; (c) metric write with triggers vs the
# untriggered UPDATE (plus a 101-row batch form); (d) health and global risk
# over 10,000 regions, 1 client; (e) admit_job, 8 clients; and the resident
# memory of one grse backend before and after a long run of spends.
# Default run: ~10 min of load plus the release build (~2.5 min) on 2 cores.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CLUSTER="$ROOT/scripts/cluster.sh"
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$PG_CONFIG" --bindir)
export PATH="$HOME/.cargo/bin:$PATH"

INSTALL=1
for arg in "$@"; do
    case $arg in
        --no-install) INSTALL=0 ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: $0 [--no-install]" >&2; exit 2 ;;
    esac
done

SECS=${BENCH_SECONDS:-20}
THREADS=${BENCH_THREADS:-2}
CLIENTS_A=${BENCH_CLIENTS_A:-1 8 32}
CLIENTS_B=${BENCH_CLIENTS_B:-32}
SLOTS_B=${BENCH_SLOTS_B:-64}
CLIENTS_C=${BENCH_CLIENTS_C:-8}
CLIENTS_E=${BENCH_CLIENTS_E:-8}
RSS_SPENDS=${BENCH_RSS_SPENDS:-50000}
OUT=${BENCH_RESULTS:-$HERE/RESULTS.md}
for v in "$SECS" "$THREADS" $CLIENTS_A "$CLIENTS_B" "$SLOTS_B" "$CLIENTS_C" "$CLIENTS_E" "$RSS_SPENDS"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "bench: '$v' is not a positive integer (check the BENCH_* variables)" >&2; exit 2; }
done

# The command as given, with the BENCH_* settings that were set.
CMD_LINE="bash bench/run.sh${*:+ $*}"
for v in $(compgen -e | grep '^BENCH_' | sort -r || true); do CMD_LINE="$v=$(printf %q "${!v}") $CMD_LINE"; done

say() { echo "bench: $*"; }
T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- build ------------------------------------------------------------------------
SO="$("$PG_CONFIG" --pkglibdir)/grse.so"
if [ "$INSTALL" = 1 ]; then
    say "building and installing the release build (~2.5 min)"
    (cd "$ROOT" && cargo pgrx install --release --pg-config "$PG_CONFIG")
    PROFILE="release (installed by this run: cargo pgrx install --release)"
    IS_RELEASE=1
else
    [ -f "$SO" ] || { echo "bench: grse is not installed ($SO missing); run without --no-install" >&2; exit 1; }
    sum=$(md5sum <"$SO")
    if [ -f "$ROOT/target/release/libgrse.so" ] && [ "$(md5sum <"$ROOT/target/release/libgrse.so")" = "$sum" ]; then
        PROFILE="release (as installed before the run: identical to target/release/libgrse.so)"; IS_RELEASE=1
    elif [ -f "$ROOT/target/debug/libgrse.so" ] && [ "$(md5sum <"$ROOT/target/debug/libgrse.so")" = "$sum" ]; then
        PROFILE="debug (as installed before the run: identical to target/debug/libgrse.so)"; IS_RELEASE=0
    elif command -v readelf >/dev/null && readelf -S "$SO" | grep -q '\.debug_info'; then
        PROFILE="debug (as installed before the run: grse.so carries DWARF debug info)"; IS_RELEASE=0
    else
        PROFILE="unknown, probably release (as installed before the run: grse.so has no debug info)"; IS_RELEASE=0
    fi
fi
say "grse build: $PROFILE"
SO_SUM_START=$(md5sum <"$SO")

# ---- cluster ------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/grse-bench.XXXXXX")
chmod 755 "$WORK"                 # the cluster inside is owned by `postgres`
CL="$WORK/cluster"
DB=grse_bench
MON_DB=grse_bench_monitor
cleanup() {
    bash "$CLUSTER" stop "$CL" >/dev/null 2>&1 || true
    if [ "${KEEP:-0}" = 1 ]; then echo "bench: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$CLUSTER" start "$CL" "$DB"
eval "$(bash "$CLUSTER" env "$CL")"
export PGDATABASE=$DB

psql_q() { "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -qAt "$@"; }
# After a failure: wait (up to 2 min) until the server accepts connections
# again, in case a backend crashed and the server is in crash recovery.
wait_ready() {
    local _
    for _ in $(seq 1 120); do
        if "$PG_BIN/pg_isready" -q && psql_q -c "SELECT 1" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    echo "bench: the server does not accept connections any more" >&2
    return 1
}

# Fewer checkpoints during a run (a CHECKPOINT precedes every run instead);
# fsync, synchronous_commit, shared_buffers stay at their defaults.
psql_q -c "ALTER SYSTEM SET max_wal_size = '4GB'" -c "ALTER SYSTEM SET checkpoint_timeout = '30min'" \
       -c "SELECT pg_reload_conf()" >/dev/null
PG_VERSION=$(psql_q -c "SELECT version()")
SETTINGS=$(psql_q -F ' = ' -c "SELECT name, setting || COALESCE(unit, '') FROM pg_settings
                                 WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers', 'max_wal_size',
                                                'checkpoint_timeout', 'wal_level', 'max_connections')
                                 ORDER BY name" | paste -sd ';' | sed 's/;/; /g')

# ---- fixtures -----------------------------------------------------------------------
CHECKS=()          # "ok|text" or "FAILED|text"
PROBLEMS=0
check() { if [ "$1" = ok ]; then CHECKS+=("ok|$2"); else CHECKS+=("FAILED|$2"); PROBLEMS=$((PROBLEMS + 1)); fi; }

say "fixture: grse, ref and floor with 101 regions each (database $DB)"
psql_q -f "$HERE/fixtures/main.sql" >"$WORK/fixture-main.log"
GRSE_VERSION=$(psql_q -c "SELECT extversion FROM pg_extension WHERE extname = 'grse'")

say "fixture: 10,000 regions in grse and ref (database $MON_DB)"
"$PG_BIN/createdb" "$MON_DB"
t0=$(date +%s)
psql_q -d "$MON_DB" -f "$HERE/fixtures/monitor.sql" >"$WORK/fixture-monitor.log"
MON_FIXTURE_SECS=$(( $(date +%s) - t0 ))
IFS='|' read -r M_REGIONS M_ACTIVE M_MODES M_CONFLICTS M_RECS M_RISK M_LEVEL M_STATE_MISS M_COMPUTE_MISS M_HEALTH_EQ M_RISK_EQ \
    < <(psql_q -d "$MON_DB" -f "$HERE/fixtures/monitor_check.sql")
if [ "$M_STATE_MISS" = 0 ] && [ "$M_COMPUTE_MISS" = 0 ]; then
    check ok "ref's trigger and compute_region_pressure/capacity agree with grse on all $M_REGIONS regions of the (d) fixture"
else
    check bad "ref disagrees with grse on the (d) fixture: $M_STATE_MISS state rows, $M_COMPUTE_MISS compute_* results differ"
fi
if [ "$M_HEALTH_EQ" = t ]; then check ok "ref.get_all_regions_health() = grse.get_all_regions_health() (same $M_ACTIVE rows, same order)"
else check bad "ref.get_all_regions_health() differs from grse.get_all_regions_health()"; fi
if [ "$M_RISK_EQ" = t ]; then check ok "ref.compute_global_risk() = grse.compute_global_risk() apart from timestamps ($M_CONFLICTS conflicts, $M_RECS recommendations)"
else check bad "ref.compute_global_risk() differs from grse.compute_global_risk()"; fi

# ---- runner -----------------------------------------------------------------------
declare -A TPS LAT NTX CMDS
RUN_ORDER=()
ERRORS=0
# run KEY CLIENTS SCRIPT DB [pgbench args...]: VACUUM ANALYZE + CHECKPOINT, then pgbench.
run() {
    local key=$1 c=$2 script=$3 db=$4; shift 4
    local j=$(( c < THREADS ? c : THREADS ))
    local log="$WORK/pgbench-${key//\//_}.log"
    psql_q -d "$db" -c "VACUUM ANALYZE" -c "CHECKPOINT"
    local args=(-n -M prepared -c "$c" -j "$j" -T "$SECS" "$@" -f "bench/cases/$script" "$db")
    CMDS[$key]="pgbench ${args[*]}"
    RUN_ORDER+=("$key")
    say "$key: pgbench ${args[*]}"
    if (cd "$ROOT" && timeout $((SECS + 600)) "$PG_BIN/pgbench" "${args[@]}") >"$log" 2>&1 \
            && grep -q '^tps = ' "$log"; then
        TPS[$key]=$(awk '/^tps = / {print $3}' "$log")
        LAT[$key]=$(awk '/^latency average = / {print $4}' "$log")
        NTX[$key]=$(awk -F': ' '/^number of transactions actually processed/ {print $2}' "$log")
        local failed; failed=$(awk '/^number of failed transactions/ {print $5}' "$log")
        say "    tps ${TPS[$key]}, latency ${LAT[$key]} ms, ${NTX[$key]} transactions"
        if [ -n "$failed" ] && [ "$failed" != 0 ]; then
            check bad "$key: $failed failed transactions"
        fi
    else
        ERRORS=$((ERRORS + 1))
        check bad "$key: pgbench failed (see below)"
        CHECKS+=("FAILED|    $(grep -iE 'error|abort' "$log" | sort | uniq -c | sort -rn | head -n 3 | tr '\n' ' ')")
        tail -n 5 "$log" | sed 's/^/bench:     /'
        wait_ready
    fi
}
one() { psql_q -d "${2:-$DB}" -c "$1"; }
spends() {   # number of spend rows in a system's ledger
    case $1 in
        grse|slots)  one "SELECT count(*) FROM grse.region_budget_transactions WHERE transaction_type = 'spend'" ;;
        ref)   one "SELECT count(*) FROM ref.region_budget_transactions WHERE transaction_type = 'spend'" ;;
        floor) one "SELECT count(*) FROM floor.ledger WHERE transaction_type = 'spend'" ;;
    esac
}
spend_case() {   # spend_case KEY-PREFIX CLIENTS RMIN RMAX [SYSTEM...] (default grse ref floor; slots = grse's script)
    local sys before after key prefix=$1 c=$2 rmin=$3 rmax=$4
    shift 4
    local systems=("$@")
    [ ${#systems[@]} -gt 0 ] || systems=(grse ref floor)
    for sys in "${systems[@]}"; do
        key="$prefix/$sys/$c"
        before=$(spends "$sys")
        run "$key" "$c" "a_spend_${sys/slots/grse}.sql" "$DB" -D rmin="$rmin" -D rmax="$rmax"
        after=$(spends "$sys")
        [ -n "${NTX[$key]:-}" ] || continue
        if [ $((after - before)) = "${NTX[$key]}" ]; then
            SPEND_OK+=("$key")
        else
            check bad "$key: ${NTX[$key]} spends run but $((after - before)) ledger rows written"
        fi
    done
}
SPEND_OK=()

# ---- (a) spend on 100 regions -------------------------------------------------------
for c in $CLIENTS_A; do spend_case a "$c" 1 100; done
# ---- (b) spend on one hot region ----------------------------------------------------
spend_case b "$CLIENTS_B" 101 101
# ... and again with the hot region's budget in SLOTS_B budget slots
HOT=00000000-0000-4000-8000-000000000101
one "SELECT grse.set_budget_slots('$HOT', $SLOTS_B)" >/dev/null
spend_case b "$CLIENTS_B" 101 101 slots
SLOT_SPENDS=$(one "SELECT count(*) FROM grse.region_budget_transactions WHERE region_id = '$HOT' AND slot_no > 0 AND transaction_type = 'spend'")
VIOL=$(one "SELECT count(*) FROM grse.verify_invariants()")
if [ "${SLOT_SPENDS:-0}" -gt 0 ] && [ "$VIOL" = 0 ]; then
    check ok "(b) with $SLOTS_B slots: $SLOT_SPENDS spends charged to slot rows; grse.verify_invariants() empty (no overspend, ledger exact per account)"
else
    check bad "(b) with $SLOTS_B slots: $SLOT_SPENDS slot spends, $VIOL invariant violations"
fi
one "SELECT grse.set_budget_slots('$HOT', 1)" >/dev/null
[ ${#SPEND_OK[@]} -eq 0 ] || check ok "every spend of ${#SPEND_OK[@]} spend runs charged: ledger rows written = transactions pgbench counted (budgets never ran dry)"

# ---- backend memory: one connection, a long run of spends ---------------------------
# A dedicated psql session (synchronous_commit off, so the loop is CPU-bound):
# VmRSS/RssAnon of its backend after connecting, after 1,000 warm-up spends,
# and after RSS_SPENDS more; the same for ref as a yardstick.
rss_sample() {   # rss_sample SYSTEM -> writes $WORK/rss-SYSTEM.{connect,warm,after,secs}
    local sys=$1 f="$WORK/rss-$1"
    gen() {
        awk -v n="$1" -v sys="$sys" -v seed="$2" 'BEGIN {
            srand(seed); q = sprintf("%c", 39)
            for (i = 0; i < n; i++)
                printf "SELECT %s.check_and_decrement_budget(%s00000000-0000-4000-8000-%012d%s, %d, NULL, %screative%s);\n",
                       sys, q, 1 + int(rand() * 100), q, 1 + int(rand() * 500), q, q }'
    }
    local status="\\! grep -E '^(VmRSS|RssAnon)' /proc/\$BENCH_PID/status"
    {
        echo "SET synchronous_commit = off;"
        echo "SELECT pg_backend_pid() AS pid \\gset"
        echo "\\setenv BENCH_PID :pid"
        echo "$status > $f.connect"
        gen 1000 1
        echo "$status > $f.warm; date +%s.%N > $f.t0"
        gen "$RSS_SPENDS" 2
        echo "$status > $f.after; date +%s.%N > $f.t1"
    } | "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -o /dev/null -d "$DB"
}
kb() { awk -v k="$2" '$1 == k":" {print $2}' "$1" 2>/dev/null; }
declare -A RSS
for sys in grse ref; do
    say "memory: $sys backend, 1,000 + $RSS_SPENDS spends in one session"
    if rss_sample "$sys"; then
        for p in connect warm after; do
            RSS[$sys/$p/VmRSS]=$(kb "$WORK/rss-$sys.$p" VmRSS)
            RSS[$sys/$p/RssAnon]=$(kb "$WORK/rss-$sys.$p" RssAnon)
        done
        RSS[$sys/secs]=$(awk -v a="$(cat "$WORK/rss-$sys.t0")" -v b="$(cat "$WORK/rss-$sys.t1")" 'BEGIN {printf "%.1f", b - a}')
        say "    VmRSS ${RSS[$sys/warm/VmRSS]} -> ${RSS[$sys/after/VmRSS]} kB, RssAnon ${RSS[$sys/warm/RssAnon]} -> ${RSS[$sys/after/RssAnon]} kB"
    else
        check bad "memory sample of a $sys backend failed"
        wait_ready
    fi
done

# ---- (c) metric writes ----------------------------------------------------------------
transitions() {
    case $1 in
        grse|slots)  one "SELECT count(*) FROM grse.region_mode_transitions" ;;
        ref)   one "SELECT count(*) FROM ref.region_mode_transitions" ;;
        floor) echo 0 ;;
    esac
}
declare -A TRANS
for form in c c_batch; do
    for sys in grse ref floor; do
        if [ "$form" = c ]; then key="c/$sys/$CLIENTS_C"; c=$CLIENTS_C; else key="c_batch/$sys/1"; c=1; fi
        before=$(transitions "$sys")
        if [ "$form" = c ]; then run "$key" "$c" "c_metric_$sys.sql" "$DB"; else run "$key" "$c" "c_batch_$sys.sql" "$DB"; fi
        TRANS[$key]=$(( $(transitions "$sys") - before ))
    done
done

# ---- (e) admission ----------------------------------------------------------------------
# Every region back to normal with an empty queue, so every admission succeeds
# and the queue total counts the admissions.
one "UPDATE grse.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0,
            creative_pressure = 0, intel_pressure = 0, jobs_in_queue = 0" >/dev/null
one "UPDATE ref.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0,
            creative_pressure = 0, intel_pressure = 0, jobs_in_queue = 0" >/dev/null
for sys in grse ref; do
    key="e/$sys/$CLIENTS_E"
    run "$key" "$CLIENTS_E" "e_admit_$sys.sql" "$DB"
    queued=$(one "SELECT sum(jobs_in_queue) FROM $sys.region_scaling_state")
    if [ -n "${NTX[$key]:-}" ]; then
        if [ "$queued" = "${NTX[$key]}" ]; then
            check ok "$key: all ${NTX[$key]} admissions admitted and queued (Σ jobs_in_queue = transactions)"
        else
            check bad "$key: ${NTX[$key]} admissions run but Σ jobs_in_queue = $queued"
        fi
    fi
done

# ---- (d) health and global risk over 10,000 regions ----------------------------------------
for fn in health risk; do
    for sys in grse ref; do
        run "d_$fn/$sys/1" 1 "d_${fn}_$sys.sql" "$MON_DB"
    done
done

T_END=$(date +%s)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# Did anything crash, or did someone replace grse.so under the running server?
crashes=$(grep -E 'terminated by signal|was terminated by exception' "$CL/log" || true)
if [ -z "$crashes" ]; then
    check ok "server log: no server process crashed"
else
    check bad "server log: $(grep -c . <<<"$crashes") server process crash(es), e.g. $(head -n 1 <<<"$crashes" | cut -c1-200)"
fi
if [ "$(md5sum <"$SO")" = "$SO_SUM_START" ]; then
    check ok "grse.so unchanged during the run"
else
    check bad "grse.so was replaced during the run (another install on this machine?): later figures are of another build, and a replaced library can crash running backends"
fi

# ---- report --------------------------------------------------------------------------------
f2() { awk -v x="$1" 'BEGIN { if (x == "") print "—"; else printf "%.2f", x }'; }
f0() { awk -v x="$1" 'BEGIN { if (x == "") print "—"; else printf "%.0f", x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "—"; else printf "%.2f", a / b }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 >= b + 0) }'; }
verdict() { if "$@"; then echo "**met**"; else echo "**not met**"; fi; }
tp() { f0 "${TPS[$1]:-}"; }
lt() { f2 "${LAT[$1]:-}"; }

R="$WORK/RESULTS.md"
{
if [ "$IS_RELEASE" = 1 ]; then
    echo "# grse benchmark results"
else
    echo "# grse benchmark — debug-build validation run — not the release figures"
    echo
    echo "> This report comes from a run against a build that is not the release build"
    echo "> (profile below). It shows that the harness works end to end; its numbers say"
    echo "> nothing about grse's release performance. The release figures come from"
    echo "> \`bash bench/run.sh\` (which builds and installs the release build first)."
fi
if [ "$SECS" -lt 20 ]; then
    echo
    echo "> Short run: ${SECS} s per pgbench run instead of the default 20 s."
fi
cat <<EOF

| | |
|---|---|
| date | $(date -u '+%Y-%m-%d %H:%M:%S UTC') |
| machine | $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) memory, Linux $(uname -r) |
| load average (1/5/15 min) | before the run $LOAD_START; after $LOAD_END |
| PostgreSQL | $PG_VERSION |
| server settings | $SETTINGS (throw-away cluster from scripts/cluster.sh; fsync on) |
| grse | extension version $GRSE_VERSION, commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$( [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] && echo " with uncommitted changes") |
| build profile | $PROFILE |
| command | \`$CMD_LINE\` |
| pgbench | \`-n -M prepared -T $SECS -j min($THREADS, clients)\`; VACUUM ANALYZE and CHECKPOINT before every run |
| wall time | $(( (T_END - T_START) / 60 )) min $(( (T_END - T_START) % 60 )) s |

Systems: **grse** (the extension), **ref** (the PL/pgSQL original, \`bench/reference/reference.sql\`),
**floor** (the bare statements on untriggered copies of grse's tables, \`bench/floor.sql\`).
TPS = transactions per second; latency = pgbench's mean latency in ms. Ratios are of TPS.

## (a) Spend, 100 regions, uniform random region

\`check_and_decrement_budget\` (grse, ref) vs the one-statement conditional UPDATE + ledger INSERT (floor).

| clients | grse TPS | grse ms | ref TPS | ref ms | floor TPS | floor ms | grse/ref | grse/floor |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
for c in $CLIENTS_A; do
    echo "| $c | $(tp a/grse/"$c") | $(lt a/grse/"$c") | $(tp a/ref/"$c") | $(lt a/ref/"$c") | $(tp a/floor/"$c") | $(lt a/floor/"$c") | $(ratio "${TPS[a/grse/$c]:-}" "${TPS[a/ref/$c]:-}") | $(ratio "${TPS[a/grse/$c]:-}" "${TPS[a/floor/$c]:-}") |"
done
c=$CLIENTS_B
cat <<EOF

## (b) Spend, one hot region, $c clients

| clients | grse TPS | grse ms | ref TPS | ref ms | floor TPS | floor ms | grse/ref | grse/floor |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| $c | $(tp b/grse/"$c") | $(lt b/grse/"$c") | $(tp b/ref/"$c") | $(lt b/ref/"$c") | $(tp b/floor/"$c") | $(lt b/floor/"$c") | $(ratio "${TPS[b/grse/$c]:-}" "${TPS[b/ref/$c]:-}") | $(ratio "${TPS[b/grse/$c]:-}" "${TPS[b/floor/$c]:-}") |

With one budget row, every spend of every system serializes on the region's row lock.

| grse with $SLOTS_B budget slots | TPS | ms | grse/ref (one row) | grse/floor (one row) | over grse with one row |
|---|---:|---:|---:|---:|---:|
| $c clients | $(tp b/slots/"$c") | $(lt b/slots/"$c") | $(ratio "${TPS[b/slots/$c]:-}" "${TPS[b/ref/$c]:-}") | $(ratio "${TPS[b/slots/$c]:-}" "${TPS[b/floor/$c]:-}") | $(ratio "${TPS[b/slots/$c]:-}" "${TPS[b/grse/$c]:-}") |

With slots (\`grse.set_budget_slots(region, $SLOTS_B)\`), a spend locks the slot row of its backend
(process id mod $SLOTS_B) instead of the state row; the ledger still takes one row per spend.
The run is checked for overspend and ledger exactness (see Checks).

## (c) Metric write: triggered UPDATE vs the untriggered UPDATE vs ref's PL/pgSQL trigger

Single-row writes: \`UPDATE ... SET <four pressures> WHERE region_id = ...\` on a random region of 100,
pressures random in 0..90, $CLIENTS_C clients. Batch: the same write for all 101 rows in one
statement, 1 client (the per-row trigger cost without a commit per row). "transitions" = mode
changes the AFTER trigger recorded during the run.

| form | clients | grse TPS | grse ms | ref TPS | ref ms | floor TPS | floor ms | grse/ref | grse/floor | grse overhead over floor | transitions grse / ref |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
for form in c c_batch; do
    if [ "$form" = c ]; then c=$CLIENTS_C; name="single row"; else c=1; name="batch of 101 rows"; fi
    g=${TPS[$form/grse/$c]:-}; r=${TPS[$form/ref/$c]:-}; fl=${TPS[$form/floor/$c]:-}
    over=$(awk -v f="$fl" -v g="$g" 'BEGIN { if (f == "" || g == "" || g + 0 == 0) print "—"; else printf "%+.1f%%", (f / g - 1) * 100 }')
    echo "| $name | $c | $(tp "$form"/grse/"$c") | $(lt "$form"/grse/"$c") | $(tp "$form"/ref/"$c") | $(lt "$form"/ref/"$c") | $(tp "$form"/floor/"$c") | $(lt "$form"/floor/"$c") | $(ratio "$g" "$r") | $(ratio "$g" "$fl") | $over | ${TRANS[$form/grse/$c]:-—} / ${TRANS[$form/ref/$c]:-—} |"
done
cat <<EOF

Overhead = floor TPS / grse TPS − 1 (the extra time per transaction that grse's triggers cost).

## (d) Health and global risk over 10,000 regions, 1 client

Fixture (\`bench/fixtures/monitor.sql\`, built in ${MON_FIXTURE_SECS} s): $M_REGIONS regions, $M_ACTIVE active;
modes $M_MODES; $M_CONFLICTS conflicts, $M_RECS recommendations, overall risk $M_RISK ($M_LEVEL).
ref returns exactly grse's rows and JSON (checked below).

| function | grse mean ms | ref mean ms | grse runs | ref runs | ref ms / grse ms |
|---|---:|---:|---:|---:|---:|
| get_all_regions_health() | $(lt d_health/grse/1) | $(lt d_health/ref/1) | ${NTX[d_health/grse/1]:-—} | ${NTX[d_health/ref/1]:-—} | $(ratio "${LAT[d_health/ref/1]:-}" "${LAT[d_health/grse/1]:-}") |
| compute_global_risk() | $(lt d_risk/grse/1) | $(lt d_risk/ref/1) | ${NTX[d_risk/grse/1]:-—} | ${NTX[d_risk/ref/1]:-—} | $(ratio "${LAT[d_risk/ref/1]:-}" "${LAT[d_risk/grse/1]:-}") |

## (e) Admission, $CLIENTS_E clients, 100 regions (all normal)

\`admit_job\` for a posting job: mode, budget check, priority, wait, shard key, queue + 1.

| clients | grse TPS | grse ms | ref TPS | ref ms | grse/ref |
|---:|---:|---:|---:|---:|---:|
| $CLIENTS_E | $(tp e/grse/"$CLIENTS_E") | $(lt e/grse/"$CLIENTS_E") | $(tp e/ref/"$CLIENTS_E") | $(lt e/ref/"$CLIENTS_E") | $(ratio "${TPS[e/grse/$CLIENTS_E]:-}" "${TPS[e/ref/$CLIENTS_E]:-}") |

## Backend memory (one connection, a long run of spends)

A dedicated psql session (\`synchronous_commit = off\`) loops \`check_and_decrement_budget\` on random
regions of (a): resident memory of its backend (\`/proc/PID/status\`, kB) after connecting, after 1,000
warm-up spends, and after $RSS_SPENDS more spends. VmRSS includes the shared buffers the backend has
touched; RssAnon is its private memory (where a leak would show). ref's backend is the yardstick.

| session | VmRSS connect | VmRSS after warm-up | VmRSS after $RSS_SPENDS spends | RssAnon connect | RssAnon after warm-up | RssAnon after $RSS_SPENDS spends | RssAnon growth | loop time |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
for sys in grse ref; do
    growth=$(awk -v a="${RSS[$sys/warm/RssAnon]:-}" -v b="${RSS[$sys/after/RssAnon]:-}" 'BEGIN { if (a == "" || b == "") print "—"; else printf "%+d kB", b - a }')
    echo "| $sys | ${RSS[$sys/connect/VmRSS]:-—} | ${RSS[$sys/warm/VmRSS]:-—} | ${RSS[$sys/after/VmRSS]:-—} | ${RSS[$sys/connect/RssAnon]:-—} | ${RSS[$sys/warm/RssAnon]:-—} | ${RSS[$sys/after/RssAnon]:-—} | $growth | ${RSS[$sys/secs]:-—} s |"
done

cat <<EOF

## Targets

| target | measured | verdict |
|---|---|---|
EOF
for c in $CLIENTS_A; do
    g=${TPS[a/grse/$c]:-}; r=${TPS[a/ref/$c]:-}; fl=${TPS[a/floor/$c]:-}
    floor80=$(awk -v f="$fl" 'BEGIN { if (f == "") print ""; else print f * 0.8 }')
    echo "| (a) $c client(s): grse ≥ ref | grse $(f0 "$g") vs ref $(f0 "$r") TPS ($(ratio "$g" "$r")×) | $(verdict ge "$g" "$r") |"
    echo "| (a) $c client(s): grse ≥ 80% of floor | grse $(f0 "$g") vs floor $(f0 "$fl") TPS ($(ratio "$g" "$fl")×) | $(verdict ge "$g" "$floor80") |"
done
g=${TPS[b/slots/$CLIENTS_B]:-}; r=${TPS[b/ref/$CLIENTS_B]:-}
four_ref=$(awk -v r="$r" 'BEGIN { if (r == "") print ""; else print r * 4 }')
echo "| (b) hot region, $CLIENTS_B clients, with slots: ≥ 4× the single-row ref | grse ($SLOTS_B slots) $(f0 "$g") vs ref $(f0 "$r") TPS ($(ratio "$g" "$r")×; grse with one row $(tp b/grse/"$CLIENTS_B")) | $(verdict ge "$g" "$four_ref") |"
g=${TPS[c/grse/$CLIENTS_C]:-}; r=${TPS[c/ref/$CLIENTS_C]:-}; fl=${TPS[c/floor/$CLIENTS_C]:-}
over_ok() { awk -v f="$fl" -v g="$g" 'BEGIN { exit !(f != "" && g != "" && g + 0 > 0 && f / g - 1 <= 0.15) }'; }
echo "| (c) trigger overhead ≤ 15% over the untriggered UPDATE | $(awk -v f="$fl" -v g="$g" 'BEGIN { if (f == "" || g == "" || g + 0 == 0) print "—"; else printf "%+.1f%%", (f / g - 1) * 100 }') (floor $(f0 "$fl") vs grse $(f0 "$g") TPS, single-row writes, $CLIENTS_C clients) | $(verdict over_ok) |"
echo "| (c) grse ≥ ref's PL/pgSQL trigger | grse $(f0 "$g") vs ref $(f0 "$r") TPS ($(ratio "$g" "$r")×) | $(verdict ge "$g" "$r") |"
for fn in health risk; do
    gl=${LAT[d_$fn/grse/1]:-}; rl=${LAT[d_$fn/ref/1]:-}
    half=$(awk -v r="$rl" 'BEGIN { if (r == "") print ""; else print r / 2 }')
    name=$([ $fn = health ] && echo "get_all_regions_health()" || echo "compute_global_risk()")
    echo "| (d) $name: ≥ 2× faster than ref | grse $(f2 "$gl") ms vs ref $(f2 "$rl") ms ($(ratio "$rl" "$gl")×) | $(verdict ge "$half" "$gl") |"
    echo "| (d) $name: < 50 ms on 10,000 regions | grse $(f2 "$gl") ms | $(verdict awk -v x="$gl" 'BEGIN { exit !(x != "" && x + 0 < 50) }') |"
done
echo "| (e) admission, $CLIENTS_E clients | grse $(tp e/grse/"$CLIENTS_E") vs ref $(tp e/ref/"$CLIENTS_E") TPS ($(ratio "${TPS[e/grse/$CLIENTS_E]:-}" "${TPS[e/ref/$CLIENTS_E]:-}")×) | reported |"
echo "| memory: one grse backend over $RSS_SPENDS spends | RssAnon ${RSS[grse/warm/RssAnon]:-—} → ${RSS[grse/after/RssAnon]:-—} kB (ref ${RSS[ref/warm/RssAnon]:-—} → ${RSS[ref/after/RssAnon]:-—} kB) | reported |"

cat <<EOF

(d): "both" is read as both functions; each must be at least twice as fast as ref's and under 50 ms.

## Checks

EOF
for x in "${CHECKS[@]}"; do echo "- ${x%%|*}: ${x#*|}"; done
cat <<EOF

## Commands

Fixtures: \`bench/fixtures/main.sql\` (database $DB) and \`bench/fixtures/monitor.sql\` (database $MON_DB),
checked with \`bench/fixtures/monitor_check.sql\`. pgbench runs, in order, from the repository root:

\`\`\`
EOF
for key in "${RUN_ORDER[@]}"; do printf '%-18s %s\n' "$key" "${CMDS[$key]}"; done
echo '```'
} >"$R"

# keep the HTTP load check's section (written by bench/http/run.sh) when rewriting the report
if [ -f "$OUT" ] && grep -q '^<!-- http-bench begin' "$OUT"; then
    { echo; sed -n '/^<!-- http-bench begin/,/^<!-- http-bench end/p' "$OUT"; } >>"$R"
fi
# ... and the scale-out router's (bench/scaleout/run.sh)
if [ -f "$OUT" ] && grep -q '^<!-- scaleout-bench begin' "$OUT"; then
    { echo; sed -n '/^<!-- scaleout-bench begin/,/^<!-- scaleout-bench end/p' "$OUT"; } >>"$R"
fi
cp "$R" "$OUT"
say "wrote $OUT ($(( (T_END - T_START) / 60 )) min $(( (T_END - T_START) % 60 )) s)"
if [ "$PROBLEMS" -gt 0 ]; then
    say "$PROBLEMS problem(s): see the Checks section of $OUT"
    exit 1
fi
