#!/usr/bin/env bash
# A pg_auto_failover formation on this machine's loopback: a monitor, a primary and a synchronous
# standby of PostgreSQL 15, each run by its own pg_autoctl keeper as the `postgres` user. The tests
# and bench/failover.sh use it; deploy/topology.sh puts two server nodes and haproxy in front.
#
#   deploy/formation.sh up          create (first time) or start the formation; prints the server's URL
#   deploy/formation.sh url         the multi-host DATABASE_URL (target_session_attrs=read-write)
#   deploy/formation.sh read-url    a URL that reaches whichever node is the standby, for DATABASE_READ_URL
#   deploy/formation.sh status      which node is primary and which standby
#   deploy/formation.sh primary     the port of the node that takes writes now
#   deploy/formation.sh failover    the primary's whole host lost: its keeper and PostgreSQL killed (kill -9)
#   deploy/formation.sh crash       only the primary's postmaster killed (kill -9); its keeper restarts it
#   deploy/formation.sh rejoin      a lost node started again (it comes back as the standby)
#   deploy/formation.sh switchover  a planned switchover (maintenance): the standby becomes primary
#   deploy/formation.sh wait        until there is one primary and one synchronous standby
#   deploy/formation.sh down        stop everything; `down --purge` also removes the data
#
# FORMATION_DIR (default /tmp/venuecode-formation) holds the data, FORMATION_PORT (default 6100) is the
# monitor's port, the nodes take the next two. The monitor's detection is tuned (see DETECTION below):
# losing the primary's whole host means writes again in about 12 s instead of pg_auto_failover's 50 s.
set -euo pipefail

DIR="${FORMATION_DIR:-/tmp/venuecode-formation}"
PORT="${FORMATION_PORT:-6100}"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
DB="${FORMATION_DB:-venuecode}"
NODES=(node1 node2)

# Monitor settings (ms), applied with ALTER SYSTEM on the monitor: check each node every 2 s, give
# up on it after one retry, consider it unhealthy after 5 s and let a primary that lost the monitor
# and its standby demote itself after 5 s. pg_auto_failover's defaults are 20 s / 20 s / 30 s.
DETECTION=(
    "pgautofailover.health_check_period=2000"
    "pgautofailover.health_check_timeout=2000"
    "pgautofailover.health_check_max_retries=1"
    "pgautofailover.health_check_retry_delay=1000"
    "pgautofailover.node_considered_unhealthy_timeout=5000"
    "pgautofailover.primary_demote_timeout=5000"
)

die() { echo "formation: $*" >&2; exit 1; }

# Runs a command as `postgres` (pg_autoctl and PostgreSQL refuse root), with PostgreSQL's tools first
# on the PATH.
as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- env PATH="$PGBIN:$PATH" HOME="$DIR" "$@"
    else
        env PATH="$PGBIN:$PATH" "$@"
    fi
}

port_of() {
    case "$1" in
        monitor) echo "$PORT" ;;
        node1) echo $((PORT + 1)) ;;
        node2) echo $((PORT + 2)) ;;
    esac
}

monitor_uri() {
    as_postgres pg_autoctl show uri --pgdata "$DIR/monitor" --formation monitor
}

# Starts the keeper of `name` in the background, detached, logging to DIR/name.log.
start_keeper() {
    local name=$1
    shift
    as_postgres bash -c 'setsid "$@" >>"'"$DIR/$name.log"'" 2>&1 < /dev/null & echo $! >"'"$DIR/$name.pid"'"' _ "$@"
}

keeper_running() {
    local pid
    pid=$(cat "$DIR/$1.pid" 2>/dev/null) || return 1
    kill -0 "$pid" 2>/dev/null
}

