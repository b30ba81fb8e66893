#!/usr/bin/env bash
# The production topology on one machine's loopback, for trying it and for bench/failover.sh:
# a pg_auto_failover formation (deploy/formation.sh: monitor, primary, synchronous standby), two
# venuecode nodes (release build) given the formation's multi-host URL and the standby for reads,
# and haproxy in front (deploy/haproxy.cfg, checking each node's /readyz).
#
#   deploy/topology.sh up       build if needed, start everything, print the address to send requests to
#   deploy/topology.sh status   the formation's nodes and each server node's /readyz
#   deploy/topology.sh down     stop everything (`down --purge` also removes the formation's data)
#
# Then e.g. `deploy/formation.sh failover` loses the primary's host while scans go on through haproxy.
# Needs: Debian's postgresql-15-auto-failover, pg-auto-failover-cli and haproxy. TOPOLOGY_PORT (default
# 18200) is haproxy's port, the nodes take the next two; FORMATION_DIR and FORMATION_PORT as in
# deploy/formation.sh. The nodes run with development settings (APP_ENV=development, keys generated
# once in the shared DATA_DIR): production sets its own keys (README, Production).
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${TOPOLOGY_PORT:-18200}"
export FORMATION_DIR="${FORMATION_DIR:-/tmp/venuecode-formation}"
RUN="$FORMATION_DIR/topology"
BINARY="${VENUECODE:-target/release/venuecode}"

die() { echo "topology: $*" >&2; exit 1; }

ready() { curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$1/readyz"; }

up() {
    for tool in haproxy pg_autoctl curl; do
        command -v "$tool" >/dev/null || die "$tool is needed (apt-get install haproxy postgresql-15-auto-failover pg-auto-failover-cli curl)"
    done
    [ -x "$BINARY" ] || cargo build --release --quiet
    local url read_url
    url=$(bash deploy/formation.sh up | tail -1)
    read_url=$(bash deploy/formation.sh read-url)
    mkdir -p "$RUN"
    for n in 1 2; do
        if [ -f "$RUN/node$n.pid" ] && kill -0 "$(cat "$RUN/node$n.pid")" 2>/dev/null; then continue; fi
        APP_ENV=development APP_PORT=$((PORT + n)) DATA_DIR="$RUN/data" DATABASE_URL="$url" \
            DATABASE_READ_URL="$read_url" PUBLIC_BASE_URL="http://127.0.0.1:$PORT" LOG_FORMAT=json \
            RUST_LOG="${RUST_LOG:-warn}" VILLAGE_PROVINCES="${VILLAGE_PROVINCES:-none}" \
            CHECKIN_HOURLY_LIMIT="${CHECKIN_HOURLY_LIMIT:-60}" \
            setsid "$BINARY" serve >>"$RUN/node$n.log" 2>&1 </dev/null &
        echo $! >"$RUN/node$n.pid"
        # The first node applies the migrations; the second starts once it is ready.
        for _ in $(seq 1 300); do ready $((PORT + n)) && break; sleep 0.1; done
        ready $((PORT + n)) || die "node $n did not become ready (log: $RUN/node$n.log)"
    done
    if ! { [ -f "$RUN/haproxy.pid" ] && kill -0 "$(cat "$RUN/haproxy.pid")" 2>/dev/null; }; then
        VENUECODE_FRONT="127.0.0.1:$PORT" VENUECODE_NODE1="127.0.0.1:$((PORT + 1))" \
            VENUECODE_NODE2="127.0.0.1:$((PORT + 2))" \
            haproxy -f deploy/haproxy.cfg -D -p "$RUN/haproxy.pid" >>"$RUN/haproxy.log" 2>&1
    fi
    for _ in $(seq 1 50); do ready "$PORT" && break; sleep 0.1; done
    ready "$PORT" || die "haproxy does not answer on $PORT"
    echo "http://127.0.0.1:$PORT"
}

status() {
    bash deploy/formation.sh status
    for n in 1 2; do
        if ready $((PORT + n)); then echo "node$n 127.0.0.1:$((PORT + n)) ready"; else echo "node$n 127.0.0.1:$((PORT + n)) not ready"; fi
    done
}

down() {
    local name
    for name in haproxy node1 node2; do
        if [ -f "$RUN/$name.pid" ]; then
            kill "$(cat "$RUN/$name.pid")" 2>/dev/null || true
            rm -f "$RUN/$name.pid"
        fi
    done
    bash deploy/formation.sh down "${1:-}"
}

case "${1:-}" in
    up) up ;;
    status) status ;;
    down) down "${2:-}" ;;
    *)
        sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
