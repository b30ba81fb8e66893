#!/usr/bin/env bash
# Resilience: a release build on loopback, seeded as for scan.sh, taken through
#   1. capacity: fresh scans at 32 connections (and GET /healthz under wrk, for the ratio);
#   2. a surge: 1,024 connections (about 10x what saturates it) for SURGE_SECONDS, then 32 again,
#      by clients that honour Retry-After (examples/surge.rs), with the server's peak RSS;
#   3. the same surge by clients that retry at once (wrk, no back-off): the worst case;
#   4. 4,096 connections for 20 s (peak RSS, answers);
#   The load tools run at nice 10: they stand in for clients on other machines, and the server
#   gets the CPU first (capacity is measured the same way). Meanwhile a probe at normal priority
#   (4 connections, a scan every 20 ms each) measures what one more client sees: how fast a shed
#   request is answered, and an admitted one. The load tool's own figures include its waiting for
#   the CPU it yields.
#   5. the database failing under load: PostgreSQL stopped for DOWN_SECONDS and started again
#      (under bench/postgres.sh), or on SQLite a file size limit (as a full disk) for DOWN_SECONDS
#      then lifted; every answer's latency and kind per second, and /readyz polled every 200 ms.
# kill -9 under load is bench/kill.sh. Bounded: every phase has its own duration; stops by itself.
# Usage: bash bench/resilience.sh            (SQLite)
#        bash bench/postgres.sh bash bench/resilience.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SURGE_SECONDS=${SURGE_SECONDS:-30}
DOWN_SECONDS=${DOWN_SECONDS:-30}
PORT=${PORT:-18082}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet --bin venuecode --example surge
work=$(mktemp -d)
server=
trap 'kill -9 $server 2>/dev/null || true; rm -rf "$work"' EXIT
# The one-time background load of the villages is not what these measure.
export VILLAGE_PROVINCES=${VILLAGE_PROVINCES:-none}
export DATA_DIR="$work/data" APP_PORT=$PORT CHECKIN_HOURLY_LIMIT=1000000 RUST_LOG=warn LOG_FORMAT=json
export DATABASE_URL=${DATABASE_URL:-$work/data/venuecode.db}
backend=sqlite; [[ $DATABASE_URL == postgres* ]] && backend=postgres
base="http://127.0.0.1:$PORT"
ulimit -n 65536 2>/dev/null || true

# SIGXFSZ ignored (inherited through exec): past a file size limit a write fails (EFBIG), as on a
# full disk, instead of the signal ending the server.
(trap '' XFSZ; exec target/release/venuecode serve) > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.2; done
VENUECODE=target/release/venuecode python3 bench/seed_scans.py "$base" "$work/pairs.tsv"

rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$server/status"; }
# Samples the server's RSS every 0.5 s into $work/rss.$1 until stopped.
watch_rss() { while kill -0 "$server" 2>/dev/null; do rss >> "$work/rss.$1"; sleep 0.5; done; }
peak_rss() { sort -n "$work/rss.$1" | tail -n 1; }
surge() { nice -n 10 target/release/examples/surge "$base" "$work/pairs.tsv" "$@"; }
probe() { target/release/examples/surge "$base" "$work/pairs.tsv" "probe:4:$1:20"; }

echo "== $backend: GET /healthz, 32 connections, 10 s"
wrk -t2 -c32 -d10s "$base/healthz" | tee "$work/healthz.txt"
healthz=$(awk '/Requests\/sec/ {print $2}' "$work/healthz.txt")
rss_before=$(rss)

echo "== $backend: capacity (32), surge (1024, honouring Retry-After), after (32)"
surge base:32:15 | tee "$work/surge.txt"
watch_rss surge & watcher=$!
probe "$SURGE_SECONDS" > "$work/probe-surge.txt" & prober=$!
surge "surge:1024:$SURGE_SECONDS" | tee -a "$work/surge.txt"
kill $watcher
surge after:32:10 | tee -a "$work/surge.txt"
wait $prober
rss_surge=$(peak_rss surge)

