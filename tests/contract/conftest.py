"""Run the same assertions against every way of reaching the fake.

``api`` is parametrized over {in-process transport, loopback HTTP} x {Client, AsyncClient};
async clients are driven through a small synchronous facade on a private event loop so
that one test body serves all four combinations.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import frankenws
from frankenws.testing import FakeFrankenPHP, ManualClock


class SyncFacade:
    """Calls an AsyncClient's coroutines to completion on one dedicated loop."""

    def __init__(self, make: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._client = self._loop.run_until_complete(self._create(make))

    @staticmethod
    async def _create(make: Any) -> frankenws.AsyncClient:
        return make()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._loop.run_until_complete(method(*args, **kwargs))

        return call

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


@dataclass
class Api:
    fake: FakeFrankenPHP
    clock: ManualClock
    ws: Any
    """A frankenws.Client, or a SyncFacade over a frankenws.AsyncClient."""
    mode: str


@pytest.fixture(params=["inprocess-sync", "inprocess-async", "loopback-sync", "loopback-async"])
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    clock = ManualClock()
    fake = FakeFrankenPHP(clock=clock)
    where, kind = request.param.split("-")
    if where == "inprocess":
        server = None
        make_sync, make_async = fake.client, fake.async_client
    else:
        server = fake.serve()
        make_sync, make_async = server.client, server.async_client
    ws: Any = make_sync() if kind == "sync" else SyncFacade(make_async)
    try:
        yield Api(fake, clock, ws, request.param)
    finally:
        ws.close()
        if server is not None:
            server.close()
