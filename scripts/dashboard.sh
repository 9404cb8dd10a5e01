#!/usr/bin/env bash
# `make dashboard`: the grse-http pages over the demo's regions.
#
# Builds grse-http, starts a throw-away cluster with the demo scenario (scripts/demo.sql) and a
# day of hourly snapshots (scripts/dashboard.sql), starts grse-http in front of it, and prints
# the URL and a token to sign in with. Ctrl-C stops the server and removes the cluster
# (KEEP=1 keeps it, stopped). Needs the extension installed (`make install`; `make dashboard`
# does both). GRSE_HTTP_ADDR (default 127.0.0.1:8080) and GRSE_JWT_SECRET (default: random)
# are honoured.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLUSTER="$ROOT/scripts/cluster.sh"
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$PG_CONFIG" --bindir)
DB=grse_dashboard
ADDR=${GRSE_HTTP_ADDR:-127.0.0.1:8080}
SECRET=${GRSE_JWT_SECRET:-$(openssl rand -hex 32)}

if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/grse.control" ]; then
    echo "dashboard: the grse extension is not installed; run 'make install' (or 'make dashboard')" >&2
    exit 1
fi

echo "dashboard: building grse-http"
(cd "$ROOT" && cargo build -q -p grse-http)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/grse-http"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/grse-dashboard.XXXXXX")
chmod 755 "$WORK"                 # the cluster inside is owned by `postgres`
CL="$WORK/cluster"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    bash "$CLUSTER" stop "$CL" || true
    if [ "${KEEP:-0}" = 1 ]; then echo "dashboard: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$CLUSTER" start "$CL" "$DB" 2>/dev/null
eval "$(bash "$CLUSTER" env "$CL")"
export PGDATABASE=$DB
q() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }
echo "dashboard: loading the demo's regions and a day of snapshots"
q -c "CREATE EXTENSION grse"
q -f "$ROOT/scripts/demo.sql" >"$WORK/demo.out" 2>&1 || { cat "$WORK/demo.out" >&2; exit 1; }
q -f "$ROOT/scripts/dashboard.sql" >/dev/null
# The server's login role: no privileges of its own, may switch to these grse roles only.
q -c "CREATE ROLE grse_http LOGIN NOINHERIT" -c "GRANT grse_reader, grse_tenant, grse_operator TO grse_http"

export DATABASE_URL="postgresql://grse_http@127.0.0.1:$PGPORT/$DB" GRSE_HTTP_ADDR="$ADDR" GRSE_JWT_SECRET="$SECRET"
READER=$("$BIN" token --role grse_reader --sub dashboard --ttl 12h)
OPERATOR=$("$BIN" token --role grse_operator --sub dashboard --ttl 12h)
"$BIN" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://$ADDR/healthz" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.1
done

SYDNEY=$(q -At -c "SELECT id FROM grse.regions WHERE slug = 'ap-sydney'")
cat <<TEXT

  grse dashboard: http://$ADDR/regions

  Sign in with this token (role grse_reader, valid 12 hours):

$READER

  API, e.g.:   curl -H "Authorization: Bearer \$TOKEN" http://$ADDR/api/regions/health?includeRisk=true
  An operator token (may POST /api/regions/{id}/snapshot):
$OPERATOR

  Watch a mode change arrive live (in another terminal):
    $PG_BIN/psql -h $PGHOST -p $PGPORT -U postgres -d $DB \\
      -c "UPDATE grse.region_scaling_state SET posting_pressure = 20, orchestration_pressure = 20, creative_pressure = 20, intel_pressure = 20 WHERE region_id = '$SYDNEY'"

  Request log: $WORK/server.log        Ctrl-C stops the server and removes the cluster.

TEXT
wait "$SERVER_PID"
