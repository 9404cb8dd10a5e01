#!/usr/bin/env bash
# Where the time of a durable spend goes, per system: one client, durable
# commits, each run after a CHECKPOINT, with track_wal_io_timing on; prints
# per transaction the latency, WAL bytes, full-page images, and the time the
# WAL write and the WAL flush (fdatasync) took. What is left of the latency
# besides the flush is the backend's own work between two flushes; the last
# column is the latency of the same run with asynchronous commit (no flush
# wait: the backend's work alone, with the CPU never idle between calls).
#
#   bash bench/wal-split.sh WORKDIR [SECONDS] [ROUNDS] [CASE]
#
# CASE is spend (default: grse, seed and floor spends over 100 regions, one
# client) or admit (grse's admit_job and its PL/pgSQL reference, 8 clients,
# as the admit case of run.sh: the WAL columns count the job record grse
# writes; the latency columns are per transaction of 8 concurrent clients).
#
# WORKDIR is a work directory kept by `KEEP=1 bash bench/run.sh ...` (its
# cluster, loaded with the main fixture); SECONDS per run (5), ROUNDS (2:
# every system once per round, in turn). Turns track_wal_io_timing on in
# that cluster (ALTER SYSTEM).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
WORK=${1:?usage: bench/wal-split.sh WORKDIR [SECONDS] [ROUNDS] [spend|admit]}
SECS=${2:-5}
ROUNDS=${3:-2}
CASE=${4:-spend}
case $CASE in
    spend) SYSTEMS=(grse seed floor); ARGS=(-c 1 -D rmin=1 -D rmax=100); SCRIPT=bench/cases/a_spend_ ;;
    admit) SYSTEMS=(grse ref); ARGS=(-c 8 -j 2); SCRIPT=bench/cases/e_admit_ ;;
    *) echo "wal-split: unknown case '$CASE' (spend or admit)" >&2; exit 2 ;;
esac
export PG_CONFIG="$WORK/pg/usr/lib/postgresql/15/bin/pg_config"
[ -x "$PG_CONFIG" ] || PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
PG_BIN=$("$PG_CONFIG" --bindir)
CLUSTER="$ROOT/scripts/cluster.sh"
bash "$CLUSTER" start "$WORK/cluster" grse_bench >/dev/null 2>&1 || true   # (says so if it runs already)
eval "$(bash "$CLUSTER" env "$WORK/cluster")"
q() { psql -qAtX -d grse_bench -v ON_ERROR_STOP=1 "$@"; }
q -c "ALTER SYSTEM SET track_wal_io_timing = on" -c "SELECT pg_reload_conf()" >/dev/null
cd "$ROOT"
echo "system | transactions | latency ms | WAL bytes/tx | FPI/tx | WAL write µs/tx | WAL flush µs/tx | rest µs/tx | async latency µs"
for _ in $(seq 1 "$ROUNDS"); do
    for sys in "${SYSTEMS[@]}"; do
        q -c "CHECKPOINT" -c "SELECT pg_stat_reset_shared('wal')" >/dev/null
        out=$("$PG_BIN/pgbench" -n -M prepared "${ARGS[@]}" -T "$SECS" -f "$SCRIPT$sys.sql" grse_bench 2>&1)
        n=$(awk -F': ' '/actually processed/ {print $2}' <<<"$out" | cut -d/ -f1)
        lat=$(awk '/latency average/ {print $4}' <<<"$out")
        row=$(q -c "SELECT '$sys | $n | $lat | ' || round(wal_bytes / $n) || ' | ' || round(wal_fpi::numeric / $n, 3)
                     || ' | ' || round((wal_write_time * 1000 / $n)::numeric, 1)
                     || ' | ' || round((wal_sync_time * 1000 / $n)::numeric, 1)
                     || ' | ' || round(($lat * 1000 - (wal_write_time + wal_sync_time) * 1000 / $n)::numeric, 1)
                FROM pg_stat_wal")
        q -c "CHECKPOINT" >/dev/null
        alat=$(PGOPTIONS="-c synchronous_commit=off" "$PG_BIN/pgbench" -n -M prepared "${ARGS[@]}" -T "$SECS" \
                   -f "$SCRIPT$sys.sql" grse_bench 2>&1 | awk '/latency average/ {print $4 * 1000}')
        echo "$row | $alat"
    done
done
