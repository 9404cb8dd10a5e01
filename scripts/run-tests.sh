#!/usr/bin/env bash
# Runs the grse test stages in order and ends with one summary line
#
#   tests: N passed, M failed
#
# where N and M count individual tests (Rust tests, #[pg_test]s, pg_regress
# tests, concurrency checks). A stage that cannot even run (build error, server
# failure, ...) and reports no counts of its own is counted as one failure.
# Exit status is non-zero when anything failed.
#
# Usage: scripts/run-tests.sh [STAGE...]      (default: all stages, in order)
#   lint         tests/lint/run.sh: rustfmt, clippy, shellcheck, released scripts unchanged (no cluster)
#   unit         cargo test -p grse-core -p grse-http (pure Rust unit + property tests)
#   pgtest       #[pg_test]s: cargo pgrx test pg15 (server run as `postgres`)
#   regress      pg_regress over tests/pg_regress/sql/*.sql on a throw-away cluster
#   upgrade      tests/upgrade/run.sh: ALTER EXTENSION UPDATE from each released version = a fresh install
#   concurrency  tests/concurrency/run.sh (one budget row, then 8 budget slots) and admission.sh
#                (pgbench, 32 clients) on throw-away clusters
#   isolation    tests/isolation/run.sh: pg_isolation_regress specs (concurrent sessions, pinned output)
#   stress       tests/stress/run.sh --short: random mix on 64 connections, a crash, invariants checked
#   http         tests/http/run.sh: grse-http against a cluster (every status, answers equal to the SQL
#                functions', tenant isolation, metrics, live events, a database restart)
#   browser      tests/browser/run.sh: the pages in headless Chromium (sign in, grid, detail, live update)
#   restore      tests/restore/run.sh: pg_dump / pg_restore (custom, --jobs, plain) with pre_restore and
#                post_restore: every row back, invariants, work continues; restores without the steps fail
#   replication  tests/replication/run.sh: logical replication to a subscriber (tables equal, guards
#                still refuse direct writes) and a hot standby serving every read function
#   battery      tests/battery/run.sh: every function and column with NULL/NaN/infinite/huge/deep values:
#                no internal error, NaN refused with 22xxx/23xxx, nothing changed by a refusal
#   scaleout     tests/scaleout/run.sh: a PL/Proxy router and two grse nodes (same answers as one node,
#                spends under load, a node stopped mid-run, a node added, regions moved under load)
#
# Environment:
#   ACCEPT=1     regress: copy the actual output of every test into
#                tests/pg_regress/expected/ afterwards (to create expected files
#                for new tests or accept intended changes; review with git diff).
#   KEEP=1       keep the temporary work directory (clusters, logs, results).
#   NO_INSTALL=1 use the grse already installed in the system PostgreSQL instead of
#                running `cargo pgrx install` first (for a machine shared by several builds).
#
# Intended to run as root on a Debian 12 machine prepared by scripts/setup.sh;
# the server processes always run as the `postgres` OS user.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$PG_CONFIG" --bindir)
CLUSTER="$ROOT/scripts/cluster.sh"
# Stages backed by a script tests/<stage>/run.sh that ends with "<stage>: N passed, M failed".
SCRIPT_STAGES=(upgrade http browser restore replication battery scaleout)
ALL_STAGES=(lint unit pgtest regress upgrade concurrency isolation stress http browser restore replication battery scaleout)

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi

if [ $# -gt 0 ]; then
    STAGES=("$@")
else
    STAGES=("${ALL_STAGES[@]}")
fi
for s in "${STAGES[@]}"; do
    case " ${ALL_STAGES[*]} " in *" $s "*) ;; *) echo "run-tests: unknown stage '$s' (stages: ${ALL_STAGES[*]})" >&2; exit 2 ;; esac
done

# One work directory for everything temporary. World-traversable, because the
# clusters inside it are owned by `postgres`.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/grse-tests.XXXXXX")
chmod 755 "$WORK"

