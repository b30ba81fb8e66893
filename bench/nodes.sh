#!/usr/bin/env bash
# Several nodes on one PostgreSQL behind haproxy (apt-get install haproxy wrk): NODES servers
# (default 2) share the database given by DATABASE_URL (run it under bench/postgres.sh). It
# measures fresh scans and GET /healthz through the balancer, with their ratio, then how long a
# code rotated through one node takes to work on another (the change feed, CACHE_SYNC_MS).
# Usage: bash bench/postgres.sh bash bench/nodes.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-15}
CONNECTIONS=${2:-32}
NODES=${NODES:-2}
PORT=${PORT:-18100}
[[ ${DATABASE_URL:-} == postgres* ]] || { echo "DATABASE_URL must name a PostgreSQL database (see bench/postgres.sh)" >&2; exit 1; }
for tool in wrk haproxy; do command -v $tool >/dev/null || { echo "$tool is needed: apt-get install $tool" >&2; exit 1; }; done
cargo build --release --quiet
work=$(mktemp -d)
pids=()
trap 'kill ${pids[@]} 2>/dev/null || true; rm -rf "$work"' EXIT
# The one-time background load of the villages is not what these measure.
export VILLAGE_PROVINCES=${VILLAGE_PROVINCES:-none}
export DATA_DIR="$work/data" CHECKIN_HOURLY_LIMIT=1000000 RUST_LOG=warn LOG_FORMAT=json
export PUBLIC_BASE_URL="http://127.0.0.1:$PORT"
servers=""
for n in $(seq "$NODES"); do
  APP_PORT=$((PORT + n)) target/release/venuecode serve > "$work/node$n.log" 2>&1 &
  pids+=($!)
  servers+="    server node$n 127.0.0.1:$((PORT + n))"$'\n'
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$((PORT + n))/readyz" >/dev/null && break; sleep 0.1; done
done
cat > "$work/haproxy.cfg" <<CFG
global
    maxconn 4096
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    option http-keep-alive
frontend front
    bind 127.0.0.1:$PORT
    default_backend nodes
backend nodes
    balance roundrobin
$servers
CFG
haproxy -f "$work/haproxy.cfg" -db > "$work/haproxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
VENUECODE=target/release/venuecode python3 bench/seed_scans.py "http://127.0.0.1:$PORT" "$work/pairs.tsv"

summarise() {
  awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
       /Non-2xx/ {bad=$5} END {printf "%s %s %s %d\n", rps, p50, p99, bad}' "$1"
}
echo "== GET /healthz through haproxy, $NODES nodes, $CONNECTIONS connections, $SECONDS_TO_RUN s"
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_TO_RUN}s" --latency "http://127.0.0.1:$PORT/healthz" > "$work/healthz.txt"
read -r healthz _ _ _ < <(summarise "$work/healthz.txt")
echo "== fresh scans through haproxy"
MODE=fresh PAIRS="$work/pairs.tsv" wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_TO_RUN}s" --latency \
  -s bench/scan.lua "http://127.0.0.1:$PORT" > "$work/fresh.txt"
grep "^status" "$work/fresh.txt" | head -3 || true
read -r rps p50 p99 bad < <(summarise "$work/fresh.txt")
echo "== coherence (after the load: it revokes codes the load scans): a code rotated through node 1, scanned on node 2 until it works"
python3 - "$PORT" "$work/pairs.tsv" <<'PY'
import json, sys, time, urllib.request, urllib.error
port, pairs = int(sys.argv[1]), sys.argv[2]
seed = json.load(open(pairs + ".json"))
tokens = [line.split("\t")[0] for line in open(pairs) if line.strip()]
def call(node, method, path, body, token):
    request = urllib.request.Request(f"http://127.0.0.1:{port + node}{path}", data=json.dumps(body).encode(), method=method)
    request.add_header("content-type", "application/json")
    request.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
delays = []
for round, entrance in enumerate(seed["entrances"][:10]):
    token = tokens[round * 7]
    status, _ = call(2, "POST", "/api/v1/check-ins", {"code": entrance["code_url"]}, token)
    assert status == 201, status
    path = f"/api/v1/venues/{seed['venue_id']}/entrances/{entrance['id']}/code/rotate"
    status, rotated = call(1, "POST", path, {}, seed["manager"])
    assert status == 200, (status, rotated)
    changed = time.monotonic()
    while True:
        status, _ = call(2, "POST", "/api/v1/check-ins", {"code": rotated["code_url"]}, tokens[round * 7 + 1])
        if status == 201:
            break
        assert status == 410, status
        time.sleep(0.005)
    delays.append((time.monotonic() - changed) * 1000)
delays.sort()
print(f"rotated code works on node 2 after: median {delays[len(delays) // 2]:.0f} ms, max {delays[-1]:.0f} ms ({len(delays)} rotations)")
PY

echo
echo "| date | nodes | scans/s | p50 | p99 | /healthz/s | ratio | non-201 |"
echo "|---|---|---|---|---|---|---|---|"
echo "| $(date +%F) | $NODES × PostgreSQL | $(python3 -c "print(f'{round($rps):,}')") | $p50 | $p99 | $(python3 -c "print(f'{round($healthz):,}')") | $(python3 -c "print(f'{$rps / $healthz:.3f}')") | $bad |"
grep -h -c '"level":"ERROR"' "$work"/node*.log | paste -sd+ | bc | sed 's/^/server errors logged: /' || true
