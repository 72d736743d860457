"""Admin requests per second served by the loopback fake, measured with wrk.

Method: the fake runs alone in a child process (``fake.serve()`` on 127.0.0.1, 100 virtual
connections, 20 tagged); ``wrk`` (Debian package) drives it from another process with one
thread and 16 connections for ``--seconds`` per route, after a 2 s warm-up. Reported:
requests/s and mean latency as printed by wrk. On a 2-core machine wrk and the server
share the CPU, so the figures are a floor. Run: ``python benchmarks/fake_throughput.py``.

``--compare`` also starts a minimal aiohttp server in another child process that replays,
for each route, the status and body the fake gave it once (same bytes, no logic), and
measures both servers route by route, alternately, for ``--rounds`` rounds; it prints the
ratio fake / aiohttp per route as min/median/max over the rounds.
The server's CPU per request (user + system of its process during the measured run,
``/proc/PID/stat``, divided by the requests wrk counted) is printed too: on a shared
machine it is steadier than requests/s, which also depend on what else gets the cores.

``--pipelined`` replaces wrk by this script's own HTTP/1.1 client, which writes
``--batch`` requests at once on each of ``--connections`` sockets before reading the
answers (how a fast planner reads), ``--requests`` per route and server.
``--smoke`` sends each route a few times with httpx, then a few pipelined batches (no wrk
needed, nothing timed), so CI can check the script and its routes still work.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

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

REPLAY = """
import sys, urllib.error, urllib.request
from aiohttp import web
fake, paths = sys.argv[1], sys.argv[2:]
answers = {}
for path in paths:
    method, _, path = path.partition(" ")
    request = urllib.request.Request(fake + path, method=method)
    try:
        with urllib.request.urlopen(request) as r:
            answers[path] = (r.status, r.read(), r.headers.get("Content-Type"))
    except urllib.error.HTTPError as e:
        answers[path] = (e.code, e.read(), e.headers.get("Content-Type"))
async def handle(request):
    status, body, ctype = answers[request.path]
    return web.Response(status=status, body=body, headers={"Content-Type": ctype})
