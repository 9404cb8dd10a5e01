#!/usr/bin/env bash
# Isolation tests: pg_isolation_regress specs (concurrent sessions, pinned output).
#
# Needs the grse extension installed (`cargo pgrx install`). Starts its own
# throw-away cluster (scripts/cluster.sh, server run as the `postgres` OS user
# when we are root), runs every spec in tests/isolation/specs/*.spec (sorted)
# against it with pg_isolation_regress --use-existing, and compares the output
# with tests/isolation/expected/NAME.out.
#
# Each spec's setup drops and re-creates the extension and its fixed-id
# regions, and its teardown drops the extension, so the specs can share one
# database (grse_iso) and run in any order.
#
# Output: pg_isolation_regress's report, regression.diffs on failure, and one
# last line
#   isolation: N passed, M failed
# (N, M count specs); exit status non-zero when a spec failed.
#
# Environment:
#   ACCEPT=1   copy the actual output of every spec to tests/isolation/expected/
#              (to create expected files; read them before keeping them)
#   KEEP=1     keep the temporary directory (cluster, server log, results)
#   SPECS="a b"  run only these specs (names without .spec)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$PG_CONFIG" --bindir)
CLUSTER="$ROOT/scripts/cluster.sh"
DB=grse_iso

# pg_isolation_regress runs the isolationtester found next to itself (Debian
# ships both in postgresql-server-dev-15 under pgxs/src/test/isolation).
ISO_DIR="$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/isolation"
ISO_REGRESS="$ISO_DIR/pg_isolation_regress"
for exe in "$ISO_REGRESS" "$ISO_DIR/isolationtester"; do
    if [ ! -x "$exe" ]; then
        echo "isolation: $exe not found (install postgresql-server-dev-15)"
        echo "isolation: 0 passed, 1 failed"
        exit 1
    fi
done

specs=()
while IFS= read -r f; do
    specs+=("$(basename "$f" .spec)")
done < <(find "$HERE/specs" -maxdepth 1 -name '*.spec' | LC_ALL=C sort)
if [ -n "${SPECS:-}" ]; then read -ra specs <<<"$SPECS"; fi
if [ ${#specs[@]} -eq 0 ]; then
    echo "isolation: no specs in tests/isolation/specs"
    echo "isolation: 0 passed, 1 failed"
    exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/grse-iso.XXXXXX")
chmod 755 "$WORK"                  # the cluster inside is owned by `postgres`
CL="$WORK/cluster"
IN="$WORK/in"
OUT="$WORK/out"
cleanup() {
    bash "$CLUSTER" stop "$CL" || true
    if [ "${KEEP:-0}" != 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ "${KEEP:-0}" = 1 ]; then
    echo "# KEEP=1: keeping $WORK (cluster stopped at exit; results in $WORK/out)"
fi

# Work on a copy of the inputs: a spec without an expected file gets an empty
# one there, so it fails showing its complete output instead of aborting the run.
mkdir -p "$IN/specs" "$IN/expected" "$OUT"
cp "$HERE"/specs/*.spec "$IN/specs/"
cp "$HERE"/expected/*.out "$IN/expected/" 2>/dev/null || true
for t in "${specs[@]}"; do
    if [ ! -f "$IN/expected/$t.out" ]; then
        echo "isolation: tests/isolation/expected/$t.out is missing (run with ACCEPT=1 to create it)"
        : >"$IN/expected/$t.out"
    fi
done

# The run could not even start: every spec counts as failed.
abort() {
    echo "isolation: $*"
    echo "isolation: 0 passed, ${#specs[@]} failed"
    exit 1
}

started=$(date +%s)
bash "$CLUSTER" start "$CL" "$DB" || abort "could not start a cluster in $CL"
eval "$(bash "$CLUSTER" env "$CL")"

# What pg_regress would set on a database it creates itself (it does not with
# --use-existing): stable message language and output formats.
if ! "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$DB" <<SQL
ALTER DATABASE $DB SET lc_messages TO 'C';
ALTER DATABASE $DB SET lc_monetary TO 'C';
ALTER DATABASE $DB SET lc_numeric TO 'C';
ALTER DATABASE $DB SET lc_time TO 'C';
ALTER DATABASE $DB SET bytea_output TO 'hex';
ALTER DATABASE $DB SET timezone_abbreviations TO 'Default';
SQL
then
    abort "could not configure database $DB"
fi

# pg_isolation_regress is only a client: it may run as root.
set +e
"$ISO_REGRESS" \
    --use-existing \
    --host="$PGHOST" --port="$PGPORT" --user=postgres \
    --dbname="$DB" \
    --inputdir="$IN" \
    --outputdir="$OUT" \
    "${specs[@]}" 2>&1 | tee "$WORK/pg_isolation_regress.log"
rc=${PIPESTATUS[0]}
set -e

if [ "$rc" -ne 0 ] && [ -s "$OUT/regression.diffs" ]; then
    echo "---- regression.diffs ----"
    cat "$OUT/regression.diffs"
    echo "---- end of regression.diffs ----"
fi
if [ "$rc" -ne 0 ]; then
    echo "---- server log (last 40 lines) ----"
    tail -n 40 "$CL/log" 2>/dev/null || true
    echo "---- end of server log ----"
fi

if [ "${ACCEPT:-0}" = 1 ]; then
    mkdir -p "$HERE/expected"
    for t in "${specs[@]}"; do
        if [ -f "$OUT/results/$t.out" ] && ! cmp -s "$OUT/results/$t.out" "$HERE/expected/$t.out"; then
            cp "$OUT/results/$t.out" "$HERE/expected/$t.out"
            echo "isolation: ACCEPT=1: wrote tests/isolation/expected/$t.out (review it)"
        fi
    done
fi

# Count specs: pg_regress (15) prints "test NAME ... ok" per passing spec.
passed=0
for t in "${specs[@]}"; do
    if grep -qE "^(test )?$t +\.\.\. ok( |$)" "$WORK/pg_isolation_regress.log"; then
        passed=$((passed + 1))
    fi
done
failed=$((${#specs[@]} - passed))
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1            # pg_isolation_regress failed without a failing spec: count it
fi
echo "# isolation run time: $(( $(date +%s) - started )) s"
echo "isolation: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
