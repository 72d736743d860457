"""The CLI's bulk paths versus the SDK's bulk run on the same targets.

Method: the loopback fake runs alone in a child process; before each variant it
registers that variant's own ``--count`` connections (on a route of their own), so
every variant kills exactly as many real connections through the same admin route, and
the fake never holds more than one variant's connections. Per round, four variants run
one after the other, each in a fresh process, timed whole (interpreter start-up
included; wall time and CPU time, user + system):

* ``kill`` from Python: a script reads the ids from stdin and calls
  ``frankenws.bulk.kill_connections(Client(url), ids, journal=FILE)``;
* ``frankenws kill -``: the same ids on stdin, output to a file;
* ``disconnect-route`` from Python: ``run(client, plan_disconnect_route(client,
  route), journal=FILE, wait_closed=True, timeout=5)``;
* ``frankenws disconnect-route ROUTE --yes``, output to a file.

What differs, by design: both sides keep a journal (the CLI's automatic one, deleted
after a clean run, as a user gets it) and use the same concurrency (32) and, for
``disconnect-route``, the same wait for the server to drop the killed connections; the
CLI also writes its audit log (one line per target) and prints its report (one line
per id for ``kill``). ``--no-audit`` variants of both commands are timed too, to show
what the audit log costs. Ratios are SDK time / CLI time within each round (1.0: as fast
as the SDK; the target, issue 12 item 3, is at least 0.85); the script prints min /
median / max over ``--rounds``, for wall time and for CPU time.

All children run with bytecode compiled, as from any installed wheel (the script
compiles the frankenws packages and clears ``PYTHONDONTWRITEBYTECODE`` for them).

Run: ``python benchmarks/cli_bulk.py [--count 10000] [--rounds 3]``. ``--smoke`` uses
50 connections and one round and times nothing (CI).
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from _stats import spread

import frankenws
import frankenws_cli

SERVER = """
import sys
from frankenws.testing import FakeFrankenPHP
fake = FakeFrankenPHP()
server = fake.serve()
print(server.admin_url, flush=True)
for line in sys.stdin:
    route, prefix, count = line.split()
    for i in range(int(count)):
        fake.connect(route, id=f"{prefix}-{i:08d}")
    print(len(fake.get_clients()), flush=True)
server.close()
"""

SDK_KILL = """
import sys
from frankenws import Client, bulk
ids = sys.stdin.read().split()
with Client(sys.argv[1]) as client:
    report = bulk.kill_connections(client, ids, concurrency=32, journal=sys.argv[2])
assert len(report.done) == len(ids), report.counts
"""

SDK_ROUTE = """
import sys
from frankenws import Client, bulk
with Client(sys.argv[1]) as client:
    plan = bulk.plan_disconnect_route(client, sys.argv[3])
    report = bulk.run(
        client, plan, concurrency=32, journal=sys.argv[2], wait_closed=True, timeout=5.0
    )
assert report.ok and len(report.done) == len(plan.targets), report.counts
"""

Whole = tuple[float, float]
"""Wall and CPU seconds of a whole child process."""


class Fake:
    """The fake in its child process, told to register connections before a variant."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()

    def connect(self, route: str, prefix: str, count: int) -> list[str]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(f"{route} {prefix} {count}\n")
        self.process.stdin.flush()
        registered = int(self.process.stdout.readline())
        assert registered == count, f"{registered} connections left over, expected {count}"
        return [f"{prefix}-{i:08d}" for i in range(count)]

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def _child(command: list[str], env: dict[str, str], stdin: str, stdout: IO[Any]) -> Whole:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        command, input=stdin.encode(), stdout=stdout, stderr=subprocess.PIPE, env=env
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} exited {done.returncode}: {done.stderr.decode()}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


VARIANTS = (
    "kill: SDK",
    "kill: CLI",
    "kill: CLI --no-audit",
    "disconnect-route: SDK",
    "disconnect-route: CLI",
    "disconnect-route: CLI --no-audit",
)


def one_round(fake: Fake, count: int, env: dict[str, str], tmp: Path, tag: str) -> dict[str, Whole]:
    script = shutil.which("frankenws", path=str(Path(sys.executable).parent)) or "frankenws"
    times: dict[str, Whole] = {}
    for name in VARIANTS:
        slug = name.replace(":", "").replace(" ", "-").replace("--", "")
        route = f"/{slug}-{tag}"
        ids = fake.connect(route, f"{slug}-{tag}", count)
        journal = str(tmp / f"{slug}-{tag}.jsonl")
        audit = ["--no-audit"] if "no-audit" in name else ["--audit-log", str(tmp / "audit.jsonl")]
        if name == "kill: SDK":
            command = [sys.executable, "-c", SDK_KILL, fake.url, journal]
        elif name == "disconnect-route: SDK":
            command = [sys.executable, "-c", SDK_ROUTE, fake.url, journal, route]
        elif name.startswith("kill"):
            command = [script, "--url", fake.url, *audit, "kill", "-"]
        else:
            command = [script, "--url", fake.url, *audit, "--yes", "disconnect-route", route]
        with (tmp / "stdout").open("wb") as out:
            times[name] = _child(command, env, "\n".join(ids) + "\n", out)
        if name == "kill: CLI":
            lines = (tmp / "stdout").read_text().splitlines()
            assert len(lines) == count
            assert all(line.startswith("killed ") for line in lines)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="50 connections, one round (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.count, args.rounds = 50, 1
    for package in (frankenws, frankenws_cli):
        compileall.compile_dir(Path(str(package.__file__)).parent, quiet=1)
    fake = Fake()
    rounds: list[dict[str, Whole]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            # The CLI's automatic journals (and nothing of the user's) go here.
            env["XDG_STATE_HOME"] = str(Path(tmp) / "state")
            for number in range(args.rounds):
                rounds.append(one_round(fake, args.count, env, Path(tmp), f"r{number}"))
    finally:
        fake.close()
    if args.smoke:
        print("smoke run: every variant killed its connections once; nothing timed")
        return 0
    print(f"{args.count:,} connections per variant, {args.rounds} rounds; min / median / max")
    print("| variant | wall s | SDK / CLI | CPU s | SDK / CLI |")
    print("|---|---:|---:|---:|---:|")
    for name in VARIANTS:
        sdk = name.split(":")[0] + ": SDK"
        walls = [r[name][0] for r in rounds]
        cpus = [r[name][1] for r in rounds]
        wall_ratios = [r[sdk][0] / r[name][0] for r in rounds]
        cpu_ratios = [r[sdk][1] / r[name][1] for r in rounds]
        print(
            f"| {name} | {spread(walls)} | {spread(wall_ratios)} | {spread(cpus)} | "
            f"{spread(cpu_ratios)} |"
        )
    print(f"load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
