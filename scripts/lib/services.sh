# shellcheck shell=bash
#
# Private PostgreSQL and RabbitMQ instances for tests and load tests.
#
# Source this file from a bash script running with `set -euo pipefail`, then:
#
#   fg_services_init            # creates FG_TMP (a fresh temp dir) and installs a cleanup trap
#   fg_require_postgres         # fails clearly when PostgreSQL 15 is absent
#   fg_ensure_rabbitmq          # apt-installs rabbitmq-server when root and missing
#   fg_start_postgres           # sets FG_PG_PORT, FG_PG_URL
#   fg_start_rabbitmq [plugins] # sets FG_AMQP_PORT, FG_AMQP_URL, FG_RABBIT_NODE, FG_RABBIT_HOME,
#                               #      FG_RABBITMQCTL, FG_EPMD_PORT
#
# Everything lives under FG_TMP; fg_services_cleanup (run by the EXIT trap) stops both
# services by PID, pg_ctl and rabbitmqctl, then removes FG_TMP. Nothing shared is touched:
# own node name, own ports (AMQP, distribution, and a private epmd), own HOME and cookie,
# so a system RabbitMQ started by the Debian package cannot collide with ours.
#
# Overrides (mostly for debugging the harness itself):
#   FLOODGATE_PG_BIN        PostgreSQL bin dir   (default /usr/lib/postgresql/15/bin)
#   FLOODGATE_RABBITMQ_BIN  RabbitMQ bin dir     (default /usr/lib/rabbitmq/bin)
#   FLOODGATE_KEEP_TMP=1    keep FG_TMP (logs, data) after the run

FG_PG_BIN="${FLOODGATE_PG_BIN:-/usr/lib/postgresql/15/bin}"
FG_RABBIT_BIN="${FLOODGATE_RABBITMQ_BIN:-/usr/lib/rabbitmq/bin}"

FG_TMP=""
FG_PG_DATA=""
FG_PG_STARTED=""
FG_RABBIT_STARTED=""
FG_CLEANED=""

fg_log() { printf '%s\n' "$*" >&2; }
fg_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

fg_now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
fg_elapsed() { awk -v a="$1" -v b="$(fg_now)" 'BEGIN { printf "%.1f s", b - a }'; }

fg_is_root() { [ "$(id -u)" -eq 0 ]; }

# Prints N distinct free TCP ports on 127.0.0.1 (all sockets are held until every port is picked).
fg_free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}

fg_random_suffix() { od -An -N6 -tx1 /dev/urandom | tr -d ' \n'; }

# Prints the last lines of a log file, indented, to stderr.
fg_tail_log() {
    local file="$1"
    if [ -s "$file" ]; then
        fg_log "---- last lines of $file ----"
        tail -n "${2:-40}" "$file" | sed 's/^/    /' >&2
        fg_log "----"
    else
        fg_log "(no log at $file)"
    fi
}

fg_apt_install() {
    fg_is_root || fg_die "$* is missing and installing it needs root: run as root or install it: apt-get install -y $*"
    fg_log "installing $* with apt-get ..."
    local log
    log="$(mktemp)"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"; } </dev/null >"$log" 2>&1; then
        fg_tail_log "$log" 60
        rm -f "$log"
        fg_die "apt-get install $* failed"
    fi
    rm -f "$log"
}

fg_require_postgres() {
    local tool
    for tool in initdb pg_ctl postgres; do
        [ -x "$FG_PG_BIN/$tool" ] || fg_die "PostgreSQL 15 not found: $FG_PG_BIN/$tool is missing or not executable. \
Install it (apt-get install -y postgresql-15) or point FLOODGATE_PG_BIN at a PostgreSQL bin directory."
    done
    if fg_is_root; then
        id postgres >/dev/null 2>&1 || fg_die "running as root but there is no 'postgres' user to run initdb as (initdb refuses root)"
    fi
}

fg_ensure_rabbitmq() {
    if [ ! -x "$FG_RABBIT_BIN/rabbitmq-server" ] && [ -z "${FLOODGATE_RABBITMQ_BIN:-}" ]; then
        fg_apt_install rabbitmq-server
    fi
    [ -x "$FG_RABBIT_BIN/rabbitmq-server" ] && [ -x "$FG_RABBIT_BIN/rabbitmqctl" ] ||
        fg_die "RabbitMQ not found: $FG_RABBIT_BIN/rabbitmq-server or rabbitmqctl is missing (set FLOODGATE_RABBITMQ_BIN or apt-get install -y rabbitmq-server)"
    command -v epmd >/dev/null 2>&1 || fg_die "epmd (Erlang) not found on PATH; reinstall rabbitmq-server / erlang-base"
}

fg_services_init() {
    FG_TMP="$(mktemp -d "${TMPDIR:-/tmp}/floodgate-test.XXXXXX")"
    # The postgres user must traverse into it to reach its own data directory.
    chmod 0755 "$FG_TMP"
    trap 'fg_services_cleanup' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}

