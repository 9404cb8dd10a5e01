#!/usr/bin/env bash
# HTTP load check of grse-http: requests/s and p99 latency of GET /api/regions/health over 100
# regions at 32 connections (wrk, a 60-second burst), next to the same function through pgbench
# in the same run on the same throw-away cluster:
#   function       SELECT grse.api_regions_health() as the superuser, 32 clients
#   same tx        the transaction grse-http runs per request (role switch, claims, timeout,
#                  the call) as pgbench script, 32 clients
#   HTTP           wrk -c 32 against grse-http (release build), bearer token of grse_reader
# Target: HTTP >= 0.8 x the function's own throughput, no error during the burst.
# Writes the figures into bench/RESULTS.md (section "HTTP load check", replaced on every run)
# and prints them.
#
# Throughput is measured in ROUNDS alternating rounds (pgbench of the function, then wrk, SECS each),
# so that load from outside the run (a shared machine) weighs on both alike; then pgbench of the
# server's own transaction, then the burst (HTTP_SECS of wrk: p99 and errors).
# Environment: SECS (default 15), ROUNDS (default 3), HTTP_SECS (default 60), CLIENTS (default 32),
# POOL_SIZE (grse-http's pool, default 16), KEEP=1.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CLUSTER="$ROOT/scripts/cluster.sh"
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$PG_CONFIG" --bindir)
SECS=${SECS:-15}
HTTP_SECS=${HTTP_SECS:-60}
CLIENTS=${CLIENTS:-32}
ROUNDS=${ROUNDS:-3}
POOL_SIZE=${POOL_SIZE:-16}
OUT="$ROOT/bench/RESULTS.md"
DB=grse_bench_http
SECRET="bench secret for grse-http, 32 bytes at least"

if ! command -v wrk >/dev/null; then
    [ "$(id -u)" -eq 0 ] || { echo "bench/http: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
    echo "bench/http: installing wrk (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
[ -f "$("$PG_CONFIG" --sharedir)/extension/grse.control" ] || { echo "bench/http: grse is not installed (make install)" >&2; exit 1; }

echo "bench/http: building grse-http (release)"
(cd "$ROOT" && cargo build -q --release -p grse-http)
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/grse-http"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/grse-bench-http.XXXXXX")
chmod 755 "$WORK"
CL="$WORK/cluster"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    bash "$CLUSTER" stop "$CL" || true
    if [ "${KEEP:-0}" = 1 ]; then echo "bench/http: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$CLUSTER" start "$CL" "$DB" 2>/dev/null
eval "$(bash "$CLUSTER" env "$CL")"
export PGDATABASE=$DB
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
CREATE EXTENSION grse;
INSERT INTO grse.regions (name, slug, country_code, timezone)
SELECT 'Region ' || g, 'region-' || g, 'DE', 'Europe/Berlin' FROM generate_series(1, 100) g;
UPDATE grse.region_scaling_state s
   SET posting_pressure = (h * 7) % 90, orchestration_pressure = (h * 11) % 90,
       creative_pressure = (h * 13) % 90, intel_pressure = (h * 17) % 90, jobs_in_queue = h % 9
  FROM (SELECT id, row_number() OVER (ORDER BY slug) AS h FROM grse.regions) r
 WHERE s.region_id = r.id;
CREATE ROLE grse_http LOGIN NOINHERIT;
GRANT grse_reader TO grse_http;
VACUUM ANALYZE;
SQL

# pgbench: p99 from the per-transaction log (microseconds in field 3).
p99_of_logs() { cat "$@" | awk '{ print $3 }' | sort -n | awk '{ a[NR] = $1 } END { if (NR) printf "%.2f", a[int(NR * 0.99 + 0.5)] / 1000 }'; }
run_pgbench() { # NAME USER SCRIPT
    local name=$1 user=$2 script=$3
    rm -f "$WORK"/pgbench_log.*
    (cd "$WORK" && "$PG_BIN/pgbench" -n -M prepared -U "$user" -c "$CLIENTS" -j 2 -T "$SECS" -l -f "$script" >"$WORK/$name.out" 2>&1)
    TPS=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$WORK/$name.out" | tail -n 1)
    FAILED=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/$name.out")
    P99=$(p99_of_logs "$WORK"/pgbench_log.*)
    echo "bench/http: pgbench $name: $TPS tps, p99 $P99 ms, failed ${FAILED:-0}"
}
echo 'SELECT grse.api_regions_health();' >"$WORK/function.sql"
cat >"$WORK/tx.sql" <<'SQL'
BEGIN;
SELECT pg_catalog.set_config('role', 'grse_reader', true), pg_catalog.set_config('request.jwt.claims', '{"role":"grse_reader"}', true), pg_catalog.set_config('statement_timeout', '30000', true);
SELECT grse.api_regions_health();
COMMIT;
SQL
PORT=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1)->sockport')
DATABASE_URL="postgresql://grse_http@127.0.0.1:$PGPORT/$DB" GRSE_JWT_SECRET="$SECRET" \
    GRSE_HTTP_ADDR="127.0.0.1:$PORT" GRSE_DB_POOL_SIZE="$POOL_SIZE" "$BIN" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
