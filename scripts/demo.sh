#!/usr/bin/env bash
# Runs the grse demo scenario (scripts/demo.sql) on a throw-away cluster.
#
# Needs the extension installed (`make install`; `make demo` does both).
# Starts a cluster as the `postgres` OS user, runs CREATE EXTENSION grse and
# the scenario through psql with aligned, bordered output, then stops the
# cluster and removes it (KEEP=1 keeps it, still stopped, for inspection).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLUSTER="$ROOT/scripts/cluster.sh"
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$PG_CONFIG" --bindir)
DB=grse_demo

if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/grse.control" ]; then
    echo "demo: the grse extension is not installed; run 'make install' (or 'make demo')" >&2
    exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/grse-demo.XXXXXX")
chmod 755 "$WORK"                 # the cluster inside is owned by `postgres`
CL="$WORK/cluster"
cleanup() {
    bash "$CLUSTER" stop "$CL" || true
    if [ "${KEEP:-0}" = 1 ]; then echo "demo: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! out=$(bash "$CLUSTER" start "$CL" "$DB" 2>&1); then
    echo "$out" >&2
    exit 1
fi
eval "$(bash "$CLUSTER" env "$CL")"

# -X: ignore ~/.psqlrc; -q: no command tags; aligned output with borders,
# no pager, row-count footers off, NULLs visible.
demo_psql() {
    "$PG_BIN/psql" -X -q -d "$DB" -v ON_ERROR_STOP=1 \
        -P pager=off -P border=2 -P footer=off -P null='(null)' "$@"
}

echo "grse demo — PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT (throw-away cluster in $CL)"
demo_psql -c "CREATE EXTENSION grse"
demo_psql -c "SELECT extname AS extension, extversion AS version FROM pg_extension WHERE extname = 'grse'"
demo_psql -f "$ROOT/scripts/demo.sql"
