"""The extension's in-memory state, as PROTOCOL.md Appendix C models it.

This module knows nothing about HTTP. Its methods are the Go functions behind the
admin routes and the PHP functions (named like the SDK methods, see ``_endpoints``),
plus the socket-side entry points a WebSocket server calls (``open_connection``,
``message_received``, ``socket_closed``, ``ping_received``, ``pong_received``).

Every operation runs under one re-entrant lock. Event hooks (the stand-in for the PHP
worker) are called while that lock is held, so a hook may call back into the state;
an exception raised by a hook is recorded in ``hook_errors`` and re-raised once the
outermost operation has finished, so the state is never left half-updated.

Go strings are bytes; ids, tags, keys, routes and stored values are kept as ``str``
decoded with ``surrogateescape`` (see ``_gojson.go_str``). Global values and message
payloads are ``bytes``.
"""

from __future__ import annotations

import base64
import functools
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Concatenate, Literal, ParamSpec, Protocol, TypeVar

from ._clock import Clock, InertScheduler, Scheduler, TimerHandle
from ._gojson import JSONValue
from ._search import compile_matcher
from ._tagexpr import compile_expression

__all__ = [
    "MAX_FRAME_SIZE",
    "PING_PLACEHOLDER_NS",
    "Event",
    "EventType",
    "FakeState",
    "Hook",
    "Peer",
    "QueueConfig",
    "QueueMessage",
    "VirtualPeer",
]

MAX_FRAME_SIZE = 16 * 1024 * 1024
"""gws' default write limit; a larger message fails and closes the connection."""

PING_PLACEHOLDER_NS = 5_000_000
"""What a pong without a pending ping records as round-trip time (PROTOCOL.md §7.4)."""

CLOSE_GOING_AWAY = 1001
_NS_PER_S = 1_000_000_000
_NS_PER_MS = 1_000_000

EventType = Literal["open", "message", "beforeClose", "close", "ghostConnectionClose"]


MAX_EVENTS = 100_000
"""How many recent events ``FakeState.events`` keeps."""


@dataclass(frozen=True, slots=True)
class Event:
    """One event handed to the PHP worker (here: to a hook).

    ``headers`` is only filled for ``open``. ``payload`` is the frame for ``message``,
    the close reason (Go's close error as text, or ``b"ghost_released"``) for the
    three close events, and ``None`` for ``open``.
    """

    type: EventType
    connection: str
    route: str
    remote_addr: str
    headers: Mapping[str, list[str]] = field(default_factory=dict)
    payload: bytes | None = None


Hook = Callable[[Event], object]


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


@dataclass(slots=True)
class QueueConfig:
    """The queue counter's settings for one ID."""

    enabled: bool
    max_messages: int
    max_time: int
    """Seconds."""


@dataclass(frozen=True, slots=True)
class QueueMessage:
    """One recorded send (PROTOCOL.md §7.5)."""

    id: int
    data: bytes
    route: str
    """The route filter given to the send call (``""`` if none)."""
    timestamp: int
    """Unix seconds."""
    send_type: str
    send_target: str
    monotonic_ns: int = field(repr=False, compare=False)
    """When it was recorded, for the ``maxTime`` trimming."""

    def to_json(self) -> dict[str, JSONValue]:
        """The admin API's JSON object (keys are sorted by the encoder)."""
        return {
            "data": base64.b64encode(self.data).decode("ascii"),
            "id": self.id,
            "route": self.route,
            "sendTarget": self.send_target,
            "sendType": self.send_type,
            "timestamp": self.timestamp,
        }


@dataclass(slots=True)
class _GlobalEntry:
    value: bytes
    expires_ns: int | None


