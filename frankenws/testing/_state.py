"""The extension's in-memory state, as PROTOCOL.md Appendix C models it.

This module knows nothing about HTTP. ``FakeState``'s methods are the Go functions
behind the admin routes and the PHP functions (named like the SDK methods, see
``_endpoints``), plus the socket-side entry points a WebSocket server calls
(``open_connection``, ``message_received``, ``socket_closed``, ``ping_received``,
``pong_received``).

``FakeState`` owns the registry (id <-> socket, routes, ghosts), the lock, the events
and hooks, and the cleanup matrix of PROTOCOL.md §10.5 (``socket_closed``,
``release_ghost``, ``rename_connection``); each family of per-id data lives in its own
table in ``_tables``, which only ``FakeState`` touches.

Every operation runs under one re-entrant lock (``_events.EventLog.operation``). Event
hooks (the stand-in for the PHP worker) are called while that lock is held, so a hook
may call back into the state; an exception raised by a hook is recorded in
``hook_errors`` and re-raised once the outermost operation has finished.

Go strings are bytes; ids, tags, keys, routes and stored values are kept as ``str``
decoded with ``surrogateescape`` (see ``_gojson.go_str``). Global values and message
payloads are ``bytes``.
"""

from __future__ import annotations

import functools
import inspect
import secrets
from collections.abc import Callable, Mapping
from typing import Concatenate, ParamSpec, TypeVar

from ._clock import Clock, InertScheduler, Scheduler
from ._events import Event, EventLog, EventType, Hook
from ._peers import Peer, VirtualPeer, write_frame
from ._search import compile_matcher
from ._tables import (
    GlobalStore,
    PingTracker,
    QueueCounter,
    RecordedMessage,
    StoredInfo,
    TagIndex,
    wrap_int64,
)
from ._tagexpr import compile_expression

__all__ = ["FakeState"]

_NS_PER_S = 1_000_000_000
_NS_PER_MS = 1_000_000

P = ParamSpec("P")
R = TypeVar("R")
_Method = Callable[Concatenate["FakeState", P], R]


