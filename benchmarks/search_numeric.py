"""Numeric search over 100,000 connections: one request, and how long it takes.

Method: the loopback fake runs in a child process with ``--count`` connections, each
storing ``violationCount`` = n % 10. ``search_stored_information("violationCount", "gte",
3)`` runs through ``frankenws.Client`` over loopback; the number of admin requests
it takes is counted, and the result is checked against the definition. For comparison, the
obvious alternative without a numeric operator - list everyone with the key, read each
value, compare - is timed on a sample and extrapolated. Requests are counted on the
client side.
Run: ``python benchmarks/search_numeric.py [--count 100000]``; ``--smoke`` uses 100
connections, so CI can check the script still works (its figures mean nothing).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import frankenws

SERVER = """
import sys
from frankenws.testing import FakeFrankenPHP
fake = FakeFrankenPHP()
for i in range({count}):
    conn = fake.connect("/chat", id=f"c{{i}}")
    fake.set_stored_information(conn, "violationCount", str(i % 10))
server = fake.serve()
print(server.admin_url, flush=True)
sys.stdin.read()
server.close()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one round: checks the script still runs (CI)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.count, args.sample = 100, 5
        print("smoke run: tiny sizes, the figures below mean nothing")
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER.format(count=args.count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdin is not None
    url = child.stdout.readline().strip()
    requests = 0

    class Counting(frankenws.Client):
        def _send(self, call):  # type: ignore[no-untyped-def]
            nonlocal requests
            requests += 1
            return super()._send(call)

    try:
        with Counting(url, timeout=120) as ws:
            start = time.perf_counter()
            found = ws.search_stored_information("violationCount", "gte", 3)
            elapsed = time.perf_counter() - start
            one_search_requests = requests
            assert len(found) == args.count * 7 // 10, len(found)
            candidates = ws.search_stored_information("violationCount", "exists")
            start = time.perf_counter()
            for conn in candidates[: args.sample]:
                ws.get_stored_information(conn, "violationCount")
            per_read = (time.perf_counter() - start) / args.sample
    finally:
        child.stdin.close()
        child.wait(30)
    print(f"{args.count} connections, violationCount gte 3 -> {len(found)} ids")
    print(f"frankenws gte: {one_search_requests} request(s), {elapsed:.2f} s")
    print(
        f"fetch-and-compare: {args.count + 1} requests, about "
        f"{per_read * args.count:.0f} s (extrapolated from {args.sample} reads)"
    )


if __name__ == "__main__":
    main()
