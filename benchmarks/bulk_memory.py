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
  nobody holds the list (what is left per target is the table that drops duplicates);
* ``resume``: a resume of a journal recording every target ``done``, ids from a
  generator, ``keep_outcomes=100``: the journal's state (every target is skipped, no
  request is sent; the journal is written by the process before it measures);
* ``cli``: ``frankenws --url URL kill -`` fed the ids through a pipe, its per-target
  lines written to a file (the CLI keeps a journal and an audit log, as always).

Each process builds its ids, imports everything, reads its RSS (``/proc/self/statm``),
runs the job and reads its peak RSS (``VmHWM`` in ``/proc/self/status``: ``ru_maxrss``
would start from the parent's peak, which a child spawned from a big process carries
over); the job's memory is peak minus before, divided by the number of targets. The
journal's size on disk per target is printed too. Memory does not depend on the
machine's load, so one round is enough; ``--rounds`` repeats it.

Then, in this process, the CPU time per id of dropping duplicates (``--dedupe`` ids,
three rounds at least; ``--variants ""`` measures only that).

Run: ``python benchmarks/bulk_memory.py [--count 100000] [--rounds 1]
[--variants plain,all,keep,stream,resume,cli] [--dedupe 1000000]``; ``--smoke`` runs 200
ids of every variant (CI; its figures mean nothing). Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator

from _child import served
from _stats import spread

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
import asyncio, json, os, sys, tempfile
url, prefix, count, concurrency, variant = sys.argv[1:6]
count, concurrency = int(count), int(concurrency)

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

def peak_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024

def stream():
    for i in range(count):
        yield prefix + "%028x" % i

import aiohttp
import frankenws
from frankenws import bulk
import frankenws.bulk._engine  # imported before measuring: only the job's memory counts
ids = None if variant in ("bulk, streamed", "resume") else list(stream())
tmp = tempfile.mkdtemp()
journal = os.path.join(tmp, "journal.jsonl")
if variant == "resume":
    with open(journal, "w") as f:
        f.write('{"journal":"frankenws-bulk","version":1,"job":"kill","server":"x"}\\n')
        for conn in stream():
            f.write('{"time":"2026-12-01T00:00:00.000+00:00","action":"kill","target":"'
                    + conn + '","status":"done"}\\n')
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
    where = {"resume": journal} if variant == "resume" else {"journal": journal}
    # A generous deadline: on a busy machine a slow answer must not stop the job.
    with frankenws.Client(url, timeout=300) as client:
        report = bulk.kill_connections(
            client,
            ids if ids is not None else stream(),
            concurrency=concurrency,
            **where,
            **keep,
        )
    done = report.counts()["skipped" if variant == "resume" else "done"]
peak = peak_rss()
size = os.path.getsize(journal) if os.path.exists(journal) and variant != "resume" else 0
print(json.dumps([done, before, peak, size]))
"""

# The CLI's own entry point, after importing what a bulk kill uses, reporting its RSS
# then and its peak as it exits.
CLI = """
import atexit, os, sys
import aiohttp, frankenws.bulk._engine, frankenws_cli._jobs, frankenws_cli._kill

def rss(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024

before = rss("VmRSS")
atexit.register(lambda: sys.stderr.write(f"memory {before} {rss('VmHWM')}\\n"))
sys.argv = ["frankenws", *sys.argv[1:]]
from frankenws_cli import main

main()
"""

VARIANTS = {
    "plain": "plain loop",
    "all": "bulk, all outcomes",
    "keep": "bulk, keep_outcomes=100",
    "stream": "bulk, streamed",
    "resume": "resume",
    "cli": "cli",
}


def measure(url: str, prefix: str, count: int, concurrency: int, variant: str) -> list[int]:
    if variant == "cli":
        return measure_cli(url, prefix, count, concurrency)
    out = subprocess.run(
        [sys.executable, "-c", JOB, url, prefix, str(count), str(concurrency), variant],
        capture_output=True,
        text=True,
        check=True,
    )
    done, before, peak, size = json.loads(out.stdout.strip().splitlines()[-1])
    assert done == count, f"{variant}: {done} of {count} killed"
    return [before, peak, size]


def measure_cli(url: str, prefix: str, count: int, concurrency: int) -> list[int]:
    """``frankenws kill -`` with the ids written into its stdin pipe as it reads them."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FRANKENWS_")}
        env.update(XDG_STATE_HOME=tmp, XDG_CONFIG_HOME=tmp)
        out_path = os.path.join(tmp, "out.txt")
        with open(out_path, "wb") as out:
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    CLI,
                    "--url",
                    url,
                    "--concurrency",
                    str(concurrency),
                    "kill",
                    "-",
                ],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.PIPE,
                env=env,
            )
            assert child.stdin is not None
            assert child.stderr is not None

            def feed() -> None:
                assert child.stdin is not None
                with child.stdin:
                    for i in range(count):
                        child.stdin.write(f"{prefix}{i:028x}\n".encode())

            feeder = threading.Thread(target=feed)
            feeder.start()
            errors = child.stderr.read().decode()
            child.wait()
            feeder.join()
        with open(out_path, "rb") as printed:
            lines = sum(1 for line in printed if line.startswith(b"killed "))
    assert child.returncode == 0, errors
    assert lines == count, f"cli: {lines} of {count} printed; {errors}"
    before, peak = (int(v) for v in errors.split("memory ")[1].split()[:2])
    # A clean run deletes its automatic journal: its size is the other variants'.
    return [before, peak, 0]


