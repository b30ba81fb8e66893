#!/usr/bin/env python3
"""Fresh scans through haproxy while the database formation loses its primary, then switches over.

Usage: failover.py BASE_URL PAIRS DATABASE_URL
  BASE_URL      haproxy in front of the nodes (deploy/topology.sh up)
  PAIRS         token<TAB>code lines (bench/seed_scans.py)
  DATABASE_URL  the formation's multi-host URL, to check every acknowledged check-in afterwards

For each event (deploy/formation.sh failover: the primary's whole host killed with SIGKILL; then
deploy/formation.sh switchover) it sends scans from THREADS threads (default 16) for WARMUP seconds,
runs the event, keeps sending until writes have been back for AFTER seconds, and records every answer.
Prints one table row per event: acknowledged, lost (acknowledged but not in the database), seconds
without a 201, seconds from PostgreSQL taking writes again to the next 201, 500s, the slowest answer.
"""
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.parse

BASE, PAIRS, DATABASE_URL = sys.argv[1], sys.argv[2], sys.argv[3]
THREADS = int(os.environ.get("THREADS", "16"))
WARMUP = float(os.environ.get("WARMUP", "5"))
AFTER = float(os.environ.get("AFTER", "5"))
FORMATION = [os.path.join(os.path.dirname(__file__), "..", "deploy", "formation.sh")]

pairs = [line.rstrip("\n").split("\t") for line in open(PAIRS) if "\t" in line]
host = urllib.parse.urlsplit(BASE)


def psql(sql):
    out = subprocess.run(["psql", DATABASE_URL, "-XAtqc", sql], capture_output=True, text=True, timeout=5)
    return out.stdout.strip() if out.returncode == 0 else None


def takes_writes():
    try:
        return psql("select not pg_is_in_recovery()") == "t"
    except subprocess.TimeoutExpired:
        return False


def worker(seed, stop, answers, began):
    rng = random.Random(seed)
    conn = None
    while not stop.is_set():
        token, code = rng.choice(pairs)
        # An offline time spread over the last 23 hours: each scan records new rows.
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - rng.randint(60, 23 * 3600)))
        body = json.dumps({"code": code, "location": {"lat": 25.28, "lng": 112.563}, "scanned_at": when})
        sent = time.monotonic()
        status, check_in = 0, None
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
            conn.request("POST", "/api/v1/check-ins", body,
                         {"content-type": "application/json", "authorization": "Bearer " + token})
            response = conn.getresponse()
            status = response.status
            data = response.read()
            if status == 201:
                check_in = json.loads(data)["check_in_id"]
        except Exception:
            conn = None
        done = time.monotonic()
        answers.append((sent - began, done - began, status, check_in))
        if status == 503:
            time.sleep(0.1)


def run(event):
    stop, answers = threading.Event(), []
    began = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n, stop, answers, began)) for n in range(THREADS)]
    for t in threads:
        t.start()
    time.sleep(WARMUP)
    at = time.monotonic() - began
    subprocess.run(["bash", *FORMATION, event], check=True, capture_output=True)
    # When PostgreSQL takes writes again (polled every 0.1 s).
    writes_back = None
    while time.monotonic() - began - at < 60:
        if takes_writes():
            writes_back = time.monotonic() - began
            break
        time.sleep(0.1)
    time.sleep(AFTER)
    stop.set()
    for t in threads:
        t.join()
    return at, writes_back, answers


def summarise(event, at, writes_back, answers):
    acked = sorted({a[3] for a in answers if a[3] is not None})
    found = 0
    for i in range(0, len(acked), 5000):
        chunk = ",".join(map(str, acked[i:i + 5000]))
        found += int(psql(f"select count(distinct id) from check_ins where id in ({chunk})") or 0)
    done_201 = sorted(a[1] for a in answers if a[2] == 201)
    # Until the load stopped: writes that never came back count as one long gap.
    ends = done_201 + [max((a[1] for a in answers), default=0.0)]
    gap = max((b - a for a, b in zip(ends, ends[1:])), default=0.0)
    after_pg = min((t for t in done_201 if writes_back is not None and t >= writes_back), default=None)
    resumed = "n/a" if after_pg is None else f"{after_pg - writes_back:.2f}"
    errors = sum(1 for a in answers if a[2] >= 500 and a[2] != 503)
    others = sum(1 for a in answers if a[2] not in (201, 503) and a[2] < 500)
    slowest = max((a[1] - a[0] for a in answers), default=0.0)
    print(f"| {event} | {len(answers)} | {len(acked)} | {len(acked) - found} | {gap:.2f} | {resumed} | "
          f"{sum(1 for a in answers if a[2] == 503)} | {errors} | {others} | {slowest:.3f} |", flush=True)
    return len(acked) - found, errors, gap, slowest


print("| event | answers | acknowledged | lost | s without a 201 | s from PostgreSQL back to a 201 | 503s | 500s | other | slowest answer (s) |")
print("|---|---|---|---|---|---|---|---|---|---|", flush=True)
results = {}
for event in ("failover", "switchover"):
    at, writes_back, answers = run(event)
    results[event] = summarise(
        "kill -9 of the primary's host" if event == "failover" else "planned switchover", at, writes_back, answers)
    if event == "failover":
        subprocess.run(["bash", *FORMATION, "rejoin"], check=True, capture_output=True)
ok = all(lost == 0 and errors == 0 and slowest <= 1.0 for lost, errors, _, slowest in results.values())
ok = ok and results["failover"][2] <= 15 and results["switchover"][2] <= 3
print("goals (0 lost, 0 500s, every answer within 1 s, <= 15 s unplanned, <= 3 s planned):",
      "met" if ok else "NOT met")
sys.exit(0 if ok else 1)
