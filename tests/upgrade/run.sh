#!/usr/bin/env bash
# Upgrade test: ALTER EXTENSION grse UPDATE from every released version (0.1.0, 0.2.0) to the
# current one gives the same extension as a fresh CREATE EXTENSION, and works.
#
# Needs the current grse installed (`cargo pgrx install`: it also installs the
# upgrade scripts sql/grse--A--B.sql). The install scripts of released versions
# are kept here (grse--0.1.0.sql: what `cargo pgrx schema` generated at the
# 0.1.0 release); they are copied into PostgreSQL's extension directory.
#
#   1. database up_fresh: CREATE EXTENSION grse (the current version).
#   2. database up_old: CREATE EXTENSION grse VERSION '0.1.0', then
#      ALTER EXTENSION grse UPDATE (to the current version).
#   3. tests/upgrade/catalog.sql over both (columns, constraints, indexes,
#      triggers, policies, functions with their source, settings and grants,
#      comments, extension members and dump configuration): must be equal.
#   4. the upgraded database works: regions, spends with and without budget
#      slots, a refund, a metric write; verify_invariants() is empty.
#
# The library is always the current one: a 0.1.0 database is updated right
# after CREATE EXTENSION, before any grse function runs (in production: install
# the new version, restart, ALTER EXTENSION grse UPDATE, then use it).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DB=postgres
SUITE=upgrade
# shellcheck source=tests/concurrency/lib.sh
source "$HERE/../concurrency/lib.sh"

EXTDIR="$("$PG_CONFIG" --sharedir)/extension"
CURRENT=$(awk -F"'" '/^default_version/ {print $2}' "$EXTDIR/grse.control")
echo "# current version $CURRENT; released install scripts: $(cd "$HERE" && printf '%s ' grse--*.sql)"

for old in "$HERE"/grse--*.sql; do
    from=$(basename "$old" .sql); from=${from#grse--}
    if cp "$old" "$EXTDIR/"; then
        pass "$from: released install script copied into $EXTDIR"
    else
        fail "$from: released install script copied into $EXTDIR (run as root, or as the owner of that directory)"
        continue
    fi
    psql_q -c "DROP DATABASE IF EXISTS up_old" -c "DROP DATABASE IF EXISTS up_fresh" \
           -c "CREATE DATABASE up_old" -c "CREATE DATABASE up_fresh" >/dev/null 2>&1
    check "$from: CREATE EXTENSION grse VERSION '$from', then ALTER EXTENSION grse UPDATE → $CURRENT" "
\\c up_old
SET client_min_messages = warning;
CREATE EXTENSION grse VERSION '$from';
ALTER EXTENSION grse UPDATE;
SELECT extversion = '$CURRENT' FROM pg_extension WHERE extname = 'grse';"
    check "fresh CREATE EXTENSION grse ($CURRENT)" "
\\c up_fresh
SET client_min_messages = warning;
CREATE EXTENSION grse;
SELECT extversion = '$CURRENT' FROM pg_extension WHERE extname = 'grse';"

    psql_q -d up_old -f "$HERE/catalog.sql" >"$WORK/catalog-old.txt"
    psql_q -d up_fresh -f "$HERE/catalog.sql" >"$WORK/catalog-fresh.txt"
    n=$(wc -l <"$WORK/catalog-fresh.txt")
    if [ "$n" -gt 100 ] && diff -u "$WORK/catalog-fresh.txt" "$WORK/catalog-old.txt" >"$WORK/catalog.diff"; then
        pass "$from → $CURRENT: the upgraded catalog equals a fresh install ($n facts)"
    else
        fail "$from → $CURRENT: the upgraded catalog equals a fresh install ($n facts; - fresh, + upgraded):"
        head -n 60 "$WORK/catalog.diff" | sed 's/^/#   /'
    fi

    check "$from → $CURRENT: the upgraded extension works (spends with and without slots, refund, metric write, invariants)" "
\\c up_old
SET client_min_messages = warning;
\\o /dev/null
INSERT INTO grse.regions (id, name, slug, country_code) VALUES
    ('00000000-0000-4000-8000-000000000001', 'One', 'one', 'DE'),
    ('00000000-0000-4000-8000-000000000002', 'Two', 'two', 'FR');
SELECT grse.set_budget_slots('00000000-0000-4000-8000-000000000002', 4);
SELECT grse.check_and_decrement_budget(r, 500) AND grse.check_and_decrement_budget(r, 700)
  FROM unnest(ARRAY['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002']::uuid[]) r;
SELECT grse.refund_budget('00000000-0000-4000-8000-000000000002', 200);
UPDATE grse.region_scaling_state SET posting_pressure = 80 WHERE region_id = '00000000-0000-4000-8000-000000000001';
\\o
SELECT (SELECT count(*) FROM grse.verify_invariants()) = 0
   AND (SELECT count(*) FROM grse.region_budget_transactions WHERE slot_no > 0) > 0
   AND (SELECT sum(delta) FROM grse.region_budget_transactions
         WHERE region_id = '00000000-0000-4000-8000-000000000002') = 100000 - 1200 + 200;"
done

finish
