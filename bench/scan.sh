#!/usr/bin/env bash
# Scan throughput: a release build on SQLite (or PostgreSQL with DATABASE_URL=postgres://…),
# seeded with residents and an approved venue, loaded by wrk over loopback for a fixed time. In
# the same run it loads GET /healthz the same way, and prints each mode's ratio to it: the scan's
# cost measured against the server's cheapest answer on the same machine at the same moment.
# Usage: bash bench/scan.sh [seconds] [connections]     (MODES="fresh repeat" by default)
# IMPORT_DURING=1: 3 s into each mode a registrar posts the largest import (5,000 venues of 50
# entrances, bench/import_during.py); the scans' figures are then those measured beside it.
# IMPORT_KIND=test-results makes it a health official's 10,000 test results instead.
# PERF=DIR: `perf record` samples the server during each mode into DIR/<backend>-<mode>.data
# (read with `perf report -i …`; PERF_ARGS adds options, e.g. "--call-graph dwarf").
# KEYED=1: every scan carries a new Idempotency-Key (bench/scan.lua), as the mini-program kit sends.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-20}
CONNECTIONS=${2:-32}
PORT=${PORT:-18080}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
# VENUECODE_BIN=PATH: measure that binary (e.g. an earlier version's) instead of building this one.
binary=${VENUECODE_BIN:-target/release/venuecode}
[[ -n ${VENUECODE_BIN:-} ]] || cargo build --release --quiet
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
# The one-time background load of the villages is not what these measure.
export VILLAGE_PROVINCES=${VILLAGE_PROVINCES:-none}
# 20,000 residents: at 10,000 scans a second each scans about every 2 s, so an hourly limit of 100
# refuses no one in a run, while the limit's count still reads each account's hour as it would.
export RESIDENTS=${RESIDENTS:-20000} CHECKIN_HOURLY_LIMIT=${CHECKIN_HOURLY_LIMIT:-100}
export DATA_DIR="$work/data" APP_PORT=$PORT RUST_LOG=warn LOG_FORMAT=json
export DATABASE_URL=${DATABASE_URL:-$work/data/venuecode.db}
"$binary" serve > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
VENUECODE=$binary python3 bench/seed_scans.py "http://127.0.0.1:$PORT" "$work/pairs.tsv"
backend=sqlite; [[ $DATABASE_URL == postgres* ]] && backend=postgres

# Requests/s, p50, p99 and non-2xx answers from one wrk report.
summarise() {
  awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
       /Non-2xx/ {bad=$5} END {printf "%s %s %s %d\n", rps, p50, p99, bad}' "$1"
}

echo "== $backend: GET /healthz, $CONNECTIONS connections, $SECONDS_TO_RUN s, $(nproc) cores"
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_TO_RUN}s" --latency "http://127.0.0.1:$PORT/healthz" | tee "$work/healthz.txt"
read -r healthz _ _ _ < <(summarise "$work/healthz.txt")
rows=()
for mode in ${MODES:-fresh repeat}; do
  echo "== $backend: scans, MODE=$mode, $CONNECTIONS connections, $SECONDS_TO_RUN s"
  if [[ -n ${PERF:-} ]]; then
    mkdir -p "$PERF"
    # shellcheck disable=SC2086
    perf record -q -F 499 ${PERF_ARGS:-} -p "$server" -o "$PERF/$backend-$mode.data" -- sleep "$SECONDS_TO_RUN" &
    perf_pid=$!
  fi
  if [[ -n ${IMPORT_DURING:-} ]]; then
    VENUECODE=$binary python3 bench/import_during.py "http://127.0.0.1:$PORT" 3 &
    import_pid=$!
  fi
  MODE=$mode PAIRS="$work/pairs.tsv" wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_TO_RUN}s" --latency \
    -s bench/scan.lua "http://127.0.0.1:$PORT" | tee "$work/$mode.txt"
  [[ -n ${PERF:-} ]] && wait "$perf_pid"
  [[ -n ${IMPORT_DURING:-} ]] && wait "$import_pid"
  read -r rps p50 p99 bad < <(summarise "$work/$mode.txt")
  ratio=$(python3 -c "print(f'{$rps / $healthz:.3f}')")
  rows+=("| $(date +%F) | $backend | $mode | $(python3 -c "print(f'{round($rps):,}')") | $p50 | $p99 | $(python3 -c "print(f'{round($healthz):,}')") | $ratio | $bad |")
done
echo
echo "| date | backend | mode | scans/s | p50 | p99 | /healthz/s | ratio | non-201 |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
grep -c '"level":"ERROR"' "$work/server.log" | sed 's/^/server errors logged: /' || true
