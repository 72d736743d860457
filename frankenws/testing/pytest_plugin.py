"""pytest fixtures for testing code that operates FrankenPHP WebSocket servers.

Registered through the ``pytest11`` entry point, so installing frankenws makes them
available everywhere:

* ``frankenws_fake`` - a fresh in-process :class:`~frankenws.testing.FakeFrankenPHP`
  (no sockets); ``frankenws_fake.client()`` gives a wired ``frankenws.Client``.
* ``frankenws_server`` - the same fake served on 127.0.0.1: ``.admin_url`` for the admin
  API, ``.ws_url("/chat")`` for real WebSocket clients, ``.fake`` for its state.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._fake import FakeFrankenPHP
    from ._server import LoopbackServer

__all__ = ["frankenws_fake", "frankenws_server"]


@pytest.fixture
def frankenws_fake() -> FakeFrankenPHP:
    """An in-process fake FrankenPHP with an empty registry."""
    from ._fake import FakeFrankenPHP

    return FakeFrankenPHP()


@pytest.fixture
def frankenws_server(
    frankenws_fake: FakeFrankenPHP,
) -> Iterator[LoopbackServer[FakeFrankenPHP]]:
    """The ``frankenws_fake`` fixture served on loopback (admin port + WebSocket port)."""
    with frankenws_fake.serve() as server:
        yield server
