#!/usr/bin/env python3
"""Posts the largest import the API takes to a running development server after a delay, and
prints how long it took. Used by `bench/scan.sh` with IMPORT_DURING=1 to measure scans while an
import is written. IMPORT_KIND=venues (default): 5,000 venues of 50 entrances, by a registrar;
IMPORT_KIND=test-results: 10,000 nucleic-acid results of people new to the system, by a health
official.
Usage: bench/import_during.py BASE_URL DELAY_SECONDS   (VENUECODE: the binary, for `staff create`)
"""
import json
import os
import subprocess
import sys
import time
import urllib.request

BASE, DELAY = sys.argv[1], float(sys.argv[2])
BINARY = os.environ.get("VENUECODE", "target/release/venuecode")


def id_number(first17):
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(first17, weights))
    return first17 + "10X98765432"[total % 11]


def call(path, body, token=None):
    request = urllib.request.Request(BASE + path, data=json.dumps(body).encode(), method="POST")
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=600) as response:
        return response.status, json.loads(response.read())


KIND = os.environ.get("IMPORT_KIND", "venues")


def session_of(username, role, region):
    password = f"{role} password for the benchmark"
    subprocess.run([BINARY, "staff", "create", "--username", username, "--role", role,
                    "--region", region], input=(password + "\n").encode(), check=True,
                   stdout=subprocess.DEVNULL)
    _, session = call("/api/v1/staff-sessions", {"username": username, "password": password})
    return session["token"]


if KIND == "venues":
    token = session_of("bench-registrar", "registrar", "431025100")
    path = "/api/v1/venues/import"
    body = {"venues": [{
        "manager": {"name": "王建国", "phone": f"139{n:08d}", "id_number": id_number(f"4310251980{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}")},
        "name": f"临武县舜峰镇第{n}号便民店", "category": "daily_shopping", "subtype": "supermarket",
        "region_code": "431025100", "address": f"解放路{n}号", "location": {"lat": 25.2797, "lng": 112.5634},
        "entrances": [{"name": f"门{k}"} for k in range(1, 51)],
    } for n in range(5000)]}
    what = "import of 5,000 venues x 50 entrances"
elif KIND == "test-results":
    token = session_of("bench-official", "health_official", "431025")
    sampled = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 3600))
    body = {"results": [{
        "id_number": id_number(f"43102519{60 + n % 40:02d}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"),
        "name": f"检测{n}", "result": "negative", "sampled_at": sampled,
    } for n in range(10000)]}
    path = "/api/v1/test-results/import"
    what = "import of 10,000 test results"
else:
    sys.exit(f"IMPORT_KIND: venues or test-results, not {KIND}")
time.sleep(DELAY)
started = time.perf_counter()
status, answer = call(path, body, token)
print(f"{what}: {status}, {time.perf_counter() - started:.1f} s", flush=True)
