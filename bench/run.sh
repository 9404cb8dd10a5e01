#!/usr/bin/env bash
# grse benchmark: grse against what a team would write instead, side by side
# in one run on one throw-away cluster; writes bench/RESULTS.md.
#
#   bash bench/run.sh [OPTIONS] [CASE...]
#
# Systems: grse; seed (the seed-style PL/pgSQL on plain tables,
# bench/reference/seed.sql); ref (the PL/pgSQL original with grse's CHECKs and
# derive triggers, bench/reference/reference.sql); floor (the bare statements
# on plain copies of grse's tables) and floorck (the same on copies that keep
# grse's constraints), bench/floor.sql.
#
# Cases (default: all, in this order): cpu (spend, 1 client, asynchronous
# commit: CPU per call), spend (100 regions, 1/8/32 clients, durable), hot (one
# hot region, 32 clients: default policy and fixed slots), mixed (the mixed
# workload on four hot regions: without slots, default policy, fixed slots),
# metric (metric write through the triggers vs the untriggered UPDATE),
# admit (admit_job vs its PL/pgSQL reference), monitor (health and global
# risk over 10,000 regions), memory (backend RSS over a spend run).
#
# Options:
#   (none)        build the release package (cargo pgrx package, ~3 min) and
#                 run it in a private copy of the PostgreSQL tree under the
#                 work directory: nothing is installed on the machine
#   --no-build    use the package built before (target/release/grse-pg15)
#   --installed   benchmark the grse installed on the machine (alias --no-install)
#   --long        the memory case runs 5 minutes per system (default BENCH_SECONDS)
#   --perf        perf profile of the grse backend during the cpu case
#
# Environment: BENCH_SECONDS (20: every pgbench run; the cases run in rounds
# split it), BENCH_ROUNDS (3: rounds of cpu, spend, mixed, metric, admit, monitor),
# BENCH_THREADS (2: pgbench
# -j, capped at the clients), BENCH_CLIENTS_A ("1 8 32"), BENCH_CLIENTS_B (32:
# hot and mixed), BENCH_SLOTS (64: fixed budget slots), BENCH_CLIENTS_C (8),
# BENCH_CLIENTS_E (8), BENCH_RSS_SECONDS (memory case), BENCH_PROFILE (release;
# debug packages the debug build, for checking the harness), BENCH_NOTE (a
# line for the report), BENCH_RESULTS (where the report goes; default
# bench/RESULTS.md for a run of every case, else only printed), KEEP=1 (keep
# the work dir: cluster, server log, pgbench logs, perf data).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CLUSTER="$ROOT/scripts/cluster.sh"
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$PG_CONFIG" --bindir)
export PATH="$HOME/.cargo/bin:$PATH"

ALL_CASES=(cpu spend hot mixed metric admit monitor memory)
BUILD=package
LONG=0
PERF=0
CASES=()
for arg in "$@"; do
    case $arg in
        --no-build) BUILD=prebuilt ;;
        --installed|--no-install) BUILD=installed ;;
        --long) LONG=1 ;;
        --perf) PERF=1 ;;
        -h|--help) sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "usage: $0 [--no-build|--installed] [--long] [--perf] [CASE...]" >&2; exit 2 ;;
        *)
            [[ " ${ALL_CASES[*]} " == *" $arg "* ]] || { echo "bench: unknown case '$arg' (cases: ${ALL_CASES[*]})" >&2; exit 2; }
            CASES+=("$arg") ;;
    esac
done
FULL=0
if [ ${#CASES[@]} -eq 0 ]; then CASES=("${ALL_CASES[@]}"); FULL=1; fi
want() { [[ " ${CASES[*]} " == *" $1 "* ]]; }

SECS=${BENCH_SECONDS:-20}
# cpu, spend, metric, admit and monitor run every system ROUNDS times, the
# systems taking turns, each run ROUND_SECS long (together as long as one run
# of SECS): a drift of the machine's load then falls on every system alike
ROUNDS=${BENCH_ROUNDS:-3}
THREADS=${BENCH_THREADS:-2}
CLIENTS_A=${BENCH_CLIENTS_A:-1 8 32}
CLIENTS_B=${BENCH_CLIENTS_B:-32}
SLOTS=${BENCH_SLOTS:-64}
CLIENTS_C=${BENCH_CLIENTS_C:-8}
CLIENTS_E=${BENCH_CLIENTS_E:-8}
if [ "$LONG" = 1 ]; then RSS_SECS=${BENCH_RSS_SECONDS:-300}; else RSS_SECS=${BENCH_RSS_SECONDS:-$SECS}; fi
PROFILE_WANTED=${BENCH_PROFILE:-release}
OUT=${BENCH_RESULTS:-}
[ -n "$OUT" ] || { [ "$FULL" = 0 ] || OUT=$HERE/RESULTS.md; }
for v in "$SECS" "$ROUNDS" "$THREADS" $CLIENTS_A "$CLIENTS_B" "$SLOTS" "$CLIENTS_C" "$CLIENTS_E" "$RSS_SECS"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "bench: '$v' is not a positive integer (check the BENCH_* variables)" >&2; exit 2; }
done
[ "$SLOTS" -le 64 ] || { echo "bench: BENCH_SLOTS must lie in 1..64" >&2; exit 2; }
ROUND_SECS=$(( (SECS + ROUNDS - 1) / ROUNDS ))
case $PROFILE_WANTED in release|debug) ;; *) echo "bench: BENCH_PROFILE is release or debug" >&2; exit 2 ;; esac

# The command as given, with the BENCH_* settings that were set.
CMD_LINE="bash bench/run.sh${*:+ $*}"
for v in $(compgen -e | grep '^BENCH_' | sort -r || true); do CMD_LINE="$v=$(printf %q "${!v}") $CMD_LINE"; done

say() { echo "bench: $*"; }
T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no -- src sql crates Cargo.toml Cargo.lock grse.control 2>/dev/null | wc -l)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/grse-bench.XXXXXX")
chmod 755 "$WORK"                 # the server tree and the cluster inside are read by `postgres`
CL="$WORK/cluster"
DB=grse_bench
MON_DB=grse_bench_monitor
SERVER_PG_CONFIG=$PG_CONFIG
cleanup() {
    PG_CONFIG=$SERVER_PG_CONFIG bash "$CLUSTER" stop "$CL" >/dev/null 2>&1 || true
    if [ "${KEEP:-0}" = 1 ]; then echo "bench: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- build ------------------------------------------------------------------------
# By default the release build is packaged (cargo pgrx package writes the
# files `cargo pgrx install` would install under target/<profile>/grse-pg15)
# and the server runs from a private copy of the PostgreSQL tree holding that
# package: PostgreSQL finds its library and extension directories relative to
# its own binary, so the copy loads this grse.so whatever is installed on the
# machine (and another install during the run cannot swap it).
PKGLIB=$("$PG_CONFIG" --pkglibdir)
SHAREDIR=$("$PG_CONFIG" --sharedir)
PG_MAJOR=$("$PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
PKG="$ROOT/target/$PROFILE_WANTED/grse-pg$PG_MAJOR"
case $BUILD in
    package)
        pkg_args=(--pg-config "$PG_CONFIG")
        if [ "$PROFILE_WANTED" = debug ]; then pkg_args+=(--debug); fi
        say "building the $PROFILE_WANTED package (cargo pgrx package ${pkg_args[*]})"
        (cd "$ROOT" && cargo pgrx package "${pkg_args[@]}")
        PROFILE="$PROFILE_WANTED (cargo pgrx package ${pkg_args[*]}, by this run; private server tree)" ;;
    prebuilt)
        [ -f "$PKG$PKGLIB/grse.so" ] || { echo "bench: no package in $PKG; run without --no-build" >&2; exit 1; }
        PROFILE="$PROFILE_WANTED (package built before the run, $(date -u -r "$PKG$PKGLIB/grse.so" '+%Y-%m-%d %H:%M UTC'); private server tree)" ;;
