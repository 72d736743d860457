"""Memory per target of a bulk kill: frankenws.bulk versus a plain aiohttp loop.

Method: the fake runs alone in a child process with ``--count`` registered connections
per variant (ids of 32 hex characters, as the server makes them). Each variant kills its
own connections in a fresh process of its own, one after the other:

* ``plain loop``: a hand-written ``aiohttp`` worker loop (``--concurrency`` workers) over
  a list of the ids, counting the answers and keeping nothing else;
* ``bulk, all outcomes``: ``frankenws.bulk.kill_connections(client, ids, journal=...)``,
  the default, which keeps one ``Outcome`` per target in the report;
* ``bulk, keep_outcomes=100``: the same with ``keep_outcomes=100`` (counts plus at most
  100 outcomes per status; the journal has every target);
* ``bulk, streamed``: ``keep_outcomes=100`` with the ids produced by a generator, so
  nobody holds the list (the only memory per target left is the set that drops
  duplicates).

Each process builds its ids, imports everything, reads its RSS (``/proc/self/statm``),
runs the job and reads its peak RSS (``ru_maxrss``); the job's memory is peak minus
before, divided by the number of targets. The journal's size on disk per target is
printed too. Memory does not depend on the machine's load, so one round is enough;
``--rounds`` repeats it.

Run: ``python benchmarks/bulk_memory.py [--count 100000] [--rounds 1]``; ``--smoke``
runs 200 ids (CI; its figures mean nothing).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from _child import served

SERVER = """
import sys
from frankenws.testing import FakeFrankenPHP
fake = FakeFrankenPHP()
for prefix in sys.argv[2].split(","):
    for i in range(int(sys.argv[1])):
        fake.connect("/chat", id=prefix + "%028x" % i)
server = fake.serve()
print(server.admin_url, flush=True)
sys.stdin.read()
server.close()
"""

JOB = """
import asyncio, json, os, resource, sys, tempfile
url, prefix, count, concurrency, variant = sys.argv[1:6]
count, concurrency = int(count), int(concurrency)

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def stream():
    for i in range(count):
        yield prefix + "%028x" % i

import aiohttp
import frankenws
from frankenws import bulk
import frankenws.bulk._engine  # imported before measuring: only the job's memory counts
ids = None if variant == "bulk, streamed" else list(stream())
tmp = tempfile.mkdtemp()
journal = os.path.join(tmp, "journal.jsonl")
before = rss()

async def plain():
    todo = iter(ids)
    answered = 0
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency)
    ) as session:
        async def worker():
            nonlocal answered
            for conn in todo:
                async with session.post(url + "/frankenphp_ws/killConnection/" + conn) as r:
                    if (await r.json())["success"]:
                        answered += 1
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return answered

if variant == "plain loop":
    done = asyncio.run(plain())
else:
    # The default passes no keep_outcomes, so older versions can be measured too.
    keep = {} if variant == "bulk, all outcomes" else {"keep_outcomes": 100}
    # A generous deadline: on a busy machine a slow answer must not stop the job.
    with frankenws.Client(url, timeout=300) as client:
        report = bulk.kill_connections(
            client,
            ids if ids is not None else stream(),
            concurrency=concurrency,
            journal=journal,
            **keep,
        )
    done = report.counts()["done"]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
size = os.path.getsize(journal) if os.path.exists(journal) else 0
print(json.dumps([done, before, peak, size]))
"""

VARIANTS = ("plain loop", "bulk, all outcomes", "bulk, keep_outcomes=100", "bulk, streamed")


def measure(url: str, prefix: str, count: int, concurrency: int, variant: str) -> list[int]:
    out = subprocess.run(
        [sys.executable, "-c", JOB, url, prefix, str(count), str(concurrency), variant],
        capture_output=True,
        text=True,
        check=True,
    )
    done, before, peak, size = json.loads(out.stdout.strip().splitlines()[-1])
    assert done == count, f"{variant}: {done} of {count} killed"
    return [before, peak, size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--variants",
        default="all,keep,stream",
        help="a subset of all,keep,stream (the plain loop is always measured)",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="200 ids, one round: checks the script runs (CI)"
    )
    args = parser.parse_args()
    short = dict(zip(("all", "keep", "stream"), VARIANTS[1:], strict=True))
    chosen = ["plain loop", *(short[v] for v in args.variants.split(","))]
    if args.smoke:
        args.count, args.rounds = 200, 1
        print("smoke run: tiny sizes, the figures below mean nothing")
    prefixes = {
        (round_, variant): f"{round_:02x}{index:02x}"
        for round_ in range(args.rounds)
        for index, variant in enumerate(chosen)
    }
    with served(SERVER, str(args.count), ",".join(prefixes.values())) as (_, url):
        growth: dict[str, list[float]] = {v: [] for v in chosen}
        journal: dict[str, float] = {}
        for round_ in range(args.rounds):
            for variant in chosen:
                before, peak, size = measure(
                    url, prefixes[round_, variant], args.count, args.concurrency, variant
                )
                growth[variant].append((peak - before) / args.count)
                journal[variant] = size / args.count
                print(
                    f"round {round_ + 1}: {variant}: {growth[variant][-1]:,.0f} B/target",
                    flush=True,
                )
    print(f"bulk kill of {args.count:,} connections, concurrency {args.concurrency}, ", end="")
    print(f"{args.rounds} round(s); job's peak RSS growth per target (min/median/max)")
    plain = statistics.median(growth["plain loop"])
    for variant in chosen:
        values = sorted(growth[variant])
        line = " / ".join(f"{v:,.0f}" for v in (values[0], statistics.median(values), values[-1]))
        extra = statistics.median(values) - plain
        disk = f"; journal {journal[variant]:.0f} B/target" if journal[variant] else ""
        print(f"{variant:<26} {line} B/target (plain loop + {extra:,.0f}){disk}")


if __name__ == "__main__":
    main()
