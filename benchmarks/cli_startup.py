"""CLI start-up: ``frankenws kill ID`` versus the floor, a bare ``httpx.post`` of the same request.

Method: a loopback fake serves the admin API in this process; a hook re-registers the
connection ``bench`` right after each kill, so every run kills a live connection (exit
0) and both commands send exactly the same request
(``POST /frankenphp_ws/killConnection/bench``). The two commands run alternately,
``--runs`` times per round, for ``--rounds`` rounds, after ``--warmup`` runs of each.
Each run records its wall time and the CPU time of the child process (user + system,
from ``getrusage``); the CPU time is the figure compared with the target, because the
wall time on a shared machine mostly measures the other processes. Per round the
ratio of medians is taken; the script prints min/median/max of the rounds.

Both commands run with bytecode compiled, as in any installed wheel: the script
compiles the frankenws packages first and clears ``PYTHONDONTWRITEBYTECODE`` for its
children. Without that an editable install recompiles every frankenws module on every
run while httpx, installed from a wheel, does not, which measured 1.45x instead of 1.16x.

``--extra-path DIR`` puts DIR on both commands' ``PYTHONPATH``; with the ``click``
package there (``pip install --target DIR click``) the floor itself slows down, because
``import httpx`` then loads click, rich and pygments for httpx's own command line.

Run: ``python benchmarks/cli_startup.py [--rounds 5] [--runs 20] [--extra-path DIR]``
(exit 1 when the median ratio misses the target). ``--smoke`` runs each command once
and times nothing, so CI can check the script and its commands still work.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _stats import spread

import frankenws
import frankenws_cli
from frankenws.testing import Event, FakeFrankenPHP

TARGET_RATIO = 1.25
CONN = "bench"


def _keep_alive(fake: FakeFrankenPHP) -> None:
    def on_close(event: Event) -> None:
        if event.type == "close" and event.connection == CONN:
            # Not from inside the hook: the state is still closing this connection.
            threading.Timer(0.001, lambda: fake.connect("/bench", id=CONN)).start()

    fake.on_close = on_close
    fake.connect("/bench", id=CONN)


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--extra-path", help="a directory put on PYTHONPATH (e.g. with click)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one round: checks the script still runs (CI)",
    )
    args = parser.parse_args()
    # A venv's scripts are beside its interpreter even when the venv is not activated.
    script = shutil.which("frankenws", path=str(Path(sys.executable).parent)) or shutil.which(
        "frankenws"
    )
    if script is None:
        print("needs the frankenws command (pip install -e '.[dev]')", file=sys.stderr)
        return 2
    for package in (frankenws, frankenws_cli):
        compileall.compile_dir(Path(package.__file__).parent, quiet=1)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if args.extra_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [args.extra_path, env.get("PYTHONPATH")]))
    fake = FakeFrankenPHP()
    _keep_alive(fake)
    with fake.serve() as server, tempfile.TemporaryDirectory() as tmp:
        url = server.admin_url
        floor = [
            sys.executable,
            "-c",
            f"import httpx; httpx.post('{url}/frankenphp_ws/killConnection/{CONN}')",
        ]
        cli = [script, "--url", url, "--audit-log", str(Path(tmp) / "audit.jsonl"), "kill", CONN]
        if args.smoke:
            for command in (floor, cli):
                _run(command, env)
            print("smoke run: both commands ran once each; nothing timed")
            return 0
        for _ in range(args.warmup):
            _run(floor, env)
            _run(cli, env)
        rows: list[tuple[float, float, float, float]] = []
        for _ in range(args.rounds):
            runs: dict[str, list[tuple[float, float]]] = {"floor": [], "cli": []}
            for _ in range(args.runs):
                runs["floor"].append(_run(floor, env))
                runs["cli"].append(_run(cli, env))
            rows.append(
                (
                    statistics.median(cpu for _, cpu in runs["floor"]),
                    statistics.median(cpu for _, cpu in runs["cli"]),
                    statistics.median(wall for wall, _ in runs["floor"]),
                    statistics.median(wall for wall, _ in runs["cli"]),
                )
            )
        click = "with" if "click" in _modules_of_httpx(env) else "without"
    ms = [[1000 * row[i] for row in rows] for i in range(4)]
    cpu_ratios = [cli / base for base, cli, _, _ in rows]
    wall_ratios = [cli / base for _, _, base, cli in rows]
    print(f"{args.rounds} rounds x {args.runs} runs each, {click} click; min / median / max")
    print("| command | CPU ms | wall ms |")
    print("|---|---:|---:|")
    print(
        "| floor: `python -c 'import httpx; httpx.post(...)'` | "
        f"{spread(ms[0])} | {spread(ms[2])} |"
    )
    print(f"| `frankenws kill ID` | {spread(ms[1])} | {spread(ms[3])} |")
    print(f"| ratio (per round) | {spread(cpu_ratios)} | {spread(wall_ratios)} |")
    median = statistics.median(cpu_ratios)
    print(f"median CPU ratio {median:.2f}; target <= {TARGET_RATIO}")
    return 0 if median <= TARGET_RATIO else 1


def _modules_of_httpx(env: dict[str, str]) -> str:
    """Which of the optional CLI packages ``import httpx`` loads in the children."""
    code = "import sys, httpx; print([m for m in ('click', 'rich') if m in sys.modules])"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout


if __name__ == "__main__":
    raise SystemExit(main())