esac
if [ "$BUILD" = installed ]; then
    SO="$PKGLIB/grse.so"
    [ -f "$SO" ] || { echo "bench: grse is not installed ($SO missing); run without --installed" >&2; exit 1; }
    sum=$(md5sum <"$SO")
    if [ -f "$ROOT/target/release/libgrse.so" ] && [ "$(md5sum <"$ROOT/target/release/libgrse.so")" = "$sum" ]; then
        PROFILE="release (as installed: identical to target/release/libgrse.so)"; PROFILE_WANTED=release
    elif [ -f "$ROOT/target/debug/libgrse.so" ] && [ "$(md5sum <"$ROOT/target/debug/libgrse.so")" = "$sum" ]; then
        PROFILE="debug (as installed: identical to target/debug/libgrse.so)"; PROFILE_WANTED=debug
    elif command -v readelf >/dev/null && readelf -S "$SO" | grep -q '\.debug_info'; then
        PROFILE="debug (as installed: grse.so carries DWARF debug info)"; PROFILE_WANTED=debug
    else
        PROFILE="unknown, probably release (as installed: grse.so has no debug info)"; PROFILE_WANTED=unknown
    fi
else
    # the private tree: binaries copied (PostgreSQL resolves symlinks to find
    # itself), libraries linked, share copied, grse replaced by the package's
    T="$WORK/pg"
    mkdir -p "$T$PG_BIN" "$T$PKGLIB" "$T$SHAREDIR"
    cp -a "$PG_BIN/." "$T$PG_BIN/"
    for f in "$PKGLIB"/*; do [ "${f##*/}" = grse.so ] || ln -s "$f" "$T$PKGLIB/"; done
    cp -a "$SHAREDIR/." "$T$SHAREDIR/"
    rm -f "$T$SHAREDIR"/extension/grse.control "$T$SHAREDIR"/extension/grse--*.sql
    cp "$PKG$PKGLIB/grse.so" "$T$PKGLIB/grse.so"
    cp "$PKG$SHAREDIR"/extension/grse* "$T$SHAREDIR/extension/"
    SERVER_PG_CONFIG="$T$PG_BIN/pg_config"
    [ "$("$SERVER_PG_CONFIG" --pkglibdir)" = "$T$PKGLIB" ] \
        || { echo "bench: the private PostgreSQL tree does not relocate ($SERVER_PG_CONFIG)" >&2; exit 1; }
    SO="$T$PKGLIB/grse.so"
fi
IS_RELEASE=0; [ "$PROFILE_WANTED" = release ] && IS_RELEASE=1
say "grse build: $PROFILE"
SO_SUM_START=$(md5sum <"$SO")

# ---- cluster ------------------------------------------------------------------------
PG_CONFIG=$SERVER_PG_CONFIG bash "$CLUSTER" start "$CL" "$DB"
eval "$(bash "$CLUSTER" env "$CL")"
export PGDATABASE=$DB
LOG="$CL/log"

psql_q() { "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -qAt "$@"; }
one() { psql_q -d "${2:-$DB}" -c "$1"; }
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
                                                'checkpoint_timeout', 'wal_level', 'max_connections',
                                                'deadlock_timeout')
                                 ORDER BY name" | paste -sd ';' | sed 's/;/; /g')

CHECKS=()          # "ok|text" or "FAILED|text"
PROBLEMS=0
check() { if [ "$1" = ok ]; then CHECKS+=("ok|$2"); else CHECKS+=("FAILED|$2"); PROBLEMS=$((PROBLEMS + 1)); fi; }

# ---- fixtures -----------------------------------------------------------------------
MAIN_CASES=(cpu spend hot mixed metric admit memory)
need_main=0
for c in "${MAIN_CASES[@]}"; do want "$c" && need_main=1; done
if [ "$need_main" = 1 ]; then
    say "fixture: grse, ref, seed and floor with 105 regions each (database $DB)"
    psql_q -f "$HERE/fixtures/main.sql" >"$WORK/fixture-main.log"
