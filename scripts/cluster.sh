#!/usr/bin/env bash
# Throw-away PostgreSQL 15 clusters for tests, the demo and benchmarks.
#
#   scripts/cluster.sh start DIR [DBNAME]   initdb (if needed) + start + create DBNAME
#   scripts/cluster.sh stop  DIR            fast shutdown (safe to call twice)
#   scripts/cluster.sh psql  DIR [ARGS...]  psql connected to the cluster as `postgres`
#   scripts/cluster.sh env   DIR            prints `export PGHOST=... PGPORT=... PGUSER=postgres`
#   scripts/cluster.sh port  DIR            prints the TCP port
#
# Layout of DIR:  DIR/data (PGDATA), DIR/sock (unix socket), DIR/log (server log),
#                 DIR/port (TCP port on 127.0.0.1, chosen at start time).
#
# PostgreSQL refuses to run as root, so when called by root every server-side
# command runs as the `postgres` OS user (runuser) and DIR is owned by it; the
# parent of DIR must be traversable by `postgres`. Clients (psql, pgbench,
# pg_regress) may run as any user: authentication is `trust`, superuser
# `postgres`. DBNAME (default grse_test) is also what pg_cron's
# `cron.database_name` is set to, so `CREATE EXTENSION pg_cron` works there.
# The caller owns DIR: stop the cluster (e.g. in an EXIT trap), then rm -rf DIR.
set -euo pipefail

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$PG_CONFIG" --bindir)

die() { echo "cluster.sh: $*" >&2; exit 1; }

usage() {
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# Run a server-side command as the postgres OS user when we are root.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Ask the kernel for a currently free TCP port on 127.0.0.1 (perl is always
# present on Debian: postgresql-common is written in it).
free_port() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
                                      Proto => "tcp", Listen => 1, ReuseAddr => 1)
            or die "cannot bind: $!\n";
        print $s->sockport, "\n";'
}

is_running() {
    [ -f "$1/data/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" status -D "$1/data" >/dev/null 2>&1
}

cmd_start() {
    local dir=$1 db=${2:-grse_test}

    if is_running "$dir"; then
        echo "cluster.sh: already running in $dir (port $(cat "$dir/port"))" >&2
    else
        if [ ! -d "$dir" ]; then
            mkdir -p "$dir"
        fi
        if [ "$(id -u)" -eq 0 ]; then
            chown postgres:postgres "$dir"
            as_pg test -w "$dir" || die "$dir is not writable by the postgres user (check its parents' permissions)"
        fi
        as_pg mkdir -p "$dir/sock"

        if [ ! -f "$dir/data/PG_VERSION" ]; then
            # C locale + UTF8: output that does not depend on the machine's locale.
            as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust \
                --no-locale -E UTF8 >"$dir/initdb.log" 2>&1 \
                || { cat "$dir/initdb.log" >&2; die "initdb failed"; }

            local preload=""
            if [ -f "$("$PG_CONFIG" --pkglibdir)/pg_cron.so" ]; then
                preload="shared_preload_libraries = 'pg_cron'"
            else
                echo "cluster.sh: pg_cron is not installed; starting without it" >&2
            fi
            # Settings for a small local test server (fsync etc. left at their defaults).
            as_pg tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF

# ---- added by scripts/cluster.sh ----
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/sock'
max_connections = 100
$preload
cron.database_name = '$db'
log_line_prefix = '%m [%p] %d '
log_lock_waits = on
EOF
        fi

        # Pick a free port and start; if someone grabs the port between the
        # check and the bind, try again with another one.
        local port attempt
        for attempt in 1 2 3 4 5; do
            port=$(free_port)
            # RUST_BACKTRACE=0: error details must not depend on the caller's environment
            # (with backtraces on, pgrx adds a Rust backtrace to some error DETAILs)
            if RUST_BACKTRACE=0 as_pg "$PG_BIN/pg_ctl" start -D "$dir/data" -l "$dir/log" -w -t 120 \
                    -o "-p $port" >/dev/null 2>&1; then
                echo "$port" >"$dir/port"
                break
            fi
            echo "cluster.sh: start on port $port failed (attempt $attempt); log tail:" >&2
            tail -n 5 "$dir/log" >&2 || true
            port=""
        done
        [ -n "$port" ] || die "could not start a server in $dir (see $dir/log)"
    fi

    # Create the caller's database (idempotent).
    local p; p=$(cat "$dir/port")
    if ! "$PG_BIN/psql" -h "$dir/sock" -p "$p" -U postgres -d postgres -XtAq \
            -c "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
        "$PG_BIN/createdb" -h "$dir/sock" -p "$p" -U postgres "$db"
    fi
    echo "cluster.sh: running in $dir on 127.0.0.1:$p (socket $dir/sock), database $db" >&2
}

cmd_stop() {
    local dir=$1
    [ -f "$dir/data/postmaster.pid" ] || return 0          # never started / already stopped
    if ! as_pg "$PG_BIN/pg_ctl" stop -D "$dir/data" -m fast -w -t 60 >/dev/null 2>&1; then
        # fast shutdown did not finish in time (or the server was gone): make sure it is down
        as_pg "$PG_BIN/pg_ctl" stop -D "$dir/data" -m immediate -w -t 30 >/dev/null 2>&1 || true
    fi
    if is_running "$dir"; then
        die "server in $dir is still running"
    fi
}

cmd_psql() {
    local dir=$1; shift
    [ -f "$dir/port" ] || die "no cluster in $dir (missing $dir/port)"
    exec "$PG_BIN/psql" -h "$dir/sock" -p "$(cat "$dir/port")" -U postgres "$@"
}

cmd_env() {
    local dir=$1
    [ -f "$dir/port" ] || die "no cluster in $dir (missing $dir/port)"
    echo "export PGHOST='$dir/sock' PGPORT='$(cat "$dir/port")' PGUSER=postgres"
}

if [ $# -lt 2 ] || [ -z "$2" ]; then usage; fi
sub=$1; dir=$2; shift 2
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac     # absolute: it ends up in postgresql.conf
case "$sub" in
    start) cmd_start "$dir" "$@" ;;
    stop)  cmd_stop "$dir" ;;
    psql)  cmd_psql "$dir" "$@" ;;
    env)   cmd_env "$dir" ;;
    port)  [ -f "$dir/port" ] || die "no cluster in $dir"; cat "$dir/port" ;;
    *)     usage ;;
esac
