#!/usr/bin/env bash
# Acknowledged means stored: a release build under fresh-scan load is killed with SIGKILL KILLS
# times at random moments and restarted at once; wrk records the check-in id of every 201 it
# received. At the end every acknowledged id must be in the database. SQLite by default, or
# PostgreSQL with DATABASE_URL=postgres://… (e.g. `bash bench/postgres.sh bash bench/kill.sh`).
# Usage: bash bench/kill.sh [kills] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${1:-10}
CONNECTIONS=${2:-32}
PORT=${PORT:-18081}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet
work=$(mktemp -d)
server=
trap 'kill -9 $server 2>/dev/null || true; kill $load 2>/dev/null || true; rm -rf "$work"' EXIT
# The one-time background load of the villages is not what these measure.
export VILLAGE_PROVINCES=${VILLAGE_PROVINCES:-none}
export DATA_DIR="$work/data" APP_PORT=$PORT CHECKIN_HOURLY_LIMIT=1000000 RUST_LOG=warn LOG_FORMAT=json
export DATABASE_URL=${DATABASE_URL:-$work/data/venuecode.db}
backend=sqlite; [[ $DATABASE_URL == postgres* ]] && backend=postgres

start() {
  target/release/venuecode serve >> "$work/server.log" 2>&1 &
  server=$!
  local began=$(date +%s.%N)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.05; done
  python3 -c "print(f'ready in {$(date +%s.%N) - $began:.2f} s')"
}

start
VENUECODE=target/release/venuecode python3 bench/seed_scans.py "http://127.0.0.1:$PORT" "$work/pairs.tsv"
duration=$((KILLS * 3 + 3))
echo "== $backend: fresh scans for ${duration} s, $CONNECTIONS connections, SIGKILL $KILLS times"
MODE=fresh PAIRS="$work/pairs.tsv" ACKED="$work/acked" wrk -t2 -c"$CONNECTIONS" -d"${duration}s" \
  -s bench/scan.lua "http://127.0.0.1:$PORT" > "$work/wrk.txt" 2>&1 &
load=$!
for kill in $(seq "$KILLS"); do
  sleep "$(python3 -c 'import random; print(round(random.uniform(1.0, 2.5), 2))')"
  kill -9 "$server"
  wait "$server" 2>/dev/null || true
  printf 'kill %d: ' "$kill"
  start
done
wait "$load" || true
kill -9 "$server"; wait "$server" 2>/dev/null || true
start
kill "$server"; wait "$server" 2>/dev/null || true
server=

cat "$work"/acked.* 2>/dev/null | sort -un > "$work/acked.txt"
acked=$(wc -l < "$work/acked.txt")
if [ "$backend" = sqlite ]; then
  stored=$(python3 - "$DATABASE_URL" "$work/acked.txt" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ids = [int(line) for line in open(sys.argv[2]) if line.strip()]
db.execute("CREATE TEMP TABLE acked (id INTEGER PRIMARY KEY)")
db.executemany("INSERT INTO acked VALUES (?)", [(i,) for i in ids])
print(db.execute("SELECT COUNT(*) FROM acked JOIN check_ins USING (id)").fetchone()[0])
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "integrity check failed"
PY
)
else
  psql_bin=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql | sort -V | tail -n 1)
  stored=$("$psql_bin" "$DATABASE_URL" -qAt \
    -c "CREATE TEMP TABLE acked (id bigint PRIMARY KEY)" \
    -c "\\copy acked FROM '$work/acked.txt'" \
    -c "SELECT COUNT(*) FROM acked JOIN check_ins USING (id)")
fi
lost=$((acked - stored))
grep -E "Requests/sec|Socket errors|Non-2xx" "$work/wrk.txt" || true
echo
echo "| date | backend | kills | acknowledged check-ins | stored | lost |"
echo "|---|---|---|---|---|---|"
echo "| $(date +%F) | $backend | $KILLS | $acked | $stored | $lost |"
[ "$lost" -eq 0 ]
