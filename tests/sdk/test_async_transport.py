"""``AsyncClient``'s default sender (the bulk engine's HTTP/1.1 lane): same answers, same errors.

httpx's asyncio pool slows down under concurrent calls, and httpx's request and response
objects cost more than the call itself (docs/performance.md, "AsyncClient under
concurrency"); these tests pin what must not change with the faster sender. The contract
suite's ``api`` fixture and test_transport_errors.py run the rest of the SDK's behaviour
through it.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

import frankenws
from frankenws.testing import FakeFrankenPHP

# Ids whose escapes httpx or aiohttp would "normalise" if either re-encoded the path.
AWKWARD_IDS = ["a/b", "..", ".", "50%", "sp ace", "q?x=1", "h#f", "ü", "a%2Fb", "%zz"]


def test_async_client_does_not_need_aiohttp():
    # The client runs in a process of its own, where aiohttp cannot be imported: the
    # loopback fake of this process uses it.
    code = (
        "import asyncio, sys\n"
        "sys.modules['aiohttp'] = None\n"
        "import frankenws\n"
        "async def main(url):\n"
        "    async with frankenws.AsyncClient(url) as client:\n"
        "        return await asyncio.gather(*(client.get_clients() for _ in range(20)))\n"
        "answers = asyncio.run(main(sys.argv[1]))\n"
        "print(answers == [['c1']] * 20)\n"
    )
    fake = FakeFrankenPHP()
    fake.connect("/chat", id="c1")
    with fake.serve() as server:
        out = subprocess.run(
            [sys.executable, "-c", code, server.admin_url],
            capture_output=True,
            text=True,
            check=True,
        )
    assert out.stdout.split() == ["True"], out.stderr


async def test_concurrent_calls_with_awkward_ids_reach_the_server_exactly():
    fake = FakeFrankenPHP()
    ids = [f"{base}-{n}" for base in AWKWARD_IDS for n in range(13)]
    for conn in ids:
        fake.connect("/chat", id=conn)
        fake.tag_client(conn, "t")
    with fake.serve() as server:
        async with frankenws.AsyncClient(server.admin_url) as client:
            tags = await asyncio.gather(*(client.get_client_tags(c) for c in ids))
            killed = await asyncio.gather(*(client.kill_connection(c) for c in ids))
            assert await client.get_clients() == []
    assert tags == [["t"]] * len(ids)
    assert all(killed)
    # Each request reached the route with its id decoded to exactly the one sent.
    assert sorted(e.connection for e in fake.events if e.type == "close") == sorted(ids)


async def test_reset_mid_request_is_a_plain_transport_error(resetting_server):
    async with frankenws.AsyncClient(resetting_server) as client:
        with pytest.raises(frankenws.TransportError) as info:
            await client.kill_connection("x")
    assert type(info.value) is frankenws.TransportError
    assert "may or may not have been applied" in str(info.value)


async def test_a_get_is_retried_while_the_server_is_not_up_yet_a_post_is_not():
    """Over the default sender as over httpx: a GET whose connection is refused is tried
    again (``retries``, with a growing pause: 6.35 s in all for 7); a POST never is."""
    import socket
    import threading

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens on the port yet: connections are refused
    fake = FakeFrankenPHP()
    fake.connect("/chat", id="c1")
    url = f"http://127.0.0.1:{port}"

    async with frankenws.AsyncClient(url, retries=0) as client:
        with pytest.raises(frankenws.ConnectError):
            await client.get_clients()
    async with frankenws.AsyncClient(url, retries=7) as client:
        with pytest.raises(frankenws.ConnectError):
            await client.kill_connection("c1")  # refused once: not sent again
        started = threading.Timer(0.3, lambda: servers.append(fake.serve(admin_port=port)))
        servers: list = []
        started.start()
        try:
            assert await client.get_clients() == ["c1"]
        finally:
            started.join()
            for server in servers:
                server.close()
    assert fake.get_clients() == ["c1"]  # the refused kill never reached the server
