"""SDK overhead: frankenws.Client versus a bare httpx.Client doing the same request.

Method: both clients send the same route (``getClientsCount``, ``killConnection`` of an
unknown id, ``getTags/<id>``) through the same transport, interleaved in rounds so that
machine noise hits both sides alike; the ratio of the medians is reported. Two transports:
the in-process fake (httpx transport, no sockets) and the loopback fake (real HTTP on
127.0.0.1). Run: ``python benchmarks/sdk_overhead.py [--rounds 15] [--calls 300]``;
``--smoke`` makes one short round, so CI can check the script still works.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import httpx

import frankenws
from frankenws.testing import FakeFrankenPHP

ROUTES = {
    "get_clients_count": ("GET", "/frankenphp_ws/getClientsCount", lambda c: c.get_clients_count()),
    "kill_connection": (
        "POST",
        "/frankenphp_ws/killConnection/nobody",
        lambda c: c.kill_connection("nobody"),
    ),
    "get_client_tags": (
        "GET",
        "/frankenphp_ws/getTags/abc",
        lambda c: c.get_client_tags("abc"),
    ),
}


def _time(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def measure(
    make_sdk, make_bare, base: str, rounds: int, calls: int, warmup: int = 50
) -> dict[str, tuple]:
    results = {}
    with make_sdk() as sdk, make_bare() as bare:
        for name, (method, path, call) in ROUTES.items():
            url = base + path

            def raw(method: str = method, url: str = url) -> object:
                response = bare.request(method, url)
                response.raise_for_status()
                return response.json()

            def wrapped(call: Callable = call) -> object:
                return call(sdk)

            _time(raw, warmup), _time(wrapped, warmup)  # warm up pools and caches
            sdk_t, raw_t = [], []
            for _ in range(rounds):
                sdk_t.append(_time(wrapped, calls))
                raw_t.append(_time(raw, calls))
            s, r = statistics.median(sdk_t), statistics.median(raw_t)
            ratios = [a / b for a, b in zip(sdk_t, raw_t, strict=True)]
            results[name] = (r * 1e6, s * 1e6, s / r, min(ratios), max(ratios))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one round: checks the script still runs (CI)",
    )
    args = parser.parse_args()
    warmup = 50
    if args.smoke:
        args.rounds, args.calls, warmup = 1, 5, 1
        print("smoke run: tiny sizes, the figures below mean nothing")

    fake = FakeFrankenPHP()
    for i in range(20):
        fake.connect("/chat" if i % 2 else "/news")
    base = "http://localhost:2019"
    in_process = measure(
        lambda: fake.client(),
        lambda: httpx.Client(transport=fake.transport()),
        base,
        args.rounds,
        args.calls,
        warmup,
    )
    with fake.serve() as server:
        loopback = measure(
            lambda: frankenws.Client(server.admin_url),
            lambda: httpx.Client(),
            server.admin_url,
            args.rounds,
            args.calls,
            warmup,
        )
    # The ratio column is the ratio of the medians; min/max are the per-round ratios.
    print(
        f"{'transport':<11} {'route':<20} {'httpx us':>9} {'frankenws us':>13} {'ratio':>6}"
        f" {'min':>5} {'max':>5}"
    )
    for label, table in (("in-process", in_process), ("loopback", loopback)):
        for name, (raw_us, sdk_us, ratio, low, high) in table.items():
            print(
                f"{label:<11} {name:<20} {raw_us:9.1f} {sdk_us:13.1f} {ratio:6.2f}"
                f" {low:5.2f} {high:5.2f}"
            )


if __name__ == "__main__":
    main()
