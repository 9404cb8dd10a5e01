#!/usr/bin/env bash
# The cost of the scale-out router's hop per call: the same calls through the
# PL/Proxy router (scaleout/) and on the node directly, as a ratio, on three
# throw-away clusters (router, nodes eu and us; tests/scaleout/lib.sh):
#   read     SELECT * FROM grse.check_budget(region, 1)            (4 regions of node eu)
#   spend    SELECT grse.check_and_decrement_budget(region, 1, ...) (the same regions)
#   health   SELECT count(*) FROM grse.get_all_regions_health()    (8 regions: through the router
#            from both nodes, merged; directly from one database holding all 8)
# Each case runs ROUNDS alternating rounds (direct, then router, SECS each) so that load from
# outside the run (a shared machine) weighs on both alike. Writes its section of bench/RESULTS.md
# ("Scale-out router", replaced on every run) and prints it.
# Environment: SECS (default 10), ROUNDS (default 3), CLIENTS (default 8), KEEP=1.
set -euo pipefail

SUITE=bench-scaleout
CLIENTS=${CLIENTS:-8}
SECS=${SECS:-10}
ROUNDS=${ROUNDS:-3}
# shellcheck source=tests/scaleout/lib.sh
source "$(cd "$(dirname "$0")/../.." && pwd)/tests/scaleout/lib.sh"
OUT="$ROOT/bench/RESULTS.md"
T_START=$(date +%s)

scaleout_setup
node_psql eu -c "CREATE DATABASE grse_single" >/dev/null
single_psql() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "${NODE_DIR[eu]}/sock" -p "$(cat "${NODE_DIR[eu]}/port")" \
        -U postgres -d grse_single "$@"
}
single_psql -c "CREATE EXTENSION grse"

# 8 regions, 4 per node, budgets that never run dry; bench_regions (no -> id) in
# the router and in node eu's database, so both sides look the region up alike
psql_q >/dev/null <<'SQL'
SELECT grse_router.set_country_rule('FR', 'eu'), grse_router.set_country_rule('CA', 'us');
INSERT INTO grse.regions (name, slug, country_code)
SELECT 'Bench ' || i, 'bench-' || i, CASE WHEN i <= 4 THEN 'FR' ELSE 'CA' END FROM generate_series(1, 8) i;
SELECT grse.set_monthly_budget(id, 100000000000) FROM grse.regions;
CREATE TABLE bench_regions AS
SELECT row_number() OVER (ORDER BY slug)::integer AS no, id FROM grse.regions WHERE slug <= 'bench-4';
SQL
IDS=$(psql_q -c "SELECT string_agg(format('(%s, %L)', no, id), ', ') FROM bench_regions")
node_psql eu -c "CREATE TABLE bench_regions (no integer, id uuid); INSERT INTO bench_regions VALUES $IDS" >/dev/null
single_psql >/dev/null <<'SQL'
INSERT INTO grse.regions (name, slug, country_code)
SELECT 'Bench ' || i, 'bench-' || i, CASE WHEN i <= 4 THEN 'FR' ELSE 'CA' END FROM generate_series(1, 8) i;
SELECT grse.set_monthly_budget(id, 100000000000) FROM grse.regions;
SQL

cat >"$WORK/read.sql" <<'SQL'
\set i random(1, 4)
SELECT * FROM grse.check_budget((SELECT id FROM bench_regions WHERE no = :i), 1);
SQL
cat >"$WORK/spend.sql" <<'SQL'
\set i random(1, 4)
SELECT grse.check_and_decrement_budget((SELECT id FROM bench_regions WHERE no = :i), 1, NULL, 'posting');
SQL
cat >"$WORK/health.sql" <<'SQL'
SELECT count(*) FROM grse.get_all_regions_health();
SQL

EU=(-h "${NODE_DIR[eu]}/sock" -p "$(cat "${NODE_DIR[eu]}/port")" -U postgres)
# bench_round SCRIPT SIDE: one pgbench run; prints "tps latency_ms"
bench_round() {
    local target=()
    case $2 in
        direct) target=("${EU[@]}" -d "${NODE_DB[eu]}") ;;
        single) target=("${EU[@]}" -d grse_single) ;;
        router) target=(-d "$DB") ;;
    esac
    "$PG_BIN/pgbench" --no-vacuum -M prepared -c "$CLIENTS" -j 2 -T "$SECS" -f "$WORK/$1.sql" "${target[@]}" \
        >"$WORK/pgbench-$1-$2.log" 2>&1 || { tail -n 5 "$WORK/pgbench-$1-$2.log" >&2; return 1; }
    awk '/^tps = / { tps = $3 } /^latency average = / { lat = $4 } END { printf "%.1f %.3f\n", tps, lat }' \
        "$WORK/pgbench-$1-$2.log"
}

