"""Fleet fan-out: one ``Cluster`` call over 50 nodes versus the same call on one node.

Method: a child process serves N fake nodes (one asyncio loop, one admin port each, every
answer optionally held back ``--latency-ms`` to stand in for a network round trip; the
loopback round trip itself is ~0.1 ms). This process then times, in interleaved rounds,
``Client.get_clients_count()`` on one node, ``Cluster.get_clients_count()`` over all N
nodes, and the naive sequential loop over N clients; it reports min/median/max per call
over the rounds. Second experiment: one node of the N is blackholed (a socket that is
never accepted) and a non-strict cluster makes ``--calls`` calls; the extra time over the
same calls without it should be one per-node timeout in total.

Run: ``python benchmarks/cluster_fanout.py [--nodes 50] [--rounds 7] [--calls 40]``.
Exit status 1 when a target is missed: cluster <= 3x one node (with the held-back answers;
at 0 ms the call is pure CPU, see docs/performance.md) and the blackhole costing <= 1.5
timeouts in total.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import frankenws

TARGET_RATIO = 3.0


class ThreadsCluster(frankenws.Cluster):
    """The cluster as it sent before the event-loop sender: httpx, a thread per node."""

    def _cheap_sender(self) -> None:
        return None


def serve(nodes: int, latency: float) -> None:
    """Child process: N fakes with 20 connections each; prints ports, runs until stdin closes."""
    from aiohttp import web

    from frankenws.testing import FakeFrankenPHP
    from frankenws.testing._http import RawRequest

    async def main() -> None:
        ports = []
        for _ in range(nodes):
            fake = FakeFrankenPHP(host_check=False)
            for _ in range(20):
                fake.connect("/chat")

            async def admin(request: web.Request, fake: FakeFrankenPHP = fake) -> web.Response:
                headers = {k.lower(): v for k, v in request.headers.items()}
                raw = RawRequest(request.method, request.raw_path, headers, await request.read())
                if latency:
                    await asyncio.sleep(latency)
                answer = fake.handle(raw)
                return web.Response(status=answer.status, body=answer.body)

            app = web.Application()
            app.router.add_route("*", r"/{tail:.*}", admin)
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            ports.append(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        print(" ".join(map(str, ports)), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(main())


def start_fleet(nodes: int, latency_ms: float) -> tuple[subprocess.Popen[str], list[str]]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(nodes), "--latency-ms", str(latency_ms)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    ports = child.stdout.readline().split()
    return child, [f"http://127.0.0.1:{port}" for port in ports]


def child_cpu(pid: int) -> float:
    """CPU seconds (user + system) the child has used so far (Linux)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_call(fn: Callable[[], object], calls: int, pid: int) -> tuple[float, float, float]:
    """(wall, this process's CPU, the servers' CPU) per call, in seconds."""
    wall, mine, theirs = time.perf_counter(), time.process_time(), child_cpu(pid)
    for _ in range(calls):
        fn()
    return (
        (time.perf_counter() - wall) / calls,
        (time.process_time() - mine) / calls,
        (child_cpu(pid) - theirs) / calls,
    )


