from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

import httpx
import pytest
from fake_support import HOST

from frankenws.testing import FakeFrankenPHP, ManualClock, RawRequest, RawResponse


class Call(Protocol):
    def __call__(
        self,
        method: str,
        target: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> RawResponse: ...


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> FakeFrankenPHP:
    return FakeFrankenPHP(clock=clock)


@pytest.fixture
def call(fake: FakeFrankenPHP) -> Call:
    """Send one raw request to the fake's handler (with an allowed Host by default)."""

    def send(
        method: str,
        target: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> RawResponse:
        request_headers = dict(HOST if headers is None else headers)
        return fake.handle(RawRequest(method, target, request_headers, body))

    return send


@pytest.fixture
def http(fake: FakeFrankenPHP) -> Iterator[httpx.Client]:
    with httpx.Client(transport=fake.transport(), base_url="http://localhost:2019") as client:
        yield client
