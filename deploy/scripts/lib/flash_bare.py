#!/usr/bin/env python3
"""The bare reference's flash sale, from the same kind of client as
../shared/bench/flash.py: sets the hot variant's stock to UNITS in `caravan_limit`,
fires BUYERS reservations of one unit at once (200 threads) and prints the same
figures as flash.py. With `floor` after UNITS, the same requests go to a path the
reference does not serve (404, no database), and the figures are the client's own
floor: what 2,000 answers that cost the server nothing take with this client.
Usage: flash_bare.py BASE HOT_VARIANT BUYERS UNITS [floor]"""
import concurrent.futures as cf, json, subprocess, sys, time, urllib.error, urllib.request

base, hot, buyers, units = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "caravan_limit", "-tAc"]
floor = sys.argv[5:] == ["floor"]
path = "/no-such-path" if floor else "/reserve"
if not floor:
    subprocess.run(psql + [f"UPDATE variants SET stock = {units} WHERE id = '{hot}'"], check=True, capture_output=True)
body = json.dumps({"variant_id": hot, "quantity": 1}).encode()


def reserve(_):
    started = time.perf_counter()
    request = urllib.request.Request(base + path, method="POST", data=body,
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.perf_counter() - started


start = time.perf_counter()
with cf.ThreadPoolExecutor(200) as pool:
    results = list(pool.map(reserve, range(buyers)))
wall = time.perf_counter() - start
codes = {}
for status, _ in results:
    codes[status] = codes.get(status, 0) + 1
pct = lambda xs, q: xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")
every = sorted(t for _, t in results)
won = sorted(t for s, t in results if s == 201)
lost = sorted(t for s, t in results if s == 409)
if floor:
    print(json.dumps({"requests": buyers, "statuses": codes, "wall_s": round(wall, 2),
                      "p50_ms": round(pct(every, .5)), "p99_ms": round(pct(every, .99))}))
    sys.exit()
stock = subprocess.run(psql + [f"SELECT stock FROM variants WHERE id = '{hot}'"], check=True,
                       capture_output=True, text=True).stdout.strip()
print(json.dumps({"buyers": buyers, "units": units, "statuses": codes, "wall_s": round(wall, 2),
                  "p50_ms": round(pct(every, .5)), "p99_ms": round(pct(every, .99)),
                  "winners_p99_ms": round(pct(won, .99)), "losers_p50_ms": round(pct(lost, .5)),
                  "losers_p99_ms": round(pct(lost, .99)), "stock_after": {"stock": int(stock)}}))