fi
GRSE_VERSION=$(psql_q -d postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'grse'")
# Which grse.so does a backend load? (the private tree's, unless --installed)
if [ "$need_main" = 1 ]; then
    loaded=$(printf '%s\n' "SELECT grse.compute_region_pressure('$(printf '00000000-0000-4000-8000-%012d' 1)') IS NOT NULL AS loaded \\gset" \
                  "SELECT pg_backend_pid() AS pid \\gset" "\\setenv BENCH_PID :pid" \
                  "\\! grep -o '/[^ ]*grse\\.so' /proc/\$BENCH_PID/maps | sort -u" \
             | "$PG_BIN/psql" -X -qAt -v ON_ERROR_STOP=1 -d "$DB" 2>&1 || true)
    if [ "$loaded" = "$SO" ]; then check ok "the server's backends load $SO"
    else check bad "the server's backends load '$loaded', not $SO"; fi
fi
if want monitor; then
    say "fixture: 10,000 regions in grse and ref (database $MON_DB)"
    "$PG_BIN/createdb" "$MON_DB"
    t0=$(date +%s)
    psql_q -d "$MON_DB" -f "$HERE/fixtures/monitor.sql" >"$WORK/fixture-monitor.log"
    MON_FIXTURE_SECS=$(( $(date +%s) - t0 ))
    IFS='|' read -r M_REGIONS M_ACTIVE M_MODES M_CONFLICTS M_RECS M_RISK M_LEVEL M_STATE_MISS M_COMPUTE_MISS M_HEALTH_EQ M_RISK_EQ \
        < <(psql_q -d "$MON_DB" -f "$HERE/fixtures/monitor_check.sql")
    if [ "$M_STATE_MISS" = 0 ] && [ "$M_COMPUTE_MISS" = 0 ]; then
        check ok "ref's trigger and compute_region_pressure/capacity agree with grse on all $M_REGIONS regions of the monitor fixture"
    else
        check bad "ref disagrees with grse on the monitor fixture: $M_STATE_MISS state rows, $M_COMPUTE_MISS compute_* results differ"
    fi
    if [ "$M_HEALTH_EQ" = t ]; then check ok "ref.get_all_regions_health() = grse.get_all_regions_health() (same $M_ACTIVE rows, same order)"
    else check bad "ref.get_all_regions_health() differs from grse.get_all_regions_health()"; fi
    if [ "$M_RISK_EQ" = t ]; then check ok "ref.compute_global_risk() = grse.compute_global_risk() apart from timestamps ($M_CONFLICTS conflicts, $M_RECS recommendations)"
    else check bad "ref.compute_global_risk() differs from grse.compute_global_risk()"; fi
fi

# ---- runner -----------------------------------------------------------------------
# Per KEY (over its runs, when it runs in rounds): TPS and mean latency (ms)
# of the median run, transactions, failed transactions and deadlock failures
# (pgbench, --failures-detailed), deadlocks and FATALs in the server log
# during the runs, aborted pgbench clients, failures per script; RUNS the
# number of runs, TPSALL every run's TPS. LAST_NTX: the transactions of the
# last run (empty if it failed).
declare -A TPS LAT NTX FAIL PBDL LOGDL LOGFATAL ABORT BYSCRIPT CMDS RUNS TPSALL LATALL
RUN_ORDER=()
RUN_LOADS=()          # the 1-min load average at the start of every run
RUN_PGOPTIONS=""      # e.g. "-c synchronous_commit=off" for the CPU-bound runs
RUN_SECS=$SECS        # -T of the next runs (ROUND_SECS within rounds)
LAST_NTX=""
median() { tr ' ' '\n' | sort -g | awk '{a[NR] = $1} END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# run KEY CLIENTS DB PGBENCH-ARGS...: VACUUM ANALYZE + CHECKPOINT, then pgbench.
run() {
    local key=$1 c=$2 db=$3; shift 3
    local j=$(( c < THREADS ? c : THREADS ))
    local n=$(( ${RUNS[$key]:-0} + 1 ))
    local log="$WORK/pgbench-${key//\//_}.log" rc=0 off
    [ "$n" = 1 ] || log="${log%.log}-$n.log"
    psql_q -d "$db" -c "VACUUM ANALYZE" -c "CHECKPOINT"
    local args=(-n -M prepared --failures-detailed -c "$c" -j "$j" -T "$RUN_SECS" "$@" "$db")
    CMDS[$key]="pgbench ${args[*]}"
    [ -z "$RUN_PGOPTIONS" ] || CMDS[$key]="PGOPTIONS=\"$RUN_PGOPTIONS\" ${CMDS[$key]}"
    [ "$n" != 1 ] || RUN_ORDER+=("$key")
    RUNS[$key]=$n
    RUN_LOADS+=("$(cut -d' ' -f1 /proc/loadavg)")
    say "$key${RUN_ROUND:+ (round $n)}: ${CMDS[$key]}"
    off=$(stat -c %s "$LOG")
    (cd "$ROOT" && PGOPTIONS="$RUN_PGOPTIONS" timeout $((RUN_SECS + 600)) "$PG_BIN/pgbench" "${args[@]}") >"$log" 2>&1 || rc=$?
    local window dl fatal abort; window=$(tail -c +"$((off + 1))" "$LOG")
    dl=$(grep -c 'ERROR:  deadlock detected' <<<"$window" || true)
    fatal=$(grep -c 'FATAL:' <<<"$window" || true)
    abort=$(grep -cE '^pgbench: error: client [0-9]+ .*aborted' "$log" || true)
    LOGDL[$key]=$(( ${LOGDL[$key]:-0} + dl ))
    LOGFATAL[$key]=$(( ${LOGFATAL[$key]:-0} + fatal ))
    ABORT[$key]=$(( ${ABORT[$key]:-0} + abort ))
    LAST_NTX=""
    if grep -q '^tps = ' "$log"; then
        local tps lat ntx failed pbdl byscript
        tps=$(awk '/^tps = / {print $3}' "$log")
        lat=$(awk '/^latency average = / {print $4}' "$log")
        ntx=$(awk -F': ' '/^number of transactions actually processed/ {print $2}' "$log" | cut -d/ -f1)
        failed=$(awk '/^number of failed transactions/ {print $5}' "$log")
        pbdl=$(awk '/^number of deadlock failures/ {print $5}' "$log")
        byscript=$(awk '/^SQL script [0-9]+: / {s = $4; sub(/.*\//, "", s); sub(/\.sql$/, "", s)}
                        /^ - number of failed transactions: / && s != "" && $6 > 0 {printf "%s%s %d", sep, s, $6; sep = ", "}' "$log")
        TPSALL[$key]+="${TPSALL[$key]:+ }$tps"
        LATALL[$key]+="${LATALL[$key]:+ }$lat"
        TPS[$key]=$(median <<<"${TPSALL[$key]}")
        LAT[$key]=$(median <<<"${LATALL[$key]}")
        NTX[$key]=$(( ${NTX[$key]:-0} + ntx ))
        FAIL[$key]=$(( ${FAIL[$key]:-0} + ${failed:-0} ))
        PBDL[$key]=$(( ${PBDL[$key]:-0} + ${pbdl:-0} ))
        [ -z "$byscript" ] || BYSCRIPT[$key]+="${BYSCRIPT[$key]:+; }$byscript"
        LAST_NTX=$ntx
        say "    tps $tps, latency $lat ms, $ntx transactions, ${failed:-0} failed, $dl deadlocks in the server log"
    else
        check bad "$key: pgbench failed (exit $rc): $(grep -iE 'error|abort' "$log" | sed -E 's/client [0-9]+ /client N /' | sort | uniq -c | sort -rn | head -n 3 | tr -s ' \n' '  ' | cut -c1-400)"
        tail -n 5 "$log" | sed 's/^/bench:     /'
    fi
    if [ "$rc" != 0 ] || [ "$abort" != 0 ]; then
        [ -z "$LAST_NTX" ] || check bad "$key: pgbench exit $rc, $abort client(s) aborted ($(grep -m1 -E '^pgbench: error: client [0-9]+ .*aborted' "$log" | cut -c1-200)); the figures cover what ran"
        wait_ready
    fi
}
ledger_count() {   # spend rows in a system's ledger
    case $1 in
        grse|slots) one "SELECT count(*) FROM grse.region_budget_transactions WHERE transaction_type = 'spend'" ;;
        ref)     one "SELECT count(*) FROM ref.region_budget_transactions WHERE transaction_type = 'spend'" ;;
        seed)    one "SELECT count(*) FROM seed.region_budget_transactions WHERE transaction_type = 'spend'" ;;
        floor)   one "SELECT count(*) FROM floor.ledger WHERE transaction_type = 'spend'" ;;
        floorck) one "SELECT count(*) FROM floor.ledger_checked WHERE transaction_type = 'spend'" ;;
    esac
}
SPEND_OK=()
# spend_run KEY CLIENTS RMIN RMAX SYSTEM: one spend run, checked against the ledger.
spend_run() {
    local key=$1 c=$2 rmin=$3 rmax=$4 sys=$5 before after
    before=$(ledger_count "$sys")
    run "$key" "$c" "$DB" -D rmin="$rmin" -D rmax="$rmax" -f "bench/cases/a_spend_${sys/slots/grse}.sql"
    after=$(ledger_count "$sys")
    [ -n "$LAST_NTX" ] || return 0
    if [ $((after - before)) = "$LAST_NTX" ]; then
        [[ " ${SPEND_OK[*]} " == *" $key "* ]] || SPEND_OK+=("$key")
    else
        check bad "$key: $LAST_NTX spends run but $((after - before)) ledger rows written"
    fi
}
region() { printf '00000000-0000-4000-8000-%012d' "$1"; }
max_ledger_id() { one "SELECT COALESCE(max(id), 0) FROM grse.region_budget_transactions"; }
# slot_spends SINCE-ID RMIN RMAX: grse spends charged to budget slots since a ledger id
slot_spends() {
    one "SELECT count(*) FROM grse.region_budget_transactions
          WHERE id > $1 AND transaction_type = 'spend' AND slot_no > 0
            AND region_id BETWEEN '$(region "$2")' AND '$(region "$3")'"
}
violations() { one "SELECT count(*) FROM grse.verify_invariants()"; }
set_slots() {   # set_slots RMIN RMAX N|NULL
    local r
    for r in $(seq "$1" "$2"); do one "SELECT grse.set_budget_slots('$(region "$r")', $3)" >/dev/null; done
}
declare -A SLOTSPENT VIOL

