#!/usr/bin/env bash
# Two builds of grse side by side on one cluster: the rounds take turns
# between the two grse.so files (and the untriggered floor, for the metric
# forms), so a change is measured against the build before it on the same
# machine in the same minutes, where two full runs an hour apart differ by
# more than the change.
#
#   bash bench/ab.sh WORKDIR BASE.so NEW.so [ROUNDS] [FORM]
#
# WORKDIR is a work directory kept by `KEEP=1 bash bench/run.sh ...` (its
# private server tree and cluster with the main fixture); BASE.so and NEW.so
# are grse.so files of two release builds of the same extension version
# (target/release/grse-pg15/usr/lib/postgresql/15/lib/grse.so after
# `cargo pgrx package`). Each run copies its build into the server tree
# (a new file: running backends keep theirs), then runs pgbench, whose new
# connections load it. FORM:
#   steady  metric writes, pressures 0..40 (no mode changes), 8 clients (default)
#   quiet   metric writes, pressures 0..90, grse.notify_mode_changes = off
#   metric  metric writes, pressures 0..90 (a quarter change a mode, announced)
#   spend   spends on 100 regions, 8 clients, durable (and the seed-style PL/pgSQL and the floor)
# ROUNDS (default 4) of 7 s per system. The build found in the tree at the
# start is put back at the end. Prints each run and the mean per system.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
USAGE="usage: bench/ab.sh WORKDIR BASE.so NEW.so [ROUNDS] [steady|quiet|metric|spend]"
WORK=${1:?$USAGE}
BASE=${2:?$USAGE}
NEW=${3:?$USAGE}
ROUNDS=${4:-4}
FORM=${5:-steady}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGB="$WORK/pg$("$PG_CONFIG" --bindir)"
LIB="$WORK/pg$("$PG_CONFIG" --pkglibdir)"
[ -x "$PGB/postgres" ] || { echo "ab: no private server tree in $WORK (run KEEP=1 bash bench/run.sh)" >&2; exit 1; }
for f in "$BASE" "$NEW"; do [ -f "$f" ] || { echo "ab: $f is not a file" >&2; exit 1; }; done
case $FORM in
    steady) PMAX=40; OPTS="" ;;
    quiet) PMAX=90; OPTS="-c grse.notify_mode_changes=off" ;;
    metric) PMAX=90; OPTS="" ;;
    spend) PMAX=0; OPTS="" ;;
    *) echo "$USAGE" >&2; exit 2 ;;
esac

CLUSTER="$ROOT/scripts/cluster.sh"
export PG_CONFIG="$PGB/pg_config"
bash "$CLUSTER" start "$WORK/cluster" grse_bench >/dev/null
eval "$(bash "$CLUSTER" env "$WORK/cluster")"
SAVED=$(mktemp "${TMPDIR:-/tmp}/grse-ab.XXXXXX")
cp "$LIB/grse.so" "$SAVED"
install_so() { cp "$1" "$LIB/grse.so.new" && mv "$LIB/grse.so.new" "$LIB/grse.so"; }
finish() { install_so "$SAVED"; rm -f "$SAVED"; bash "$CLUSTER" stop "$WORK/cluster" >/dev/null 2>&1 || true; }
trap finish EXIT
psql() { command psql -X -q -v ON_ERROR_STOP=1 -d grse_bench "$@"; }

if [ "$FORM" = steady ]; then
    # every mode settled at low pressure: the steady writes then change none
    install_so "$NEW"
    psql -c "UPDATE grse.region_scaling_state SET posting_pressure = 20, orchestration_pressure = 20,
                    creative_pressure = 20, intel_pressure = 20"
fi
if [ "$FORM" = spend ]; then SYSTEMS=(base new seed floor); else SYSTEMS=(base new floor); fi

declare -A SUM N
echo "form $FORM, $ROUNDS rounds of 7 s, 8 clients; base $BASE, new $NEW"
for ((i = 1; i <= ROUNDS; i++)); do
    for sys in "${SYSTEMS[@]}"; do
        case $sys in
            base) install_so "$BASE"; schema=grse ;;
            new) install_so "$NEW"; schema=grse ;;
            *) schema=$sys ;;
        esac
        psql -c "VACUUM ANALYZE" -c "CHECKPOINT"
        if [ "$FORM" = spend ]; then
            args=(-D rmin=1 -D rmax=100 -f "$ROOT/bench/cases/a_spend_$schema.sql")
        else
            args=(-D "pmax=$PMAX" -f "$ROOT/bench/cases/c_metric_$schema.sql")
        fi
        tps=$(PGOPTIONS="$OPTS" pgbench -n -M prepared -c 8 -j 2 -T 7 "${args[@]}" grse_bench 2>&1 |
            awk '/^tps/ {print $3}')
        [ -n "$tps" ] || { echo "ab: the $sys run failed" >&2; exit 1; }
        printf '%-6s round %d  %s TPS\n' "$sys" "$i" "$tps"
        SUM[$sys]=$(awk -v a="${SUM[$sys]:-0}" -v b="$tps" 'BEGIN {print a + b}')
        N[$sys]=$(( ${N[$sys]:-0} + 1 ))
    done
done
ref=${SYSTEMS[2]}
for sys in "${SYSTEMS[@]}"; do
    awk -v s="${SUM[$sys]}" -v n="${N[$sys]}" -v r="${SUM[$ref]}" -v m="${N[$ref]}" -v name="$sys" -v ref="$ref" \
        'BEGIN { mean = s / n; printf "%-6s mean %.0f TPS (%.3fx %s)\n", name, mean, mean / (r / m), ref }'
done