def _locked(method: _Method[P, R]) -> _Method[P, R]:
    @functools.wraps(method)
    def wrapper(self: FakeState, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.log.run(method, self, *args, **kwargs)

    return wrapper


T = TypeVar("T")


def _lock_public_methods(cls: type[T]) -> type[T]:
    """Run every public method of ``cls`` as one operation (lock + hook errors)."""
    for name, value in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(value):
            setattr(cls, name, _locked(value))
    return cls


@_lock_public_methods
class FakeState:
    """Connections, tags, stored information, global store, ghosts, ping, queues.

    Every public method runs under the state's lock, as one operation.

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
        self.log = EventLog(on_open, on_message, on_close)
        self._operation = self.log.operation
        self.events = self.log.events
        """The events emitted (see :attr:`EventLog.events`)."""
        self.hook_errors = self.log.hook_errors
        """Every exception raised by a hook, in order."""

        # The registry: registered id <-> socket, and what only a registered id has.
        self._conns: dict[str, Peer] = {}
        self._peer_ids: dict[Peer, str] = {}
        self._remote: dict[Peer, str] = {}
        self._routes: dict[str, str] = {}
        self._ghosts: dict[str, bool] = {}
        # Per-id data that may exist for any id (orphans included).
        self.tags = TagIndex()
        self.stored = StoredInfo()
        self.pings = PingTracker(
            clock, scheduler if scheduler is not None else InertScheduler(), self._operation
        )
        self.queues = QueueCounter(clock)
        self.globals = GlobalStore(clock)

    # ------------------------------------------------------------------ plumbing

    def set_scheduler(self, scheduler: Scheduler) -> None:
        """Use ``scheduler`` for timers started from now on."""
        self.pings.scheduler = scheduler

    @property
    def scheduler(self) -> Scheduler:
        return self.pings.scheduler

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
        self.log.emit(event)

    def _route_ok(self, conn_id: str, route: str) -> bool:
        return not route or self._routes.get(conn_id, "") == route

    def _deliver(self, conn_ids: list[str], data: bytes, route: str, kind: str, target: str) -> int:
        """Write to each registered id passing the route filter; count the successes."""
        sent = 0
        for conn_id in conn_ids:
            peer = self._conns.get(conn_id)
            if peer is None or not self._route_ok(conn_id, route) or not write_frame(peer, data):
                continue
            sent += 1
            self.queues.record(conn_id, data, route, kind, target)
        return sent

    def _forget_peer(self, peer: Peer) -> None:
        self._remote.pop(peer, None)

    def _unregister(self, conn_id: str) -> Peer | None:
        peer = self._conns.pop(conn_id, None)
        if peer is not None and self._peer_ids.get(peer) == conn_id:
            del self._peer_ids[peer]
        return peer

    def _forget_connection(self, conn_id: str) -> None:
        """The cleanup of a normal close and of ``releaseGhost`` (PROTOCOL.md §10.5).

        Kept: the ping interval and timer entry (the timer stops itself), the whole
        queue counter, the global store.
        """
        self._unregister(conn_id)
        self._routes.pop(conn_id, None)
        self.tags.forget(conn_id)
        self.stored.forget(conn_id)
        self.pings.forget(conn_id)

    def _virtual_closed(self, peer: VirtualPeer, reason: str) -> None:
        self.socket_closed(peer, reason)

    # ------------------------------------------------------------ socket side

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
        self.tags.forget(conn_id)
        self._emit("beforeClose", conn_id, peer, payload)
        # The beforeClose handler may have renamed the connection; upstream looks
        # the socket up again before cleaning.
        conn_id = self._peer_ids.get(peer)
        if conn_id is None:
            self._emit("close", "", peer, payload)
            self._forget_peer(peer)
            return
        route = self._routes.get(conn_id, "")
        self._forget_connection(conn_id)
        self._emit("close", conn_id, peer, payload, route=route)
        self._forget_peer(peer)

    def ping_received(self, peer: Peer, payload: bytes) -> bool:
        """A ping from the client. True means: answer with a pong (see ``PingTracker``)."""
        conn_id = self._peer_ids.get(peer)
        return conn_id is not None and self.pings.client_pinged(conn_id)

    def pong_received(self, peer: Peer, payload: bytes) -> None:
        """A pong from the client: record the round trip (or the 5 ms placeholder)."""
        conn_id = self._peer_ids.get(peer)
        if conn_id is not None:
            self.pings.pong(conn_id)

    def peer(self, conn_id: str) -> Peer | None:
        """The socket registered under ``conn_id``, if any."""
        return self._conns.get(conn_id)

    # ------------------------------------------------------- clients & routes

    def get_clients(self, route: str = "") -> list[str] | None:
        """Registered ids, optionally those whose route is ``route``; None if none."""
        if not route:
            return list(self._conns) or None
        return [cid for cid, r in self._routes.items() if r == route] or None

    def get_clients_count(self, route: str = "") -> int:
        if not route:
            return len(self._conns)
        routes = self._routes
        return sum(1 for cid in self._conns if routes.get(cid, "") == route)

    def list_routes(self) -> list[str] | None:
        """Distinct routes of registered connections; None if none."""
        return list(dict.fromkeys(self._routes.values())) or None

    def get_clients_by_route(self, route: str) -> list[str] | None:
        return [cid for cid, r in self._routes.items() if r == route] or None

    # ---------------------------------------------------------------- sending

    def send(self, conn_id: str, data: bytes, route: str = "") -> bool:
        """Write one binary frame to ``conn_id``; whether a frame was written.

        The id and route cross a C boundary upstream, so anything after a NUL byte
        is ignored.
        """
        conn_id = conn_id.split("\0", 1)[0]
        route = route.split("\0", 1)[0]
        return self._deliver([conn_id], data, route, "direct", conn_id) == 1

    def send_all(self, data: bytes, route: str = "") -> int:
        return self._deliver(list(self._conns), data, route, "all", "all")

    def send_to_tag(self, tag: str, data: bytes, route: str = "") -> int:
        return self._deliver(self.tags.ids_with(tag), data, route, "tag", tag)

    def get_clients_by_tag_expression(self, expression: str) -> list[str] | None:
        """Matching registered ids: ``[]`` for a blank expression, None for no match."""
        compiled = compile_expression(expression)
        if compiled.blank:
            return []
        return [cid for cid in self._conns if compiled.matches(self.tags.of(cid))] or None

    def send_to_tag_expression(self, expression: str, data: bytes, route: str = "") -> int:
        matching = self.get_clients_by_tag_expression(expression) or []
        return self._deliver(matching, data, route, "tagExpression", expression)

    # ------------------------------------------------------------------- tags

    def tag_client(self, conn_id: str, tag: str) -> None:
        self.tags.add(conn_id, tag)

    def untag_client(self, conn_id: str, tag: str) -> None:
        self.tags.remove(conn_id, tag)

    def clear_tag_client(self, conn_id: str) -> None:
        self.tags.forget(conn_id)

    def get_client_tags(self, conn_id: str) -> list[str] | None:
        return list(self.tags.of(conn_id) or ()) or None

    def get_clients_by_tag(self, tag: str) -> list[str] | None:
        return self.tags.ids_with(tag) or None

    def get_tags(self) -> list[str] | None:
        """Distinct tags over all ids, orphans included; None if none."""
        return self.tags.all_tags() or None

    def get_tag_count(self, tag: str) -> int:
        return len(self.tags.ids_with(tag))

    # ----------------------------------------------------- stored information

    def set_stored_information(self, conn_id: str, key: str, value: str) -> None:
        self.stored.set(conn_id, key, value)

    def get_stored_information(self, conn_id: str, key: str) -> tuple[str, bool]:
        """``(value, exists)``; the value is ``""`` when absent."""
        return self.stored.get(conn_id, key)

    def delete_stored_information(self, conn_id: str, key: str) -> bool:
        """True whenever the id had any stored information (upstream's quirk)."""
        return self.stored.delete(conn_id, key)

    def clear_stored_information(self, conn_id: str) -> bool:
        self.stored.forget(conn_id)
        return True

    def has_stored_information(self, conn_id: str, key: str) -> bool:
        return self.stored.has(conn_id, key)

    def list_stored_information_keys(self, conn_id: str) -> list[str] | None:
        return list(self.stored.all(conn_id)) or None

    def get_all_stored_information(self, conn_id: str) -> dict[str, str]:
        return self.stored.all(conn_id)

    def search_stored_information(
        self, key: str, op: str, value: str = "", route: str = ""
    ) -> list[str] | None:
        """Ids whose ``key`` matches; ``[]`` for an unknown op or bad regex, None if none."""
        matcher = compile_matcher(op, value)
        if matcher is None:
            return []
        return self.stored.search(key, matcher, lambda cid: self._route_ok(cid, route)) or None

    # ------------------------------------------------------------ global store

    def global_set(self, key: str, value: bytes, expire_seconds: int = 0) -> None:
        self.globals.set(key, value, expire_seconds)

    def global_get(self, key: str) -> bytes | None:
        return self.globals.get(key)

    def global_has(self, key: str) -> bool:
        return self.globals.has(key)

    def global_delete(self, key: str) -> bool:
        return self.globals.delete(key)

    # -------------------------------------------------------------- ghosts

    def activate_ghost(self, conn_id: str) -> bool:
        if conn_id not in self._conns:
            return False
        self._ghosts[conn_id] = True
        return True

    def is_ghost(self, conn_id: str) -> bool:
        return self._ghosts.get(conn_id, False)

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
        self._forget_connection(conn_id)
        self._emit("close", conn_id, peer, payload, route=route)
        if not peer.is_open:
            self._forget_peer(peer)
        return True

    # ------------------------------------------------------ rename and kill

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
        if current_id in self._routes:
            self._routes[new_id] = self._routes.pop(current_id)
        self.tags.move(current_id, new_id)
        self.stored.move(current_id, new_id)
        return True

    def kill_connection(self, conn_id: str) -> bool:
        """Drop the TCP connection of a registered, open socket (no close frame)."""
        peer = self._conns.get(conn_id)
        if peer is None or not peer.is_open:
            return False
        peer.abort()
        return True

    # ------------------------------------------------------------------ ping

    def enable_ping(self, conn_id: str, interval_ms: int = 0) -> int:
        """Enable measurement; ping now (``interval_ms <= 0``) or periodically.

        Returns the interval echoed by the admin route (0 when not used).
        """
        self.pings.enabled[conn_id] = True
        if interval_ms > 0:
            self.pings.interval_ms[conn_id] = interval_ms
            delay_ns = wrap_int64(interval_ms * _NS_PER_MS)
            self.pings.start_periodic(conn_id, max(0, delay_ns) / _NS_PER_S, self._periodic_ping)
            return interval_ms
        peer = self._conns.get(conn_id)
        if peer is not None:
            self._ping(conn_id, peer, manual=True)
        return 0

    def disable_ping(self, conn_id: str) -> None:
        self.pings.disable(conn_id)

    def get_client_ping_time(self, conn_id: str) -> int:
        """Last round-trip time in nanoseconds (0: no measurement)."""
        return self.pings.last_ns.get(conn_id, 0)

    def _ping(self, conn_id: str, peer: Peer, *, manual: bool) -> bool:
        prefix = "manual_ping" if manual else "ping"
        if not peer.ping(f"{prefix}_{self.clock.time_ns()}".encode("ascii")):
            return False
        # Upstream takes the timestamp after the write returns.
        self.pings.pending_ns[conn_id] = self.clock.monotonic_ns()
        return True

    def _periodic_ping(self, conn_id: str) -> bool:
        # The timer looks its id up: after a close or a rename it finds nothing (or a
        # dead socket) and stops for good.
        peer = self._conns.get(conn_id)
        return peer is not None and self._ping(conn_id, peer, manual=False)

    # --------------------------------------------------------- queue counter

    def enable_queue_counter(
        self, conn_id: str, max_messages: int = 100, max_time_seconds: int = 3600
    ) -> tuple[int, int]:
        """Replace the config; keep an existing counter and message list."""
        self.queues.enable(conn_id, max_messages, max_time_seconds)
        return max_messages, max_time_seconds

    def disable_queue_counter(self, conn_id: str) -> bool:
        return self.queues.disable(conn_id)

    def get_client_message_counter(self, conn_id: str) -> int:
        return self.queues.counter(conn_id)

    def get_client_message_queue(self, conn_id: str) -> list[RecordedMessage]:
        return self.queues.messages(conn_id)

    def clear_client_message_queue(self, conn_id: str) -> bool:
        return self.queues.clear(conn_id)