TOKEN=$(GRSE_JWT_SECRET="$SECRET" "$BIN" token --role grse_reader --ttl 2h)
URL="http://127.0.0.1:$PORT/api/regions/health"
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break; sleep 0.1; done
curl -fsS -H "Authorization: Bearer $TOKEN" "$URL" | grep -q '"success": true' || { echo "bench/http: the endpoint does not answer" >&2; exit 1; }
wrk -t 2 -c "$CLIENTS" -d 5s -H "Authorization: Bearer $TOKEN" "$URL" >/dev/null   # warm-up
wrk_rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }

# Throughput: the function through pgbench and the endpoint through wrk, alternating for ROUNDS
# rounds of SECS each, so that load from outside the run affects both alike.
ROUND_ROWS=""
FN_SUM=0 HTTP_SUM=0 FN_FAILED=0
for r in $(seq 1 "$ROUNDS"); do
    run_pgbench "function-$r" postgres "$WORK/function.sql"
    FN_P99=$P99
    FN_FAILED=$((FN_FAILED + ${FAILED:-0}))
    wrk -t 2 -c "$CLIENTS" -d "${SECS}s" -H "Authorization: Bearer $TOKEN" "$URL" >"$WORK/wrk-$r.out"
    rps=$(wrk_rps "$WORK/wrk-$r.out")
    echo "bench/http: round $r: function $TPS tps, HTTP $rps requests/s"
    ROUND_ROWS+="| $r | $(printf '%.0f' "$TPS") | $(printf '%.0f' "$rps") | $(awk -v a="$rps" -v b="$TPS" 'BEGIN { printf "%.2f", a / b }') |"$'\n'
    FN_SUM=$(awk -v a="$FN_SUM" -v b="$TPS" 'BEGIN { print a + b }')
    HTTP_SUM=$(awk -v a="$HTTP_SUM" -v b="$rps" 'BEGIN { print a + b }')
done
FN_TPS=$(awk -v a="$FN_SUM" -v n="$ROUNDS" 'BEGIN { print a / n }')
ROUNDS_RPS=$(awk -v a="$HTTP_SUM" -v n="$ROUNDS" 'BEGIN { print a / n }')
run_pgbench tx grse_http "$WORK/tx.sql"
TX_TPS=$TPS TX_P99=$P99 TX_FAILED=${FAILED:-0}

# The burst: HTTP_SECS at full load, latency distribution and errors.
wrk -t 2 -c "$CLIENTS" -d "${HTTP_SECS}s" --latency -H "Authorization: Bearer $TOKEN" "$URL" >"$WORK/wrk.out"
cat "$WORK/wrk.out"
HTTP_RPS=$(wrk_rps "$WORK/wrk.out")
to_ms() { awk -v x="$1" 'BEGIN { v = x + 0; if (x ~ /us$/) v /= 1000; else if (x ~ /ms$/) v += 0; else if (x ~ /s$/) v *= 1000; printf "%.2f", v }'; }
HTTP_P99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$WORK/wrk.out")")
HTTP_REQS=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$WORK/wrk.out")
NON2XX=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$WORK/wrk.out")
SOCKERR=$(sed -n 's/^ *Socket errors: *\(.*\)$/\1/p' "$WORK/wrk.out")
ERRORS=$(( ${NON2XX:-0} + $(awk -F'[ ,]+' '{ s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; print s + 0 }' <<<"${SOCKERR:-}") ))
server_lines=$(grep -c ' GET /api/regions/health 200 ' "$WORK/server.log" || true)

# ---- the metrics scrape over 1,000 regions and a ledger of some 200,000 rows: the first scrape reads the
# ledger once, later ones only its new rows
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
INSERT INTO grse.regions (name, slug, country_code, timezone)
SELECT 'Region ' || g, 'region-' || g, 'DE', 'Europe/Berlin' FROM generate_series(101, 1000) g;
SELECT count(*) FROM (SELECT grse.check_and_decrement_budget(r.id, 1, NULL,
                                 (ARRAY['posting', 'orchestration', 'creative', 'intel'])[1 + g % 4])
                        FROM grse.regions r, generate_series(1, 200) g) x;
