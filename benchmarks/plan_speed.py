"""Planning the bulk jobs over 100,000 connections: the current planners against the
reading strategies they replaced.

Method: the loopback fake runs in a child process with ``--count`` connections. Each
stores ``lastActivity`` (one in five idle for more than 30 minutes), ``violationCount``
(n % 10, so ``gte 8`` matches one in five) and ``username`` (three connections per
user, so ``enforce-limit --max 2`` targets one in three). Each round plans, over
loopback with a ``frankenws.Client``:

- ``cleanup-inactive --max-idle 30m`` (``plan_cleanup_inactive``),
- ``sweep violationCount gte 8`` (``plan_disconnect_matching``),
- ``enforce-limit --max 2`` (``plan_enforce_connection_limit``),

with each strategy named by ``--sides`` in turn, within each round:

- ``now``: the current planners (per-connection values read over HTTP/1.1 pipelining);
- ``lane``: the same planners with pipelining switched off, so every per-connection
  value goes through the bulk lane (HTTP/1.1, 32 in flight), as in the previous round;
- ``threads``: the strategy before that, re-stated here with the public SDK: list the
  connections, then read every needed stored value one request at a time through the
  client's own sender, 16 in flight (threads), and decide locally.

All give the same targets (checked). Figures: min/median/max over ``--rounds`` rounds
of the wall time, of this process's CPU time (the client) and of the server child's
CPU time (from /proc; Linux only), measured side by side in one run.

Run: ``python benchmarks/plan_speed.py [--count 100000] [--rounds 3] [--sides now,lane]``;
``--smoke`` uses 300 connections and one round, so CI can check the script still works
(its figures mean nothing).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import frankenws
from frankenws import bulk
from frankenws.bulk import _planners

NOW = 1_750_000_000
IDLE = 1800

SERVER = """
import sys
from frankenws.testing import FakeFrankenPHP
fake = FakeFrankenPHP()
for i in range({count}):
    conn = fake.connect("/chat", id=f"c{{i:06}}")
    idle = {idle} + 60 if i % 5 == 0 else 60
    fake.set_stored_information(conn, "lastActivity", str({now} - idle))
    fake.set_stored_information(conn, "violationCount", str(i % 10))
    fake.set_stored_information(conn, "username", f"user{{i // 3}}")