# Runs a command as the postgres user when root (initdb refuses root), else as ourselves.
fg_as_postgres() {
    if fg_is_root; then
        local cmd="" arg
        for arg in "$@"; do cmd+="$(printf '%q ' "$arg")"; done
        su postgres -s /bin/sh -c "cd / && $cmd" </dev/null
    else
        "$@" </dev/null
    fi
}

fg_start_postgres() {
    local t0 dir
    t0="$(fg_now)"
    FG_PG_PORT="$(fg_free_ports 1)"
    dir="$FG_TMP/postgres"
    mkdir -p "$dir"
    fg_is_root && chown postgres: "$dir"
    FG_PG_DATA="$dir/data"
    printf 'starting PostgreSQL on 127.0.0.1:%s ... ' "$FG_PG_PORT" >&2
    if ! fg_as_postgres "$FG_PG_BIN/initdb" -D "$FG_PG_DATA" -A trust -U postgres -E UTF8 --no-sync >"$dir/initdb.log" 2>&1; then
        fg_log "FAILED (initdb)"
        fg_tail_log "$dir/initdb.log"
        fg_die "could not initialise a PostgreSQL cluster with $FG_PG_BIN/initdb"
    fi
    FG_PG_STARTED=1
    # Throwaway test clusters skip durability (nothing outlives the run); the load test sets
    # FG_PG_DURABLE=1 so its figures are for a PostgreSQL that really commits to disk.
    local opts="-p $FG_PG_PORT -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300"
    [ "${FG_PG_DURABLE:-0}" = 1 ] || opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if ! fg_as_postgres "$FG_PG_BIN/pg_ctl" -D "$FG_PG_DATA" -l "$dir/server.log" -w -t 60 \
        -o "$opts" \
        start >"$dir/pg_ctl.log" 2>&1; then
        fg_log "FAILED"
        fg_tail_log "$dir/pg_ctl.log" 10
        fg_tail_log "$dir/server.log"
        fg_die "PostgreSQL did not start on 127.0.0.1:$FG_PG_PORT"
    fi
    FG_PG_URL="postgres://postgres@127.0.0.1:$FG_PG_PORT/postgres"
    fg_log "ok ($(fg_elapsed "$t0"))"
}

fg_stop_postgres() {
    [ -n "$FG_PG_STARTED" ] || return 0
    FG_PG_STARTED=""
    local pid=""
    [ -f "$FG_PG_DATA/postmaster.pid" ] && pid="$(head -n1 "$FG_PG_DATA/postmaster.pid" 2>/dev/null || true)"
    [ -n "$pid" ] || return 0
    if ! fg_as_postgres "$FG_PG_BIN/pg_ctl" -D "$FG_PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1; then
        kill -QUIT "$pid" 2>/dev/null || true
    fi
    fg_wait_gone "$pid" 30 || { kill -KILL "$pid" 2>/dev/null || true; }
    fg_log "stopped PostgreSQL (pid $pid)"
}

# Waits up to $2 seconds for process $1 to exit.
fg_wait_gone() {
    local pid="$1" i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    ! kill -0 "$pid" 2>/dev/null
}

# The environment of our node; every rabbitmq-server/rabbitmqctl call goes through it.
fg_rabbit_env() {
    env HOME="$FG_RABBIT_HOME" \
        ERL_EPMD_PORT="$FG_EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1 \
        RABBITMQ_NODENAME="$FG_RABBIT_NODE" \
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
        RABBITMQ_NODE_PORT="$FG_AMQP_PORT" \
        RABBITMQ_DIST_PORT="$FG_RABBIT_DIST_PORT" \
        RABBITMQ_MNESIA_BASE="$FG_RABBIT_DIR/mnesia" \
        RABBITMQ_LOG_BASE="$FG_RABBIT_DIR/log" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$FG_RABBIT_DIR/enabled_plugins" \
        RABBITMQ_CONFIG_FILE="$FG_RABBIT_DIR/rabbitmq" \
        RABBITMQ_ADVANCED_CONFIG_FILE="$FG_RABBIT_DIR/advanced.config" \
        RABBITMQ_CONF_ENV_FILE="$FG_RABBIT_DIR/rabbitmq-env.conf" \
        RABBITMQ_PID_FILE="$FG_RABBIT_DIR/pid" \
        "$@"
}