# ---- cases ------------------------------------------------------------------------
# rounds CMD...: CMD (which runs every system once) ROUNDS times, each run ROUND_SECS long
RUN_ROUND=""
rounds() {
    local r
    RUN_SECS=$ROUND_SECS RUN_ROUND=1
    for r in $(seq 1 "$ROUNDS"); do "$@"; done
    RUN_SECS=$SECS RUN_ROUND=""
}
CPU_SYSTEMS=(grse seed floor floorck ref)
cpu_round() { local sys; for sys in "${CPU_SYSTEMS[@]}"; do spend_run "cpu/$sys/1" 1 1 100 "$sys"; done; }
case_cpu() {
    # one client, commits not waiting for the WAL flush: the CPU of one call
    RUN_PGOPTIONS="-c synchronous_commit=off"
    rounds cpu_round
    if [ "$PERF" = 1 ]; then
        # an extra grse run with the profiler attached (its figures are not compared)
        perf_sample &
        spend_run "cpu/grse-perf/1" 1 1 100 grse
        wait
    fi
    RUN_PGOPTIONS=""
}

SPEND_SYSTEMS=(grse seed floor ref)
spend_round() { local sys; for sys in "${SPEND_SYSTEMS[@]}"; do spend_run "spend/$sys/$1" "$1" 1 100 "$sys"; done; }
case_spend() {
    local c
    for c in $CLIENTS_A; do rounds spend_round "$c"; done
}

HOT=101
case_hot() {
    local sys c=$CLIENTS_B mark key
    set_slots $HOT $HOT NULL
    for sys in seed floor ref grse slots; do
        key="hot/$sys/$c"
        [ "$sys" = slots ] && set_slots $HOT $HOT "$SLOTS"
        mark=$(max_ledger_id)
        spend_run "$key" "$c" $HOT $HOT "$sys"
        if [ "$sys" = grse ] || [ "$sys" = slots ]; then
            SLOTSPENT[$key]=$(slot_spends "$mark" $HOT $HOT)
            VIOL[$key]=$(violations)
            if [ "${VIOL[$key]}" = 0 ]; then
                check ok "$key: grse.verify_invariants() empty after the run (no overspend, ledger exact per account); ${SLOTSPENT[$key]} spends charged to budget slots"
            else
                check bad "$key: ${VIOL[$key]} invariant violations after the run"
            fi
        fi
    done
    set_slots $HOT $HOT NULL
}

MIX_LO=102
MIX_HI=105
MIX=(m_spend@50 m_admit@15 m_spend_refund@15 m_complete@12 m_refund@10 m_spend_metric@8 m_metric@4 m_set_budget@3 m_reset@1)
MIX_VARIANTS=(none default fixed)
declare -A MIX_SLOTS_IN_FORCE
MIX_FILES=()
for m in "${MIX[@]}"; do MIX_FILES+=(-f "bench/cases/${m%@*}.sql@${m#*@}"); done
# mixed_run VARIANT: one run of the mix with the hot regions' slots as VARIANT wants
mixed_run() {
    local v=$1 key="mixed/$1/$CLIENTS_B" mark
    case $v in
        none) set_slots $MIX_LO $MIX_HI 1 ;;
        default) set_slots $MIX_LO $MIX_HI NULL ;;
        fixed) set_slots $MIX_LO $MIX_HI "$SLOTS" ;;
    esac
    mark=$(max_ledger_id)
    run "$key" "$CLIENTS_B" "$DB" -D rmin=$MIX_LO -D rmax=$MIX_HI "${MIX_FILES[@]}"
    SLOTSPENT[$key]=$(( ${SLOTSPENT[$key]:-0} + $(slot_spends "$mark" $MIX_LO $MIX_HI) ))
    MIX_SLOTS_IN_FORCE[$key]=$(one "SELECT string_agg(DISTINCT COALESCE(s.budget_slots::text,
                                               CASE WHEN s.auto_slots_until > now() THEN 'NULL → automatic ' || p.auto_budget_slots
                                                    WHEN s.auto_slots_off_until > now() THEN 'NULL → ' || p.default_budget_slots || ' (automatic resting)'
                                                    ELSE 'NULL → ' || p.default_budget_slots END), ', ')
                                      FROM grse.region_scaling_state s, grse.policy p
                                     WHERE s.region_id BETWEEN '$(region $MIX_LO)' AND '$(region $MIX_HI)'" 2>/dev/null || echo '?')
}
# the variants in turn, each round starting one further (the tables grow as the mix runs:
# no variant always runs on the largest)
MIX_ROUND=0
mixed_round() {
    local i n=${#MIX_VARIANTS[@]}
    for i in $(seq 0 $((n - 1))); do mixed_run "${MIX_VARIANTS[$(( (i + MIX_ROUND) % n ))]}"; done
    MIX_ROUND=$((MIX_ROUND + 1))
}
case_mixed() {
    local v key
    rounds mixed_round
    for v in "${MIX_VARIANTS[@]}"; do
        key="mixed/$v/$CLIENTS_B"
        VIOL[$key]=$(violations)
        if [ "${VIOL[$key]}" = 0 ]; then
            check ok "$key: grse.verify_invariants() empty after the runs; ${SLOTSPENT[$key]} spends charged to budget slots"
        else
            check bad "$key: ${VIOL[$key]} invariant violations after the runs"
        fi
        if [ "${FAIL[$key]:-0}" != 0 ] || [ "${LOGDL[$key]:-0}" != 0 ]; then
            check bad "$key: ${FAIL[$key]:-0} failed transactions (${PBDL[$key]:-0} deadlock failures: ${BYSCRIPT[$key]:-}), ${LOGDL[$key]:-0} deadlocks in the server log"
        fi
    done
    set_slots $MIX_LO $MIX_HI NULL
}

METRIC_SYSTEMS=(grse ref floorck floor)
declare -A TRANS
transitions() {
    case $1 in
        grse) one "SELECT count(*) FROM grse.region_mode_transitions" ;;
        ref)  one "SELECT count(*) FROM ref.region_mode_transitions" ;;
        *)    echo 0 ;;
    esac
}
# metric: pressures up to 90 (modes change now and then), steady: up to 40 (no
# mode changes), batch: every row in one statement; for metric also grse with
# grse.notify_mode_changes off (transitions recorded, not announced)
metric_pmax() { if [ "$1" = steady ]; then echo 40; else echo 90; fi; }
# metric_run KEY CLIENTS FORM SCRIPT SYS: one run, with the transitions it recorded
metric_run() {
    local before
    before=$(transitions "$5")
    run "$1" "$2" "$DB" -D pmax="$(metric_pmax "$3")" -f "bench/cases/$4.sql"
    TRANS[$1]=$(( ${TRANS[$1]:-0} + $(transitions "$5") - before ))
}
case_metric() {
    local form sys c script
    for form in metric steady batch; do
        if [ "$form" = batch ]; then c=1; script=c_batch; else c=$CLIENTS_C; script=c_metric; fi
        if [ "$form" = steady ]; then
            # every region's modes settled at low pressure first: the steady writes then change none
            for sys in grse ref; do
                one "UPDATE $sys.region_scaling_state SET posting_pressure = 20, orchestration_pressure = 20,
                            creative_pressure = 20, intel_pressure = 20" >/dev/null
            done
        fi
        rounds metric_round "$form" "$c" "$script"
    done
}
metric_round() {   # metric_round FORM CLIENTS SCRIPT
    local sys
    for sys in "${METRIC_SYSTEMS[@]}"; do
        metric_run "$1/$sys/$2" "$2" "$1" "${3}_$sys" "$sys"
    done
    if [ "$1" = metric ]; then
        RUN_PGOPTIONS="-c grse.notify_mode_changes=off"
        metric_run "$1/quiet/$2" "$2" "$1" "${3}_grse" grse
        RUN_PGOPTIONS=""
    fi
}

