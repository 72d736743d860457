"""Planning the bulk jobs over 100,000 connections: the current planners against the
reading strategy they replaced.

Method: the loopback fake runs in a child process with ``--count`` connections. Each
stores ``lastActivity`` (one in five idle for more than 30 minutes), ``violationCount``
(n % 10, so ``gte 8`` matches one in five) and ``username`` (three connections per
user, so ``enforce-limit --max 2`` targets one in three). Each round plans, over
loopback with a ``frankenws.Client``:

- ``cleanup-inactive --max-idle 30m`` (``plan_cleanup_inactive``),
- ``sweep violationCount gte 8`` (``plan_disconnect_matching``),
- ``enforce-limit --max 2`` (``plan_enforce_connection_limit``),

first with the current planners, then with the previous strategy, re-stated here with
the public SDK: list the connections, then read every needed stored value one request at
a time through the client's own sender, 16 in flight (threads), and decide locally.
Both give the same targets (checked). Figures: min/median/max wall time over
``--rounds`` rounds, measured side by side in one run.

Run: ``python benchmarks/plan_speed.py [--count 100000] [--rounds 3]``; ``--smoke`` uses
300 connections and one round, so CI can check the script still works (its figures
mean nothing).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import frankenws
from frankenws import bulk

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


JOBS: dict[str, tuple[Callable[[frankenws.Client], set[str]], ...]] = {
    "cleanup-inactive": (now_cleanup, before_cleanup),
    "sweep": (now_sweep, before_sweep),
    "enforce-limit": (now_enforce, before_enforce),
}


def timed(
    fn: Callable[[frankenws.Client], set[str]], ws: frankenws.Client
) -> tuple[float, set[str]]:
    start = time.perf_counter()
    targets = fn(ws)
    return time.perf_counter() - start, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=sorted(JOBS), action="append")
    parser.add_argument(
        "--now-only",
        action="store_true",
        help="time the current planners only (the previous strategy takes minutes at 100,000)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one round: checks the script still runs (CI)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.count, args.rounds = 300, 1
        print("smoke run: tiny sizes, the figures below mean nothing")
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER.format(count=args.count, now=NOW, idle=IDLE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdin is not None
    url = child.stdout.readline().strip()
    print(f"{args.count:,} connections; seconds to plan, min / median / max of {args.rounds}")
    try:
        with frankenws.Client(url, timeout=300) as ws:
            for name in args.only or JOBS:
                times: dict[str, list[float]] = {"now": [], "before": []}
                results = []
                for _ in range(args.rounds):
                    sides = zip(("now", "before"), JOBS[name], strict=True)
                    for label, fn in list(sides)[: 1 if args.now_only else 2]:
                        elapsed, targets = timed(fn, ws)
                        times[label].append(elapsed)
                        results.append(targets)
                assert all(r == results[0] for r in results), f"{name}: the targets differ"
                for label, values in times.items():
                    if not values:
                        continue
                    print(
                        f"{name:17} {label:7} {min(values):7.2f} "
                        f"{statistics.median(values):7.2f} {max(values):7.2f}"
                        f"   ({len(results[0]):,} targets)"
                    )
    finally:
        child.stdin.close()
        child.wait(60)


if __name__ == "__main__":
    main()
