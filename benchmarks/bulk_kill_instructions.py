"""Client work per bulk kill, counted in instructions: frankenws.bulk versus aiohttp.

Wall and CPU times swing with the machine's load; the number of instructions a process
executes does not. Method: the fake runs alone in a child process (not counted). Each
variant kills ``--small`` and then ``--large`` of its own registered connections, each in a
fresh process run under ``valgrind --tool=callgrind`` (which counts the instructions of that
process only); the difference between the two runs, divided by ``--large - --small``, is
the client's instructions per kill, start-up and imports cancelled out. Variants:

* ``aiohttp``: the hand-written worker loop of ``bulk_kill.py`` (32 workers);
* ``bulk+journal``: ``frankenws.bulk.kill_connections(client, ids, journal=...)``;
* ``bulk``: the same without a journal.

Run: ``python benchmarks/bulk_kill_instructions.py [--small 200] [--large 1200]`` (needs
valgrind; a few minutes per variant). ``--smoke`` runs each variant once on a few ids
without valgrind (CI; it counts nothing).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _child import served

SERVER = """
import sys
from frankenws.testing import FakeFrankenPHP
fake = FakeFrankenPHP()
for i in range(int(sys.argv[1])):
    fake.connect("/chat", id="%032x" % i)
server = fake.serve()
print(server.admin_url, flush=True)
sys.stdin.read()
server.close()
"""

KILL = """
import asyncio, sys
url, variant, start, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, sys.argv[5])
ids = ["%032x" % i for i in range(start, start + count)]
import frankenws
import frankenws.bulk._engine
from bulk_kill import _aiohttp, with_bulk  # the very loops bulk_kill.py times

if variant == "aiohttp":
    asyncio.run(_aiohttp(url, ids, 32))
else:
    with frankenws.Client(url, timeout=300) as client:
        with_bulk(client, ids, 32, journal=variant == "bulk+journal")
"""

VARIANTS = ("aiohttp", "bulk+journal", "bulk")
HERE = str(Path(__file__).resolve().parent)


def run(url: str, variant: str, start: int, count: int, counted: bool) -> int:
    """Instructions of one kill process (0 when not counted)."""
    command = [sys.executable, "-c", KILL, url, variant, str(start), str(count), HERE]
    if not counted:
        subprocess.run(command, check=True)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp, "callgrind.out")
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *command],
            capture_output=True,
            text=True,
            check=True,
        )
    found = re.search(r"Collected : (\d+)", done.stderr)
    assert found is not None, done.stderr[-2000:]
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=1200)
    parser.add_argument(
        "--smoke", action="store_true", help="a few ids, no valgrind: the script still runs (CI)"
    )
    args = parser.parse_args()
    counted = not args.smoke
    if args.smoke:
        args.small, args.large = 5, 10
        print("smoke run: a few ids, no valgrind, nothing is counted")
    elif shutil.which("valgrind") is None:
        sys.exit("valgrind is needed (apt-get install valgrind), or run with --smoke")
    per_variant = args.small + args.large
    with served(SERVER, str(per_variant * len(VARIANTS))) as (_, url):
        per_kill: dict[str, float] = {}
        for index, variant in enumerate(VARIANTS):
            base = index * per_variant
            small = run(url, variant, base, args.small, counted)
            large = run(url, variant, base + args.small, args.large, counted)
            per_kill[variant] = (large - small) / (args.large - args.small)
            print(f"{variant:<13} {per_kill[variant]:>12,.0f} instructions per kill", flush=True)
    if counted:
        for variant in VARIANTS[1:]:
            ratio = per_kill[variant] / per_kill["aiohttp"]
            print(f"{variant} / aiohttp = {ratio:.2f}x the instructions per kill")


if __name__ == "__main__":
    main()