# fg_start_rabbitmq [plugin ...], e.g. fg_start_rabbitmq rabbitmq_consistent_hash_exchange
fg_start_rabbitmq() {
    local t0 plugins
    t0="$(fg_now)"
    read -r FG_AMQP_PORT FG_RABBIT_DIST_PORT FG_EPMD_PORT <<<"$(fg_free_ports 3)"
    FG_RABBIT_NODE="floodgate-test-$(fg_random_suffix)@localhost"
    FG_RABBIT_DIR="$FG_TMP/rabbitmq"
    FG_RABBIT_HOME="$FG_RABBIT_DIR/home"
    mkdir -p "$FG_RABBIT_HOME" "$FG_RABBIT_DIR/mnesia" "$FG_RABBIT_DIR/log"
    plugins="$(IFS=,; printf '%s' "$*")"
    printf '[%s].\n' "$plugins" >"$FG_RABBIT_DIR/enabled_plugins"
    : >"$FG_RABBIT_DIR/rabbitmq-env.conf"
    printf '[].\n' >"$FG_RABBIT_DIR/advanced.config"
    cat >"$FG_RABBIT_DIR/rabbitmq.conf" <<EOF
loopback_users.guest = true
disk_free_limit.absolute = 50MB
log.console = false
log.file.level = info
EOF
    # rabbitmqctl for tests: carries our HOME (cookie) and private epmd port, whatever the caller's env.
    FG_RABBITMQCTL="$FG_RABBIT_DIR/rabbitmqctl"
    cat >"$FG_RABBITMQCTL" <<EOF
#!/bin/sh
export HOME='$FG_RABBIT_HOME' ERL_EPMD_PORT='$FG_EPMD_PORT' ERL_EPMD_ADDRESS=127.0.0.1
exec '$FG_RABBIT_BIN/rabbitmqctl' "\$@"
EOF
    chmod +x "$FG_RABBITMQCTL"

    printf 'starting RabbitMQ %s on 127.0.0.1:%s ... ' "$FG_RABBIT_NODE" "$FG_AMQP_PORT" >&2
    FG_RABBIT_STARTED=1
    if ! fg_rabbit_env "$FG_RABBIT_BIN/rabbitmq-server" -detached </dev/null >"$FG_RABBIT_DIR/start.log" 2>&1 ||
        ! fg_rabbit_env "$FG_RABBIT_BIN/rabbitmqctl" -n "$FG_RABBIT_NODE" wait "$FG_RABBIT_DIR/pid" --timeout 60 \
            </dev/null >"$FG_RABBIT_DIR/wait.log" 2>&1; then
        fg_log "FAILED"
        fg_tail_log "$FG_RABBIT_DIR/start.log" 10
        fg_tail_log "$FG_RABBIT_DIR/wait.log" 10
        local f
        for f in "$FG_RABBIT_DIR"/log/*.log; do [ -s "$f" ] && fg_tail_log "$f"; done
        fg_die "RabbitMQ node $FG_RABBIT_NODE did not start on 127.0.0.1:$FG_AMQP_PORT"
    fi
    FG_AMQP_URL="amqp://guest:guest@127.0.0.1:$FG_AMQP_PORT/%2f"
    fg_log "ok ($(fg_elapsed "$t0"))"
}

fg_stop_rabbitmq() {
    [ -n "$FG_RABBIT_STARTED" ] || return 0
    FG_RABBIT_STARTED=""
    local pid=""
    [ -s "$FG_RABBIT_DIR/pid" ] && pid="$(tr -dc '0-9' <"$FG_RABBIT_DIR/pid")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        fg_rabbit_env "$FG_RABBIT_BIN/rabbitmqctl" -n "$FG_RABBIT_NODE" stop "$FG_RABBIT_DIR/pid" \
            </dev/null >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
        fg_wait_gone "$pid" 30 || { kill -KILL "$pid" 2>/dev/null || true; }
        fg_log "stopped RabbitMQ $FG_RABBIT_NODE (pid $pid)"
    elif [ -n "$pid" ]; then
        fg_log "RabbitMQ $FG_RABBIT_NODE (pid $pid) had already exited"
    else
        # Interrupted before the node wrote its pid file: stop it by name if it is up.
        fg_rabbit_env "$FG_RABBIT_BIN/rabbitmqctl" -n "$FG_RABBIT_NODE" stop --timeout 30 \
            </dev/null >/dev/null 2>&1 && fg_log "stopped RabbitMQ $FG_RABBIT_NODE" || true
    fi
    # The node started a private epmd on FG_EPMD_PORT; it outlives the node unless told to stop.
    ERL_EPMD_PORT="$FG_EPMD_PORT" epmd -kill >/dev/null 2>&1 || true
}

fg_services_cleanup() {
    local status=$?
    [ -z "$FG_CLEANED" ] || return "$status"
    FG_CLEANED=1
    trap - INT TERM HUP
    fg_stop_rabbitmq || true
    fg_stop_postgres || true
    if [ -n "$FG_TMP" ] && [ -d "$FG_TMP" ]; then
        if [ "${FLOODGATE_KEEP_TMP:-}" = 1 ]; then
            fg_log "kept $FG_TMP"
        else
            rm -rf "$FG_TMP"
        fi
    fi
    return "$status"
}