case_admit() {
    # every region back to normal with an empty manual queue, so every
    # admission succeeds and the queue total grows by the admissions
    one "UPDATE grse.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0,
                creative_pressure = 0, intel_pressure = 0, jobs_in_queue = 0" >/dev/null
    one "UPDATE ref.region_scaling_state SET posting_pressure = 0, orchestration_pressure = 0,
                creative_pressure = 0, intel_pressure = 0, jobs_in_queue = 0" >/dev/null
    rounds admit_round
}
admit_round() {
    local sys key before queued
    for sys in grse ref; do
        key="admit/$sys/$CLIENTS_E"
        before=$(one "SELECT sum(jobs_in_queue) FROM $sys.region_scaling_state")
        run "$key" "$CLIENTS_E" "$DB" -f "bench/cases/e_admit_$sys.sql"
        queued=$(( $(one "SELECT sum(jobs_in_queue) FROM $sys.region_scaling_state") - before ))
        [ -n "$LAST_NTX" ] || continue
        if [ "$queued" = "$LAST_NTX" ]; then
            check ok "$key (run ${RUNS[$key]}): all $LAST_NTX admissions admitted and queued (Σ jobs_in_queue grew by the transactions)"
        else
            check bad "$key (run ${RUNS[$key]}): $LAST_NTX admissions run but Σ jobs_in_queue grew by $queued"
        fi
    done
}

monitor_round() { local sys; for sys in grse ref; do run "$1/$sys/1" 1 "$MON_DB" -f "bench/cases/d_${1}_$sys.sql"; done; }
case_monitor() {
    local fn
    for fn in health risk; do rounds monitor_round "$fn"; done
}

