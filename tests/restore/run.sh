#!/usr/bin/env bash
# Restore test: a database with every kind of grse row (tests/restore/fixture.sql)
# survives pg_dump and pg_restore with the documented steps
#
#   createdb; CREATE EXTENSION grse; SELECT grse.pre_restore();
#   pg_restore (or psql -f for a plain dump); SELECT grse.post_restore();
#
# in the custom format, the custom format with --jobs and the plain format (and a data-only
# restore into an existing grse, restore mode set by hand): every
# table and identity sequence equal to the source, row for row (tests/restore/tables.sql),
# the invariants hold, and work continues (spends chain on, new regions get their
# state, slots refill, the policy can change). A restore without the steps fails
# loudly (non-zero exit, a hint naming the steps) and post_restore() refuses after it.
# Restore mode is a superuser's: pre_restore() refuses others and a database that
# holds grse data, and while it is on, grse's functions refuse to write and a
# non-superuser with INSERT on the ledger is still refused by the guard.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DB=postgres
SUITE=restore
# shellcheck source=tests/concurrency/lib.sh
source "$HERE/../concurrency/lib.sh"

# expect_fail DESCRIPTION PATTERN COMMAND...: the command fails and its output matches PATTERN
expect_fail() {
    local desc=$1 pattern=$2 out rc=0; shift 2
    out=$("$@" 2>&1) || rc=$?
    if [ "$rc" -ne 0 ] && grep -qE -- "$pattern" <<<"$out"; then
        pass "$desc"
    else
        fail "$desc (exit status $rc)"
        printf '%s\n' "$out" | tail -n 8 | sed 's/^/#   /'
    fi
}

R1=00000000-0000-4000-8000-0000000000b1
R2=00000000-0000-4000-8000-0000000000b2

psql_q -c "CREATE DATABASE src"
psql_q -d src -c "CREATE EXTENSION grse"
psql_q -d src -f "$HERE/fixture.sql"
check "the source database holds every kind of row and is consistent" "
\\c src
SELECT (SELECT count(*) FROM grse.verify_invariants()) = 0
   AND (SELECT count(*) FROM grse.region_budget_slots WHERE balance > 0) > 0
   AND (SELECT count(DISTINCT transaction_type) FROM grse.region_budget_transactions) >= 5
   AND (SELECT count(DISTINCT source) FROM grse.budget_rollovers) = 3
   AND (SELECT count(*) FROM grse.region_mode_transitions) > 0
   AND (SELECT count(DISTINCT period_type) FROM grse.region_scaling_history) = 2
   AND (SELECT count(*) FROM grse.alerts) > 0
   AND (SELECT small_job_max_cents FROM grse.policy) = 250"
psql_q -d src -f "$HERE/tables.sql" >"$WORK/src.tables"
if grep -q 'is not dumped' "$WORK/src.tables"; then
    fail "every grse table and sequence is dumped with the extension (pg_extension_config_dump):"
    grep 'is not dumped' "$WORK/src.tables" | sed 's/^/#   /'
else
    pass "every grse table and sequence is dumped with the extension ($(grep -c '^table' "$WORK/src.tables") tables, $(grep -c '^sequence' "$WORK/src.tables") sequences)"
fi

"$PG_BIN/pg_dump" -d src -Fc -f "$WORK/grse.dump" 2>"$WORK/pg_dump.log"
"$PG_BIN/pg_dump" -d src -Fp -f "$WORK/grse.sql" 2>>"$WORK/pg_dump.log"

# restore NAME COMMAND...: a new database NAME, the steps around COMMAND (which gets -d NAME);
# with DATA_ONLY=1 the data-only variant: grse stays, restore mode is set by hand
restore() {
    local name=$1 rc=0; shift
    psql_q -c "CREATE DATABASE $name"
    if [ "${DATA_ONLY:-0}" = 1 ]; then
        psql_q -d "$name" -c "CREATE EXTENSION grse" -c "ALTER DATABASE $name SET grse.restoring = on" \
               -c "ALTER DATABASE $name SET session_replication_role = replica" >/dev/null
    else
        psql_q -d "$name" -c "CREATE EXTENSION grse" -c "SELECT grse.pre_restore()" >/dev/null
    fi
    "$@" -d "$name" >"$WORK/$name.log" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
        pass "$name: restored without an error"
    else
        fail "$name: restored without an error (exit status $rc)"
        tail -n 8 "$WORK/$name.log" | sed 's/^/#   /'
    fi
    check "$name: grse.post_restore() checks every invariant and ends restore mode" "
\\c $name
\\o /dev/null
SELECT grse.post_restore();
\\o
SELECT current_setting('grse.restoring') = 'off' AND current_setting('session_replication_role') = 'origin'
   AND NOT EXISTS (SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
                    WHERE d.datname = current_database())"
    psql_q -d "$name" -f "$HERE/tables.sql" >"$WORK/$name.tables"
    if diff -u "$WORK/src.tables" "$WORK/$name.tables" >"$WORK/$name.diff"; then
        pass "$name: every table and sequence equals the source, row for row ($(wc -l <"$WORK/src.tables") checked)"
    else
        fail "$name: every table and sequence equals the source (- source, + restored):"
        head -n 20 "$WORK/$name.diff" | sed 's/^/#   /'
    fi
    check "$name: work continues (spends chain on, slots refill, refunds, a new region, a policy change)" "
\\c $name
SET client_min_messages = warning;
\\o /dev/null
CREATE TEMP TABLE before AS SELECT max(id) AS top FROM grse.region_budget_transactions;
SELECT grse.check_and_decrement_budget('$R1', 1000, NULL, 'posting');
SELECT grse.check_and_decrement_budget('$R2', 150) FROM generate_series(1, 20);
SELECT grse.refund_budget('$R1', 400);
INSERT INTO grse.regions (id, name, slug, country_code) VALUES ('00000000-0000-4000-8000-0000000000b9', 'New', 'new', 'BR');
SELECT grse.check_and_decrement_budget('00000000-0000-4000-8000-0000000000b9', 10);
UPDATE grse.policy SET small_job_max_cents = 300;
SELECT grse.save_region_snapshot('$R1');
SELECT grse.alert_critical_issues();
\\o
SELECT (SELECT count(*) FROM grse.verify_invariants()) = 0
   AND (SELECT min(id) FROM grse.region_budget_transactions WHERE id > (SELECT top FROM before)) = (SELECT top FROM before) + 1
   AND (SELECT ai_budget_remaining FROM grse.region_scaling_state WHERE region_id = '00000000-0000-4000-8000-0000000000b9') = 99990
   AND (SELECT count(*) FROM grse.region_budget_transactions WHERE region_id = '$R2' AND slot_no > 0
           AND id > (SELECT top FROM before)) > 0"
}