wait_for() {
    local what=$1 seconds=$2
    shift 2
    for _ in $(seq 1 $((seconds * 5))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    die "$what did not happen within ${seconds}s (logs in $DIR/*.log)"
}

psql_at() {
    local port=$1 db=$2
    shift 2
    as_postgres psql -h 127.0.0.1 -p "$port" -U postgres -d "$db" -X -q -t -A "$@"
}

start_monitor() {
    if [ ! -d "$DIR/monitor" ]; then
        start_keeper monitor pg_autoctl create monitor --pgdata "$DIR/monitor" --pgport "$(port_of monitor)" \
            --hostname 127.0.0.1 --listen 127.0.0.1 --auth trust --ssl-self-signed --run
    elif ! keeper_running monitor; then
        start_keeper monitor pg_autoctl run --pgdata "$DIR/monitor"
    fi
    wait_for "the monitor" 60 psql_at "$(port_of monitor)" pg_auto_failover -c "select 1"
    local setting
    for setting in "${DETECTION[@]}"; do
        psql_at "$(port_of monitor)" pg_auto_failover -c "alter system set ${setting%%=*} = ${setting#*=}"
    done
    psql_at "$(port_of monitor)" pg_auto_failover -c "select pg_reload_conf()" >/dev/null
}

start_node() {
    local name=$1
    if [ ! -d "$DIR/$name" ]; then
        start_keeper "$name" pg_autoctl create postgres --pgdata "$DIR/$name" --pgport "$(port_of "$name")" \
            --hostname 127.0.0.1 --listen 127.0.0.1 --auth trust --ssl-self-signed \
            --monitor "$(monitor_uri)" --dbname "$DB" --name "$name" --run
    elif ! keeper_running "$name"; then
        start_keeper "$name" pg_autoctl run --pgdata "$DIR/$name"
    fi
}

# The JSON state of every node, as the monitor sees it.
state_json() {
    as_postgres pg_autoctl show state --pgdata "$DIR/monitor" --json
}

# `name port reported_state assigned_state` a line per node.
states() {
    psql_at "$(port_of monitor)" pg_auto_failover -F ' ' -c \
        "select nodename, nodeport, reportedstate, goalstate from pgautofailover.node order by nodeid"
}

# One primary and a synchronous standby, as the monitor sees them and as the nodes themselves say:
# a node coming back from a failover is reported a secondary before its PostgreSQL has restarted as
# one, and meanwhile it takes connections as the primary it was.
settled() {
    local lines port
    lines=$(states)
    [ "$(grep -c ' primary primary$' <<<"$lines")" = 1 ] &&
        [ "$(grep -c ' secondary secondary$' <<<"$lines")" -ge 1 ] || return 1
    for port in $(awk '$3 == "secondary" { print $2 }' <<<"$lines"); do
        [ "$(psql_at "$port" postgres -c 'select pg_is_in_recovery()' 2>/dev/null)" = t ] || return 1
    done
}

primary_port() {
    states | awk '$3 == "primary" && $4 == "primary" { print $2 }' | head -1
}

primary_name() {
    states | awk '$3 == "primary" && $4 == "primary" { print $1 }' | head -1
}

url() {
    # pg_autoctl's URI has no user name and asks for TLS; the formation runs on loopback with trust.
    local uri
    uri=$(as_postgres pg_autoctl show uri --pgdata "$DIR/monitor" --formation default)
    uri=${uri/postgres:\/\//postgres:\/\/postgres@}
    echo "${uri/sslmode=require/sslmode=prefer}"
}

# Every data node, for whichever is the standby now (libpq's target_session_attrs=standby): after
# a failover or switchover the URL still reaches the standby, not the new primary.
read_url() {
    echo "postgres://postgres@127.0.0.1:$(port_of node1),127.0.0.1:$(port_of node2)/$DB?target_session_attrs=standby"
}

# Whether something listens on loopback `port`.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

up() {
    local name
    for name in monitor "${NODES[@]}"; do
        if [ ! -d "$DIR/$name" ] && listening "$(port_of "$name")"; then
            die "port $(port_of "$name") is taken by another server: set FORMATION_PORT (or stop the formation there)"
        fi
    done
    mkdir -p "$DIR"
    [ "$(id -u)" != 0 ] || chown postgres: "$DIR"
    start_monitor
    start_node node1
    wait_for "node1 as the primary" 120 psql_at "$(port_of node1)" "$DB" -c "select 1"
    start_node node2
    # The standby's pg_basebackup waits for a checkpoint on the primary: force one now.
    for _ in $(seq 1 120); do
        psql_at "$(port_of node1)" postgres -c checkpoint >/dev/null 2>&1 || true
        if settled 2>/dev/null; then break; fi
        sleep 1
    done
    wait_for "a primary and a synchronous standby" 120 settled
    url
}

down() {
    local name
    for name in "${NODES[@]}" monitor; do
        if [ -d "$DIR/$name" ]; then
            as_postgres pg_autoctl stop --pgdata "$DIR/$name" --fast >/dev/null 2>&1 || true
        fi
    done
    for name in "${NODES[@]}" monitor; do
        local pid
        pid=$(cat "$DIR/$name.pid" 2>/dev/null) || continue
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$DIR/$name.pid"
    done
    if [ "${1:-}" = "--purge" ]; then
        # The keepers' state outside the data folders (XDG dirs under HOME=DIR) goes with them.
        rm -rf "$DIR"
    fi
}

# The postmaster of the node on `port`.
postmaster_of() {
    head -1 "$DIR/$1/postmaster.pid"
}

case "${1:-}" in
    up) up ;;
    down) down "${2:-}" ;;
    url) url ;;
    read-url) read_url ;;
    status) states ;;
    json) state_json ;;
    primary) primary_port ;;
    wait) wait_for "a primary and a synchronous standby" "${2:-120}" settled ;;
    failover)
        name=$(primary_name)
        [ -n "$name" ] || die "no primary"
        # The whole host: the keeper's process group (the keeper, its workers and the PostgreSQL it
        # runs) at once, so nothing of it restarts anything.
        postmaster=$(postmaster_of "$name")
        kill -9 -- "-$(cat "$DIR/$name.pid")" 2>/dev/null || true
        kill -9 "$postmaster" 2>/dev/null || true
        rm -f "$DIR/$name.pid"
        echo "$name"
        ;;
    crash)
        name=$(primary_name)
        [ -n "$name" ] || die "no primary"
        kill -9 "$(postmaster_of "$name")"
        echo "$name"
        ;;
    rejoin)
        for name in "${NODES[@]}"; do start_node "$name"; done
        wait_for "a primary and a synchronous standby" 120 settled
        ;;
    switchover)
        as_postgres pg_autoctl perform switchover --pgdata "$DIR/monitor" --formation default >/dev/null
        ;;
    *)
        sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
