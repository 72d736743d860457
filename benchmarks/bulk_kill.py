"""Killing 10,000 connections: frankenws.bulk versus a naive loop and hand-written aiohttp.

Method: the loopback fake runs alone in a child process with 10,000 registered connections
per variant (ids ``<variant>-<n>``), so every variant kills its own real connections
through the same admin route (``POST /frankenphp_ws/killConnection/{id}``). Variants, run
one after the other in this process:

* ``naive``: ``httpx.post(url)`` per id (a new client each time, as a quick script does);
  only the first ``--naive-sample`` ids, the rate is extrapolated;
* ``aiohttp``: a hand-written ``aiohttp.ClientSession`` worker loop, ``--concurrency``
  workers, the best a user could write by hand;
* ``bulk``: ``frankenws.bulk.kill_connections(client, ids, concurrency=...,
  journal=<tmp file>)``, i.e. with the journal on.

Every variant checks that all its ids were reported killed. Run:
``python benchmarks/bulk_kill.py [--count 10000] [--concurrency 32]``; ``--smoke`` runs
a few dozen ids only, so CI can check the script still works (its figures mean nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx

import frankenws
from frankenws import bulk

SERVER = """
import sys
from frankenws.testing import FakeFrankenPHP
fake = FakeFrankenPHP()
for variant in ("naive", "aiohttp", "bulk"):
    for i in range({count}):
        fake.connect("/chat", id=f"{{variant}}-{{i}}")
server = fake.serve()
print(server.admin_url, flush=True)
sys.stdin.read()
server.close()
"""


def naive(url: str, ids: list[str]) -> float:
    start = time.perf_counter()
    for conn in ids:
        response = httpx.post(f"{url}/frankenphp_ws/killConnection/{conn}")
        assert response.json()["success"] is True
    return len(ids) / (time.perf_counter() - start)


async def _aiohttp(url: str, ids: list[str], concurrency: int) -> float:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for conn in ids:
        queue.put_nowait(conn)
    killed = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal killed
            while not queue.empty():
                conn = queue.get_nowait()
                async with session.post(f"{url}/frankenphp_ws/killConnection/{conn}") as r:
                    if (await r.json())["success"]:
                        killed += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    assert killed == len(ids)
    return len(ids) / elapsed


def with_bulk(url: str, ids: list[str], concurrency: int) -> float:
    with tempfile.TemporaryDirectory() as tmp, frankenws.Client(url) as client:
        start = time.perf_counter()
        report = bulk.kill_connections(
            client, ids, concurrency=concurrency, journal=Path(tmp, "journal.jsonl")
        )
        elapsed = time.perf_counter() - start
    assert len(report.done) == len(ids), report
    return len(ids) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--naive-sample", type=int, default=300)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one round: checks the script still runs (CI)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.count, args.concurrency, args.naive_sample = 40, 4, 5
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
    try:
        ids = {v: [f"{v}-{i}" for i in range(args.count)] for v in ("naive", "aiohttp", "bulk")}
        rates = {
            "naive": naive(url, ids["naive"][: args.naive_sample]),
            "aiohttp": asyncio.run(_aiohttp(url, ids["aiohttp"], args.concurrency)),
            "bulk": with_bulk(url, ids["bulk"], args.concurrency),
        }
    finally:
        child.stdin.close()
        child.wait(30)
    print(f"kill {args.count} connections, concurrency {args.concurrency}")
    for name, rate in rates.items():
        print(f"{name:<8} {rate:9.0f} kills/s   {args.count / rate:7.2f} s for {args.count}")
    print(f"bulk / naive   = {rates['bulk'] / rates['naive']:.1f}x (target >= 15x)")
    print(f"bulk / aiohttp = {rates['bulk'] / rates['aiohttp']:.2f}x (target >= 0.6x)")


if __name__ == "__main__":
    main()