def dedupe_cost(count: int, rounds: int) -> None:
    """CPU time per id of dropping duplicates: the engine's digest table (growing, and
    sized at once from a length hint) against the set of ids it replaced, over ``count``
    distinct ids read from a generator (each reads every id once, checks it, passes it
    on); the generator's own cost is taken off."""
    from frankenws.bulk._steps import _Targets

    class Job:
        total = 0

    def ids() -> Iterator[str]:
        return (f"{i:032x}" for i in range(count))

    def with_set() -> None:
        seen: set[str] = set()
        for value in ids():
            if isinstance(value, str) and value and value not in seen:
                seen.add(value)

    def with_table() -> None:
        for _ in _Targets(ids()).stream(Job()):  # type: ignore[arg-type]
            pass

    class Hinted:
        """A stream that says how many ids it holds, as the CLI's spooled ids do."""

        def __init__(self) -> None:
            self._ids = ids()

        def __iter__(self) -> Hinted:
            return self

        def __next__(self) -> str:
            return next(self._ids)

        def __length_hint__(self) -> int:
            return count

    def with_sized_table() -> None:
        for _ in _Targets(Hinted()).stream(Job()):  # type: ignore[arg-type]
            pass

    def bare() -> None:
        for _ in ids():
            pass

    times: dict[str, list[float]] = {"set": [], "table": [], "sized": []}
    for _ in range(rounds):
        base = _cpu(bare)
        times["set"].append((_cpu(with_set) - base) / count * 1e6)
        times["table"].append((_cpu(with_table) - base) / count * 1e6)
        times["sized"].append((_cpu(with_sized_table) - base) / count * 1e6)
    print(f"dropping duplicates, {count:,} distinct ids, CPU µs per id (min/median/max):")
    for name, values in times.items():
        print(f"  {name:<6} {spread(values)}")


def _cpu(work: Callable[[], None]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--variants",
        default="plain,all,keep,stream,resume,cli",
        help="a subset of " + ",".join(VARIANTS),
    )
    parser.add_argument(
        "--dedupe",
        type=int,
        default=1_000_000,
        help="ids for the CPU cost of dropping duplicates (0: skip it)",
    )
    parser.add_argument(
        "--smoke", action="store_true", help="200 ids, one round: checks the script runs (CI)"
    )
    args = parser.parse_args()
    chosen = [VARIANTS[v] for v in args.variants.split(",") if v]
    if args.smoke:
        args.count, args.rounds, args.dedupe = 200, 1, 2000
        print("smoke run: tiny sizes, the figures below mean nothing")
    prefixes = {
        (round_, variant): f"{round_:02x}{index:02x}"
        for round_ in range(args.rounds)
        for index, variant in enumerate(chosen)
    }
    if chosen:  # --variants "": only the cost of dropping duplicates
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
                        f"round {round_ + 1}: {variant}: {growth[variant][-1]:,.0f} B/target "
                        f"(peak RSS {peak / 1e6:,.1f} MB, {before / 1e6:,.1f} MB before the job)",
                        flush=True,
                    )
        print(f"bulk kill of {args.count:,} connections, concurrency {args.concurrency}, ", end="")
        print(f"{args.rounds} round(s); job's peak RSS growth per target (min/median/max)")
        plain = statistics.median(growth["plain loop"]) if "plain loop" in growth else None
        for variant in chosen:
            values = growth[variant]
            line = spread(values, ",.0f")
            extra = (
                "" if plain is None else f" (plain loop + {statistics.median(values) - plain:,.0f})"
            )
            disk = f"; journal {journal[variant]:.0f} B/target" if journal[variant] else ""
            print(f"{variant:<26} {line} B/target{extra}{disk}")

    if args.dedupe:
        dedupe_cost(args.dedupe, max(3, args.rounds))


if __name__ == "__main__":
    main()
