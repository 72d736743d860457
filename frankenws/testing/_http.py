"""Raw HTTP messages as the fake's admin handler sees them.

Both adapters (the in-process httpx transport and the aiohttp loopback server) turn
their native request objects into a :class:`RawRequest`, call the one pure handler,
and write the :class:`RawResponse` back byte for byte. Both are public as
``frankenws.testing.RawRequest`` and ``frankenws.testing.RawResponse``: ``fake.handle``
takes one and ``fake.calls`` records both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["RawRequest", "RawResponse"]


@dataclass(frozen=True, slots=True)
class RawRequest:
    """A request exactly as it arrived on the wire."""

    method: str
    target: str
    """The request target as sent: the escaped path plus ``?query`` if any (raw bytes
    beyond ASCII, as Go accepts them, are decoded with ``surrogateescape``)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Header names lower-cased."""
    body: bytes = b""
    version: str = "HTTP/1.1"
    """The request line's protocol (HTTP/1.0 may omit the Host header)."""


@dataclass(frozen=True, slots=True)
class RawResponse:
    """What the admin server writes back."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    drop: bool = False
    """Close the connection without writing any response (a Go handler panic)."""
    close: bool = False
    """Send the response, then close the connection (``Connection: close``)."""
