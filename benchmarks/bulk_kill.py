"""Killing 10,000 connections: frankenws.bulk versus a naive loop and hand-written aiohttp.

Method: the loopback fake runs alone in a child process with 10,000 registered connections
per variant and round (ids ``<variant>-<round>-<n>``), so every variant kills its own real
connections through the same admin route (``POST /frankenphp_ws/killConnection/{id}``).
Variants, run one after the other in this process, in a rotated order each round:

* ``naive``: ``httpx.post(url)`` per id (a new client each time, as a quick script does);
  only the first ``--naive-sample`` ids, the rate is extrapolated;
* ``aiohttp``: a hand-written ``aiohttp.ClientSession`` worker loop, ``--concurrency``
  workers, the best a user could write by hand;
* ``bulk+journal``: ``frankenws.bulk.kill_connections(client, ids, concurrency=...,
  journal=<tmp file>)``, i.e. with the journal on;
* ``bulk``: the same without a journal.

Each variant's wall time and this process's CPU time (user + system, ``getrusage``) are
taken; ratios are within each round, then min / median / max over ``--rounds``. Every
variant checks that all its ids were reported killed. Run:
``python benchmarks/bulk_kill.py [--count 10000] [--concurrency 32] [--rounds 5]``;
``--smoke`` runs a few dozen ids once, so CI can check the script still works (its
figures mean nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx
from _child import served
from _stats import spread

import frankenws
from frankenws import bulk

SERVER = """
import sys
from frankenws.testing import FakeFrankenPHP
fake = FakeFrankenPHP()
for prefix in sys.argv[2].split(","):
    for i in range(int(sys.argv[1])):
        fake.connect("/chat", id=f"{prefix}-{i}")
server = fake.serve()
print(server.admin_url, flush=True)
sys.stdin.read()
server.close()
"""

VARIANTS = ("naive", "aiohttp", "bulk+journal", "bulk")


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def naive(url: str, ids: list[str]) -> None:
    for conn in ids:
        response = httpx.post(f"{url}/frankenphp_ws/killConnection/{conn}")
        assert response.json()["success"] is True


async def _aiohttp(url: str, ids: list[str], concurrency: int) -> None:
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

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    assert killed == len(ids)


def with_bulk(client: frankenws.Client, ids: list[str], concurrency: int, journal: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        report = bulk.kill_connections(
            client,
            ids,
            concurrency=concurrency,
            journal=Path(tmp, "journal.jsonl") if journal else None,
        )
    assert len(report.done) == len(ids), report


def run(name: str, url: str, ids: list[str], concurrency: int) -> tuple[float, float]:
    """Kills per second of wall time and per second of this process's CPU time."""
    client = frankenws.Client(url)  # built before the clock starts, as a program would
    start_cpu, start = cpu(), time.perf_counter()
    if name == "naive":
        naive(url, ids)
    elif name == "aiohttp":
        asyncio.run(_aiohttp(url, ids, concurrency))
    else:
        with_bulk(client, ids, concurrency, journal=name == "bulk+journal")
    wall, used = time.perf_counter() - start, cpu() - start_cpu
    client.close()
    return len(ids) / wall, len(ids) / used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--naive-sample", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one round: checks the script still runs (CI)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.count, args.concurrency, args.naive_sample, args.rounds = 40, 4, 5, 1
        print("smoke run: tiny sizes, the figures below mean nothing")
    prefixes = [f"{v}-{r}" for r in range(args.rounds) for v in VARIANTS]
    with served(SERVER, str(args.count), ",".join(prefixes)) as (_, url):
        rates: dict[str, list[float]] = {v: [] for v in VARIANTS}
        per_cpu: dict[str, list[float]] = {v: [] for v in VARIANTS}
        ratios: dict[str, list[float]] = {k: [] for k in ("journal", "bulk", "naive", "cpu")}
        for r in range(args.rounds):
            order = VARIANTS[r % len(VARIANTS) :] + VARIANTS[: r % len(VARIANTS)]
            got: dict[str, float] = {}
            for name in order:
                ids = [f"{name}-{r}-{i}" for i in range(args.count)]
                if name == "naive":
                    ids = ids[: args.naive_sample]
                got[name], cpu_rate = run(name, url, ids, args.concurrency)
                rates[name].append(got[name])
                per_cpu[name].append(cpu_rate)
            ratios["journal"].append(got["bulk+journal"] / got["aiohttp"])
            ratios["bulk"].append(got["bulk"] / got["aiohttp"])
            ratios["naive"].append(got["bulk+journal"] / got["naive"])
            ratios["cpu"].append(per_cpu["bulk+journal"][-1] / per_cpu["aiohttp"][-1])
            print(
                f"round {r + 1}: "
                + ", ".join(f"{n} {got[n]:,.0f}/s" for n in VARIANTS)
                + f"; bulk+journal / aiohttp {ratios['journal'][-1]:.2f}x",
                flush=True,
            )
    with open("/proc/loadavg") as loadavg:
        load = loadavg.read().split()[0]
    print(
        f"kill {args.count:,} connections, concurrency {args.concurrency}, {args.rounds} "
        f"round(s), load average {load}; min / median / max"
    )
    for name in VARIANTS:
        print(
            f"{name:<13} {spread(rates[name], ',.0f')} kills/s; "
            f"{spread(per_cpu[name], ',.0f')} kills per CPU second"
        )
    print(f"bulk+journal / naive   = {spread(ratios['naive'], '.0f')} (target >= 15x)")
    print(f"bulk+journal / aiohttp = {spread(ratios['journal'], '.2f')} (target >= 0.9x)")
    print(f"bulk / aiohttp         = {spread(ratios['bulk'], '.2f')}")
    print(f"CPU per kill, aiohttp / bulk+journal = {spread(ratios['cpu'], '.2f')}")


if __name__ == "__main__":
    main()