declare -A TPS LAT
ROWS=""
for case_ in read spend health; do
    direct_side=direct
    [ "$case_" = health ] && direct_side=single
    for r in $(seq 1 "$ROUNDS"); do
        read -r t l < <(bench_round "$case_" "$direct_side")
        TPS[$case_,d,$r]=$t; LAT[$case_,d,$r]=$l
        read -r t l < <(bench_round "$case_" router)
        TPS[$case_,r,$r]=$t; LAT[$case_,r,$r]=$l
        echo "# $case_ round $r: direct ${TPS[$case_,d,$r]} TPS (${LAT[$case_,d,$r]} ms), router ${TPS[$case_,r,$r]} TPS (${LAT[$case_,r,$r]} ms)"
    done
    read -r dt rt dl rl < <(
        for k in $(seq 1 "$ROUNDS"); do echo "${TPS[$case_,d,$k]} ${TPS[$case_,r,$k]} ${LAT[$case_,d,$k]} ${LAT[$case_,r,$k]}"; done \
        | awk '{ a += $1; b += $2; c += $3; d += $4 } END { printf "%.1f %.1f %.3f %.3f\n", a/NR, b/NR, c/NR, d/NR }')
    ratio=$(awk -v r="$rt" -v d="$dt" 'BEGIN { printf "%.2f", r / d }')
    extra=$(awk -v r="$rl" -v d="$dl" 'BEGIN { printf "%.2f", r - d }')
    case $case_ in
        read) what="\`grse.check_budget(region, 1)\` (a read of one region)" ;;
        spend) what="\`grse.check_and_decrement_budget(region, 1, NULL, 'posting')\` (a spend)" ;;
        health) what="\`grse.get_all_regions_health()\` over 8 regions (router: both nodes, merged; direct: one database with all 8)" ;;
    esac
    ROWS+="| $what | $dt | $rt | **$ratio** | $dl | $rl | $extra |"$'\n'
done
T_END=$(date +%s)

SECTION="$WORK/section.md"
cat >"$SECTION" <<EOF
<!-- scaleout-bench begin: written by bench/scaleout/run.sh -->
## Scale-out router: the proxy hop per call

\`bash bench/scaleout/run.sh\` (\`make bench-scaleout\`), $(date -u '+%Y-%m-%d %H:%M') UTC, commit $(git -C "$ROOT" rev-parse --short HEAD),
$(nproc) CPUs; three throw-away clusters on this machine (router with PL/Proxy, nodes eu and us; fsync on), the
installed grse build; pgbench \`-n -M prepared -c $CLIENTS -j 2 -T $SECS\`, $ROUNDS alternating rounds per case (direct,
then router); the means:

| call | direct TPS | router TPS | router / direct | direct ms | router ms | added ms per call |
|---|---:|---:|---:|---:|---:|---:|
${ROWS}
"Direct" is the node's own database (the regions' node, or for the health list one database holding all 8
regions); "router" is the same script against the router database, whose call is a SQL function, a PL/pgSQL
caller that looks up the region's node (placement row and a shared advisory lock) and a PL/Proxy call to the node
over its Unix socket. Router, nodes and pgbench share the machine's $(nproc) CPUs. Run time $(( (T_END - T_START) / 60 )) min $(( (T_END - T_START) % 60 )) s.
<!-- scaleout-bench end -->
EOF
cat "$SECTION"
if [ -f "$OUT" ] && grep -q '^<!-- scaleout-bench begin' "$OUT"; then
    awk -v f="$SECTION" '/^<!-- scaleout-bench begin/ { while ((getline l < f) > 0) print l; skip = 1; next }
                         /^<!-- scaleout-bench end/ { skip = 0; next } !skip' "$OUT" >"$WORK/results.new"
else
    { cat "$OUT" 2>/dev/null || true; echo; cat "$SECTION"; } >"$WORK/results.new"
fi
cp "$WORK/results.new" "$OUT"
echo "bench/scaleout: figures written to bench/RESULTS.md"
finish