cleanup() {
    local pidfile
    # Stop any cluster a stage left behind (stages trap this themselves too).
    for pidfile in "$WORK"/*/data/postmaster.pid; do
        [ -e "$pidfile" ] || continue
        bash "$CLUSTER" stop "$(dirname "$(dirname "$pidfile")")" || true
    done
    if [ "${KEEP:-0}" = 1 ]; then
        echo "run-tests: kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

banner() { printf '\n==== %s ====\n' "$*"; }

# `cargo pgrx install` (debug build) once per run: the regress and concurrency
# stages need the extension in the system directories, built without the
# pg_test feature (the pgtest stage installs a pg_test build).
INSTALLED_MARK="$WORK/.installed"
ensure_installed() {
    if [ "${NO_INSTALL:-0}" = 1 ]; then
        return 0
    fi
    if [ ! -e "$INSTALLED_MARK" ]; then
        echo "run-tests: cargo pgrx install (debug)"
        cargo pgrx install --pg-config "$PG_CONFIG"
        touch "$INSTALLED_MARK"
    fi
}

# ---------------------------------------------------------------------------
# Stages. Each runs in its own subshell with `set -e`, writes its output to
# the console and to $WORK/<stage>.log; counts are parsed from that log.
# ---------------------------------------------------------------------------

stage_unit() {
    cargo test -p grse-core -p grse-http
}

stage_pgtest() {
    if [ "$(id -u)" -eq 0 ]; then
        # initdb refuses root: pgrx runs the test server via `sudo -u postgres`,
        # in a PGDATA parent that postgres can write.
        local pgdata="$WORK/pgrx-pgdata"
        install -d -o postgres -g postgres "$pgdata"
        cargo pgrx test pg15 --runas postgres --pgdata "$pgdata"
    else
        cargo pgrx test pg15
    fi
}

stage_regress() {
    local cl="$WORK/regress-cluster" db=grse_regress
    local in="$WORK/regress-in" out="$WORK/regress-out"
    # shellcheck disable=SC2064  # expanded now, on purpose: $cl is local to this function
    trap "bash \"$CLUSTER\" stop \"$cl\" || true" EXIT
    ensure_installed

    local tests=() f t
    while IFS= read -r f; do
        tests+=("$(basename "$f" .sql)")
    done < <(find tests/pg_regress/sql -maxdepth 1 -name '*.sql' | LC_ALL=C sort)
    [ ${#tests[@]} -gt 0 ] || { echo "no tests in tests/pg_regress/sql"; exit 1; }

    # Work on a copy of the inputs: a test without an expected file gets an
    # empty one there (pg_regress would abort the whole run otherwise), so it
    # fails showing its complete output.
    mkdir -p "$in/sql" "$in/expected" "$out"
    cp tests/pg_regress/sql/*.sql "$in/sql/"
    cp -R tests/pg_regress/common "$in/"     # the shared preamble every file includes
    cp tests/pg_regress/expected/*.out "$in/expected/" 2>/dev/null || true
    for t in "${tests[@]}"; do
        if [ ! -f "$in/expected/$t.out" ]; then
            echo "run-tests: tests/pg_regress/expected/$t.out is missing (run with ACCEPT=1 to create it)"
            : >"$in/expected/$t.out"
        fi
    done

    bash "$CLUSTER" start "$cl" "$db"
    # What pg_regress would set on a database it creates itself (it does not
    # with --use-existing): stable message language and output formats.
    bash "$CLUSTER" psql "$cl" -d "$db" -XqAt -v ON_ERROR_STOP=1 <<SQL
ALTER DATABASE $db SET lc_messages TO 'C';
ALTER DATABASE $db SET lc_monetary TO 'C';
ALTER DATABASE $db SET lc_numeric TO 'C';
ALTER DATABASE $db SET lc_time TO 'C';
ALTER DATABASE $db SET bytea_output TO 'hex';
ALTER DATABASE $db SET timezone_abbreviations TO 'Default';
SQL

    # pg_regress is only a client: it may run as root. Results go to $out.
    # It feeds each file to psql on standard input, so psql resolves the files'
    # `\ir ../common/preamble.sql` against its working directory: run it from
    # the copy of sql/, next to the copy of common/.
    local rc=0 pg_regress
    pg_regress="$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress"
    (cd "$in/sql" && "$pg_regress" \
        --use-existing \
        --bindir="$PG_BIN" \
        --host="$cl/sock" --port="$(cat "$cl/port")" --user=postgres \
        --dbname="$db" \
        --inputdir="$in" \
        --outputdir="$out" \
        "${tests[@]}") || rc=$?

    if [ $rc -ne 0 ] && [ -s "$out/regression.diffs" ]; then
        echo "---- regression.diffs ----"
        cat "$out/regression.diffs"
        echo "---- end of regression.diffs ----"
    fi
    if [ "${ACCEPT:-0}" = 1 ]; then
        for t in "${tests[@]}"; do
            if [ -f "$out/results/$t.out" ] && ! cmp -s "$out/results/$t.out" "tests/pg_regress/expected/$t.out"; then
                cp "$out/results/$t.out" "tests/pg_regress/expected/$t.out"
                echo "run-tests: ACCEPT=1: wrote tests/pg_regress/expected/$t.out (review it)"
            fi
        done
    fi
    return $rc
}

stage_lint() {
    bash "$ROOT/tests/lint/run.sh"
}

# A script stage: tests/<stage>/run.sh against the installed extension.
stage_script() {
    ensure_installed
    bash "$ROOT/tests/$1/run.sh"
}
for s in "${SCRIPT_STAGES[@]}"; do
    eval "stage_$s() { stage_script $s; }"
done

stage_isolation() {
    ensure_installed
    bash "$ROOT/tests/isolation/run.sh"
}

stage_stress() {
    ensure_installed
    bash "$ROOT/tests/stress/run.sh" --short
}

stage_concurrency() {
    ensure_installed
    local rc=0
    bash "$ROOT/tests/concurrency/run.sh" || rc=$?
    SLOTS=8 bash "$ROOT/tests/concurrency/run.sh" || rc=$?
    bash "$ROOT/tests/concurrency/admission.sh" || rc=$?
    return $rc
}

# ---------------------------------------------------------------------------
# Counting: parse a stage log into "passed failed".
# ---------------------------------------------------------------------------
count_stage() {
    local stage=$1 log=$2
    case $stage in
        unit|pgtest)
            # cargo/libtest: "test result: ok. 12 passed; 0 failed; 0 ignored; ..."
            grep -E '^test result: ' "$log" | sed 's/\x1b\[[0-9;]*m//g' \
                | awk '{ for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
                       END { if (NR) print p + 0, f + 0 }'
            ;;
        regress)
            # pg_regress 15: "All 5 tests passed." / "2 of 5 tests failed."
            # (an " N of M tests ... ignored" variant exists for ignored tests)
            sed -n -E 's/^ *All ([0-9]+) tests passed\. *$/\1 0/p;
                       s/^ *([0-9]+) of ([0-9]+) tests failed\. *$/\2 \1/p' "$log" \
                | awk '{ print $1 - $2, $2; exit }'
            ;;
        *)
            # one summary line per script ("STAGE: N passed, M failed"): add them up
            sed -n -E "s/^$stage: ([0-9]+) passed, ([0-9]+) failed\$/\\1 \\2/p" "$log" \
                | awk '{ p += $1; f += $2 } END { if (NR) print p, f }'
            ;;
    esac
}

TOTAL_PASSED=0
TOTAL_FAILED=0
SUMMARY=()

for stage in "${STAGES[@]}"; do
    banner "stage: $stage"
    log="$WORK/$stage.log"
    set +e
    ( set -e; "stage_$stage" ) 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e

    read -r p f < <(count_stage "$stage" "$log"; echo) || true
    p=${p:-0}; f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1        # the stage failed without reporting a failing test: count the stage
    fi
    TOTAL_PASSED=$((TOTAL_PASSED + p))
    TOTAL_FAILED=$((TOTAL_FAILED + f))
    if [ "$rc" -eq 0 ]; then status=ok; else status="FAILED (exit $rc)"; fi
    SUMMARY+=("$(printf '  %-12s %-18s %d passed, %d failed' "$stage" "$status" "$p" "$f")")
done

banner "summary"
printf '%s\n' "${SUMMARY[@]}"
echo "tests: $TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ "$TOTAL_FAILED" -eq 0 ]
