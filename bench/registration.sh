#!/usr/bin/env bash
# A registrar registers VENUES venues (default 1,000) of 3 entrances each in one request, then
# downloads every venue's posters.zip (PARALLEL at a time, default 2). Prints each step's
# wall time, GET /healthz's mean round trip in the same run, and the ratio of each to it.
# Usage: bash bench/registration.sh [venues]            (SQLite, a fresh data directory)
#        bash bench/postgres.sh bash bench/registration.sh [venues]
set -euo pipefail
cd "$(dirname "$0")/.."
VENUES=${1:-1000}
PARALLEL=${PARALLEL:-2}
PORT=${PORT:-18300}
cargo build --release --quiet
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
# The one-time background load of the villages is not what these measure.
export VILLAGE_PROVINCES=${VILLAGE_PROVINCES:-none}
export DATA_DIR="$work/data" RUST_LOG=warn LOG_FORMAT=json APP_PORT=$PORT
export PUBLIC_BASE_URL="http://127.0.0.1:$PORT"
echo "registrar password for the benchmark" | target/release/venuecode staff create \
  --username bench-registrar --role registrar --region 431025100 > /dev/null
target/release/venuecode serve > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
python3 - "$PORT" "$VENUES" "$PARALLEL" "$work" <<'PY'
import concurrent.futures, http.client, json, sys, time
port, count, parallel, work = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def request(method, path, body=None, token=None, raw=False):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = "Bearer " + token
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    assert response.status < 300, (path, response.status, data[:300])
    return data if raw else json.loads(data)

def id_number(first17):
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(first17, weights))
    return first17 + "10X98765432"[total % 11]

token = request("POST", "/api/v1/staff-sessions",
                {"username": "bench-registrar", "password": "registrar password for the benchmark"})["token"]
venues = [{
    "manager": {"name": "王建国", "phone": f"139{n:08d}", "id_number": id_number(f"4310251980{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}")},
    "name": f"临武县舜峰镇第{n}号便民店", "category": "daily_shopping", "subtype": "supermarket",
    "region_code": "431025100", "address": f"解放路{n}号", "location": {"lat": 25.2797, "lng": 112.5634},
    "entrances": [{"name": "东门"}, {"name": "西门"}, {"name": "北门"}],
} for n in range(count)]
body_bytes = len(json.dumps({"venues": venues}).encode())

# /healthz's mean round trip on a fresh connection each time, like the steps below.
started = time.perf_counter()
for _ in range(200):
    request("GET", "/healthz", raw=True)
healthz = (time.perf_counter() - started) / 200

started = time.perf_counter()
registered = request("POST", "/api/v1/venues/import", {"venues": venues}, token)["items"]
register = time.perf_counter() - started
assert len(registered) == count and all(len(v["entrances"]) == 3 for v in registered)

def posters(venue):
    data = request("GET", f"/api/v1/venues/{venue['id']}/posters.zip", token=token, raw=True)
    return len(data)

started = time.perf_counter()
with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
    sizes = list(pool.map(posters, registered))
download = time.perf_counter() - started

print(f"| step | wall time | per venue | ratio to /healthz ({healthz * 1000:.2f} ms) |")
print("|---|---|---|---|")
print(f"| register {count} venues × 3 entrances, one request ({body_bytes / 1e6:.1f} MB) "
      f"| {register:.2f} s | {register / count * 1000:.2f} ms | {register / healthz:,.0f} |")
print(f"| download {count} posters.zip ({sum(sizes) / 1e6:.0f} MB, {parallel} at a time) "
      f"| {download:.2f} s | {download / count * 1000:.2f} ms | {download / healthz:,.0f} |")
PY
