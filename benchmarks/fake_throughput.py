"""Admin requests per second served by the loopback fake, measured with wrk.

Method: the fake runs alone in a child process (``fake.serve()`` on 127.0.0.1, 100 virtual
connections, 20 tagged); ``wrk`` (Debian package) drives it from another process with one
thread and 16 connections for ``--seconds`` per route, after a 2 s warm-up. Reported:
requests/s and mean latency as printed by wrk. On a 2-core machine wrk and the server
share the CPU, so the figures are a floor. Run: ``python benchmarks/fake_throughput.py``.
``--smoke`` sends each route a few times with httpx instead (no wrk needed, nothing timed),
so CI can check the script and its routes still work.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

SERVER = """
import sys, time
from frankenws.testing import FakeFrankenPHP
fake = FakeFrankenPHP()
for i in range(100):
    conn = fake.connect("/chat" if i % 2 else "/news", id=f"conn{i:03d}")
    if i % 5 == 0:
        fake.tag_client(conn, "premium")
server = fake.serve()
print(server.admin_url, flush=True)
sys.stdin.read()
server.close()
"""

KILL_LUA = 'wrk.method = "POST"\n'

ROUTES = [
    ("GET getClientsCount", "/frankenphp_ws/getClientsCount", None),
    ("GET getClients (100 ids)", "/frankenphp_ws/getClients", None),
    ("GET getClientsByTag", "/frankenphp_ws/getClientsByTag/premium", None),
    ("POST killConnection (unknown id)", "/frankenphp_ws/killConnection/nobody", KILL_LUA),
]


def smoke(url: str) -> None:
    with httpx.Client(base_url=url) as client:
        for label, path, lua in ROUTES:
            for _ in range(3):
                response = client.request("POST" if lua else "GET", path)
                response.raise_for_status()
            print(f"{label:<34} {response.status_code} (smoke run: nothing timed)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one round: checks the script still runs (CI)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None and not args.smoke:
        sys.exit("wrk is not installed (apt-get install wrk)")
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdin is not None
    url = child.stdout.readline().strip()
    try:
        if args.smoke:
            smoke(url)
            return
        print(f"{'route':<34} {'req/s':>9} {'latency':>10}")
        for label, path, lua in ROUTES:
            cmd = ["wrk", "-t1", f"-c{args.connections}", "-H", f"Host: {url[7:]}"]
            with tempfile.TemporaryDirectory() as tmp:
                if lua:
                    script = Path(tmp, "s.lua")
                    script.write_text(lua)
                    cmd += ["-s", str(script)]
                subprocess.run([*cmd, "-d2s", url + path], capture_output=True, check=True)
                out = subprocess.run(
                    [*cmd, f"-d{args.seconds}s", url + path],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
            lat = re.search(r"Latency\s+([\d.]+\w+)", out)
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            line = f"{label:<34} {float(rps.group(1)) if rps else 0:9.0f} "
            line += f"{lat.group(1) if lat else '?':>10}"
            if errors:
                line += f"  ({errors.group(1)} non-2xx!)"
            print(line, flush=True)
            time.sleep(0.5)
    finally:
        child.stdin.close()
        child.wait(10)


if __name__ == "__main__":
    main()
