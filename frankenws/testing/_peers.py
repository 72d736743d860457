"""The socket side of a connection: what the fake's state writes to.

:class:`VirtualPeer` is the in-process socket behind ``FakeFrankenPHP.connect``; the
loopback server has its own peer for real sockets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

__all__ = ["MAX_FRAME_SIZE", "Peer", "VirtualPeer", "write_frame"]

MAX_FRAME_SIZE = 16 * 1024 * 1024
"""gws' default write limit; a larger message fails and closes the connection."""

CLOSE_GOING_AWAY = 1001


class Peer(Protocol):
    """The socket side of one WebSocket connection.

    The state only ever asks a peer to do things; a peer reports what happened to it
    by calling the state (``message_received``, ``socket_closed``, ...).
    """

    @property
    def is_open(self) -> bool:
        """False once the socket is closed (by either side)."""

    def write(self, data: bytes) -> bool:
        """Send one binary frame; False when the socket is closed."""

    def ping(self, payload: bytes) -> bool:
        """Send a ping frame; False when the socket is closed."""

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (``killConnection``).

        The state's close path (:meth:`FakeState.socket_closed`) must then run, as it
        does when the real server's read loop fails.
        """


# A peer may also offer ``close(code: int, reason: str) -> None``: send a close frame,
# then drop the connection (the close path runs afterwards, as for ``abort``). The
# state uses it for the >16 MiB write (1001 "going away") and falls back to ``abort``.


class VirtualPeer:
    """An in-process WebSocket client: it records what the server sends it.

    ``frames`` holds the binary frames delivered, ``pings`` the ping payloads and
    ``pongs`` the pong payloads the server sent back to it. ``close_code`` says how the
    connection ended (1006 after an abort, as a browser would report).
    """

    __slots__ = ("_on_closed", "_open", "close_code", "frames", "pings", "pongs", "remote_addr")

    def __init__(self, remote_addr: str = "127.0.0.1:0") -> None:
        self.remote_addr = remote_addr
        self.frames: list[bytes] = []
        self.pings: list[bytes] = []
        self.pongs: list[bytes] = []
        self.close_code: int | None = None
        self._open = True
        self._on_closed: Callable[[VirtualPeer, str], None] | None = None

    @property
    def is_open(self) -> bool:
        return self._open

    def bind(self, on_closed: Callable[[VirtualPeer, str], None]) -> None:
        """Set what runs (synchronously) when this socket closes."""
        self._on_closed = on_closed

    def write(self, data: bytes) -> bool:
        if not self._open:
            return False
        self.frames.append(bytes(data))
        return True

    def ping(self, payload: bytes) -> bool:
        if not self._open:
            return False
        self.pings.append(bytes(payload))
        return True

    def abort(self) -> None:
        self._shut(1006, "use of closed network connection")

    def close(self, code: int, reason: str) -> None:
        self._shut(code, reason)

    def disconnect(self, code: int = 1000, reason: str = "") -> None:
        """The client closes the connection normally."""
        self._shut(code, f"connection closed: code={code}, reason={reason}")

    def _shut(self, code: int, reason: str) -> None:
        if not self._open:
            return
        self._open = False
        self.close_code = code
        if self._on_closed is not None:
            self._on_closed(self, reason)

    def __repr__(self) -> str:
        state = "open" if self._open else f"closed({self.close_code})"
        return f"<VirtualPeer {self.remote_addr} {state} frames={len(self.frames)}>"


def write_frame(peer: Peer, data: bytes) -> bool:
    """Write one binary frame as gws does; False when nothing was written."""
    if len(data) > MAX_FRAME_SIZE:
        # gws refuses the frame and then closes the connection ("going away").
        if peer.is_open:
            close = getattr(peer, "close", None)
            if callable(close):
                close(CLOSE_GOING_AWAY, "message too large")
            else:
                peer.abort()
        return False
    return peer.write(data)
