#!/usr/bin/env bash
# Failover under load: the whole topology on loopback (deploy/topology.sh: a pg_auto_failover
# formation, two release nodes, haproxy), fresh scans through haproxy, the primary's host killed with
# SIGKILL, then a planned switchover; a table of acknowledged, lost, seconds without a 201, 500s and
# the slowest answer (bench/failover.py), with the monitor's settings used.
# Needs: apt-get install postgresql-15-auto-failover pg-auto-failover-cli haproxy curl
# Usage: bash bench/failover.sh        (THREADS=16 WARMUP=5 AFTER=5 to change the load)
set -euo pipefail
cd "$(dirname "$0")/.."
export FORMATION_DIR="${FORMATION_DIR:-/tmp/venuecode-bench-formation}"
export FORMATION_PORT="${FORMATION_PORT:-6400}" TOPOLOGY_PORT="${TOPOLOGY_PORT:-18300}"
export CHECKIN_HOURLY_LIMIT=1000000
cargo build --release --quiet
trap 'bash deploy/topology.sh down --purge >/dev/null 2>&1 || true' EXIT
bash deploy/topology.sh down --purge >/dev/null 2>&1 || true
base=$(bash deploy/topology.sh up | tail -1)
url=$(bash deploy/formation.sh url)
work=$(mktemp -d)
VENUECODE=target/release/venuecode DATA_DIR="$FORMATION_DIR/topology/data" APP_ENV=development \
  DATABASE_URL="$url" python3 bench/seed_scans.py "$base" "$work/pairs.tsv" >/dev/null
echo "== $(date -u +%FT%TZ), $(nproc) cores; monitor settings:"
grep -o 'pgautofailover[.a-z_]*=[0-9]*' deploy/formation.sh | sed 's/^/   /'
python3 bench/failover.py "$base" "$work/pairs.tsv" "$url"
