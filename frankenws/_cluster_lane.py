"""The sync cluster's cheap sender: one event loop thread, the bulk engine's lane per node.

A fan-out through httpx costs about 1 ms of client CPU per node (request building in
httpx plus a thread hand-off under the GIL; docs/performance.md), which makes a call on
50 nodes CPU-bound. The bulk engine's own HTTP/1.1 lane sends the same operations for a
fraction of that, with the same request building (``Connection``) and the same error
mapping (``transport_error``), so a call sent here is indistinguishable on the wire and
in its errors from one sent by the node's ``Client``. Used only when every node has
its default transport (``bulk/_http1.lane_available``).
Strictly private.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._calls import Call
from ._client import Client

if TYPE_CHECKING:
    from .bulk._http1 import Http1Lane

__all__ = ["LoopLanes"]

_LANE_CONCURRENCY = 8
"""Connections kept per node: a fleet call sends one request per node at a time, a few
callers may share the cluster."""


class LoopLanes:
    """Send one call to many nodes from any thread; the loop and lanes start lazily."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lanes: dict[str, tuple[Client, Http1Lane]] = {}
        self._start = threading.Lock()

    @staticmethod
    def usable(clients: Iterable[Client]) -> bool:
        from .bulk._http1 import lane_available

        return all(lane_available(client) for client in clients)

    def ask(self, clients: Mapping[str, Client], call: Call[Any], timeout: float) -> list[Any]:
        """Each node's result or exception (``asyncio.TimeoutError`` past ``timeout``)."""
        loop = self._running()
        future = asyncio.run_coroutine_threadsafe(self._gather(clients, call, timeout), loop)
        return future.result()

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._close_lanes(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()
        self._loop = self._thread = None

    def _running(self) -> asyncio.AbstractEventLoop:
        with self._start:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="frankenws-cluster-loop", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _lane(self, name: str, client: Client) -> Http1Lane:
        known = self._lanes.get(name)
        if known is not None and known[0] is client:
            return known[1]
        if known is not None:  # the node was replaced (discovery): drop its connections
            await known[1].__aexit__(None, None, None)
        from .bulk._http1 import Http1Lane

        lane = await Http1Lane(client, _LANE_CONCURRENCY, retries=client._retries).__aenter__()
        self._lanes[name] = (client, lane)
        return lane

    async def _gather(
        self, clients: Mapping[str, Client], call: Call[Any], timeout: float
    ) -> list[Any]:
        async def one(name: str, client: Client) -> Any:
            lane = await self._lane(name, client)
            return await lane.run(call)

        return await asyncio.gather(
            *(asyncio.wait_for(one(name, client), timeout) for name, client in clients.items()),
            return_exceptions=True,
        )

    async def _close_lanes(self) -> None:
        for _, lane in self._lanes.values():
            await lane.__aexit__(None, None, None)
        self._lanes.clear()
