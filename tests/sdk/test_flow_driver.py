"""The operation driver: a request failing inside a multi-request operation.

``send_to_tag_expression`` with an empty payload and an expression the server gets
wrong tags every target with a temporary marker, sends to the marker, and untags. A
failure half-way must leave no marker behind and surface the original error, on both
clients.
"""

from __future__ import annotations

import httpx
import pytest

import frankenws
from frankenws.testing import FakeFrankenPHP


class FailOn(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Wraps the fake's transport; the ``nth`` request whose path holds ``part`` times out."""

    def __init__(self, fake: FakeFrankenPHP, part: str, nth: int = 1) -> None:
        self.inner = fake.transport()
        self.part = part
        self.nth = nth
        self.seen = 0

    def _check(self, request: httpx.Request) -> None:
        if self.part in request.url.raw_path.decode("ascii"):
            self.seen += 1
            if self.seen == self.nth:
                raise httpx.ReadTimeout("injected", request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._check(request)
        return self.inner.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._check(request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def tagged() -> tuple[FakeFrankenPHP, list[str]]:
    """Three connections holding tags x, y and z (x&y&z is evaluated client-side)."""
    fake = FakeFrankenPHP()
    conns = [fake.connect("/chat") for _ in range(3)]
    for conn in conns:
        for tag in "xyz":
            fake.tag_client(conn, tag)
    return fake, conns


def _markers(fake: FakeFrankenPHP, conns: list[str]) -> list[str]:
    return [t for c in conns for t in fake.get_client_tags(c) if t.startswith("frankenws-tmp-")]


@pytest.mark.parametrize(("part", "nth"), [("/sendToTag/", 1), ("/tag/", 2)])
def test_sync_failure_mid_flow_leaves_no_temporary_tag(tagged, part, nth):
    """The original error surfaces and every marker is removed (sync)."""
    fake, conns = tagged
    transport = FailOn(fake, part, nth)
    with (
        frankenws.Client(transport=transport) as client,
        pytest.raises(frankenws.RequestTimeout, match="did not answer"),
    ):
        client.send_to_tag_expression("x&y&z", b"")
    assert transport.seen == nth
    assert _markers(fake, conns) == []
    assert all(fake.get_client_tags(c) == ["x", "y", "z"] for c in conns)


@pytest.mark.parametrize(("part", "nth"), [("/sendToTag/", 1), ("/tag/", 2)])
async def test_async_failure_mid_flow_leaves_no_temporary_tag(tagged, part, nth):
    """The original error surfaces and every marker is removed (async)."""
    fake, conns = tagged
    transport = FailOn(fake, part, nth)
    async with frankenws.AsyncClient(transport=transport) as client:
        with pytest.raises(frankenws.RequestTimeout, match="did not answer"):
            await client.send_to_tag_expression("x&y&z", b"")
    assert _markers(fake, conns) == []


def test_success_still_cleans_up_and_counts(tagged):
    """Without failures the empty frame reaches every target and the markers go."""
    fake, conns = tagged
    with fake.client() as client:
        assert client.send_to_tag_expression("x&y&z", b"") == 3
    assert _markers(fake, conns) == []
    assert all(fake.received(c) == [b""] for c in conns)


def test_failure_in_a_read_only_flow_is_raised_unchanged(tagged):
    """A flow without cleanup re-raises the request's error as the client maps it."""
    fake, _ = tagged
    transport = FailOn(fake, "/getClientsByTag/", 2)
    with (
        frankenws.Client(transport=transport) as client,
        pytest.raises(frankenws.RequestTimeout),
    ):
        client.get_clients_by_tag_expression("x&y&z")
