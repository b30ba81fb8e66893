#!/usr/bin/env python3
"""Prepares a running development server for the scan benchmark.

Creates a reviewer (through the `venuecode staff create` command), one approved venue with many
entrances, and many consented residents, then writes `token<TAB>code URL` lines for wrk to replay.
Only talks to the server given (loopback); stops by itself.
"""
import datetime
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

BASE = sys.argv[1]  # e.g. http://127.0.0.1:18080
OUT = sys.argv[2]
RESIDENTS = int(os.environ.get("RESIDENTS", "3000"))
ENTRANCES = int(os.environ.get("ENTRANCES", "50"))
BINARY = os.environ.get("VENUECODE", "target/release/venuecode")


def call(method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        # What the server said, so a refusal while seeding can be told apart (overloaded, the database).
        print(f"{method} {path}: {error.code} {error.read().decode(errors='replace')} "
              f"(Retry-After {error.headers.get('retry-after')})", file=sys.stderr, flush=True)
        raise


def id_number(body17):
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body17, weights))
    return body17 + "10X98765432"[total % 11]


def main():
    subprocess.run(
        [BINARY, "staff", "create", "--username", "bench-review", "--role", "reviewer", "--region", "431025"],
        input=b"benchmark reviewer password\n",
        check=True,
        stdout=subprocess.DEVNULL,
    )
    reviewer = call("POST", "/api/v1/staff-sessions",
                    {"username": "bench-review", "password": "benchmark reviewer password"})["token"]
    manager = call("POST", "/api/v1/sessions/dev", {"platform": "wechat", "subject": "bench-manager"})["token"]
    venue = call("POST", "/api/v1/venues", {
        "manager": {"name": "王建国", "phone": "13907351234", "id_number": id_number("43102519800315001")},
        "name": "临武县舜峰镇压力测试超市",
        "category": "daily_shopping",
        "subtype": "supermarket",
        "region_code": "431025100",
        "address": "解放路88号",
        "location": {"lat": 25.2797, "lng": 112.5634},
        "entrances": [{"name": f"入口{i}"} for i in range(ENTRANCES)],
    }, manager)
    venue = call("POST", f"/api/v1/reviews/{venue['id']}", {"decision": "approve"}, reviewer)
    codes = [e["code_url"] for e in venue["entrances"]]
    def resident(i):
        token = call("POST", "/api/v1/sessions/dev", {"platform": "wechat", "subject": f"bench-{i}"})["token"]
        # A birth date and sequence number of its own per resident: no two share an identity.
        born = datetime.date(1960, 1, 1) + datetime.timedelta(days=i // 1000)
        call("PUT", "/api/v1/me/consent", {
            "profile": {"nickname": f"bench-{i}"},
            "phone": {"wechat_code": "138%08d" % i},
            "identity": {"name": "测试居民", "id_number": id_number("431025" + born.strftime("%Y%m%d") + "%03d" % (i % 1000))},
        }, token)
        return [f"{token}\t{code}" for code in codes[i % len(codes)::7][:3]]

    with ThreadPoolExecutor(8) as pool:
        lines = [line for pairs in pool.map(resident, range(RESIDENTS)) for line in pairs]
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    # For scripts that change the venue while it is scanned (bench/nodes.sh).
    with open(OUT + ".json", "w") as f:
        json.dump({"manager": manager, "venue_id": venue["id"],
                   "entrances": [{"id": e["id"], "code_url": e["code_url"]} for e in venue["entrances"]]}, f)
    print(f"{RESIDENTS} residents, {len(codes)} entrances, {len(lines)} (resident, entrance) pairs")


if __name__ == "__main__":
    main()
