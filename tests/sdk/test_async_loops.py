"""One ``AsyncClient`` used from several event loops (each ``asyncio.run()`` is one).

Its aiohttp sockets belong to the loop that opened them; a client moved to another loop
must neither fail nor leave the old loop's session and sockets to the garbage collector
(``ResourceWarning: Unclosed client session``). The client runs in a process of its own
with ``-X dev`` (ResourceWarnings shown), against the loopback fake of this process.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from frankenws.testing import FakeFrankenPHP


@pytest.fixture(scope="module")
def admin_url():
    fake = FakeFrankenPHP()
    fake.connect("/chat", id="c1")
    with fake.serve() as server:
        yield server.admin_url


def _run(code: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-X", "dev", "-c", textwrap.dedent(code), url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _leaks(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "ResourceWarning" in line or "nclosed" in line]


def test_one_client_in_several_asyncio_runs(admin_url):
    done = _run(
        """
        import asyncio, gc, sys, frankenws
        client = frankenws.AsyncClient(sys.argv[1])
        async def ids():
            return await client.get_clients()
        print(asyncio.run(ids()), asyncio.run(ids()), asyncio.run(ids()))
        asyncio.run(client.aclose())
        gc.collect()
        """,
        admin_url,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["['c1']"] * 3
    assert _leaks(done.stderr) == []


def test_closed_in_the_loop_it_ran_in_then_used_nowhere_else(admin_url):
    done = _run(
        """
        import asyncio, gc, sys, frankenws
        async def main():
            async with frankenws.AsyncClient(sys.argv[1]) as client:
                return await client.get_clients_count()
        print(asyncio.run(main()))
        gc.collect()
        """,
        admin_url,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1"]
    assert _leaks(done.stderr) == []


def test_one_client_in_two_threads_with_their_own_loops(admin_url):
    """Two loops running at once, each in its thread: each has its own session."""
    done = _run(
        """
        import asyncio, gc, sys, threading, frankenws
        client = frankenws.AsyncClient(sys.argv[1])
        results = []
        async def ids():
            for _ in range(5):
                results.append(await client.get_clients())
        threads = [threading.Thread(target=asyncio.run, args=(ids(),)) for _ in range(2)]
        for t in threads: t.start()
        for t in threads: t.join()
        asyncio.run(client.aclose())
        gc.collect()
        print(len(results), all(r == ["c1"] for r in results))
        """,
        admin_url,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["10", "True"]
    assert _leaks(done.stderr) == []