def _wrap_int64(value: int) -> int:
    """Two's-complement int64 wrap-around, as Go's integer multiplication does."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


V = TypeVar("V")


def _move(table: dict[str, V], old: str, new: str) -> None:
    # Only when the old id has an entry: otherwise whatever the new id already had
    # (orphan data) stays and becomes the connection's.
    if old in table:
        table[new] = table.pop(old)


P = ParamSpec("P")
R = TypeVar("R")


_Method = Callable[Concatenate["FakeState", P], R]


def _locked(method: _Method[P, R]) -> _Method[P, R]:
    @functools.wraps(method)
    def wrapper(self: FakeState, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._operation():
            return method(self, *args, **kwargs)

    return wrapper


class FakeState:
    """Connections, tags, stored information, global store, ghosts, ping, queues.

    Args:
        clock: the time source.
        scheduler: runs delayed work (periodic pings). Defaults to an
            :class:`InertScheduler`, whose timers never fire.
        on_open, on_message, on_close: event hooks (``on_close`` receives
            ``beforeClose``, ``close`` and ``ghostConnectionClose``).
    """

    def __init__(
        self,
        clock: Clock,
        scheduler: Scheduler | None = None,
        *,
        on_open: Hook | None = None,
        on_message: Hook | None = None,
        on_close: Hook | None = None,
    ) -> None:
        self.clock = clock
        self._scheduler: Scheduler = scheduler if scheduler is not None else InertScheduler()
        self._hooks: dict[str, Hook | None] = {
            "open": on_open,
            "message": on_message,
            "close": on_close,
        }
        self._lock = threading.RLock()
        self._depth = 0
        self._pending_errors: list[BaseException] = []
        self.hook_errors: list[BaseException] = []
        """Every exception raised by a hook, in order."""
        self.events: list[Event] = []
        """The events emitted, in order (whether or not a hook is installed); the most
        recent :data:`MAX_EVENTS` are kept, so a long-running fake does not grow forever."""

        # The registry: registered id <-> socket.
        self._conns: dict[str, Peer] = {}
        self._peer_ids: dict[Peer, str] = {}
        self._remote: dict[Peer, str] = {}
        self._routes: dict[str, str] = {}
        # Ordered dicts as sets: stable iteration makes test failures reproducible.
        self._tags: dict[str, dict[str, None]] = {}
        self._stored: dict[str, dict[str, str]] = {}
        self._global: dict[str, _GlobalEntry] = {}
        self._ghosts: dict[str, bool] = {}
        self._ping_enabled: dict[str, bool] = {}
        self._ping_last_ns: dict[str, int] = {}
        self._ping_pending_ns: dict[str, int] = {}
        self._ping_interval_ms: dict[str, int] = {}
        self._ping_timers: dict[str, tuple[object, TimerHandle]] = {}
        self._queue_config: dict[str, QueueConfig] = {}
        self._queue_counter: dict[str, int] = {}
        self._queue_messages: dict[str, list[QueueMessage]] = {}

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def _operation(self) -> Iterator[None]:
        with self._lock:
            self._depth += 1
            errors: list[BaseException] = []
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    # Taken even when the operation itself failed, so that a stale
                    # hook error never surfaces in some later, unrelated call.
                    errors, self._pending_errors = self._pending_errors, []
            if errors:
                raise errors[0]

    @property
    def lock(self) -> threading.RLock:
        """The lock every operation takes (hold it to read several things at once)."""
        return self._lock

    def set_scheduler(self, scheduler: Scheduler) -> None:
        """Use ``scheduler`` for timers started from now on."""
        with self._lock:
            self._scheduler = scheduler

    @property
    def scheduler(self) -> Scheduler:
        return self._scheduler

    def _emit(
        self,
        type_: EventType,
        connection: str,
        peer: Peer | None,
        payload: bytes | None,
        *,
        route: str | None = None,
        headers: Mapping[str, list[str]] | None = None,
    ) -> None:
        if route is None:
            route = self._routes.get(connection, "") if connection else ""
        event = Event(
            type=type_,
            connection=connection,
            # Upstream substitutes this when the connection has no stored route.
            route=route or "/unknown",
            remote_addr=self._remote.get(peer, "") if peer is not None else "",
            headers=dict(headers) if headers else {},
            payload=payload,
        )
        self.events.append(event)
        if len(self.events) > MAX_EVENTS + MAX_EVENTS // 10:
            # Trimmed in batches: dropping one event per append would copy the list
            # each time.
            del self.events[:-MAX_EVENTS]
        hook = self._hooks["close" if type_ not in ("open", "message") else type_]
        if hook is None:
            return
        try:
            hook(event)
        except Exception as exc:
            self.hook_errors.append(exc)
            self._pending_errors.append(exc)

    def _write(self, peer: Peer, data: bytes) -> bool:
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

    def _record(self, conn_id: str, data: bytes, route: str, send_type: str, target: str) -> None:
        config = self._queue_config.get(conn_id)
        if config is None or not config.enabled:
            return
        counter = self._queue_counter.get(conn_id, 0) + 1
        self._queue_counter[conn_id] = counter
        messages = self._queue_messages.setdefault(conn_id, [])
        now_mono = self.clock.monotonic_ns()
        messages.append(
            QueueMessage(
                id=counter,
                data=bytes(data),
                route=route,
                timestamp=self.clock.time_ns() // _NS_PER_S,
                send_type=send_type,
                send_target=target,
                monotonic_ns=now_mono,
            )
        )
        # One message at most is dropped per recording: a list that was longer
        # before a re-enable with a smaller limit never shrinks below that length.
        if config.max_messages > 0 and len(messages) > config.max_messages:
            del messages[0]
        if config.max_time > 0:
            cutoff = now_mono + _wrap_int64(-_wrap_int64(config.max_time * _NS_PER_S))
            messages[:] = [m for m in messages if m.monotonic_ns > cutoff]

    def _forget_peer(self, peer: Peer) -> None:
        self._remote.pop(peer, None)

    def _unregister(self, conn_id: str) -> Peer | None:
        peer = self._conns.pop(conn_id, None)
        if peer is not None and self._peer_ids.get(peer) == conn_id:
            del self._peer_ids[peer]
        return peer

    def _clear_ping_times(self, conn_id: str) -> None:
        self._ping_enabled.pop(conn_id, None)
        self._ping_last_ns.pop(conn_id, None)
        self._ping_pending_ns.pop(conn_id, None)

    def _virtual_closed(self, peer: VirtualPeer, reason: str) -> None:
        self.socket_closed(peer, reason)

    # ------------------------------------------------------------ socket side

    @_locked
    def open_connection(
        self,
        route: str,
        peer: Peer,
        *,
        id: str | None = None,
        headers: Mapping[str, list[str]] | None = None,
        remote_addr: str = "127.0.0.1:0",
    ) -> str:
        """Register a freshly upgraded socket and emit ``open``.

        Args:
            route: the request path of the upgrade (no query); ``""`` becomes
                ``/unknown`` as upstream does when its temporary record is missing.
            peer: the socket.
            id: the connection id; a random 32-hex-digit id when omitted.
            headers: the upgrade request headers, passed to the ``open`` event.
            remote_addr: the TCP peer address reported in events.

        Returns:
            The connection id.
        """
        if peer in self._peer_ids:
            raise ValueError(f"{peer!r} is already registered as {self._peer_ids[peer]!r}")
        conn_id = secrets.token_hex(16) if id is None else id
        if conn_id in self._conns:
            raise ValueError(f"connection id {conn_id!r} is already registered")
        self._conns[conn_id] = peer
        self._peer_ids[peer] = conn_id
        self._remote[peer] = remote_addr
        self._routes[conn_id] = route or "/unknown"
        if isinstance(peer, VirtualPeer):
            peer.bind(self._virtual_closed)
        self._emit("open", conn_id, peer, None, headers=headers)
        return conn_id

    @_locked
    def message_received(self, peer: Peer, data: bytes) -> None:
        """An incoming data frame (text or binary); empty frames are dropped.

        A socket that lost its registration (after ``releaseGhost``) is registered
        again under a brand-new random id with no route (PROTOCOL.md §10.4).
        """
        if not data:
            return
        conn_id = self._peer_ids.get(peer)
        if conn_id is None:
            conn_id = secrets.token_hex(16)
            self._conns[conn_id] = peer
            self._peer_ids[peer] = conn_id
            self._remote.setdefault(peer, "")
        self._emit("message", conn_id, peer, bytes(data))

    @_locked
    def socket_closed(self, peer: Peer, reason: str = "") -> None:
        """The socket closed (peer close, kill, failed write): the close path.

        A ghost only gets ``ghostConnectionClose`` and keeps everything. Otherwise:
        tags cleared, ``beforeClose`` (synchronous), unregistration and cleanup per
        PROTOCOL.md §10.5, ``close``. An unregistered socket only gets a ``close``
        event with an empty connection id.
        """
        payload = reason.encode("utf-8", "surrogateescape")
        conn_id = self._peer_ids.get(peer)
        if conn_id is None:
            self._emit("close", "", peer, payload)
            self._forget_peer(peer)
            return
        if self._ghosts.get(conn_id):
            self._emit("ghostConnectionClose", conn_id, peer, payload)
            return
        self._tags.pop(conn_id, None)
        self._emit("beforeClose", conn_id, peer, payload)
        # The beforeClose handler may have renamed the connection; upstream looks
        # the socket up again before cleaning.
        conn_id = self._peer_ids.get(peer)
        if conn_id is None:
            self._emit("close", "", peer, payload)
            self._forget_peer(peer)
            return
        route = self._routes.get(conn_id, "")
        self._unregister(conn_id)
        self._tags.pop(conn_id, None)
        self._stored.pop(conn_id, None)
        self._routes.pop(conn_id, None)
        self._clear_ping_times(conn_id)
        self._emit("close", conn_id, peer, payload, route=route)
        self._forget_peer(peer)

    @_locked
    def ping_received(self, peer: Peer, payload: bytes) -> bool:
        """A ping from the client. True means: answer with a pong.

        Upstream replaces the library's automatic pong: only IDs with ping enabled get
        one, and the ping overwrites the pending timestamp.
        """
        conn_id = self._peer_ids.get(peer)
        if conn_id is None or not self._ping_enabled.get(conn_id):
            return False
        self._ping_pending_ns[conn_id] = self.clock.monotonic_ns()
        return True

    @_locked
    def pong_received(self, peer: Peer, payload: bytes) -> None:
        """A pong from the client: record the round trip (or the 5 ms placeholder)."""
        conn_id = self._peer_ids.get(peer)
        if conn_id is None or not self._ping_enabled.get(conn_id):
            return
        pending = self._ping_pending_ns.pop(conn_id, None)
        if pending is None:
            self._ping_last_ns[conn_id] = PING_PLACEHOLDER_NS
        else:
            self._ping_last_ns[conn_id] = self.clock.monotonic_ns() - pending

    @_locked
    def connection_id(self, peer: Peer) -> str | None:
        """The id ``peer`` is registered under, if any."""
        return self._peer_ids.get(peer)

    @_locked
    def peer(self, conn_id: str) -> Peer | None:
        """The socket registered under ``conn_id``, if any."""
        return self._conns.get(conn_id)

    @_locked
    def route_of(self, conn_id: str) -> str | None:
        """The stored route of ``conn_id`` (``None``: none stored)."""
        return self._routes.get(conn_id)

    # ------------------------------------------------------- clients & routes

    @_locked
    def get_clients(self, route: str = "") -> list[str] | None:
        """Registered ids, optionally those whose route is ``route``; None if none."""
        if not route:
            return list(self._conns) or None
        return [cid for cid, r in self._routes.items() if r == route] or None

    @_locked
    def get_clients_count(self, route: str = "") -> int:
        if not route:
            return len(self._conns)
        return sum(1 for cid in self._conns if self._routes.get(cid, "") == route)

    @_locked
    def list_routes(self) -> list[str] | None:
        """Distinct routes of registered connections; None if none."""
        return list(dict.fromkeys(self._routes.values())) or None

    @_locked
    def get_clients_by_route(self, route: str) -> list[str] | None:
        return [cid for cid, r in self._routes.items() if r == route] or None

    # ---------------------------------------------------------------- sending

    @_locked
    def send(self, conn_id: str, data: bytes, route: str = "") -> bool:
        """Write one binary frame to ``conn_id``; whether a frame was written.

        The id and route cross a C boundary upstream, so anything after a NUL byte
        is ignored.
        """
        conn_id = conn_id.split("\0", 1)[0]
        route = route.split("\0", 1)[0]
        if route and self._routes.get(conn_id, "") != route:
            return False
        peer = self._conns.get(conn_id)
        if peer is None or not self._write(peer, data):
            return False
        self._record(conn_id, data, route, "direct", conn_id)
        return True

    @_locked
    def send_all(self, data: bytes, route: str = "") -> int:
        sent = 0
        for conn_id, peer in list(self._conns.items()):
            if route and self._routes.get(conn_id, "") != route:
                continue
            if self._write(peer, data):
                sent += 1
                self._record(conn_id, data, route, "all", "all")
        return sent

    @_locked
    def send_to_tag(self, tag: str, data: bytes, route: str = "") -> int:
        sent = 0
        for conn_id in self.get_clients_by_tag(tag) or []:
            if route and self._routes.get(conn_id, "") != route:
                continue
            peer = self._conns.get(conn_id)
            if peer is not None and self._write(peer, data):
                sent += 1
                self._record(conn_id, data, route, "tag", tag)
        return sent

    @_locked
    def get_clients_by_tag_expression(self, expression: str) -> list[str] | None:
        """Matching registered ids: ``[]`` for a blank expression, None for no match."""
        compiled = compile_expression(expression)
        if compiled.blank:
            return []
        return [cid for cid in self._conns if compiled.matches(self._tags.get(cid))] or None

    @_locked
    def send_to_tag_expression(self, expression: str, data: bytes, route: str = "") -> int:
        sent = 0
        for conn_id in self.get_clients_by_tag_expression(expression) or []:
            if route and self._routes.get(conn_id, "") != route:
                continue
            peer = self._conns.get(conn_id)
            if peer is not None and self._write(peer, data):
                sent += 1
                self._record(conn_id, data, route, "tagExpression", expression)
        return sent

    # ------------------------------------------------------------------- tags

    @_locked
    def tag_client(self, conn_id: str, tag: str) -> None:
        self._tags.setdefault(conn_id, {})[tag] = None

    @_locked
    def untag_client(self, conn_id: str, tag: str) -> None:
        tags = self._tags.get(conn_id)
        if tags is not None:
            tags.pop(tag, None)
            if not tags:
                del self._tags[conn_id]

    @_locked
    def clear_tag_client(self, conn_id: str) -> None:
        self._tags.pop(conn_id, None)

    @_locked
    def get_client_tags(self, conn_id: str) -> list[str] | None:
        tags = self._tags.get(conn_id)
        return list(tags) if tags else None

    @_locked
    def get_clients_by_tag(self, tag: str) -> list[str] | None:
        return [cid for cid, tags in self._tags.items() if tag in tags] or None

    @_locked
    def get_tags(self) -> list[str] | None:
        """Distinct tags over all ids, orphans included; None if none."""
        seen: dict[str, None] = {}
        for tags in self._tags.values():
            seen.update(tags)
        return list(seen) or None

    @_locked
    def get_tag_count(self, tag: str) -> int:
        return sum(1 for tags in self._tags.values() if tag in tags)

    # ----------------------------------------------------- stored information

    @_locked
    def set_stored_information(self, conn_id: str, key: str, value: str) -> None:
        self._stored.setdefault(conn_id, {})[key] = value

    @_locked
    def get_stored_information(self, conn_id: str, key: str) -> tuple[str, bool]:
        """``(value, exists)``; the value is ``""`` when absent."""
        info = self._stored.get(conn_id)
        if info is None or key not in info:
            return "", False
        return info[key], True

    @_locked
    def delete_stored_information(self, conn_id: str, key: str) -> bool:
        """True whenever the id had any stored information (upstream's quirk)."""
        info = self._stored.get(conn_id)
        if info is None:
            return False
        info.pop(key, None)
        if not info:
            del self._stored[conn_id]
        return True

    @_locked
    def clear_stored_information(self, conn_id: str) -> bool:
        self._stored.pop(conn_id, None)
        return True

    @_locked
    def has_stored_information(self, conn_id: str, key: str) -> bool:
        return key in self._stored.get(conn_id, {})

    @_locked
    def list_stored_information_keys(self, conn_id: str) -> list[str] | None:
        info = self._stored.get(conn_id)
        return list(info) if info else None

    @_locked
    def get_all_stored_information(self, conn_id: str) -> dict[str, str]:
        return dict(self._stored.get(conn_id, {}))

    @_locked
    def search_stored_information(
        self, key: str, op: str, value: str = "", route: str = ""
    ) -> list[str] | None:
        """Ids whose ``key`` matches; ``[]`` for an unknown op or bad regex, None if none."""
        matcher = compile_matcher(op, value)
        if matcher is None:
            return []
        found = []
        for conn_id, info in self._stored.items():
            if route and self._routes.get(conn_id, "") != route:
                continue
            if key in info and matcher(info[key]):
                found.append(conn_id)
        return found or None

    # ------------------------------------------------------------ global store

    @_locked
    def global_set(self, key: str, value: bytes, exp: int = 0) -> None:
        """Store ``value``; ``exp`` seconds of lifetime when positive.

        Go computes ``time.Now().Add(time.Duration(exp) * time.Second)``: the
        multiplication wraps around int64 beyond 9 223 372 036 s, giving an arbitrary
        (often past) expiry.
        """
        expires = None
        if exp > 0:
            expires = self.clock.monotonic_ns() + _wrap_int64(exp * _NS_PER_S)
        self._global[key] = _GlobalEntry(bytes(value), expires)

    @_locked
    def global_get(self, key: str) -> bytes | None:
        """The value, or None when missing or expired (an expired entry is purged)."""
        entry = self._global.get(key)
        if entry is None:
            return None
        if entry.expires_ns is not None and self.clock.monotonic_ns() > entry.expires_ns:
            del self._global[key]
            return None
        return entry.value

    @_locked
    def global_has(self, key: str) -> bool:
        """Present and not expired; never purges. (Go: ``Now().Before(expiresAt)``.)"""
        entry = self._global.get(key)
        if entry is None:
            return False
        return entry.expires_ns is None or self.clock.monotonic_ns() < entry.expires_ns

    @_locked
    def global_delete(self, key: str) -> bool:
        """Whether an entry existed, an expired but unpurged one included."""
        return self._global.pop(key, None) is not None

    # -------------------------------------------------------------- ghosts

    @_locked
    def activate_ghost(self, conn_id: str) -> bool:
        if conn_id not in self._conns:
            return False
        self._ghosts[conn_id] = True
        return True

    @_locked
    def is_ghost(self, conn_id: str) -> bool:
        return self._ghosts.get(conn_id, False)

    @_locked
    def release_ghost(self, conn_id: str) -> bool:
        """Un-ghost and clean up without closing the socket (PROTOCOL.md §7.3)."""
        if not self._ghosts.get(conn_id):
            return False
        del self._ghosts[conn_id]
        peer = self._conns.get(conn_id)
        if peer is None:
            return False
        payload = b"ghost_released"
        route = self._routes.get(conn_id, "")
        self._emit("ghostConnectionClose", conn_id, peer, payload, route=route)
        self._emit("beforeClose", conn_id, peer, payload, route=route)
        self._unregister(conn_id)
        self._tags.pop(conn_id, None)
        self._stored.pop(conn_id, None)
        self._clear_ping_times(conn_id)
        self._routes.pop(conn_id, None)
        self._emit("close", conn_id, peer, payload, route=route)
        if not peer.is_open:
            self._forget_peer(peer)
        return True

    # ------------------------------------------------------ rename and kill

    @_locked
    def rename_connection(self, current_id: str, new_id: str) -> bool:
        """Move the socket, route, tags and stored information to ``new_id``.

        Ghost flag, ping and queue state stay under ``current_id``. Orphan tags or
        stored information of ``new_id`` are adopted when ``current_id`` has none.
        """
        peer = self._conns.get(current_id)
        if peer is None or new_id in self._conns:
            return False
        del self._conns[current_id]
        self._conns[new_id] = peer
        self._peer_ids[peer] = new_id
        _move(self._routes, current_id, new_id)
        _move(self._tags, current_id, new_id)
        _move(self._stored, current_id, new_id)
        return True

    @_locked
    def kill_connection(self, conn_id: str) -> bool:
        """Drop the TCP connection of a registered, open socket (no close frame)."""
        peer = self._conns.get(conn_id)
        if peer is None or not peer.is_open:
            return False
        peer.abort()
        return True

    # ------------------------------------------------------------------ ping

    @_locked
    def enable_ping(self, conn_id: str, interval_ms: int = 0) -> int:
        """Enable measurement; ping now (``interval_ms <= 0``) or periodically.

        Returns the interval echoed by the admin route (0 when not used).
        """
        self._ping_enabled[conn_id] = True
        if interval_ms > 0:
            self._ping_interval_ms[conn_id] = interval_ms
            delay_ns = _wrap_int64(interval_ms * _NS_PER_MS)
            self._start_periodic(conn_id, max(0, delay_ns) / _NS_PER_S)
            return interval_ms
        peer = self._conns.get(conn_id)
        if peer is not None:
            self._ping(conn_id, peer, manual=True)
        return 0

    @_locked
    def disable_ping(self, conn_id: str) -> None:
        self._ping_enabled[conn_id] = False
        self._stop_periodic(conn_id)
        self._ping_last_ns.pop(conn_id, None)
        self._ping_pending_ns.pop(conn_id, None)
        self._ping_interval_ms.pop(conn_id, None)

    @_locked
    def get_client_ping_time(self, conn_id: str) -> int:
        """Last round-trip time in nanoseconds (0: no measurement)."""
        return self._ping_last_ns.get(conn_id, 0)

    @_locked
    def is_ping_enabled(self, conn_id: str) -> bool:
        return self._ping_enabled.get(conn_id, False)

    def _ping(self, conn_id: str, peer: Peer, *, manual: bool) -> bool:
        prefix = "manual_ping" if manual else "ping"
        if not peer.ping(f"{prefix}_{self.clock.time_ns()}".encode("ascii")):
            return False
        # Upstream takes the timestamp after the write returns.
        self._ping_pending_ns[conn_id] = self.clock.monotonic_ns()
        return True

    def _start_periodic(self, conn_id: str, delay_s: float) -> None:
        self._stop_periodic(conn_id)
        self._schedule(conn_id, object(), delay_s, self._periodic_tick)

    def _stop_periodic(self, conn_id: str) -> None:
        timer = self._ping_timers.pop(conn_id, None)
        if timer is not None:
            timer[1].cancel()

    def _schedule(
        self,
        conn_id: str,
        token: object,
        delay_s: float,
        step: Callable[[str, object, float], None],
    ) -> None:
        handle = self._scheduler.call_later(delay_s, lambda: step(conn_id, token, delay_s))
        self._ping_timers[conn_id] = (token, handle)

    def _current(self, conn_id: str, token: object) -> bool:
        timer = self._ping_timers.get(conn_id)
        return timer is not None and timer[0] is token

    @_locked
    def _periodic_tick(self, conn_id: str, token: object, delay_s: float) -> None:
        if not self._current(conn_id, token):
            return
        peer = self._conns.get(conn_id)
        if peer is None or not self._ping(conn_id, peer, manual=False):
            # The timer looks its id up: after a close or a rename it finds nothing
            # (or a dead socket) and stops for good.
            del self._ping_timers[conn_id]
            return
        # Upstream re-arms through a restart that itself waits one interval, so the
        # pings come at I, 3I, 5I, ...
        self._schedule(conn_id, token, delay_s, self._periodic_restart)

    @_locked
    def _periodic_restart(self, conn_id: str, token: object, delay_s: float) -> None:
        if self._current(conn_id, token):
            self._schedule(conn_id, token, delay_s, self._periodic_tick)

    # --------------------------------------------------------- queue counter

    @_locked
    def enable_queue_counter(
        self, conn_id: str, max_messages: int = 100, max_time: int = 3600
    ) -> tuple[int, int]:
        """Replace the config; keep an existing counter and message list."""
        self._queue_config[conn_id] = QueueConfig(True, max_messages, max_time)
        self._queue_counter.setdefault(conn_id, 0)
        self._queue_messages.setdefault(conn_id, [])
        return max_messages, max_time

    @_locked
    def disable_queue_counter(self, conn_id: str) -> bool:
        config = self._queue_config.get(conn_id)
        if config is None:
            return False
        config.enabled = False
        return True

    @_locked
    def get_client_message_counter(self, conn_id: str) -> int:
        return self._queue_counter.get(conn_id, 0)

    @_locked
    def get_client_message_queue(self, conn_id: str) -> list[QueueMessage]:
        return list(self._queue_messages.get(conn_id, []))

    @_locked
    def clear_client_message_queue(self, conn_id: str) -> bool:
        messages = self._queue_messages.get(conn_id)
        if messages is None:
            return False
        messages.clear()
        return True
