"""Numeric search over 100,000 connections: one request, and how long it takes.

Method: the loopback fake runs in a child process with ``--count`` connections, each
storing ``violationCount`` = n % 10. ``search_stored_information("violationCount", "gte",
3)`` runs through ``frankenws.Client`` over loopback; the number of admin requests
it takes is counted, and the result is checked against the definition. For comparison, the
obvious alternative without a numeric operator - list everyone with the key, read each
value, compare - is timed on a sample and extrapolated, reading one value at a time through
the client and pipelined as the planners now read (``--pipelined-sample`` reads).
Requests are counted on the client side. ``--rounds`` rounds, min / median / max.
Run: ``python benchmarks/search_numeric.py [--count 100000] [--rounds 3]``; ``--smoke`` uses 100
connections, so CI can check the script still works (its figures mean nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from _child import served

import frankenws
from frankenws._calls import calls
from frankenws.bulk._reads import read_pipelined

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


def spread(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def pipelined_reads(ws: frankenws.Client, ids: list[str]) -> float:
    """Seconds to read ``ids``' values the way the planners now do (HTTP/1.1 pipelining)."""
    reads = [calls.get_stored_information(conn, "violationCount") for conn in ids]
    start = time.perf_counter()
    unread = asyncio.run(read_pipelined(ws._connection, reads, lambda index, value: None))
    assert not unread
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--pipelined-sample", type=int, default=5_000)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one round: checks the script still runs (CI)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.count, args.sample, args.pipelined_sample, args.rounds = 100, 5, 50, 1
        print("smoke run: tiny sizes, the figures below mean nothing")
    with served(SERVER.format(count=args.count)) as (_, url):
        requests = 0

        class Counting(frankenws.Client):
            def _send(self, call):  # type: ignore[no-untyped-def]
                nonlocal requests
                requests += 1
                return super()._send(call)

        searches: list[float] = []
        one_by_one: list[float] = []
        piped: list[float] = []
        with Counting(url, timeout=120) as ws:
            candidates = ws.search_stored_information("violationCount", "exists")
            for _ in range(args.rounds):
                requests = 0
                start = time.perf_counter()
                found = ws.search_stored_information("violationCount", "gte", 3)
                searches.append(time.perf_counter() - start)
                one_search_requests = requests
                assert len(found) == args.count * 7 // 10, len(found)
                start = time.perf_counter()
                for conn in candidates[: args.sample]:
                    ws.get_stored_information(conn, "violationCount")
                per_read = (time.perf_counter() - start) / args.sample
                one_by_one.append(per_read * args.count)
                sample = candidates[: args.pipelined_sample]
                piped.append(pipelined_reads(ws, sample) / len(sample) * args.count)
        with open("/proc/loadavg") as load:
            loadavg = " ".join(load.read().split()[:3])
    print(f"{args.count:,} connections, violationCount gte 3 -> {len(found):,} ids")
    print(f"seconds, min / median / max of {args.rounds} rounds (load average {loadavg})")
    print(f"frankenws gte: {one_search_requests} request(s), {spread(searches)}")
    print(
        f"fetch-and-compare, one read at a time: {args.count + 1:,} requests, "
        f"{spread(one_by_one)} (extrapolated from {args.sample} reads)"
    )
    print(
        f"fetch-and-compare, reads pipelined: {args.count + 1:,} requests, "
        f"{spread(piped)} (extrapolated from {args.pipelined_sample} reads)"
    )


if __name__ == "__main__":
    main()
