from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest


class Wire:
    """Records what a client puts on the wire and answers with a canned response."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.status = 200
        self.body = b""
        self.headers: dict[str, str] = {}

    def handler(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return httpx.Response(self.status, headers=self.headers, content=self.body)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    @property
    def target(self) -> str:
        return self.last.url.raw_path.decode("ascii")


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def wire_client(wire: Wire) -> Iterator[Callable[..., object]]:
    import frankenws

    made: list[frankenws.Client] = []

    def make(**kw: object) -> frankenws.Client:
        client = frankenws.Client(
            "http://localhost:2019", transport=httpx.MockTransport(wire.handler), **kw
        )
        made.append(client)
        return client

    yield make
    for c in made:
        c.close()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRANKENWS_ADMIN_URL", raising=False)
    monkeypatch.delenv("CADDY_ADMIN", raising=False)
