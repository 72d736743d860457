"""Peak memory of one oversized answer: the SDK's size cap against reading it whole.

Method: a child process serves one fixed answer to every request, a ``getClients`` body
of ``--mb`` megabytes (ids of 36 characters, valid JSON, with a Content-Length). Each
variant then runs in a fresh Python process of its own, which imports everything first,
notes its resident size, makes one call and reports how much its peak resident size
(``ru_maxrss``) grew. Variants:

* ``httpx-whole``: ``httpx.Client().get(url).content`` then ``json.loads``: what every
  sender did before the cap (read the whole answer, then decode it);
* ``sdk-default``: ``Client(url).get_clients()`` with the default cap (256 MiB), which a
  100 MB answer is under, so it is read and decoded;
* ``sdk-raw``: ``Client(url).request(...)``: the same read without JSON decoding;
* ``sdk-capped``: ``Client(url, max_response_bytes=--cap-mb MiB).get_clients()``, refused
  with ``ResponseTooLarge`` once the cap is reached;
* ``lane-capped``: the bulk engine's HTTP/1.1 lane at concurrency 2, both requests
  refused at the same cap.

Every round runs every variant once, side by side; the figures are min/median/max over
``--rounds`` rounds. Run: ``python benchmarks/response_memory.py [--mb 100] [--cap-mb 64]
[--rounds 3]``; ``--smoke`` serves 1 MB with a 0.5 MiB cap, one round, so CI can check
the script still works (its figures mean nothing).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

SERVER = """
import socket, sys, threading
count = {count}
body = b'{{"clients":[' + b",".join(b'"%034d"' % i for i in range(count)) + b']}}'
head = b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\n"
head += b"Content-Length: %d\\r\\nConnection: close\\r\\n\\r\\n" % len(body)
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], len(body), flush=True)

def answer(conn):
    with conn:
        data = b""
        while b"\\r\\n\\r\\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        try:
            conn.sendall(head + body)
        except OSError:
            pass  # a capped client hangs up early

def serve():
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=answer, args=(conn,), daemon=True).start()

threading.Thread(target=serve, daemon=True).start()
sys.stdin.read()
"""

VARIANT = """
import asyncio, json, resource, sys
import httpx
import frankenws
from frankenws._calls import calls
from frankenws.bulk._http1 import Http1Lane

url, variant, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

before = peak()
if variant == "httpx-whole":
    with httpx.Client() as http:
        json.loads(http.get(url + "/frankenphp_ws/getClients").content)
elif variant == "sdk-default":
    with frankenws.Client(url) as client:
        client.get_clients()
elif variant == "sdk-raw":
    with frankenws.Client(url) as client:
        client.request("GET", "/frankenphp_ws/getClients")
elif variant == "sdk-capped":
    with frankenws.Client(url, max_response_bytes=cap) as client:
        try:
            client.get_clients()
        except frankenws.ResponseTooLarge:
            pass
else:
    async def lane():
        with frankenws.Client(url, max_response_bytes=cap) as client:
            async with Http1Lane(client, 2) as lane:
                results = await asyncio.gather(
                    *(lane.run(calls.get_clients()) for _ in range(2)), return_exceptions=True
                )
        assert all(isinstance(r, frankenws.ResponseTooLarge) for r in results), results
    asyncio.run(lane())
print(peak() - before)
"""

VARIANTS = ("httpx-whole", "sdk-default", "sdk-raw", "sdk-capped", "lane-capped")


def measure(url: str, variant: str, cap: int) -> float:
    out = subprocess.run(
        [sys.executable, "-c", VARIANT, url, variant, str(cap)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(out.split()[-1]) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="size of the answer (MB)")
    parser.add_argument("--cap-mb", type=float, default=64.0, help="max_response_bytes (MiB)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.mb, args.cap_mb, args.rounds = 1.0, 0.5, 1
    count = int(args.mb * 1e6 / 37)  # '"' + 34 digits + '",'
    cap = int(args.cap_mb * 1024 * 1024)
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER.format(count=count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port, size = server.stdout.readline().split()
        url = f"http://127.0.0.1:{port}"
        figures: dict[str, list[float]] = {v: [] for v in VARIANTS}
        for _ in range(args.rounds):
            for variant in VARIANTS:
                figures[variant].append(measure(url, variant, cap))
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait()
    print(f"answer: {int(size) / 1e6:.1f} MB; cap for the capped variants: {args.cap_mb:g} MiB")
    print(f"peak resident growth over {args.rounds} round(s), MB (min / median / max):")
    for variant, values in figures.items():
        low, mid, high = min(values), statistics.median(values), max(values)
        print(f"  {variant:12} {low:8.1f} {mid:8.1f} {high:8.1f}")


if __name__ == "__main__":
    main()
