#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 on a free loopback port (as .ci/run does), runs the given
# command with DATABASE_URL pointing at a fresh database in it, then stops it.
# Usage: bash bench/postgres.sh bash bench/scan.sh 20 32
# PG_OPTIONS_EXTRA="-c max_wal_size=8GB": more server settings (the 100-million fill uses it).
set -euo pipefail
pg_bin=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pg_dir=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if [ "$(id -u)" = 0 ]; then chown postgres: "$pg_dir"; as_pg() { runuser -u postgres -- "$@"; }; else as_pg() { "$@"; }; fi
trap 'as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$pg_dir"' EXIT
as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
# Settings of a small dedicated server; durability kept on (fsync, synchronous_commit).
options="-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=100 -c shared_buffers=512MB -c work_mem=16MB ${PG_OPTIONS_EXTRA:-}"
as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -o "$options" start >/dev/null
"$pg_bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE venuecode_bench" >/dev/null
# What a script needs to stop and start the server itself (bench/resilience.sh).
export PG_BIN="$pg_bin" PG_DIR="$pg_dir" PG_DATA="$pg_dir/data" PG_OPTIONS="$options"
DATABASE_URL="postgres://postgres@127.0.0.1:$port/venuecode_bench" "$@"
