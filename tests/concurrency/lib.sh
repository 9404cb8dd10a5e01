# shellcheck shell=bash
# Shared plumbing of the multi-connection tests (sourced, not run): a
# throw-away cluster, psql/pgbench helpers and `ok - ` / `not ok - ` checks.
# The sourcing script sets DB (and SUITE, the name on its summary line, default
# concurrency) before sourcing and calls `finish` at the end.


HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CLUSTER="$ROOT/scripts/cluster.sh"
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$PG_CONFIG" --bindir)

CLIENTS=${CLIENTS:-32}
THREADS=${THREADS:-2}
PGBENCH_TIMEOUT=${PGBENCH_TIMEOUT:-900}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/grse-conc.XXXXXX")
chmod 755 "$WORK"                 # the cluster inside is owned by `postgres`
CL="$WORK/cluster"
cleanup() {
    bash "$CLUSTER" stop "$CL" || true
    if [ "${KEEP:-0}" = 1 ]; then echo "${SUITE:-concurrency}: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }

bash "$CLUSTER" start "$CL" "$DB"
eval "$(bash "$CLUSTER" env "$CL")"
export PGDATABASE=$DB

# shellcheck disable=SC2120  # the sourcing scripts pass psql arguments
psql_q() { "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -v VERBOSITY=terse -qAt "$@"; }

# check DESCRIPTION SQL — the SQL (one or more statements) must print exactly
# one `t` (conc_assert() raises with a message on a violation; a missing row
# also counts as a failure).
check() {
    local desc=$1 sql=$2 out
    if out=$(psql_q <<<"$sql" 2>&1) && [ "$out" = t ]; then
        pass "$desc"
    else
        fail "$desc"
        printf '%s\n' "${out:-<no row>}" | sed 's/^/#   /'
    fi
}

# run_pgbench NAME TX-PER-CLIENT SCRIPT... (with -D variables from PGBENCH_DEFINES)
PGBENCH_DEFINES=()
run_pgbench() {
    local name=$1 tx=$2; shift 2
    local log="$WORK/pgbench-$name.log" rc=0
    echo "# pgbench $name: $CLIENTS clients, $THREADS threads, $tx transactions each"
    timeout "$PGBENCH_TIMEOUT" "$PG_BIN/pgbench" --no-vacuum -M prepared \
        -c "$CLIENTS" -j "$THREADS" -t "$tx" "${PGBENCH_DEFINES[@]}" "$@" >"$log" 2>&1 || rc=$?
    grep -E '^(number of (transactions|failed)|latency average|tps|.*aborted)' "$log" | sed 's/^/#   /' || true
    if [ $rc -eq 0 ]; then
        pass "pgbench $name phase: no client errors"
    else
        fail "pgbench $name phase: exit status $rc (a client aborted on an error, or timeout)"
        grep -iE 'error|abort|fatal' "$log" | sort | uniq -c | sort -rn | head -n 10 | sed 's/^/#   /' || true
    fi
}

finish() {
    echo "${SUITE:-concurrency}: $PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
    exit
}