echo "== $backend: the same surge, clients retrying at once (wrk)"
watch_rss naive & watcher=$!
probe "$SURGE_SECONDS" > "$work/probe-naive.txt" & prober=$!
MODE=fresh PAIRS="$work/pairs.tsv" nice -n 10 wrk -t2 -c1024 -d"${SURGE_SECONDS}s" --latency \
  -s bench/scan.lua "$base" | tee "$work/naive.txt"
kill $watcher
wait $prober
rss_naive=$(peak_rss naive)
surge after:32:5 | tee "$work/naive-after.txt"

echo "== $backend: 4096 connections, 20 s, honouring Retry-After"
watch_rss big & watcher=$!
probe 20 > "$work/probe-big.txt" & prober=$!
surge big:4096:20 | tee "$work/big.txt"
kill $watcher
wait $prober
rss_big=$(peak_rss big)

echo "== $backend: the database fails under load for $DOWN_SECONDS s (64 connections, naive)"
: > "$work/readyz.txt"
( while kill -0 "$server" 2>/dev/null; do
    t0=$(date +%s%3N)
    code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$base/readyz" || echo 000)
    echo "$t0 $code $(( $(date +%s%3N) - t0 ))" >> "$work/readyz.txt"
    sleep 0.2
  done ) & poller=$!
target/release/examples/surge "$base" "$work/pairs.tsv" --naive "outage:64:$((DOWN_SECONDS + 15))" > "$work/outage.txt" &
load=$!
sleep 5
fault_began=$(date +%s%3N)
if [ "$backend" = postgres ]; then
  as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast stop >/dev/null
  sleep "$DOWN_SECONDS"
  fault_ended=$(date +%s%3N)
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/server.log" -w -o "$PG_OPTIONS" start >/dev/null
  fault="PostgreSQL stopped $DOWN_SECONDS s"
else
  prlimit --pid "$server" --fsize=4096:unlimited
  sleep "$DOWN_SECONDS"
  fault_ended=$(date +%s%3N)
  prlimit --pid "$server" --fsize=unlimited:unlimited
  fault="SQLite files limited to 4 KiB (disk full) $DOWN_SECONDS s"
fi
back=$(date +%s%3N)
wait $load
kill $poller 2>/dev/null || true
cat "$work/outage.txt"

python3 - "$work" "$healthz" "$fault_began" "$fault_ended" "$back" "$backend" "$fault" \
  "$rss_before" "$rss_surge" "$rss_naive" "$rss_big" <<'EOF'
import re, sys
work, healthz, began, ended, back, backend, fault = sys.argv[1:8]
rss_before, rss_surge, rss_naive, rss_big = sys.argv[8:12]
healthz, began, ended, back = float(healthz), int(began), int(ended), int(back)
text = open(f"{work}/surge.txt").read()
def phase(name, text):
    m = re.search(rf"phase {name}: .*goodput (\d+)/s .*admitted p50 ([\d.]+) ms p99 ([\d.]+) ms max ([\d.]+) ms; "
                  rf"shed (\d+) \((\d+)/s\) p50 ([\d.]+) ms p99 ([\d.]+) ms max ([\d.]+) ms", text)
    return m.groups() if m else None
base, surge, after = phase("base", text), phase("surge", text), phase("after", text)
normal = re.search(r"phase after: p99 by second (\[.*?\]) ms; first 2 s p99 ([\d.]+) ms, rest p99 ([\d.]+) ms", text)
others = {name: re.findall(rf"phase {name}: (\S+) (\d+) \(max", text) for name in ("surge", "big", "after")}
capacity = float(base[0])
print()
print(f"capacity (32 connections): {capacity:,.0f} scans/s, p99 {base[2]} ms; /healthz {healthz:,.0f}/s; ratio {capacity / healthz:.3f}")
print()
def probed(name):
    text = open(f"{work}/probe-{name}.txt").read()
    p = phase("probe", text)
    admitted = int(re.search(r"\(201: (\d+)\)", text).group(1))
    return f"{p[1]} / {p[2]} ms | {int(p[4])} of {admitted + int(p[4])} | {p[6]} / {p[7]} / {p[8]} ms"
