#!/usr/bin/env python3
"""Legitimate login latency while a flood of bad logins comes from other addresses (issue 14).

Usage: scripts/bench/login_flood.py BASE_URL EMAIL PASSWORD [--rate 200] [--seconds 20]
       [--logins 40]

The server must believe X-Forwarded-For from 127.0.0.1 (ALPHAPULSE_TRUSTED_PROXIES=127.0.0.1)
so that every flood request comes from an address of its own (10.x.y.z, each used once: no
per-address limit applies) for an unknown account (no per-account limit applies either: the
server must still hash, to answer like for a wrong password). The legitimate client logs in
as EMAIL from 192.0.2.1, one login every 0.5 s, first without the flood (baseline), then
during it. Prints p50/p95/max and the status counts of both phases and of the flood.
Standard library only.
"""

import argparse
import http.client
import json
import statistics
import threading
import time
import urllib.parse


def login(host, port, email, password, address, timeout=30.0):
    body = json.dumps({"email": email, "password": password})
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    started = time.perf_counter()
    try:
        conn.request(
            "POST",
            "/api/v1/auth/token",
            body=body,
            headers={"Content-Type": "application/json", "X-Forwarded-For": address},
        )
        status = conn.getresponse().status
    except OSError:
        status = 0
    finally:
        conn.close()
    return status, (time.perf_counter() - started) * 1000.0


def legit_phase(host, port, email, password, count, stop=None):
    out = []
    for i in range(count):
        if stop is not None and stop.is_set():
            break
        out.append(login(host, port, email, password, "192.0.2.1"))
        # The legitimate user is well under the per-account limit: space the logins out.
        time.sleep(0.5)
        del i
    return out


def flood(host, port, rate, seconds, results, stop):
    interval = 1.0 / rate
    lock = threading.Lock()
    n = [0]

    def one(k):
        address = f"10.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}"
        status, _ = login(host, port, f"nobody{k}@flood.example", "wrong-password-x", address, 10.0)
        with lock:
            results[status] = results.get(status, 0) + 1

    start = time.perf_counter()
    threads = []
    while time.perf_counter() - start < seconds and not stop.is_set():
        k = n[0]
        n[0] += 1
        t = threading.Thread(target=one, args=(k + 1,), daemon=True)
        t.start()
        threads.append(t)
        next_at = start + n[0] * interval
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    for t in threads:
        t.join(timeout=15)
    return n[0] / (time.perf_counter() - start)


def summary(name, rows):
    ok = [ms for status, ms in rows if status == 200]
    counts = {}
    for status, _ in rows:
        counts[status] = counts.get(status, 0) + 1
    if ok:
        ok.sort()
        p95 = ok[min(len(ok) - 1, int(round(0.95 * (len(ok) - 1))))]
        print(
            f"| {name} | {len(rows)} | {counts} | {statistics.median(ok):.1f} | {p95:.1f} | {ok[-1]:.1f} |"
        )
    else:
        print(f"| {name} | {len(rows)} | {counts} | - | - | - |")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("base")
    p.add_argument("email")
    p.add_argument("password")
    p.add_argument("--rate", type=float, default=200.0)
    p.add_argument("--seconds", type=float, default=25.0)
    p.add_argument("--logins", type=int, default=30)
    a = p.parse_args()
    u = urllib.parse.urlparse(a.base)
    host, port = u.hostname, u.port or 80

    baseline = legit_phase(host, port, a.email, a.password, a.logins)
    results, stop = {}, threading.Event()
    during = []
    legit = threading.Thread(
        target=lambda: during.extend(legit_phase(host, port, a.email, a.password, a.logins, stop)),
        daemon=True,
    )
    time.sleep(0.5)
    f = threading.Thread(target=lambda: results.update(rate=flood(host, port, a.rate, a.seconds, results, stop)))
    f.start()
    time.sleep(2.0)  # the flood is under way
    legit.start()
    legit.join()
    stop.set()
    f.join()
    rate = results.pop("rate", 0.0)
    print("| legitimate logins | n | statuses | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|---|")
    summary("without the flood", baseline)
    summary(f"during the flood ({rate:.0f} bad logins/s offered)", during)
    print(f"\nflood answers: {dict(sorted(results.items()))}")


if __name__ == "__main__":
    main()
