#!/usr/bin/env bash
# Instructions per spend (or per metric write), per system, counted by
# valgrind's callgrind: the same count for the same binary and inputs whatever
# else the machine does, so small changes of a path show where timings are too
# noisy.
#
#   bash bench/instructions.sh WORKDIR [N] [spend|metric|admit]
#
# WORKDIR is a work directory kept by `KEEP=1 bash bench/run.sh cpu` (its
# private server tree and cluster, loaded with the main fixture). The cluster
# is stopped; a single-user backend (postgres --single, asynchronous commit)
# then runs 200 and N (2000) spends of 1..500 cents on random regions of 100,
# each its own transaction, for grse and for the seed-style PL/pgSQL; the
# difference of the two totals over N - 200 is printed per spend, so the
# backend's start and end fall out. Every statement is parsed and planned
# (no prepared statement in single-user mode), alike for both systems.
# metric: N writes of the four pressures (0..40: no mode changes) of random
# regions of 100, grse's state table (its triggers) against the untriggered
# copy floor.state; any kept work dir of bench/run.sh has both.
# admit: N admissions of a posting job of 1..100 cents on random regions of
# 100 for random tenants of 100,000 (bench/cases/e_admit_*.sql), grse's
# admit_job against its PL/pgSQL reference (a work dir of `KEEP=1 bash
# bench/run.sh admit`, whose regions are normal and admit every job).
# Needs valgrind. The cluster's tables keep the spends (like any bench run).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
WORK=${1:?usage: bench/instructions.sh WORKDIR [N]}
N=${2:-2000}
FORM=${3:-spend}
case $FORM in
    spend) SYSTEMS=(grse seed) ;;
    metric) SYSTEMS=(grse floor) ;;
    admit) SYSTEMS=(grse ref) ;;
    *) echo "instructions: the form is spend, metric or admit, not $FORM" >&2; exit 2 ;;
esac
[ "$N" -gt 200 ] || { echo "instructions: N must be above 200" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "instructions: valgrind is not installed (Debian: valgrind)" >&2; exit 1; }
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGB="$WORK/pg$("$PG_CONFIG" --bindir)"
[ -x "$PGB/postgres" ] || { echo "instructions: no private server tree in $WORK (run KEEP=1 bash bench/run.sh cpu)" >&2; exit 1; }
PG_CONFIG="$PGB/pg_config" bash "$ROOT/scripts/cluster.sh" stop "$WORK/cluster" >/dev/null 2>&1 || true

TMP=$(mktemp -d "${TMPDIR:-/tmp}/grse-instr.XXXXXX")
chmod 777 "$TMP"
trap 'rm -rf "$TMP"' EXIT
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# the spends (metric writes): the same regions and amounts for both systems
inputs() { # SYSTEM COUNT
    local i table tenant region cost
    RANDOM=1
    for ((i = 0; i < $2; i++)); do
        if [ "$FORM" = admit ]; then
            tenant=$((RANDOM * 4 % 100000 + 1)) region=$((RANDOM % 100 + 1)) cost=$((RANDOM % 100 + 1))
            if [ "$1" = grse ]; then
                printf "SELECT * FROM grse.admit_job('posting', tenant_id => '00000000-0000-4000-9000-%012d'::uuid, region_id => '00000000-0000-4000-8000-%012d'::uuid, estimated_cost => %d);\n" \
                    "$tenant" "$region" "$cost"
            else
                printf "SELECT * FROM ref.admit_job('posting', '00000000-0000-4000-8000-%012d'::uuid, %d, '00000000-0000-4000-9000-%012d'::uuid);\n" \
                    "$region" "$cost" "$tenant"
            fi
        elif [ "$FORM" = metric ]; then
            if [ "$1" = grse ]; then table=grse.region_scaling_state; else table=floor.state; fi
            printf "UPDATE %s SET posting_pressure = %d, orchestration_pressure = %d, creative_pressure = %d, intel_pressure = %d WHERE region_id = '00000000-0000-4000-8000-%012d'::uuid;\n" \
                "$table" $((RANDOM % 41)) $((RANDOM % 41)) $((RANDOM % 41)) $((RANDOM % 41)) $((RANDOM % 100 + 1))
        else
            printf "SELECT %s.check_and_decrement_budget('00000000-0000-4000-8000-%012d'::uuid, %d, NULL, 'creative');\n" \
                "$1" $((RANDOM % 100 + 1)) $((RANDOM % 500 + 1))
        fi
    done
}
count() { # SYSTEM COUNT -> total instructions
    inputs "$1" "$2" >"$TMP/in.sql"
    chmod 644 "$TMP/in.sql"
    as_pg valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" --trace-children=no \
        "$PGB/postgres" --single -D "$WORK/cluster/data" -c synchronous_commit=off grse_bench \
        <"$TMP/in.sql" >"$TMP/backend.log" 2>&1
    grep -q ' ERROR: ' "$TMP/backend.log" && { echo "instructions: $1 failed:" >&2; grep ' ERROR: ' "$TMP/backend.log" | head -3 >&2; exit 1; }
    awk '/^(summary|totals):/ {print $2; exit}' "$TMP/cg.out"
}
echo "system  instructions per $FORM (callgrind, single-user backend, $((N - 200)) ${FORM}s)"
for sys in "${SYSTEMS[@]}"; do
    small=$(count "$sys" 200)
    big=$(count "$sys" "$N")
    printf '%-7s %d\n' "$sys" $(((big - small) / (N - 200)))
done
