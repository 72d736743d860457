"""CLI start-up: ``frankenws kill ID`` versus the floor, a bare ``httpx.post`` of the same request.

Method: a loopback fake serves the admin API in this process; a hook re-registers the
connection ``bench`` right after each kill, so every run kills a live connection (exit
0) and both commands send exactly the same request
(``POST /frankenphp_ws/killConnection/bench``). ``hyperfine`` (Debian package) runs
both commands one after the other, without a shell (``-N``), after warm-up runs; the
ratio of the means is the figure compared with the target. The CLI run writes its audit
log (to a temporary file) like a real one. A third command, ``clients --count``, shows
the cost of a command parsed by typer, for context.

Run: ``python benchmarks/cli_startup.py [--runs 40] [--warmup 5]``. Needs the ``cli``
and ``fake`` extras and ``hyperfine`` on PATH. Results go to docs/performance.md
("CLI start-up") by hand. ``--smoke`` runs each command once, without hyperfine and without
comparing times, so CI can check the script and its commands still work.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one round: checks the script still runs (CI)",
    )
    args = parser.parse_args()
    hyperfine = shutil.which("hyperfine")
    # A venv's scripts are beside its interpreter even when the venv is not activated.
    frankenws = shutil.which("frankenws") or shutil.which(
        "frankenws", path=str(Path(sys.executable).parent)
    )
    if frankenws is None or (hyperfine is None and not args.smoke):
        print("needs hyperfine and the frankenws command on PATH", file=sys.stderr)
        return 2
    fake = FakeFrankenPHP()
    _keep_alive(fake)
    with fake.serve() as server, tempfile.TemporaryDirectory() as tmp:
        url = server.admin_url
        floor = (
            f'{sys.executable} -c "import httpx; '
            f"httpx.post('{url}/frankenphp_ws/killConnection/{CONN}')\""
        )
        cli = f"{frankenws} --url {url} --audit-log {Path(tmp) / 'audit.jsonl'} kill {CONN}"
        # For context only (not part of the target): a command parsed by typer.
        other = f"{frankenws} --url {url} clients --count"
        if args.smoke:
            for command in (floor, cli, other):
                subprocess.run(shlex.split(command), check=True, stdout=subprocess.DEVNULL)
            print("smoke run: the three commands ran once each; nothing timed")
            return 0
        export = Path(tmp) / "results.json"
        subprocess.run(
            [
                hyperfine,
                "-N",
                "--warmup",
                str(args.warmup),
                "--runs",
                str(args.runs),
                "--export-json",
                str(export),
                "--command-name",
                "floor: python -c 'import httpx; httpx.post(...)'",
                floor,
                "--command-name",
                "frankenws kill ID",
                cli,
                "--command-name",
                "frankenws clients --count (typer path, for context)",
                other,
            ],
            check=True,
        )
        results = json.loads(export.read_text())["results"]
        audit_lines = len((Path(tmp) / "audit.jsonl").read_text().splitlines())
    base, ours = results[0], results[1]
    ratio = ours["mean"] / base["mean"]
    median_ratio = ours["median"] / base["median"]
    print()
    print("| command | mean (ms) | sd (ms) | median (ms) | min (ms) |")
    print("|---|---:|---:|---:|---:|")
    for row in results:
        print(
            f"| {row['command']} | {row['mean'] * 1000:.1f} | {row['stddev'] * 1000:.1f} | "
            f"{row['median'] * 1000:.1f} | {row['min'] * 1000:.1f} |"
        )
    print()
    print(
        f"ratio of means: {ratio:.2f} (median ratio {median_ratio:.2f}); target <= {TARGET_RATIO}"
    )
    print(f"audit lines written by the CLI runs: {audit_lines}")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