VACUUM ANALYZE;
SQL
LEDGER_ROWS=$("$PG_BIN/psql" -X -At -c "SELECT count(*) FROM grse.region_budget_transactions")
scrape_ms() { curl -s -o "$WORK/metrics.txt" -w '%{time_total}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" | awk '{ printf "%.1f", $1 * 1000 }'; }
SCRAPE_FIRST=$(scrape_ms)
SCRAPE_LATER=$(for _ in 1 2 3 4 5; do scrape_ms; echo; done | sort -n | sed -n 3p)
SCRAPE_BYTES=$(wc -c <"$WORK/metrics.txt")
SCRAPE_SERIES=$(grep -vc '^#' "$WORK/metrics.txt")
echo "bench/http: /metrics over 1,000 regions, $LEDGER_ROWS ledger rows: first ${SCRAPE_FIRST} ms, then ${SCRAPE_LATER} ms (median of 5), $SCRAPE_SERIES series"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "—"; else printf "%.2f", a / b }'; }
R_FN=$(ratio "$ROUNDS_RPS" "$FN_TPS")
R_TX=$(ratio "$HTTP_RPS" "$TX_TPS")
MET=$(awk -v r="$R_FN" -v e="$ERRORS" 'BEGIN { print (r + 0 >= 0.8 && e == 0) ? "**met**" : "**not met**" }')
COMMIT=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)

SECTION="$WORK/section.md"
cat >"$SECTION" <<EOF
<!-- http-bench begin: written by bench/http/run.sh -->
## HTTP load check: GET /api/regions/health over 100 regions, $CLIENTS connections

\`bash bench/http/run.sh\` (\`make bench-http\`), $(date -u '+%Y-%m-%d %H:%M UTC'), commit $COMMIT, $(nproc) CPUs; one throw-away
cluster (fsync on); grse-http release build, pool of $POOL_SIZE connections; wrk \`-t 2 -c $CLIENTS\`; pgbench
\`-n -M prepared -c $CLIENTS -j 2\`. Server, database and load generator share the machine (and, here, other work on it:
the rounds alternate so that it weighs on both sides alike).

Throughput, $ROUNDS alternating rounds of $SECS s (pgbench of the function, then wrk against the endpoint):

| round | \`SELECT grse.api_regions_health()\` through pgbench (superuser), TPS | HTTP requests/s | HTTP / function |
|---:|---:|---:|---:|
${ROUND_ROWS}| mean | $(printf '%.0f' "$FN_TPS") | $(printf '%.0f' "$ROUNDS_RPS") | **$R_FN** |

| path | requests/s | p99 ms | errors |
|---|---:|---:|---:|
| pgbench: the function (last round) | | $FN_P99 | $FN_FAILED |
| pgbench: grse-http's transaction (role switch, claims, timeout, the call) as grse_reader, $SECS s | $(printf '%.0f' "$TX_TPS") | $TX_P99 | $TX_FAILED |
| HTTP burst: grse-http, bearer token of grse_reader, ${HTTP_SECS} s | $(printf '%.0f' "$HTTP_RPS") | $HTTP_P99 | $ERRORS of $HTTP_REQS |

HTTP / function (mean of the rounds): **$R_FN**; HTTP burst / the server's own transaction through pgbench: **$R_TX**.
Target (HTTP ≥ 0.8 × the function's own throughput, no error during the ${HTTP_SECS}-second burst): $MET. The server
logged $server_lines answered requests of the endpoint.

\`GET /metrics\` after growing the database to 1,000 regions and $LEDGER_ROWS ledger rows: the first scrape (which
reads the whole ledger once) took $SCRAPE_FIRST ms, later scrapes $SCRAPE_LATER ms (median of 5; they read only new
ledger rows); $SCRAPE_SERIES series, $SCRAPE_BYTES bytes uncompressed.
<!-- http-bench end -->
EOF
cat "$SECTION"
if [ -f "$OUT" ] && grep -q '^<!-- http-bench begin' "$OUT"; then
    awk -v f="$SECTION" '/^<!-- http-bench begin/ { while ((getline l < f) > 0) print l; skip = 1; next }
                         /^<!-- http-bench end/ { skip = 0; next } !skip' "$OUT" >"$WORK/results.new"
else
    { cat "$OUT" 2>/dev/null || true; echo; cat "$SECTION"; } >"$WORK/results.new"
fi
cp "$WORK/results.new" "$OUT"
echo "bench/http: figures written to bench/RESULTS.md"
