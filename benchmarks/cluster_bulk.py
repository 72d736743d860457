"""Bulk kill on a fleet: 10,000 connections over 10 nodes versus the same on one node.

Method: per round, two child processes serve loopback fakes: one with a single node
holding ``--count`` connections, one with ``--nodes`` nodes holding ``--count / --nodes``
each (ids ``n<node>-<i>``). Both children are one process each, so the server side has
the same CPU in both variants and the comparison measures what the fleet costs the
client: the owner map (one ``getClients`` per node) and the requests spread over one
connection pool per node. In this process, one after the other within a round:

* ``single``: ``bulk.kill_connections(Client(url), ids, concurrency=...)``;
* ``fleet``: ``bulk.kill_connections(Cluster(urls), ids, concurrency=...)``, the timing
  including the owner map.

Both check that every id was reported killed (and the fleet's outcomes carry the right
node). The rounds alternate which variant goes first. Run:
``python benchmarks/cluster_bulk.py [--count 10000] [--nodes 10] [--rounds 5]``;
``--smoke`` runs a few dozen ids once, so CI can check the script still works.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import frankenws
from frankenws import bulk

SERVER = """
import sys
from frankenws.testing import FakeFrankenPHP
servers = []
for node in range({nodes}):
    fake = FakeFrankenPHP()
    for i in range({per_node}):
        fake.connect("/chat", id=f"n{{node}}-{{i}}")
    servers.append(fake.serve())
print(" ".join(server.admin_url for server in servers), flush=True)
sys.stdin.read()
for server in servers:
    server.close()
"""


@contextmanager
def serve(nodes: int, per_node: int) -> Iterator[list[str]]:
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER.format(nodes=nodes, per_node=per_node)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdin is not None
    try:
        yield child.stdout.readline().split()
    finally:
        child.stdin.close()
        child.wait(60)


def single(count: int, concurrency: int) -> float:
    with serve(1, count) as (url,), frankenws.Client(url) as client:
        ids = [f"n0-{i}" for i in range(count)]
        start = time.perf_counter()
        report = bulk.kill_connections(client, ids, concurrency=concurrency)
        elapsed = time.perf_counter() - start
    assert len(report.done) == count, report
    return count / elapsed


def fleet(count: int, nodes: int, concurrency: int) -> float:
    per_node = count // nodes
    with serve(nodes, per_node) as urls, frankenws.Cluster(urls) as cluster:
        ids = [f"n{n}-{i}" for i in range(per_node) for n in range(nodes)]
        start = time.perf_counter()
        report = bulk.kill_connections(cluster, ids, concurrency=concurrency)
        elapsed = time.perf_counter() - start
    assert len(report.done) == len(ids), report
    assert all(o.node == urls[int(o.target[1 : o.target.index("-")])] for o in report.outcomes)
    return len(ids) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, one round: checks the script runs (CI)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.count, args.nodes, args.concurrency, args.rounds = 40, 4, 4, 1
        print("smoke run: tiny sizes, the figures below mean nothing")
    rates: dict[str, list[float]] = {"single": [], "fleet": []}
    for round_ in range(args.rounds):
        order = ["single", "fleet"] if round_ % 2 == 0 else ["fleet", "single"]
        for name in order:
            if name == "single":
                rates[name].append(single(args.count, args.concurrency))
            else:
                rates[name].append(fleet(args.count, args.nodes, args.concurrency))
    print(
        f"bulk kill of {args.count} connections, concurrency {args.concurrency}, "
        f"{args.rounds} round(s); kills/s min / median / max"
    )
    for name, values in rates.items():
        where = "1 node" if name == "single" else f"{args.nodes} nodes"
        print(
            f"{name:<7} ({where:>8})  {min(values):7.0f} / {statistics.median(values):7.0f} / "
            f"{max(values):7.0f}"
        )
    ratios = [f / s for f, s in zip(rates["fleet"], rates["single"], strict=True)]
    print(
        f"fleet / single per round: min {min(ratios):.2f}x, median "
        f"{statistics.median(ratios):.2f}x, max {max(ratios):.2f}x (target >= 0.8x)"
    )


if __name__ == "__main__":
    main()
