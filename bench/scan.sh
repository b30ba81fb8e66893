#!/usr/bin/env bash
# Scan throughput: a release build on SQLite (or PostgreSQL with DATABASE_URL=postgres://…),
# seeded with residents and an approved venue, loaded by wrk over loopback for a fixed time.
# Usage: bash bench/scan.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-20}
CONNECTIONS=${2:-32}
PORT=${PORT:-18080}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
export DATA_DIR="$work/data" APP_PORT=$PORT CHECKIN_HOURLY_LIMIT=1000000 RUST_LOG=warn LOG_FORMAT=json
export DATABASE_URL=${DATABASE_URL:-$work/data/venuecode.db}
target/release/venuecode serve > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
VENUECODE=target/release/venuecode python3 bench/seed_scans.py "http://127.0.0.1:$PORT" "$work/pairs.tsv"
backend=sqlite; [[ $DATABASE_URL == postgres* ]] && backend=postgres
for mode in ${MODES:-fresh repeat}; do
  echo "== $backend, MODE=$mode, $CONNECTIONS connections, $SECONDS_TO_RUN s, $(nproc) cores"
  MODE=$mode PAIRS="$work/pairs.tsv" wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_TO_RUN}s" --latency \
    -s bench/scan.lua "http://127.0.0.1:$PORT"
done
grep -c '"level":"ERROR"' "$work/server.log" | sed 's/^/server errors logged: /' || true
