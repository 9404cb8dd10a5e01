# shellcheck shell=bash
# Shared plumbing of the scale-out tests and benchmark (sourced, not run):
# three throw-away clusters — a router and two grse nodes (eu, us) — on top of
# tests/concurrency/lib.sh, whose cluster is the router here (its checks,
# `check` and `run_pgbench`, run against the router).
#
# The sourcing script sets SUITE (its summary name) and may set NODES (default
# "eu us"). After sourcing:
#   NODE_DIR[name], NODE_DB[name]   each node's cluster directory and database
#   node_psql NAME ARGS...          psql on a node (like psql_q)
#   check_node NAME DESC SQL        `check` against a node
#   node_connstr NAME               the libpq string the router uses for a node
#   stop_node / start_node NAME     stop a node / start it again (a new port:
#                                   the router is told with grse_router.alter_node)

DB=grse_router
# shellcheck source=tests/concurrency/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/concurrency/lib.sh"
SCALEOUT="$ROOT/scaleout"

read -r -a NODE_NAMES <<<"${NODES:-eu us}"
declare -A NODE_DIR NODE_DB

scaleout_cleanup() {
    local n
    for n in "${NODE_NAMES[@]}"; do
        bash "$CLUSTER" stop "${NODE_DIR[$n]}" >/dev/null 2>&1 || true
    done
    cleanup
}
trap scaleout_cleanup EXIT

node_connstr() {
    echo "host=${NODE_DIR[$1]}/sock port=$(cat "${NODE_DIR[$1]}/port") dbname=${NODE_DB[$1]}"
}

node_psql() {
    local n=$1; shift
    "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -v VERBOSITY=terse -qAt \
        -h "${NODE_DIR[$n]}/sock" -p "$(cat "${NODE_DIR[$n]}/port")" -U postgres -d "${NODE_DB[$n]}" "$@"
}

check_node() {
    local n=$1 desc=$2 sql=$3 out
    if out=$(node_psql "$n" <<<"$sql" 2>&1) && [ "$out" = t ]; then
        pass "$desc"
    else
        fail "$desc"
        printf '%s\n' "${out:-<no row>}" | sed 's/^/#   /'
    fi
}

# check_error DESC SQLSTATE MESSAGE-REGEX SQL: the SQL (on the router, as AS_ROLE
# if set) fails with that SQLSTATE and a message matching the regex.
check_error() {
    local desc=$1 state=$2 re=$3 sql=$4 out
    out=$("$PG_BIN/psql" -X -qAt -v VERBOSITY=verbose ${AS_ROLE:+-U "$AS_ROLE"} -c "$sql" 2>&1 || true)
    if grep -qE "^ERROR:  $state: " <<<"$out" && grep -qE "$re" <<<"$out"; then
        pass "$desc"
    else
        fail "$desc"
        printf '%s\n' "${out:-<no output>}" | sed 's/^/#   /'
    fi
}

start_node() {
    local n=$1
    bash "$CLUSTER" start "${NODE_DIR[$n]}" "${NODE_DB[$n]}" >/dev/null 2>&1
}

stop_node() {
    bash "$CLUSTER" stop "${NODE_DIR[$1]}"
}

# Nodes: grse and scaleout/node.sql; the router: scaleout/router.sql, the nodes
# added, schema grse generated. Fails the suite when any step fails.
scaleout_setup() {
    local n
    for n in "${NODE_NAMES[@]}"; do
        NODE_DIR[$n]="$WORK/node-$n"
        NODE_DB[$n]="grse_$n"
        start_node "$n" || { fail "node $n starts"; finish; }
        if ! node_psql "$n" -c "CREATE EXTENSION grse" -f "$SCALEOUT/node.sql" >/dev/null; then
            fail "node $n: CREATE EXTENSION grse and scaleout/node.sql"
            finish
        fi
    done
    if ! psql_q -f "$SCALEOUT/router.sql" >/dev/null; then
        fail "router: scaleout/router.sql"
        finish
    fi
    for n in "${NODE_NAMES[@]}"; do
        psql_q -c "SELECT grse_router.add_node('$n', '$(node_connstr "$n")')" >/dev/null \
            || { fail "router: add node $n"; finish; }
    done
    if ! psql_q -c "SELECT count(*) FROM grse_router.refresh()" >/dev/null; then
        fail "router: grse_router.refresh()"
        finish
    fi
}
