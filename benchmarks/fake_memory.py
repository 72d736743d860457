"""The fake's memory while connections are opened and killed, for a long time.

Method: one ``FakeFrankenPHP`` in this process; ``--count`` times, a virtual connection
is opened (``connect``), sent one frame and killed (``kill_connection``), the life of a
connection in a load test. Every ``--every`` connections the script collects garbage and
prints the resident set size (``/proc/self/statm``), the event log's length and the time
so far. What the fake keeps for closed connections (the event log, the frames of closed
virtual connections) is bounded, so the RSS must level off once the bounds are reached
(100,000 events, about 33,000 connections, and 100,000 closed connections).

Run: ``python benchmarks/fake_memory.py [--count 1000000] [--every 100000]``.
``--smoke`` runs 2,000 connections (CI).
"""

from __future__ import annotations

import argparse
import gc
import os
import time

from frankenws.testing import FakeFrankenPHP


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help="2,000 connections (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.count, args.every = 2000, 1000
    fake = FakeFrankenPHP()
    start = time.perf_counter()
    print("| connections opened and killed | RSS MB | events kept | seconds |")
    print("|---:|---:|---:|---:|")
    print(f"| 0 | {rss_mb():.0f} | 0 | 0 |")
    for i in range(args.count):
        conn = fake.connect("/chat", id=f"c{i}")
        fake.send(conn, b"hello")
        fake.kill_connection(conn)
        if (i + 1) % args.every == 0:
            gc.collect()
            elapsed = time.perf_counter() - start
            print(
                f"| {i + 1:,} | {rss_mb():.0f} | {len(fake.events):,} | {elapsed:.0f} |", flush=True
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