app = web.Application()
app.router.add_route("*", "/{tail:.*}", handle)
async def main():
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}", flush=True)
    import asyncio
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
import asyncio
asyncio.run(main())
"""

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


def wrk(url: str, path: str, lua: str | None, seconds: int, connections: int, pid: int = 0) -> Run:
    """One ``wrk`` run on one route after a 2 s warm-up; with ``pid``, that server's CPU."""
    cmd = ["wrk", "-t1", f"-c{connections}", "-H", f"Host: {url[7:]}"]
    with tempfile.TemporaryDirectory() as tmp:
        if lua:
            script = Path(tmp, "s.lua")
            script.write_text(lua)
            cmd += ["-s", str(script)]
        subprocess.run([*cmd, "-d2s", url + path], capture_output=True, check=True)
        before = cpu_seconds(pid) if pid else 0.0
        out = subprocess.run(
            [*cmd, f"-d{seconds}s", url + path], capture_output=True, text=True, check=True
        ).stdout
        cpu = cpu_seconds(pid) - before if pid else 0.0
    if re.search(r"Non-2xx or 3xx responses|Socket errors", out):
        sys.exit(f"wrk saw errors on {path}:\n{out}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    lat = re.search(r"Latency\s+([\d.]+\w+)", out)
    count = re.search(r"(\d+) requests in", out)
    requests = int(count.group(1)) if count else 0
    return Run(
        float(rps.group(1)) if rps else 0.0,
        lat.group(1) if lat else "?",
        cpu / max(requests, 1) * 1e6,
    )


class Run(NamedTuple):
    rps: float
    latency: str
    cpu_us: float
    """The server's CPU (user + system) per request, in microseconds."""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (``/proc/PID/stat``)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _answers(data: bytes) -> tuple[int, int]:
    """Complete answers at the start of ``data`` and the bytes they take."""
    count = end = 0
    while (head_end := data.find(b"\r\n\r\n", end)) >= 0:
        head = data[end:head_end]
        if b"Transfer-Encoding: chunked" in head:
            body_end = data.find(b"\r\n0\r\n\r\n", head_end + 4)
            if body_end < 0:
                break
            end = body_end + 7
        else:
            length = re.search(rb"Content-Length: (\d+)", head)
            end = head_end + 4 + (int(length.group(1)) if length else 0)
            if end > len(data):
                break
        count += 1
    return count, end


def pipelined(
    url: str, route: tuple[str, str, str | None], args: argparse.Namespace, pid: int
) -> Run:
    """``args.requests`` requests, ``args.batch`` written at once per connection."""
    parts = urlsplit(url)
    method = "POST" if route[2] else "GET"
    request = f"{method} {route[1]} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()
    per_connection = max(args.requests // args.connections, args.batch)

    def client() -> None:
        with socket.create_connection((parts.hostname, parts.port or 80)) as sock:
            for sent in range(0, per_connection, args.batch):
                batch = min(args.batch, per_connection - sent)
                sock.sendall(request * batch)
                data, got = b"", 0
                while got < batch:
                    chunk = sock.recv(1 << 20)
                    if not chunk:
                        raise ConnectionError("the server closed the connection")
                    data += chunk
                    count, used = _answers(data)
                    got, data = got + count, data[used:]

    threads = [threading.Thread(target=client) for _ in range(args.connections)]
    before, started = cpu_seconds(pid), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - before
    total = per_connection * args.connections
    return Run(total / elapsed, f"{elapsed / total * 1e3:.2f}ms", cpu / total * 1e6)


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def load(url: str, route: tuple[str, str, str | None], args: argparse.Namespace, pid: int) -> Run:
    if args.pipelined:
        return pipelined(url, route, args, pid)
    return wrk(url, route[1], route[2], args.seconds, args.connections, pid)


def compare(url: str, pid: int, args: argparse.Namespace) -> None:
    """The fake and a replaying aiohttp server, route by route, alternately."""
    paths = [("POST " if lua else "GET ") + path for _, path, lua in ROUTES]
    replay = subprocess.Popen(
        [sys.executable, "-c", REPLAY, url, *paths],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert replay.stdout is not None
    assert replay.stdin is not None
    try:
        other = replay.stdout.readline().strip()
        if args.pipelined:
            print(
                f"{args.rounds} rounds, {args.requests:,} pipelined requests per route and server"
                f" ({args.connections} connections, batches of {args.batch}); min / median / max"
            )
        else:
            print(
                f"{args.rounds} rounds, {args.seconds} s per route and server (wrk -t1"
                f" -c{args.connections}); min / median / max"
            )
        print(f"load average before: {loadavg()}")
        print(
            "| route | fake req/s | aiohttp req/s | ratio"
            " | fake CPU µs/req | aiohttp CPU µs/req | CPU ratio |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        for route in ROUTES:
            ours, theirs, our_cpu, their_cpu = [], [], [], []
            for _ in range(args.rounds):
                run = load(url, route, args, pid)
                ours.append(run.rps)
                our_cpu.append(run.cpu_us)
                run = load(other, route, args, replay.pid)
                theirs.append(run.rps)
                their_cpu.append(run.cpu_us)
            ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
            cpu_ratios = [b / a for a, b in zip(our_cpu, their_cpu, strict=True)]
            cells = [
                " / ".join(format(f(v), fmt) for f in (min, statistics.median, max))
                for v, fmt in (
                    (ours, ",.0f"),
                    (theirs, ",.0f"),
                    (ratios, ".2f"),
                    (our_cpu, ".0f"),
                    (their_cpu, ".0f"),
                    (cpu_ratios, ".2f"),
                )
            ]
            print(f"| {route[0]} | {' | '.join(cells)} |", flush=True)
        print(f"load average after: {loadavg()}")
    finally:
        replay.stdin.close()
        replay.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--compare", action="store_true", help="also a minimal aiohttp server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pipelined", action="store_true", help="own pipelining client, no wrk")
    parser.add_argument("--requests", type=int, default=20_000, help="per route (--pipelined)")
    parser.add_argument("--batch", type=int, default=16, help="requests written at once")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one round: checks the script still runs (CI)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None and not (args.smoke or args.pipelined):
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
            args.requests, args.connections, args.batch = 64, 2, 16
            for route in ROUTES:
                pipelined(url, route, args, child.pid)
            print("pipelined batches answered (smoke run: nothing timed)")
            return
        if args.compare:
            compare(url, child.pid, args)
            return
        print(f"{'route':<34} {'req/s':>9} {'latency':>10}")
        for route in ROUTES:
            rps, latency, _ = load(url, route, args, child.pid)
            print(f"{route[0]:<34} {rps:9.0f} {latency:>10}", flush=True)
            time.sleep(0.5)
    finally:
        child.stdin.close()
        child.wait(10)


if __name__ == "__main__":
    main()
