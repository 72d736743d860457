"""The fake's memory while connections are opened and killed, for a long time.

Method: one ``FakeFrankenPHP`` in this process; ``--count`` times, a virtual connection
is opened (``connect``), sent one frame and killed (``kill_connection``), the life of a
connection in a load test. Every ``--every`` connections the script collects garbage and
prints the resident set size (``/proc/self/statm``), the event log's length and the time
so far. What the fake keeps for closed connections (the event log, the frames of closed
virtual connections) is bounded, so the RSS must level off once the bounds are reached
(100,000 events, about 33,000 connections, and 100,000 closed connections).

Run: ``python benchmarks/fake_memory.py [--count 1000000] [--every 100000]``.
``--smoke`` runs 2,000 connections, then 200 in the ``--loopback`` mode (CI).

``--loopback`` measures the loopback admin port instead: ``--count`` times a raw socket
connects to ``fake.serve()``'s admin port, sends two pipelined requests (every tenth
with a chunked body, the server's coroutine path; the rest answered from one read),
reads the answers and is closed; the RSS is printed every ``--every`` connections.
"""

from __future__ import annotations

import argparse
import gc
import os
import socket
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
    parser.add_argument("--loopback", action="store_true", help="admin connections over loopback")
    args = parser.parse_args()
    if args.loopback:
        return loopback(200, 100) if args.smoke else loopback(args.count, args.every)
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
    if args.smoke:
        print()
        return loopback(200, 100)  # CI runs the loopback mode too, at a tiny size
    return 0


def loopback(count: int, every: int) -> int:
    fake = FakeFrankenPHP()
    for i in range(100):
        fake.connect("/chat", id=f"c{i}")
    with fake.serve() as server:
        host = f"Host: 127.0.0.1:{server.admin_port}\r\n"
        read = f"GET /frankenphp_ws/getClientsCount HTTP/1.1\r\n{host}\r\n".encode()
        chunked = f"POST /frankenphp_ws/tag/c1 HTTP/1.1\r\n{host}"
        chunked += "Transfer-Encoding: chunked\r\n\r\n3\r\nvip\r\n0\r\n\r\n"
        last = f"GET /frankenphp_ws/getClients HTTP/1.1\r\n{host}Connection: close\r\n\r\n"
        start = time.perf_counter()
        print("| admin connections opened and closed | RSS MB | seconds |")
        print("|---:|---:|---:|")
        print(f"| 0 | {rss_mb():.0f} | 0 |")
        for i in range(count):
            with socket.create_connection(("127.0.0.1", server.admin_port)) as sock:
                sock.sendall((chunked.encode() if i % 10 == 0 else read) + last.encode())
                while sock.recv(65536):
                    pass
            if (i + 1) % every == 0:
                gc.collect()
                elapsed = time.perf_counter() - start
                print(f"| {i + 1:,} | {rss_mb():.0f} | {elapsed:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