restore restored_custom "$PG_BIN/pg_restore" "$WORK/grse.dump"
restore restored_jobs "$PG_BIN/pg_restore" --jobs=2 "$WORK/grse.dump"
restore restored_plain "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -f "$WORK/grse.sql"
DATA_ONLY=1 restore restored_data_only "$PG_BIN/pg_restore" --data-only "$WORK/grse.dump"

# ---- a restore without the steps fails loudly -------------------------------------------
psql_q -c "CREATE DATABASE nosteps" -c "CREATE DATABASE nosteps_ext"
expect_fail "pg_restore into an empty database without pre_restore() fails, naming the steps" \
    'grse\.pre_restore\(\)' "$PG_BIN/pg_restore" -d nosteps "$WORK/grse.dump"
expect_fail "... and grse.post_restore() refuses afterwards (not in restore mode)" \
    'not in restore mode' psql_q -d nosteps -c "SELECT grse.post_restore()"
psql_q -d nosteps_ext -c "CREATE EXTENSION grse"
expect_fail "a plain restore after CREATE EXTENSION without pre_restore() stops with an error" \
    'ERROR' "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d nosteps_ext -f "$WORK/grse.sql"

# ---- restore mode belongs to a superuser ------------------------------------------------
psql_q -c "CREATE ROLE restore_admin LOGIN IN ROLE grse_admin" -c "CREATE ROLE restore_probe LOGIN IN ROLE grse_operator"
expect_fail "pre_restore() refuses a database that holds grse data" \
    'already holds data' psql_q -d src -c "SELECT grse.pre_restore()"
expect_fail "pre_restore() refuses a role that is not a superuser" \
    'permission denied|superuser' psql_q -d nosteps_ext -U restore_admin -c "SELECT grse.pre_restore()"
expect_fail "a non-superuser cannot turn restore mode on" \
    'permission denied to set parameter' psql_q -d src -U restore_probe \
    -c "SELECT grse.compute_region_pressure('$R1')" -c "SET grse.restoring = on"
check "... nor set it before grse is loaded in the session (the setting is dropped when it is)" "
\\c src restore_probe
SET grse.restoring = on;
SET client_min_messages = error;
SELECT grse.compute_region_pressure('$R1') IS NOT NULL AND current_setting('grse.restoring') = 'off'"

psql_q -c "CREATE DATABASE halfway"
psql_q -d halfway -c "CREATE EXTENSION grse" -c "SELECT grse.pre_restore()" >/dev/null
"$PG_BIN/pg_restore" -d halfway "$WORK/grse.dump"
psql_q -d halfway -c "GRANT INSERT ON grse.region_budget_transactions TO restore_probe"
expect_fail "in restore mode, a non-superuser allowed to INSERT into the ledger is still refused by its guard" \
    'written by grse functions only' psql_q -d halfway -U restore_probe -c "
INSERT INTO grse.region_budget_transactions (region_id, transaction_type, amount, delta, balance_after)
VALUES ('$R1', 'allocation', 1000000, 1000000, 1000000)"
expect_fail "in restore mode, grse's functions refuse to write (55000)" \
    'restore mode' psql_q -d halfway -U restore_probe -c "SELECT grse.check_and_decrement_budget('$R1', 10)"
check "post_restore() then ends restore mode of that database" "
\\c halfway
SELECT grse.post_restore()"
# (the refused INSERT took a value of the identity sequence: sequences are not transactional)
psql_q -d halfway -f "$HERE/tables.sql" | grep -v '^sequence' >"$WORK/halfway.tables"
if diff -u <(grep -v '^sequence' "$WORK/src.tables") "$WORK/halfway.tables" >"$WORK/halfway.diff"; then
    pass "nothing was written by those attempts: every table still equals the source"
else
    fail "nothing was written by those attempts: every table still equals the source (- source, + restored):"
    head -n 20 "$WORK/halfway.diff" | sed 's/^/#   /'
fi

finish