# memory: one pgbench client spends for RSS_SECS (asynchronous commit, so the
# loop is CPU-bound); a sampler reads VmRSS and RssAnon of its backend from
# /proc/PID/status every tenth of the run.
backend_pid() {   # the pid of the (one) pgbench client backend, connected for 1 s at least (not
                  # pgbench's first, short connection), waiting up to 10 min for it
    local pid _
    for _ in $(seq 1 1200); do
        pid=$(one "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench' AND backend_type = 'client backend'
                    AND pid <> pg_backend_pid() AND backend_start < now() - interval '1 second' LIMIT 1" postgres 2>/dev/null || true)
        [ -n "$pid" ] && { echo "$pid"; return 0; }
        sleep 0.5
    done
    return 1
}
rss_sampler() {   # rss_sampler FILE: "seconds VmRSS RssAnon" lines until the backend exits
    local f=$1 pid t0 step st
    pid=$(backend_pid) || return 0
    t0=$(date +%s.%N)
    step=$(awk -v s="$RSS_SECS" 'BEGIN { x = s / 10; if (x < 1) x = 1; print x }')
    while st=$(grep -E '^(VmRSS|RssAnon):' "/proc/$pid/status" 2>/dev/null); do
        awk -v t0="$t0" -v now="$(date +%s.%N)" '{ v[$1] = $2 } END { printf "%.0f %d %d\n", now - t0, v["VmRSS:"], v["RssAnon:"] }' <<<"$st" >>"$f"
        sleep "$step"
    done
}
case_memory() {
    local sys
    RUN_SECS=$RSS_SECS
    RUN_PGOPTIONS="-c synchronous_commit=off"
    for sys in grse seed; do
        rss_sampler "$WORK/rss-$sys" &
        spend_run "memory/$sys/1" 1 1 100 "$sys"
        wait
    done
    RUN_PGOPTIONS=""
    RUN_SECS=$SECS
}

# perf: a profile (call graphs) of the grse backend for half of the cpu run.
perf_sample() {
    local pid
    command -v perf >/dev/null || { echo "bench: --perf: perf is not installed (Debian: linux-perf)" >&2; return 0; }
    pid=$(backend_pid) || return 0
    sleep 1
    perf record -q -g -p "$pid" -o "$WORK/perf-grse.data" -- sleep $(( SECS / 2 > 1 ? SECS / 2 : 1 )) >/dev/null 2>&1 || true
    { echo "children    self  command   object      symbol (unresolved static functions of postgres left out)"
      perf report -q -i "$WORK/perf-grse.data" --children --stdio --no-call-graph --percent-limit 2 2>/dev/null \
        | grep -v '^$' | grep -vE '\] 0x[0-9a-f]+ *$' | head -n 45; } >"$WORK/perf-grse.txt" || true
}

for c in "${CASES[@]}"; do
    say "---- case $c"
    "case_$c"
done
[ ${#SPEND_OK[@]} -eq 0 ] || check ok "every spend of ${#SPEND_OK[@]} spend runs charged: ledger rows written = transactions pgbench counted (budgets never ran dry)"

T_END=$(date +%s)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# Did anything crash, or was grse.so replaced under the running server?
crashes=$(grep -E 'terminated by signal|was terminated by exception' "$LOG" || true)
if [ -z "$crashes" ]; then
    check ok "server log: no server process crashed"
else
    check bad "server log: $(grep -c . <<<"$crashes") server process crash(es), e.g. $(head -n 1 <<<"$crashes" | cut -c1-200)"
fi
fatals=$(grep -E 'FATAL:' "$LOG" | grep -v 'database "grse_bench" does not exist' || true)
if [ -z "$fatals" ]; then
    check ok "server log: no FATAL error"
else
    check bad "server log: $(grep -c . <<<"$fatals") FATAL error(s), e.g. $(sed -E 's/^[^]]*\] *//' <<<"$fatals" | sort | uniq -c | sort -rn | head -n 2 | tr -s ' ' | tr '\n' ';')"
fi
if [ "$(md5sum <"$SO")" = "$SO_SUM_START" ]; then
    check ok "grse.so unchanged during the run"
else
    check bad "grse.so was replaced during the run (another install on this machine?): later figures are of another build"
fi
cp "$LOG" "$WORK/server.log" 2>/dev/null || true

# ---- report --------------------------------------------------------------------------------
f2() { awk -v x="$1" 'BEGIN { if (x == "") print "—"; else printf "%.2f", x }'; }
f0() { awk -v x="$1" 'BEGIN { if (x == "") print "—"; else printf "%.0f", x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "—"; else printf "%.2f", a / b }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 >= b + 0) }'; }
mul() { awk -v a="$1" -v k="$2" 'BEGIN { if (a == "") print ""; else print a * k }'; }
verdict() { if "$@"; then echo "**met**"; else echo "**not met**"; fi; }
tp() { f0 "${TPS[$1]:-}"; }
lt() { f2 "${LAT[$1]:-}"; }
tpr() { ratio "${TPS[$1]:-}" "${TPS[$2]:-}"; }
ran() { [ -n "${TPS[$1]:-}" ]; }
usec() { awk -v x="${LAT[$1]:-}" 'BEGIN { if (x == "") print "—"; else printf "%.0f", x * 1000 }'; }
declare -A NAME=([grse]="grse" [seed]="seed-style PL/pgSQL" [ref]="ref (PL/pgSQL with grse's CHECKs and triggers)"
                 [floor]="floor (one statement, plain tables)" [floorck]="floor with grse's constraints"
                 [slots]="grse, $SLOTS fixed budget slots")
LOADS=$(for l in "${RUN_LOADS[@]}"; do echo "$l"; done | sort -n | awk '{a[NR] = $1} END { if (NR) printf "%s – %s (median %s)", a[1], a[NR], a[int((NR + 1) / 2)] }')
TARGETS=()     # "target|measured|verdict"
target() { TARGETS+=("$1|$2|$3"); }

R="$WORK/RESULTS.md"
{
if [ "$IS_RELEASE" = 1 ]; then
    echo "# grse benchmark results"
else
    echo "# grse benchmark — validation run of a $PROFILE_WANTED build — not the release figures"
    echo
    echo "> This report comes from a run against a build that is not the release build (profile below)."
    echo "> It shows that the harness works end to end; its numbers say nothing about grse's release"
    echo "> performance. The release figures come from \`bash bench/run.sh\`."
fi
[ "$SECS" -ge 20 ] || { echo; echo "> Short run: ${SECS} s per pgbench run instead of the default 20 s."; }
[ "$FULL" = 1 ] || { echo; echo "> Only the cases ${CASES[*]} ran."; }
[ -z "${BENCH_NOTE:-}" ] || { echo; echo "> $BENCH_NOTE"; }
cat <<EOF

| | |
|---|---|
| date | $(date -u '+%Y-%m-%d %H:%M:%S UTC') |
| machine | $(nproc) CPUs ($(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) memory, Linux $(uname -r) |
| load average (1 min) | before the run $LOAD_START (1/5/15 min); at the start of each pgbench run $LOADS; after $LOAD_END |
| PostgreSQL | $PG_VERSION |
| server settings | $SETTINGS (throw-away cluster from scripts/cluster.sh; fsync on) |
| grse | extension version $GRSE_VERSION, commit $COMMIT$([ "$DIRTY" = 0 ] || echo " with uncommitted changes in src/, sql/ or crates/") |
| build profile | $PROFILE |
| command | \`$CMD_LINE\` |
| pgbench | \`-n -M prepared --failures-detailed -T $SECS -j min($THREADS, clients)\`; VACUUM ANALYZE and CHECKPOINT before every run; cpu, spend, mixed (its variants in turn), metric, admit and monitor in $ROUNDS rounds of \`-T $ROUND_SECS\` (every system once per round, in turn), each figure the median run's |
| wall time | $(( (T_END - T_START) / 60 )) min $(( (T_END - T_START) % 60 )) s |

A load average above $(nproc) means other work shared the CPUs during the run: absolute figures are then
lower and noisier than on an idle machine, and only the ratios within this run compare.

Systems: **grse** (the extension); **seed** (the seed-style PL/pgSQL a team would write: the seed's plain
tables with keys only, \`SELECT remaining ... FOR UPDATE\`, \`UPDATE\`, ledger \`INSERT\`;
\`bench/reference/seed.sql\`); **ref** (the PL/pgSQL original doing grse's work: grse's CHECKs, PL/pgSQL derive
and transition triggers; \`bench/reference/reference.sql\`); **floor** (the bare statements — a spend is one
\`UPDATE ... RETURNING\` + \`INSERT\` — on plain copies of grse's tables: no CHECK, no foreign key, no trigger);
**floor+checks** (the same statements on copies that keep grse's CHECKs and foreign keys, no trigger;
\`bench/floor.sql\`). TPS = transactions per second; ms = pgbench's mean latency. Ratios are of TPS.
EOF

if want cpu; then
    cat <<EOF

## Spend, CPU per call (1 client, \`synchronous_commit = off\`)

One spend of 1..500 cents on a random region of 100 per transaction; the commit does not wait for the WAL
flush, so the time per call is CPU (function call, statements, constraints, triggers, commit).

| system | TPS | µs per call | grse / system |
|---|---:|---:|---:|
EOF
    for sys in "${CPU_SYSTEMS[@]}"; do
        echo "| ${NAME[$sys]} | $(tp "cpu/$sys/1") | $(usec "cpu/$sys/1") | $(tpr cpu/grse/1 "cpu/$sys/1") |"
    done
    target "Spend, CPU per call (1 client, async commit): ≥ 1.0× seed" \
        "grse $(tp cpu/grse/1) vs seed $(tp cpu/seed/1) TPS ($(tpr cpu/grse/1 cpu/seed/1)×; $(usec cpu/grse/1) vs $(usec cpu/seed/1) µs per call)" \
        "$(verdict ge "${TPS[cpu/grse/1]:-}" "${TPS[cpu/seed/1]:-}")"
    if [ -s "$WORK/perf-grse.txt" ]; then
        cat <<EOF

Profile of the grse backend in an extra run of this case (\`cpu/grse-perf/1\`, not compared: \`perf record -g -p <backend pid>\` for $(( SECS / 2 > 1 ? SECS / 2 : 1 )) s,
\`perf report --children\`, entries of at least 2 %: share of the backend's samples in the function and its callees):

\`\`\`
$(cat "$WORK/perf-grse.txt")
\`\`\`
EOF
    fi
fi

if want spend; then
    cat <<EOF

## Spend, 100 regions, durable commits

\`check_and_decrement_budget\` (grse, seed, ref) vs the one-statement spend (floor), uniform random region of
100, fsync on: a single-row transaction's time is mostly its commit (the WAL flush).

| clients | grse TPS | grse ms | seed TPS | seed ms | floor TPS | floor ms | ref TPS | ref ms | grse/seed | grse/floor | grse/ref |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
    for c in $CLIENTS_A; do
        echo "| $c | $(tp spend/grse/"$c") | $(lt spend/grse/"$c") | $(tp spend/seed/"$c") | $(lt spend/seed/"$c") | $(tp spend/floor/"$c") | $(lt spend/floor/"$c") | $(tp spend/ref/"$c") | $(lt spend/ref/"$c") | $(tpr spend/grse/"$c" spend/seed/"$c") | $(tpr spend/grse/"$c" spend/floor/"$c") | $(tpr spend/grse/"$c" spend/ref/"$c") |"
        g=${TPS[spend/grse/$c]:-}
        target "Spend, 100 regions, $c client(s), durable: ≥ 1.0× seed" \
            "grse $(f0 "$g") vs seed $(tp spend/seed/"$c") TPS ($(tpr spend/grse/"$c" spend/seed/"$c")×)" \
            "$(verdict ge "$g" "${TPS[spend/seed/$c]:-}")"
        target "Spend, 100 regions, $c client(s), durable: ≥ 0.8× floor" \
            "grse $(f0 "$g") vs floor $(tp spend/floor/"$c") TPS ($(tpr spend/grse/"$c" spend/floor/"$c")×)" \
            "$(verdict ge "$g" "$(mul "${TPS[spend/floor/$c]:-}" 0.8)")"
    done
fi

if want hot; then
    c=$CLIENTS_B
    cat <<EOF

## Spend, one hot region, $c clients

Every spend on region $HOT. seed, floor and ref have one budget row, so every spender waits for its lock.
grse runs twice: with the default policy (the region's \`budget_slots\` NULL, as \`grse.set_budget_slots(region,
NULL)\` leaves it: whatever the policy gives a hot region), then with \`grse.set_budget_slots(region, $SLOTS)\`.
"slot spends" = spends of the run charged to a budget slot (ledger \`slot_no\` > 0).

| system | TPS | ms | × seed | failed | deadlocks (server log) | slot spends | invariant violations after |
|---|---:|---:|---:|---:|---:|---:|---:|
EOF
    for sys in seed floor ref grse slots; do
        k="hot/$sys/$c"
        label=${NAME[$sys]}; [ "$sys" = grse ] && label="grse, default policy"
        echo "| $label | $(tp "$k") | $(lt "$k") | $(tpr "$k" "hot/seed/$c") | ${FAIL[$k]:-—} | ${LOGDL[$k]:-—} | ${SLOTSPENT[$k]:-—} | ${VIOL[$k]:-—} |"
    done
    for sys in grse slots; do
        k="hot/$sys/$c"
        ok4() { ge "${TPS[$k]:-}" "$(mul "${TPS[hot/seed/$c]:-}" 4)" && [ "${VIOL[$k]:-x}" = 0 ] && [ "${LOGDL[$k]:-x}" = 0 ] && [ "${FAIL[$k]:-x}" = 0 ]; }
        what="default policy"; [ "$sys" = slots ] && what="$SLOTS fixed slots (set_budget_slots)"
        target "Hot region, $c clients, $what: ≥ 4× the single-row seed, zero overspend, zero deadlocks" \
            "grse $(tp "$k") vs seed $(tp "hot/seed/$c") TPS ($(tpr "$k" "hot/seed/$c")×); ${VIOL[$k]:-—} invariant violations, ${LOGDL[$k]:-—} deadlocks; ${SLOTSPENT[$k]:-—} slot spends" \
            "$(if [ "$sys" = grse ] && [ "${SLOTSPENT[$k]:-0}" = 0 ] && ran "$k"; then echo "**not met** (the default policy gave the region no slots)"; else verdict ok4; fi)"
    done
fi

if want mixed; then
    c=$CLIENTS_B
    mixlist=$(for m in "${MIX[@]}"; do printf '%s %s %%, ' "${m%@*}" "${m#*@}"; done | sed 's/, $//')
    cat <<EOF

## Mixed workload on hot regions, $c clients

Four hot regions ($MIX_LO..$MIX_HI), pgbench's weighted scripts (\`bench/cases/m_*.sql\`):

$mixlist

— spends, \`admit_job\` (a job record), a spend and a refund of half of it in one transaction, a job completion
(\`finish_job\` of the region's oldest queued job, taken with \`FOR UPDATE SKIP LOCKED\`), refunds (a refund
above the new period's spend right after a monthly reset is refused as an answer, not an error:
\`bench.refund\` in \`fixtures/main.sql\`), a spend and a metric write in one transaction, metric writes,
\`set_monthly_budget\`, \`reset_monthly_budgets()\`. Three runs: without slots (\`set_budget_slots(r, 1)\`), with
the default policy (\`set_budget_slots(r, NULL)\`), with \`set_budget_slots(r, $SLOTS)\`. Failed = transactions
pgbench counted as failed (\`--failures-detailed\`; no retries); deadlocks = \`deadlock detected\` errors in the
server log during the run; FATAL = backends the server ended during the run.

| slots | budget_slots (policy) | TPS | ms | × without | failed | of which deadlocks | deadlocks (server log) | FATAL | aborted clients | slot spends | failed by script |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
EOF
    for v in "${MIX_VARIANTS[@]}"; do
        k="mixed/$v/$c"
        case $v in none) label="without";; default) label="default policy";; fixed) label="$SLOTS fixed";; esac
        echo "| $label | ${MIX_SLOTS_IN_FORCE[$k]:-—} | $(tp "$k") | $(lt "$k") | $(tpr "$k" "mixed/none/$c") | ${FAIL[$k]:-—} | ${PBDL[$k]:-—} | ${LOGDL[$k]:-—} | ${LOGFATAL[$k]:-—} | ${ABORT[$k]:-—} | ${SLOTSPENT[$k]:-—} | ${BYSCRIPT[$k]:-} |"
    done
    for v in default fixed; do
        k="mixed/$v/$c"
        okm() { ge "${TPS[$k]:-}" "${TPS[mixed/none/$c]:-}" && [ "${FAIL[$k]:-x}" = 0 ] && [ "${ABORT[$k]:-x}" = 0 ]; }
        what="automatic slots (default policy)"; [ "$v" = fixed ] && what="$SLOTS fixed slots"
        target "Mixed workload, $what: ≥ 1.0× without slots, 0 failed transactions" \
            "$(tp "$k") vs $(tp "mixed/none/$c") TPS ($(tpr "$k" "mixed/none/$c")×); ${FAIL[$k]:-—} failed (${PBDL[$k]:-—} deadlocks), ${ABORT[$k]:-—} aborted clients; ${SLOTSPENT[$k]:-—} slot spends" \
            "$(if [ "$v" = default ] && [ "${SLOTSPENT[$k]:-0}" = 0 ] && ran "$k"; then echo "**not met** (the default policy gave the regions no slots)"; else verdict okm; fi)"
    done
fi

if want metric; then
    cat <<EOF

## Metric write: through the triggers vs the untriggered UPDATE

\`UPDATE ... SET <four pressures> WHERE region_id = ...\` on a random region of 100, $CLIENTS_C clients: single
row, pressures random in 0..90 (overall pressure crosses the mode thresholds: about a quarter of the writes
change a mode); steady, pressures in 0..40 (no mode changes); batch: the 0..90 write to all 105 rows in one
statement, 1 client (the per-row cost without a commit per row). grse's Rust triggers and ref's PL/pgSQL
triggers derive the scores and mode and record each mode change ("transitions") with a notification;
"single row, grse notifications off" is grse with \`grse.notify_mode_changes = off\` (transitions recorded, not
announced). floor+checks is grse's table (CHECKs, foreign key) without triggers, floor a plain copy.
Overhead = untriggered TPS / grse TPS − 1.

| form | clients | grse TPS | ref TPS | floor+checks TPS | floor TPS | grse/ref | overhead over floor+checks | overhead over floor | transitions grse / ref |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
    over() { awk -v f="${TPS[$1]:-}" -v g="${TPS[$2]:-}" 'BEGIN { if (f == "" || g == "" || g + 0 == 0) print "—"; else printf "%+.1f%%", (f / g - 1) * 100 }'; }
    for form in metric quiet steady batch; do
        case $form in
            metric) c=$CLIENTS_C; label="single row"; g=metric/grse/$c ;;
            quiet)  c=$CLIENTS_C; label="single row, grse notifications off"; g=metric/quiet/$c ;;
            steady) c=$CLIENTS_C; label="steady (no mode changes)"; g=steady/grse/$c ;;
            batch)  c=1; label="batch of 105 rows"; g=batch/grse/$c ;;
        esac
        f=${form/quiet/metric}
        echo "| $label | $c | $(tp "$g") | $(tp "$f/ref/$c") | $(tp "$f/floorck/$c") | $(tp "$f/floor/$c") | $(tpr "$g" "$f/ref/$c") | $(over "$f/floorck/$c" "$g") | $(over "$f/floor/$c" "$g") | ${TRANS[$g]:-—} / ${TRANS[$f/ref/$c]:-—} |"
    done
    c=$CLIENTS_C
    for form in metric quiet steady; do
        case $form in
            metric) g=metric/grse/$c; f=metric; label="" ;;
            quiet)  g=metric/quiet/$c; f=metric; label=" (grse.notify_mode_changes = off; the default notifies)" ;;
            steady) g=steady/grse/$c; f=steady; label=" (steady writes: no mode changes)" ;;
        esac
        over_ok() { awk -v f="${TPS[$f/floorck/$c]:-}" -v g="${TPS[$g]:-}" 'BEGIN { exit !(f != "" && g != "" && g + 0 > 0 && f / g - 1 <= 0.15) }'; }
        target "Metric write through the triggers: overhead ≤ 15 % over the same UPDATE untriggered$label" \
            "$(over "$f/floorck/$c" "$g") (grse $(tp "$g") vs $(tp "$f/floorck/$c") TPS on grse's table without triggers, $c clients; $(over "$f/floor/$c" "$g") over a plain copy; ${TRANS[$g]:-—} transitions)" \
            "$(verdict over_ok)"
    done
fi

if want admit; then
    k="admit/grse/$CLIENTS_E"; r="admit/ref/$CLIENTS_E"
    cat <<EOF

## Admission, $CLIENTS_E clients, 100 regions (all normal)

\`admit_job\` for a posting job on a random region of 100 for one of 100,000 tenants: mode, budget check,
priority, wait, shard key, queue + 1 (grse also writes a job record); ref is the PL/pgSQL \`admit_job\`.

| clients | grse TPS | grse ms | ref TPS | ref ms | grse/ref |
|---:|---:|---:|---:|---:|---:|
| $CLIENTS_E | $(tp "$k") | $(lt "$k") | $(tp "$r") | $(lt "$r") | $(tpr "$k" "$r") |
EOF
    target "admit_job: ≥ 1.0× its PL/pgSQL reference" "grse $(tp "$k") vs ref $(tp "$r") TPS ($(tpr "$k" "$r")×)" \
        "$(verdict ge "${TPS[$k]:-}" "${TPS[$r]:-}")"
fi

if want monitor; then
    cat <<EOF

## Health and global risk over 10,000 regions, 1 client

Fixture (\`bench/fixtures/monitor.sql\`, built in ${MON_FIXTURE_SECS} s): $M_REGIONS regions, $M_ACTIVE active;
modes $M_MODES; $M_CONFLICTS conflicts, $M_RECS recommendations, overall risk $M_RISK ($M_LEVEL).
ref returns exactly grse's rows and JSON (checked below).

| function | grse mean ms | ref mean ms | grse runs | ref runs | ref ms / grse ms |
|---|---:|---:|---:|---:|---:|
| get_all_regions_health() | $(lt health/grse/1) | $(lt health/ref/1) | ${NTX[health/grse/1]:-—} | ${NTX[health/ref/1]:-—} | $(ratio "${LAT[health/ref/1]:-}" "${LAT[health/grse/1]:-}") |
| compute_global_risk() | $(lt risk/grse/1) | $(lt risk/ref/1) | ${NTX[risk/grse/1]:-—} | ${NTX[risk/ref/1]:-—} | $(ratio "${LAT[risk/ref/1]:-}" "${LAT[risk/grse/1]:-}") |
EOF
    gl=${LAT[risk/grse/1]:-}; rl=${LAT[risk/ref/1]:-}
    target "compute_global_risk over 10,000 regions: ≥ 2× faster than ref" \
        "grse $(f2 "$gl") ms vs ref $(f2 "$rl") ms ($(ratio "$rl" "$gl")×)" "$(verdict ge "$(mul "$rl" 0.5)" "$gl")"
    for fn in health risk; do
        gl=${LAT[$fn/grse/1]:-}
        name=$([ $fn = health ] && echo "get_all_regions_health()" || echo "compute_global_risk()")
        target "$name over 10,000 regions: < 50 ms" "grse $(f2 "$gl") ms" \
            "$(verdict awk -v x="$gl" 'BEGIN { exit !(x != "" && x + 0 < 50) }')"
    done
fi

if want memory; then
    cat <<EOF

## Backend memory over a spend run

One pgbench client spends on random regions of 100 for $RSS_SECS s (asynchronous commit, so the loop is
CPU-bound: $(tp memory/grse/1) spends/s for grse, $(tp memory/seed/1) for seed); a sampler reads VmRSS and RssAnon
of its backend from \`/proc/PID/status\` (kB) every tenth of the run. VmRSS includes the shared buffers the
backend has touched; RssAnon is its private memory, where a leak would show. seed is the yardstick.

| seconds | grse VmRSS | grse RssAnon | seed VmRSS | seed RssAnon |
|---:|---:|---:|---:|---:|
EOF
    paste -d' ' "$WORK/rss-grse" "$WORK/rss-seed" 2>/dev/null \
        | awk '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, ($5 == "" ? "—" : $5), ($6 == "" ? "—" : $6) }' || true
    # growth of RssAnon from the second sample (after the warm-up) to the last
    growth() { awk 'NR == 2 { w = $3 } { l = $3 } END { if (NR < 2) print ""; else print l - w }' "$WORK/rss-$1" 2>/dev/null; }
    gg=$(growth grse); sg=$(growth seed)
    echo
    echo "RssAnon growth after the warm-up (second sample to last): grse ${gg:-—} kB, seed ${sg:-—} kB."
    flat() { [ -n "$gg" ] && [ "$gg" -le 512 ]; }
    if [ "$RSS_SECS" -ge 300 ]; then v=$(verdict flat); else v="not judged (a ${RSS_SECS}-s run; the target's 5-minute run is \`bash bench/run.sh --long memory\`)"; fi
    target "Memory: backend RSS flat over a 5-minute spend run (RssAnon growth after the warm-up ≤ 512 kB)" \
        "grse RssAnon +${gg:-—} kB over ${RSS_SECS} s (seed +${sg:-—} kB)" "$v"
fi

cat <<EOF

## Targets (issue 10)

Each ratio is of two systems measured in this run.

| target | measured | verdict |
|---|---|---|
EOF
for t in "${TARGETS[@]}"; do
    IFS='|' read -r a b cc <<<"$t"
    echo "| $a | $b | $cc |"
done

cat <<EOF

## Checks

EOF
for x in "${CHECKS[@]}"; do echo "- ${x%%|*}: ${x#*|}"; done
cat <<EOF

## Commands

Fixtures: \`bench/fixtures/main.sql\` (database $DB) and \`bench/fixtures/monitor.sql\` (database $MON_DB),
checked with \`bench/fixtures/monitor_check.sql\`. Slots are set with \`grse.set_budget_slots\` before the hot
and mixed runs as described above. pgbench runs, in order, from the repository root:

\`\`\`
EOF
for key in "${RUN_ORDER[@]}"; do printf '%-20s %s\n' "$key" "${CMDS[$key]}"; done
echo '```'
} >"$R"

if [ -n "$OUT" ]; then
    # keep the sections other scripts write (<!-- NAME-bench begin ... --> to
    # <!-- NAME-bench end -->: bench/http/run.sh, bench/scaleout/run.sh) when rewriting the report
    if [ -f "$OUT" ]; then
        awk '/^<!-- [a-z]+-bench begin/ { keep = 1; print "" } keep { print } /^<!-- [a-z]+-bench end/ { keep = 0 }' "$OUT" >>"$R"
    fi
    cp "$R" "$OUT"
    say "wrote $OUT ($(( (T_END - T_START) / 60 )) min $(( (T_END - T_START) % 60 )) s)"
else
    cat "$R"
    say "report above (a run of some cases only; BENCH_RESULTS=FILE writes it to FILE)"
fi
if [ "$PROBLEMS" -gt 0 ]; then
    say "$PROBLEMS problem(s): see the Checks section"
    exit 1
fi
