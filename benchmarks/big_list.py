"""A very long list of ids: ``Client.get_clients()`` versus ``curl`` + ``json.loads``.

Method: the fake in a child process with ``--ids`` registered connections (random ids
of 32 hex characters, as the server makes them, so the list arrives in no particular
order, as from the server's Go map). Each variant runs in a fresh process of its own,
one after the other within each round:

* anchor: ``curl -s URL`` read by ``subprocess.run`` and parsed with ``json.loads``;
* SDK: ``frankenws.Client(url).get_clients()``.

Each process reports the wall time of the fetch alone (imports excluded), its RSS
before the fetch and its peak RSS (``ru_maxrss``) after it. A third process runs
``frankenws --url URL clients --json`` with its output going to a file; its whole run
(start-up included) is compared with the anchor's whole run. Ratios are taken within each
round; the script prints min/median/max over ``--rounds``. Targets (issue 12): SDK at
most 1.2x the anchor's time and at most 1.5x its peak RSS; the CLI at most 1.5x the time.
The whole processes' CPU time (user + system, children included: ``curl`` for the
anchor) is printed next to the wall time: the wall time mostly measures the fake
producing its 35 MB answer, the CPU time what each client costs.

All children run with bytecode compiled, as from any installed wheel (the script
compiles the frankenws packages and clears ``PYTHONDONTWRITEBYTECODE`` for them).

``--baseline DIR`` also times the command line of the frankenws source tree in DIR
(say, ``git worktree add /tmp/before REV``), in the same rounds.

Run: ``python benchmarks/big_list.py [--ids 1000000] [--rounds 3] [--baseline DIR]``.
``--smoke`` uses 1,000 ids and one round and times nothing (CI).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _child import served
from _stats import spread

import frankenws
import frankenws_cli

Whole = tuple[float, float]
"""Wall and CPU seconds of a whole child process."""

SERVER = """
import random, sys
from frankenws.testing import FakeFrankenPHP
fake = FakeFrankenPHP()
draw = random.Random(12).getrandbits
for i in range({ids}):
    fake.connect("/chat", id="%032x" % draw(128))
server = fake.serve()
print(server.admin_url, flush=True)
sys.stdin.read()
server.close()
"""

_MEASURE = """
import json, resource, sys, time
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
url = sys.argv[1] + "/frankenphp_ws/getClients"
{setup}
before = rss()
start = time.perf_counter()
{fetch}
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps([len(ids), elapsed, before, peak]))
"""

VARIANTS = {
    "curl + json.loads": (
        "import subprocess",
        "ids = json.loads(subprocess.run(['curl', '-s', url], capture_output=True,"
        " check=True).stdout)['clients']",
    ),
    "Client.get_clients()": (
        "import frankenws; client = frankenws.Client(sys.argv[1])",
        "ids = client.get_clients()",
    ),
}


def _child(command: list[str], env: dict[str, str], stdout: Any) -> tuple[str, float, float]:
    """Stdout (when captured), wall seconds and CPU seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(command, stdout=stdout, env=env, check=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out.stdout or "", wall, cpu


def measure(name: str, url: str, env: dict[str, str]) -> tuple[int, float, float, float, Whole]:
    setup, fetch = VARIANTS[name]
    code = _MEASURE.format(setup=setup, fetch=fetch)
    out, wall, cpu = _child([sys.executable, "-c", code, url], env, subprocess.PIPE)
    count, elapsed, before, peak = json.loads(out)
    return int(count), float(elapsed), float(before), float(peak), (wall, cpu)


def cli_run(url: str, env: dict[str, str], source: Path | None = None) -> tuple[int, Whole]:
    """Ids written, wall and CPU time of ``frankenws clients --json > file``; with
    ``source``, of the frankenws source tree there (``python -m frankenws_cli``)."""
    if source is None:
        script = shutil.which("frankenws", path=str(Path(sys.executable).parent)) or "frankenws"
        command = [script]
    else:
        # Ahead of the installed packages on the path: that tree's SDK and CLI run.
        env = {**env, "PYTHONPATH": os.pathsep.join([str(source), str(source / "cli")])}
        command = [sys.executable, "-m", "frankenws_cli"]
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "ids.json"
        with target.open("wb") as out:
            _, wall, cpu = _child([*command, "--url", url, "clients", "--json"], env, out)
        document = json.loads(target.read_bytes())
    ids = document if isinstance(document, list) else document.get("clients", [])
    return len(ids), (wall, cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="1,000 ids, one round (CI)")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="also time the CLI of another frankenws source tree, e.g. an older checkout "
        "made with 'git worktree add DIR REV'",
    )
    args = parser.parse_args()
    if args.smoke:
        args.ids, args.rounds = 1000, 1
    for package in (frankenws, frankenws_cli):
        compileall.compile_dir(Path(str(package.__file__)).parent, quiet=1)
    if args.baseline is not None:
        compileall.compile_dir(args.baseline / "frankenws", quiet=1)
        compileall.compile_dir(args.baseline / "cli", quiet=1)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with served(SERVER.format(ids=args.ids)) as (_, url):
        rounds = []
        cli_runs: list[Whole] = []
        baseline_runs: list[Whole] = []
        for _ in range(args.rounds):
            row = {name: measure(name, url, env) for name in VARIANTS}
            assert all(r[0] == args.ids for r in row.values()), row
            count, whole = cli_run(url, env)
            assert count == args.ids, count
            rounds.append(row)
            cli_runs.append(whole)
            if args.baseline is not None:
                count, whole = cli_run(url, env, args.baseline)
                assert count == args.ids, count
                baseline_runs.append(whole)
    if args.smoke:
        print("smoke run: every variant fetched every id once; nothing timed")
        return 0

    anchor = "curl + json.loads"
    print(f"{args.ids:,} ids, {args.rounds} rounds; min / median / max")
    print("| variant | fetch s | ratio | RSS before MB | peak RSS MB | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in VARIANTS:
        times = [r[name][1] for r in rounds]
        time_ratios = [r[name][1] / r[anchor][1] for r in rounds]
        befores = [r[name][2] for r in rounds]
        peaks = [r[name][3] for r in rounds]
        peak_ratios = [r[name][3] / r[anchor][3] for r in rounds]
        print(
            f"| {name} | {spread(times, '.2f')} | {spread(time_ratios, '.2f')} | "
            f"{spread(befores, '.0f')} | {spread(peaks, '.0f')} | {spread(peak_ratios, '.2f')} |"
        )
    anchors = [r[anchor][4] for r in rounds]
    print()
    print("| whole process | wall s | ratio | CPU s | ratio |")
    print("|---|---:|---:|---:|---:|")
    walls, cpus = [a[0] for a in anchors], [a[1] for a in anchors]
    anchor_row = f"{spread(walls, '.2f')} | 1.00 | {spread(cpus, '.2f')} | 1.00"
    print(f"| python: curl + json.loads | {anchor_row} |")
    rows = [("`frankenws clients --json > file`", cli_runs)]
    if baseline_runs:
        rows.append((f"the same, from {args.baseline}", baseline_runs))
    for label, runs in rows:
        wall_ratios = [c[0] / a[0] for c, a in zip(runs, anchors, strict=True)]
        cpu_ratios = [c[1] / a[1] for c, a in zip(runs, anchors, strict=True)]
        print(
            f"| {label} | {spread([c[0] for c in runs], '.2f')} | "
            f"{spread(wall_ratios, '.2f')} | {spread([c[1] for c in runs], '.2f')} | "
            f"{spread(cpu_ratios, '.2f')} |"
        )
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