print("| what | goodput/s | of capacity | load tool: admitted p99 | load tool: shed | probe: admitted p50 / p99 | probe: shed | probe: shed p50 / p99 / max | other answers | server RSS |")
print("|---|---|---|---|---|---|---|---|---|---|")
print(f"| surge, 1,024 connections, clients honour Retry-After | {float(surge[0]):,.0f} | {float(surge[0]) / capacity:.2f} | {surge[2]} ms | {int(surge[4]):,} | {probed('surge')} | {others['surge'] or 'none'} | {rss_before} → {rss_surge} MiB |")
naive = open(f"{work}/naive.txt").read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", naive).group(1))
bad = int((re.search(r"Non-2xx or 3xx responses: (\d+)", naive) or [0, 0])[1] if re.search(r"Non-2xx", naive) else 0)
total = int(re.search(r"(\d+) requests in", naive).group(1))
dur = float(re.search(r"requests in ([\d.]+)s", naive).group(1))
good = (total - bad) / dur
p99 = re.search(r"^\s+99%\s+(\S+)", naive, re.M).group(1)
print(f"| surge, 1,024 connections, clients retry at once (wrk) | {good:,.0f} | {good / capacity:.2f} | (all answers) {p99} | {bad:,} | {probed('naive')} | — | → {rss_naive} MiB |")
big = open(f"{work}/big.txt").read()
b = phase("big", big)
print(f"| 4,096 connections, honour Retry-After | {float(b[0]):,.0f} | {float(b[0]) / capacity:.2f} | {b[2]} ms | {int(b[4]):,} | {probed('big')} | {others['big'] or 'none'} | → {rss_big} MiB |")
if normal:
    print(f"\nafter the surge (32 connections): p99 by second {normal.group(1)} ms; first 2 s {normal.group(2)} ms, the 8 s after {normal.group(3)} ms (before the surge: {base[2]} ms)")

# The outage: per second, the kinds of answer and the slowest.
rows = []
for line in open(f"{work}/outage.txt"):
    m = re.match(r"second (\d+) epoch_ms (\d+)(.*)", line)
    if m:
        rows.append((int(m.group(2)), m.group(3)))
slowest = 0.0; errors500 = 0; during = {}; first_ok_after = None
for at, rest in rows:
    for kind, count, mx in re.findall(r"(\S+)=(\d+) \(max ([\d.]+) ms\)", rest):
        if began <= at + 999 and at <= ended:
            slowest = max(slowest, float(mx))
            during[kind] = during.get(kind, 0) + int(count)
        if kind == "500":
            errors500 += int(count)
        if kind == "201" and at + 999 >= back and first_ok_after is None:
            first_ok_after = max(0, at - back)
ready = [l.split() for l in open(f"{work}/readyz.txt")]
ready_slowest = max((int(t) for s, c, t in ready if began <= int(s) <= ended), default=0)
not_ready_after = min((int(s) - began for s, c, t in ready if int(s) >= began and c == "503"), default=None)
ready_again = min((int(s) - back for s, c, t in ready if int(s) >= back and c == "200"), default=None)
print(f"\n{fault}: answers during the fault {during}; slowest answer {slowest} ms; 500s over the run {errors500};")
print(f"/readyz: 503 from {not_ready_after} ms after the fault began (slowest {ready_slowest} ms), 200 again {ready_again} ms after it ended;")
print(f"first 201 after the fault ended: in the second starting {first_ok_after} ms after it (per-second resolution)")
EOF
grep -c '"level":"ERROR"' "$work/server.log" | sed 's/^/server errors logged: /' || true
echo "server log lines: $(wc -l < "$work/server.log")"
