"""``AsyncClient`` under concurrency versus a hand-written aiohttp loop.

Method: the fake runs alone in a child process (loopback, 100 connections). In this
process, ``--concurrency`` tasks share one client and call ``get_clients_count()``
(``GET /frankenphp_ws/getClientsCount``) until ``--calls`` calls are done, for three
variants in turn within each round: a bare ``aiohttp.ClientSession`` issuing the same
GET (the reference), ``frankenws.AsyncClient`` as constructed by default (it sends over
its own keep-alive HTTP/1.1 connections, the bulk engine's lane), and ``AsyncClient``
forced onto httpx's own asyncio transport. Each variant's figures are calls per second
of wall time and calls per second of this process's CPU time (the client's cost alone,
steadier on a shared machine); the ratios to aiohttp are taken within each round, and
the script prints min/median/max over ``--rounds``. The server shares the two cores, so
rates are floors.

Run: ``python benchmarks/async_concurrency.py [--rounds 5] [--calls 4000]
[--concurrency 128]`` (exit 1 when the median ratio of the default client is under 0.5).
``--smoke`` runs a few calls of each variant and times nothing (CI).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx
from _stats import spread

import frankenws

TARGET_RATIO = 0.5

SERVER = """
import sys
from frankenws.testing import FakeFrankenPHP
fake = FakeFrankenPHP()
for i in range(100):
    fake.connect("/chat", id=f"c{i}")
server = fake.serve()
print(server.admin_url, flush=True)
sys.stdin.read()
server.close()
"""


async def _drive(
    call: Callable[[], Awaitable[object]], calls: int, concurrency: int
) -> tuple[float, float]:
    """Calls per second of wall time, and of this process's CPU time."""
    left = calls

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await call()

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return calls / (time.perf_counter() - start), calls / (time.process_time() - cpu)


async def bare_aiohttp(url: str, calls: int, concurrency: int) -> tuple[float, float]:
    async with aiohttp.ClientSession() as session:

        async def call() -> object:
            async with session.get(f"{url}/frankenphp_ws/getClientsCount") as response:
                return (await response.json())["count"]

        return await _drive(call, calls, concurrency)


async def sdk(url: str, calls: int, concurrency: int, *, httpx_pool: bool) -> tuple[float, float]:
    transport = httpx.AsyncHTTPTransport() if httpx_pool else None
    async with frankenws.AsyncClient(url, transport=transport) as client:
        return await _drive(client.get_clients_count, calls, concurrency)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--smoke", action="store_true", help="a few calls, nothing timed (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.rounds, args.calls, args.concurrency = 1, 20, 4
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdin is not None
    try:
        url = child.stdout.readline().strip()
        rows: list[tuple[tuple[float, float], ...]] = []
        for _ in range(args.rounds):
            ref = asyncio.run(bare_aiohttp(url, args.calls, args.concurrency))
            ours = asyncio.run(sdk(url, args.calls, args.concurrency, httpx_pool=False))
            pool = asyncio.run(sdk(url, args.calls, args.concurrency, httpx_pool=True))
            rows.append((ref, ours, pool))
    finally:
        child.stdin.close()
        child.wait()
    if args.smoke:
        print("smoke run: each variant made a few calls; nothing timed")
        return 0

    print(
        f"{args.rounds} rounds x {args.calls} calls, {args.concurrency} concurrent; "
        "min / median / max"
    )
    print("| variant | calls/s (wall) | ratio | calls per CPU second | ratio |")
    print("|---|---:|---:|---:|---:|")
    names = (
        "hand-written aiohttp",
        "`AsyncClient` (default: its HTTP/1.1 lane)",
        "`AsyncClient` on httpx's pool",
    )
    for index, name in enumerate(names):
        cells = []
        for kind in (0, 1):
            rates = [row[index][kind] for row in rows]
            ratios = [row[index][kind] / row[0][kind] for row in rows]
            cells += [spread(rates, ",.0f"), spread(ratios, ".2f")]
        print(f"| {name} | {' | '.join(cells)} |")
    median = statistics.median(row[1][0] / row[0][0] for row in rows)
    print(f"median wall ratio of the default AsyncClient: {median:.2f}; target >= {TARGET_RATIO}")
    return 0 if median >= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