server = fake.serve()
print(server.admin_url, flush=True)
sys.stdin.read()
server.close()
"""


def _values(ws: frankenws.Client, ids: list[str], key: str) -> dict[str, str | None]:
    """The replaced strategy: one read per connection, 16 in flight."""
    with ThreadPoolExecutor(16) as pool:
        read = pool.map(lambda conn: ws.get_stored_information(conn, key), ids)
        return dict(zip(ids, read, strict=True))


def before_cleanup(ws: frankenws.Client) -> set[str]:
    registered = ws.get_clients()
    values = _values(ws, registered, "lastActivity")
    cutoff = NOW - IDLE
    targets = set()
    for conn, raw in values.items():
        try:
            if raw is not None and float(raw) < cutoff:
                targets.add(conn)
        except ValueError:
            pass
    return targets


def before_sweep(ws: frankenws.Client) -> set[str]:
    found = ws.search_stored_information("violationCount", "gte", 8)
    registered = set(ws.get_clients())
    ids = sorted(i for i in found if i in registered)
    _values(ws, ids, "violationCount")
    _values(ws, ids, "username")  # the victims' names, read whether alerting or not
    return set(ids)


def before_enforce(ws: frankenws.Client) -> set[str]:
    found = ws.search_stored_information("username", "prefix", "")
    registered = set(ws.get_clients())
    ids = sorted(i for i in found if i in registered)
    users = _values(ws, ids, "username")
    groups: dict[str, list[str]] = {}
    for conn in ids:
        if users[conn] is not None:
            groups.setdefault(str(users[conn]), []).append(conn)
    return {conn for members in groups.values() for conn in sorted(members)[2:]}


def now_cleanup(ws: frankenws.Client) -> set[str]:
    return set(bulk.plan_cleanup_inactive(ws, IDLE, now=NOW).target_ids)


def now_sweep(ws: frankenws.Client) -> set[str]:
    return set(bulk.plan_disconnect_matching(ws, "violationCount", "gte", 8).target_ids)


def now_enforce(ws: frankenws.Client) -> set[str]:
    return set(bulk.plan_enforce_connection_limit(ws, 2).target_ids)


async def _nothing_pipelined(conn: Any, reads: Sequence[Any], done: Any) -> list[int]:
    return list(range(len(reads)))  # every read left to the bulk lane


@contextlib.contextmanager
def lane_only() -> Iterator[None]:
    """The planners of the previous round: no pipelining, every value over the lane."""
    saved = _planners.read_pipelined
    _planners.read_pipelined = _nothing_pipelined  # type: ignore[assignment]
    try:
        yield
    finally:
        _planners.read_pipelined = saved


def on_lane(fn: Callable[[frankenws.Client], set[str]]) -> Callable[[frankenws.Client], set[str]]:
    def run(ws: frankenws.Client) -> set[str]:
        with lane_only():
            return fn(ws)

    return run


NOW_JOBS: dict[str, Callable[[frankenws.Client], set[str]]] = {
    "cleanup-inactive": now_cleanup,
    "sweep": now_sweep,
    "enforce-limit": now_enforce,
}
SIDES: dict[str, dict[str, Callable[[frankenws.Client], set[str]]]] = {
    "now": NOW_JOBS,
    "lane": {name: on_lane(fn) for name, fn in NOW_JOBS.items()},
    "threads": {
        "cleanup-inactive": before_cleanup,
        "sweep": before_sweep,
        "enforce-limit": before_enforce,
    },
}


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) the server child has used so far; NaN off Linux."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(
    fn: Callable[[frankenws.Client], set[str]], ws: frankenws.Client, pid: int
) -> tuple[tuple[float, float, float], set[str]]:
    """Wall, client CPU and server CPU seconds of one plan, and its targets."""
    start, cpu, served = time.perf_counter(), time.process_time(), server_cpu(pid)
    targets = fn(ws)
    figures = (
        time.perf_counter() - start,
        time.process_time() - cpu,
        server_cpu(pid) - served,
    )
    return figures, targets


def spread(values: list[float]) -> str:
    return f"{min(values):6.2f} {statistics.median(values):6.2f} {max(values):6.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=sorted(NOW_JOBS), action="append")
    parser.add_argument(
        "--sides",
        default="now,lane",
        help=f"comma-separated strategies to time, of {', '.join(SIDES)} (default: now,lane)",
    )
    parser.add_argument(
        "--server-path",
        metavar="DIR",
        help="run the fake from the checkout in DIR (e.g. another branch's faster fake)",
    )
    parser.add_argument(
        "--now-only",
        action="store_true",
        help="time the current planners only (same as --sides now)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one round: checks the script still runs (CI)",
    )
    args = parser.parse_args()
    sides = ["now"] if args.now_only else args.sides.split(",")
    unknown = set(sides) - set(SIDES)
    if unknown:
        parser.error(
            f"unknown side(s) {', '.join(sorted(unknown))}; choose from {', '.join(SIDES)}"
        )
    if args.smoke:
        args.count, args.rounds, sides = 300, 1, list(SIDES)
        print("smoke run: tiny sizes, the figures below mean nothing")
    server_env = None
    if args.server_path:
        # Another checkout's fake (frankenws.testing) serves; this one's SDK plans.
        server_env = dict(os.environ, PYTHONPATH=args.server_path)
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER.format(count=args.count, now=NOW, idle=IDLE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=args.server_path,
        env=server_env,
    )
    assert child.stdout is not None
    assert child.stdin is not None
    url = child.stdout.readline().strip()
    print(
        f"{args.count:,} connections; seconds to plan, min / median / max of {args.rounds}: "
        "wall, client CPU, server CPU"
    )
    try:
        with frankenws.Client(url, timeout=300) as ws:
            for name in args.only or NOW_JOBS:
                times: dict[str, list[tuple[float, float, float]]] = {side: [] for side in sides}
                results = []
                for _ in range(args.rounds):
                    for side in sides:
                        figures, targets = timed(SIDES[side][name], ws, child.pid)
                        times[side].append(figures)
                        results.append(targets)
                assert all(r == results[0] for r in results), f"{name}: the targets differ"
                for side, rounds in times.items():
                    wall, cpu, served = (list(column) for column in zip(*rounds, strict=True))
                    print(
                        f"{name:17} {side:7} wall {spread(wall)} | client {spread(cpu)} | "
                        f"server {spread(served)}   ({len(results[0]):,} targets)"
                    )
        with open("/proc/loadavg") as load:
            print("load average:", " ".join(load.read().split()[:3]))
    finally:
        child.stdin.close()
        child.wait(60)


if __name__ == "__main__":
    main()