def per_call(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"{min(ms):7.2f} {statistics.median(ms):7.2f} {max(ms):7.2f}"


def fan_out(urls: list[str], rounds: int, calls: int, pid: int) -> float:
    one = frankenws.Client(urls[0])
    each = [frankenws.Client(url) for url in urls]
    cluster = frankenws.Cluster(urls)
    threads = ThreadsCluster(urls)
    expected = 20 * len(urls)
    assert cluster.get_clients_count() == expected
    assert threads.get_clients_count() == expected
    timings: dict[str, list[float]] = {
        "one node": [],
        "cluster": [],
        "cluster (threads)": [],
        "sequential loop": [],
    }
    runs = {
        "one node": one.get_clients_count,
        "cluster": cluster.get_clients_count,
        "cluster (threads)": threads.get_clients_count,
        "sequential loop": lambda: sum(c.get_clients_count() for c in each),
    }
    for fn in runs.values():
        per_call(fn, 5)  # warm-up: connection pools, threads
    for _ in range(rounds):
        for name, fn in runs.items():
            timings[name].append(per_call(fn, calls if name != "sequential loop" else 5))
    print(f"{'':18} {'min':>7} {'median':>7} {'max':>7}  (ms per call)")
    for name, values in timings.items():
        print(f"{name:18} {summary(values)}")
    # Where the time goes: CPU of this process (httpx, threads) and of the servers.
    for name in ("one node", "cluster", "cluster (threads)"):
        wall, mine, theirs = cpu_per_call(runs[name], calls, pid)
        print(
            f"{name:18} wall {wall * 1000:6.2f} ms, client CPU {mine * 1000:6.2f} ms, "
            f"server CPU {theirs * 1000:6.2f} ms per call"
        )
    ratio = statistics.median(timings["cluster"]) / statistics.median(timings["one node"])
    print(f"cluster / one node (medians): {ratio:.2f}x")
    cluster.close()
    threads.close()
    one.close()
    for client in each:
        client.close()
    return ratio


def blackhole(urls: list[str], calls: int, timeout: float) -> float:
    """Seconds lost to a blackholed node over ``calls`` calls, in per-node timeouts."""
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(128)
        dark = f"http://127.0.0.1:{hole.getsockname()[1]}"
        healthy = frankenws.Cluster(urls[:-1], strict=False, timeout=timeout)
        with_hole = frankenws.Cluster([*urls[:-1], dark], strict=False, timeout=timeout)
        per_call(healthy.get_clients_count, 5)
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            with_hole.get_clients_count()
            times.append(time.perf_counter() - start)
        base = statistics.median(per_call(healthy.get_clients_count, 5) for _ in range(5))
        state = with_hole.nodes[-1].state
        healthy.close()
        with_hole.close()
    # The first call waits for the blackholed node; the others skip it while it is down.
    others = statistics.median(times[1:])
    extra = times[0] - others
    print(
        f"{len(urls) - 1} nodes + 1 blackholed, per-node timeout {timeout:g} s, {calls} calls: "
        f"first call {times[0]:.2f} s, the others median {others * 1000:.1f} ms (healthy "
        f"cluster {base * 1000:.1f} ms), total {sum(times):.2f} s; lost to the blackholed node "
        f"{extra:.2f} s = {extra / timeout:.2f} timeouts; its state: {state!r}"
    )
    return extra / timeout


async def async_cluster(urls: list[str], calls: int) -> None:
    async with frankenws.AsyncCluster(urls) as cluster:
        for _ in range(5):
            await cluster.get_clients_count()
        start = time.perf_counter()
        for _ in range(calls):
            await cluster.get_clients_count()
        wall = (time.perf_counter() - start) / calls
    print(f"{'async cluster':18} {wall * 1000:7.2f} ms per call (for comparison)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--latency-ms", type=float, default=None)
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one round (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.nodes, args.rounds, args.calls, args.latency_ms = 3, 1, 3, 0.0
        print("smoke run: tiny sizes, the figures below mean nothing")
    if args.serve is not None:
        serve(args.serve, (args.latency_ms or 0) / 1000)
        return 0
    # A non-strict cluster logs every call a node misses; the blackhole would flood the output.
    logging.getLogger("frankenws.cluster").setLevel(logging.ERROR)
    ok = True
    for latency in [args.latency_ms] if args.latency_ms is not None else [0.0, 5.0]:
        print(f"\n== {args.nodes} nodes, answers held back {latency:g} ms ==")
        child, urls = start_fleet(args.nodes, latency)
        try:
            ratio = fan_out(urls, args.rounds, args.calls, child.pid)
            asyncio.run(async_cluster(urls, args.calls))
            ok &= ratio <= TARGET_RATIO or latency == 0.0
            if latency == 0.0:
                timeouts = blackhole(urls, args.calls, timeout=1.0)
                ok &= timeouts <= 1.5
        finally:
            assert child.stdin is not None
            child.stdin.close()
            child.wait(10)
    return 0 if ok or args.smoke else 1


if __name__ == "__main__":
    sys.exit(main())
