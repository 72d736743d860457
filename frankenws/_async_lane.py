"""``AsyncClient``'s default sender: the bulk engine's HTTP/1.1 lane, one per event loop.

Under concurrent calls httpx's asyncio pool slows down sharply, and even over aiohttp's
pool httpx's request and response objects cost more CPU per call than a hand-written
aiohttp loop spends in all (docs/performance.md, "AsyncClient under concurrency"). The
bulk engine's lane (``bulk/_http1``) sends the same bytes with the same errors for a
fraction of that, so a client with its default transport sends through it; a client
given a ``transport=`` keeps httpx.

The lane's connections belong to the loop that opened them, yet one client may serve
several loops in turn (each ``asyncio.run()`` makes one) or at once (one per thread). So
each loop gets its own lane, closed while that loop shuts down (as ``asyncio.run()``
does) rather than left with its sockets open. Strictly private.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

from .bulk._http1 import Http1Lane

if TYPE_CHECKING:
    from ._client import BaseClient

__all__ = ["LoopLanes"]

_Keeper = AsyncGenerator[None, None]

LIMIT = 100
"""Connections kept open per loop, as many as httpx's own pool allows."""


class LoopLanes:
    """One :class:`Http1Lane` per event loop that uses the client."""

    def __init__(self, client: BaseClient) -> None:
        self._client = client
        self._lanes: dict[
            asyncio.AbstractEventLoop, tuple[Http1Lane, AsyncGenerator[None, None]]
        ] = {}
        self._lock = threading.Lock()

    async def lane(self) -> Http1Lane:
        loop = asyncio.get_running_loop()
        known = self._lanes.get(loop)
        if known is not None:
            return known[0]
        with self._lock:
            # Loops that are gone keep nothing: a program calling asyncio.run() over and
            # over must not hold every loop it ever ran.
            for gone in [other for other in self._lanes if other.is_closed()]:
                del self._lanes[gone]
        lane = await Http1Lane(self._client, LIMIT, retries=self._client._retries).__aenter__()
        keeper = _closed_at_shutdown(lane)
        await keeper.asend(None)
        with self._lock:
            self._lanes[loop] = (lane, keeper)
        return lane

    async def aclose(self) -> None:
        here = asyncio.get_running_loop()
        with self._lock:
            lanes = list(self._lanes.items())
        for loop, (_, keeper) in lanes:
            if loop is here:
                await keeper.aclose()
            elif loop.is_running():
                # Another thread's loop: its sockets are closed there.
                asyncio.run_coroutine_threadsafe(keeper.aclose(), loop)
            elif not loop.is_closed():
                continue  # a loop between two runs: it closes its lane at shutdown
            with self._lock:
                self._lanes.pop(loop, None)


async def _closed_at_shutdown(lane: Http1Lane) -> AsyncGenerator[None, None]:
    """Closes ``lane`` when closed: by :meth:`LoopLanes.aclose`, or by the loop's own
    shutdown (``asyncio.run()`` closes the async generators started in it)."""
    try:
        yield
    finally:
        await lane.__aexit__(None, None, None)
