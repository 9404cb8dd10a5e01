#!/usr/bin/env bash
# Bad-input battery: every public function of schema grse and every column of its
# tables, called or written with NULL, NaN, ±Infinity, huge, negative, empty, unknown
# and deeply nested values (tests/battery/cases.sql generates the cases from the
# catalog, one bad argument at a time). The server runs with RUST_BACKTRACE=1 in its
# environment. A target fails on any internal error (XX000), a NaN or infinite number
# accepted or refused with anything but a 22xxx/23xxx SQLSTATE (42501 for a guarded
# column), a Rust backtrace or panic text in an error, a trigger function that does not
# refuse a direct call with 39P01, or a refused case that changed any grse table
# (checksum of every table before and after). Then: the invariants hold after all of it,
# and spends on a region with budget slots race policy changes without an error.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DB=battery
SUITE=battery
# shellcheck source=tests/concurrency/lib.sh
source "$HERE/../concurrency/lib.sh"

# restart the server with backtraces on in its environment
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
as_pg env RUST_BACKTRACE=1 RUST_LIB_BACKTRACE=1 "$PG_BIN/pg_ctl" restart -D "$CL/data" -l "$CL/log" -w -t 60 \
    -o "-p $PGPORT" >/dev/null
if as_pg cat "/proc/$(as_pg head -n 1 "$CL/data/postmaster.pid")/environ" | tr '\0' '\n' | grep -qx 'RUST_BACKTRACE=1'; then
    pass "the server runs with RUST_BACKTRACE=1 in its environment"
else
    fail "the server runs with RUST_BACKTRACE=1 in its environment"
fi

psql_q -c "CREATE EXTENSION grse"
psql_q -f "$HERE/../restore/fixture.sql"
psql_q -f "$HERE/cases.sql" >/dev/null
echo "# $(psql_q -c "SELECT count(*) FROM battery.cases") cases: $(psql_q -c "
    SELECT string_agg(kind || ' ' || n, ', ' ORDER BY kind) FROM (SELECT kind, count(*) n FROM battery.cases GROUP BY 1) k")"
start=$(date +%s)
psql_q -c "SELECT battery.run(1)" >/dev/null
# pass 2: the same over budgets near the bigint limit (a region with slots, holds, a refund)
psql_q >/dev/null <<'EOF'
SET client_min_messages = warning;
SELECT grse.set_monthly_budget('00000000-0000-4000-8000-0000000000b3', 9223372036854775807);
SELECT grse.set_budget_slots('00000000-0000-4000-8000-0000000000b3', 4);
SELECT grse.check_and_decrement_budget('00000000-0000-4000-8000-0000000000b3', 4611686018427387904);
SELECT grse.check_and_decrement_budget('00000000-0000-4000-8000-0000000000b3', 1000) FROM generate_series(1, 20);
SELECT grse.refund_budget('00000000-0000-4000-8000-0000000000b3', 4611686018427387000);
SELECT grse.check_and_decrement_budget('00000000-0000-4000-8000-0000000000b3', 4611686018427300000);
SELECT * FROM grse.reserve_budget('00000000-0000-4000-8000-0000000000b3', 1000000000000000000);
UPDATE grse.policy SET default_monthly_budget_cents = 9223372036854775807;
INSERT INTO grse.regions (name, slug, country_code) VALUES ('Huge', 'huge', 'US');
EOF
psql_q -c "SELECT battery.run(2)" >/dev/null
echo "# ran twice in $(( $(date +%s) - start )) s"

# one line per target: "ok|not ok<TAB>target<TAB>cases<TAB>what went wrong"
psql_q -F $'\t' -c "
WITH judged AS (
    SELECT c.*, r.pass, r.sqlstate, r.message, r.detail, r.changed,
           CASE WHEN r.sqlstate ~ '^XX' THEN 'internal error'
                WHEN c.kind = 'trigger' AND r.sqlstate IS DISTINCT FROM '39P01' THEN 'not refused with 39P01'
                WHEN c.special AND c.kind = 'call' AND (r.sqlstate IS NULL OR r.sqlstate !~ '^2[23]')
                    THEN 'NaN/infinity not refused with 22xxx/23xxx'
                WHEN c.special AND c.kind = 'column' AND r.sqlstate !~ '^(2[23]|42501)'
                    THEN 'NaN/infinity not refused with 22xxx/23xxx'
                WHEN concat(r.message, r.detail) ~* 'backtrace|panicked|stack backtrace|\.rs:[0-9]'
                    THEN 'Rust backtrace or panic in the error'
                WHEN r.changed THEN 'a refused case changed the data'
           END AS problem
      FROM battery.cases c JOIN battery.results r ON r.n = c.n)
SELECT CASE WHEN bool_or(problem IS NOT NULL) THEN 'not ok' ELSE 'ok' END, target, count(*) / 2,
       COALESCE(string_agg(format('pass %s, %s: %s %s %s', pass, label, problem, COALESCE(sqlstate, 'accepted'),
                                  left(COALESCE(message, ''), 160)), ' | ' ORDER BY pass, n)
                FILTER (WHERE problem IS NOT NULL), '')
  FROM judged GROUP BY kind, target ORDER BY kind, target" >"$WORK/verdicts.tsv"

while IFS=$'\t' read -r verdict target cases problems; do
    if [ "$verdict" = ok ]; then
        pass "$target: $cases cases"
    else
        fail "$target: $cases cases"
        tr '|' '\n' <<<"$problems" | head -n 4 | sed 's/^ */#   /'
    fi
done <"$WORK/verdicts.tsv"

check "after the whole battery the invariants hold (verify_invariants() runs without an error and finds nothing)" "
SELECT count(*) = 0 FROM grse.verify_invariants()"
# a NaN written into a column the state trigger computes is replaced, never stored
stored=$(psql_q <<<"
SELECT format('SELECT string_agg(%L, '', '') FROM %s WHERE %s', c.oid::regclass || '.' || a.attname, c.oid::regclass,
              format('%I::text IN (''NaN'', ''Infinity'', ''-Infinity'')', a.attname))
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'grse'::regnamespace AND c.relkind = 'r'
   AND a.atttypid IN ('numeric'::regtype, 'double precision'::regtype, 'real'::regtype)
\gexec" | grep -v '^$' || true)
if [ -z "$stored" ]; then
    pass "no NaN or infinite number is stored in any grse table"
else
    fail "no NaN or infinite number is stored in any grse table: $stored"
fi

# ---- spends on a region with budget slots race policy changes --------------------------
psql_q -c "INSERT INTO grse.regions (id, name, slug, country_code) VALUES ('00000000-0000-4000-8000-0000000000f1', 'Race', 'race', 'DE')" \
       -c "SELECT grse.set_budget_slots('00000000-0000-4000-8000-0000000000f1', 8)" \
       -c "SELECT grse.set_monthly_budget('00000000-0000-4000-8000-0000000000f1', 10000000)" >/dev/null
cat >"$WORK/spend.sql" <<'EOF'
\set amount random(1, 40)
SELECT grse.check_and_decrement_budget('00000000-0000-4000-8000-0000000000f1', :amount, NULL, 'posting');
EOF
cat >"$WORK/policy.sql" <<'EOF'
\set w random(20, 35)
UPDATE grse.policy SET capacity_weight_budget = :w / 100.0, capacity_weight_pressure = 0.75 - :w / 100.0;
EOF
CLIENTS=6 run_pgbench slots-and-policy 150 -f "$WORK/spend.sql@9" -f "$WORK/policy.sql@1"
check "... and the invariants hold afterwards" "SELECT count(*) = 0 FROM grse.verify_invariants()"

finish
