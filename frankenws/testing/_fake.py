"""``FakeFrankenPHP``: the faithful in-memory FrankenPHP WebSocket extension.

The fake is three layers, each usable on its own: the extension state
(``_state.FakeState``), the admin handler (``_handler.AdminHandler``, raw HTTP request
to raw response) and adapters (``_transport.FakeTransport`` for httpx, in process).
This class wires them together and adds what a test needs: virtual WebSocket
connections and "server mode" methods that act on the state directly, the way the PHP
worker's ``frankenphp_ws_*`` calls do.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._clock import Clock, InertScheduler, ManualClock, Scheduler, SystemClock
from ._events import Event, Hook
from ._gojson import go_str
from ._handler import AdminHandler, parse_origin
from ._http import RawRequest, RawResponse
from ._peers import VirtualPeer
from ._state import FakeState
from ._tables import RecordedMessage
from ._transport import FakeTransport
from ._versions import DEFAULT_CADDY, DEFAULT_GO, Versions

MAX_CLOSED_PEERS = 100_000
"""How many closed virtual connections keep their frames for :meth:`FakeFrankenPHP.received`.

Open ones are always kept. Like the event log's bound, this keeps a long-running fake
(a load-test target opening and killing connections for hours) at a flat size."""

if TYPE_CHECKING:
    from frankenws import AsyncClient, Client

    from ._server import LoopbackServer

__all__ = ["FakeFrankenPHP"]


def _as_bytes(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


class FakeFrankenPHP:
    """An in-memory FrankenPHP with the WebSocket extension's admin API.

    Usage::

        fake = FakeFrankenPHP(clock=ManualClock())
        alice = fake.connect("/chat")
        with fake.client() as client:
            client.send(alice, b"hi")
        assert fake.received(alice) == [b"hi"]

    Args:
        clock: time source; a :class:`ManualClock` also drives the periodic pings.
            Defaults to :class:`SystemClock` (periodic pings then never fire in
            process).
        host_check: check the ``Host`` header like Caddy's local admin endpoint.
        allowed_hosts: Caddy's ``origins`` (``host:port`` or ``scheme://host:port``);
            defaults to ``localhost``, ``127.0.0.1`` and ``[::1]`` on port 2019.
        enforce_origin: Caddy's ``enforce_origin``.
        module_loaded: False makes a Caddy without the extension (every route 404s).
        go_version, caddy_version: the releases whose bytes to reproduce; default the
            ones the extension's go.mod pins (Go 1.25, Caddy 2.10.2). Go 1.26 redirects
            with 307, Go 1.27 writes invalid UTF-8 in JSON as raw U+FFFD, Caddy 2.11
            refuses ``Upgrade: websocket`` with a 400. ``ValueError`` for anything that
            is not a Go 1.x or Caddy 2.x version.
        on_open, on_message, on_close: hooks standing in for the PHP worker;
            ``on_close`` receives ``beforeClose``, ``close`` and
            ``ghostConnectionClose`` events.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        host_check: bool = True,
        allowed_hosts: Iterable[str] | None = None,
        enforce_origin: bool = False,
        module_loaded: bool = True,
        go_version: str = DEFAULT_GO,
        caddy_version: str = DEFAULT_CADDY,
        on_open: Hook | None = None,
        on_message: Hook | None = None,
        on_close: Hook | None = None,
    ) -> None:
        versions = Versions.parse(go_version, caddy_version)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.state = FakeState(
            self.clock,
            self._default_scheduler(),
            on_open=on_open,
            on_message=on_message,
            on_close=on_close,
        )
        origins = None if allowed_hosts is None else tuple(parse_origin(e) for e in allowed_hosts)
        self.handler = AdminHandler(
            self.state,
            origins=origins,
            host_check=host_check,
            enforce_origin=enforce_origin,
            module_loaded=module_loaded,
            versions=versions,
        )
        self._peers: dict[str, VirtualPeer] = {}
        self._peer_limit = MAX_CLOSED_PEERS + MAX_CLOSED_PEERS // 10
        self._transport: FakeTransport | None = None

    # Hooks can be (re)assigned at any time, e.g. after the fixture built the fake.
    @property
    def on_open(self) -> Hook | None:
        """Called with the ``open`` event of every new connection."""
        return self.state.log.hooks["open"]

    @on_open.setter
    def on_open(self, hook: Hook | None) -> None:
        self.state.log.hooks["open"] = hook

    @property
    def on_message(self) -> Hook | None:
        """Called with every non-empty incoming message (``event.payload``)."""
        return self.state.log.hooks["message"]

    @on_message.setter
    def on_message(self, hook: Hook | None) -> None:
        self.state.log.hooks["message"] = hook

    @property
    def on_close(self) -> Hook | None:
        """Called with ``beforeClose``, ``close`` and ``ghostConnectionClose`` events."""
        return self.state.log.hooks["close"]

    @on_close.setter
    def on_close(self, hook: Hook | None) -> None:
        self.state.log.hooks["close"] = hook

    def __repr__(self) -> str:
        return f"<FakeFrankenPHP clients={self.state.get_clients_count()} clock={self.clock!r}>"

    # --------------------------------------------------------------- HTTP side

    def handle(self, raw: RawRequest) -> RawResponse:
        """Answer one raw admin request (no I/O)."""
        return self.handler.handle(raw)

    def transport(self) -> FakeTransport:
        """The httpx transport (one per fake, so ``calls`` accumulates)."""
        if self._transport is None:
            self._transport = FakeTransport(self.handle)
        return self._transport

    @property
    def calls(self) -> list[tuple[RawRequest, RawResponse]]:
        """Requests answered through :meth:`transport`, with their responses."""
        return self.transport().calls

    def client(self, **kwargs: Any) -> Client:
        """A :class:`frankenws.Client` talking to this fake."""
        from frankenws import Client

        return Client("http://localhost:2019", transport=self.transport(), **kwargs)

    def async_client(self, **kwargs: Any) -> AsyncClient:
        """A :class:`frankenws.AsyncClient` talking to this fake."""
        from frankenws import AsyncClient

        return AsyncClient("http://localhost:2019", transport=self.transport(), **kwargs)

    def serve(
        self,
        host: str = "127.0.0.1",
        admin_port: int = 0,
        ws_port: int = 0,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> LoopbackServer[FakeFrankenPHP]:
        """Serve this fake on loopback: a real admin port and a real WebSocket port.

        Returns a running :class:`LoopbackServer`, also usable as a context manager
        (``with fake.serve() as server: ...``); ports ``0`` pick free ones. Real WebSocket
        clients opening ``server.ws_url("/chat")`` become connections with route
        ``/chat``; ``kill_connection`` drops their TCP connection (close code 1006).
        With ``ssl_context`` the admin port speaks HTTPS, like Caddy's remote admin
        endpoint; a context with ``verify_mode = CERT_REQUIRED`` demands client
        certificates (mutual TLS). Needs the ``fake`` extra (aiohttp).
        """
        from ._server import LoopbackServer

        server = LoopbackServer(
            self.state,
            self.handler.listening_on,
            self._set_scheduler,
            self,
            host,
            admin_port,
            ws_port,
            ssl_context,
        )
        return server.start()

    # -------------------------------------------------------- virtual sockets

    def connect(
        self,
        route: str = "/",
        *,
        id: str | None = None,
        headers: Mapping[str, list[str]] | None = None,
    ) -> str:
        """Open a virtual WebSocket connection on ``route``; returns its id."""
        peer = VirtualPeer()
        conn_id = self.state.open_connection(route, peer, id=id, headers=headers)
        self._peers[conn_id] = peer
        if len(self._peers) > self._peer_limit:
            self._forget_oldest_closed_peers()
        return conn_id

    def _forget_oldest_closed_peers(self) -> None:
        # In batches, and rebuilt in insertion order: dropping one entry per connect
        # would scan the whole dict each time.
        closed = [id for id, peer in self._peers.items() if not peer.is_open]
        drop = set(closed[: max(0, len(closed) - MAX_CLOSED_PEERS)])
        self._peers = {id: peer for id, peer in self._peers.items() if id not in drop}
        self._peer_limit = len(self._peers) + MAX_CLOSED_PEERS // 10

    def _peer(self, id: str) -> VirtualPeer:
        current = self.state.peer(id)
        if isinstance(current, VirtualPeer):
            return current
        try:
            return self._peers[id]
        except KeyError:
            raise KeyError(f"no virtual connection was ever known as {id!r}") from None

    def peer(self, id: str) -> VirtualPeer:
        """The virtual socket behind ``id`` (current id or the one from connect)."""
        return self._peer(id)

    def disconnect(self, id: str, code: int = 1000, reason: str = "") -> None:
        """The virtual client closes its connection normally (close path runs)."""
        self._peer(id).disconnect(code, reason)

    def received(self, id: str) -> list[bytes]:
        """Binary frames delivered to the virtual connection, in order.

        Still available after the connection closed or was renamed (by either id),
        for the most recent 100,000 closed connections.
        """
        return list(self._peer(id).frames)

    def pings(self, id: str) -> list[bytes]:
        """Ping payloads the server sent to the virtual connection."""
        return list(self._peer(id).pings)

    def client_message(self, id: str, data: str | bytes) -> None:
        """The virtual client sends a data frame (fires ``message``)."""
        self.state.message_received(self._peer(id), _as_bytes(data))

    def client_ping(self, id: str, payload: bytes = b"") -> bool:
        """The virtual client sends a ping; True when the server answers with a pong."""
        peer = self._peer(id)
        answered = self.state.ping_received(peer, payload)
        if answered:
            peer.pongs.append(bytes(payload))
        return answered

    def client_pong(self, id: str, payload: bytes | None = None) -> None:
        """The virtual client sends a pong (by default echoing the last ping)."""
        peer = self._peer(id)
        if payload is None:
            payload = peer.pings[-1] if peer.pings else b""
        self.state.pong_received(peer, payload)

    @property
    def events(self) -> list[Event]:
        """The events emitted so far (the most recent 100,000)."""
        return self.state.events

    @property
    def hook_errors(self) -> list[BaseException]:
        """Exceptions raised by hooks (each was also re-raised to the caller)."""
        return self.state.hook_errors

    # ------------------------------------------------------ loopback plumbing

    def _default_scheduler(self) -> Scheduler:
        # A manual clock fires its own timers; with real time nothing in process can.
        return self.clock if isinstance(self.clock, ManualClock) else InertScheduler()

    def _set_scheduler(self, scheduler: Scheduler | None) -> None:
        """Install a real scheduler (the loopback server's); None restores the default."""
        self.state.set_scheduler(scheduler if scheduler is not None else self._default_scheduler())

    # ------------------------------------------ server mode (PHP functions)

    def get_clients(self, route: str | None = None) -> list[str]:
        return self.state.get_clients(route or "") or []

    def get_clients_count(self, route: str | None = None) -> int:
        return self.state.get_clients_count(route or "")

    def list_routes(self) -> list[str]:
        return self.state.list_routes() or []

    def get_clients_by_route(self, route: str) -> list[str]:
        return self.state.get_clients_by_route(route) or []

    def send(self, id: str, data: str | bytes, route: str | None = None) -> bool:
        return self.state.send(id, _as_bytes(data), route or "")

    def send_all(self, data: str | bytes, route: str | None = None) -> int:
        return self.state.send_all(_as_bytes(data), route or "")

    def send_to_tag(self, tag: str, data: str | bytes, route: str | None = None) -> int:
        return self.state.send_to_tag(tag, _as_bytes(data), route or "")

    def send_to_tag_expression(
        self, expression: str, data: str | bytes, route: str | None = None
    ) -> int:
        return self.state.send_to_tag_expression(expression, _as_bytes(data), route or "")

    def get_clients_by_tag_expression(self, expression: str) -> list[str]:
        return self.state.get_clients_by_tag_expression(expression) or []

    def tag_client(self, id: str, tag: str) -> None:
        self.state.tag_client(id, tag)

    def untag_client(self, id: str, tag: str) -> None:
        self.state.untag_client(id, tag)

    def clear_tag_client(self, id: str) -> None:
        self.state.clear_tag_client(id)

    def get_client_tags(self, id: str) -> list[str]:
        return self.state.get_client_tags(id) or []

    def get_tags(self) -> list[str]:
        return self.state.get_tags() or []

    def get_clients_by_tag(self, tag: str) -> list[str]:
        return self.state.get_clients_by_tag(tag) or []

    def get_tag_count(self, tag: str) -> int:
        return self.state.get_tag_count(tag)

    def set_stored_information(self, id: str, key: str, value: str | bytes) -> None:
        text = go_str(value) if isinstance(value, bytes) else value
        self.state.set_stored_information(id, key, text)

    def get_stored_information(self, id: str, key: str) -> str | None:
        value, exists = self.state.get_stored_information(id, key)
        return value if exists else None

    def has_stored_information(self, id: str, key: str) -> bool:
        return self.state.has_stored_information(id, key)

    def delete_stored_information(self, id: str, key: str) -> bool:
        return self.state.delete_stored_information(id, key)

    def clear_stored_information(self, id: str) -> None:
        self.state.clear_stored_information(id)

    def list_stored_information_keys(self, id: str) -> list[str]:
        return self.state.list_stored_information_keys(id) or []

    def get_all_stored_information(self, id: str) -> dict[str, str]:
        return self.state.get_all_stored_information(id)

    def search_stored_information(
        self, key: str, op: str, value: str = "", route: str | None = None
    ) -> list[str]:
        return self.state.search_stored_information(key, op, value, route or "") or []

    def global_set(self, key: str, value: str | bytes, expire_seconds: int = 0) -> None:
        self.state.global_set(key, _as_bytes(value), expire_seconds)

    def global_get(self, key: str) -> bytes | None:
        return self.state.global_get(key)

    def global_has(self, key: str) -> bool:
        return self.state.global_has(key)

    def global_delete(self, key: str) -> bool:
        return self.state.global_delete(key)

    def kill_connection(self, id: str) -> bool:
        return self.state.kill_connection(id)

    def rename_connection(self, current_id: str, new_id: str) -> bool:
        return self.state.rename_connection(current_id, new_id)

    def activate_ghost(self, id: str) -> bool:
        return self.state.activate_ghost(id)

    def release_ghost(self, id: str) -> bool:
        return self.state.release_ghost(id)

    def is_ghost(self, id: str) -> bool:
        return self.state.is_ghost(id)

    def enable_ping(self, id: str, interval_ms: int = 0) -> bool:
        self.state.enable_ping(id, interval_ms)
        return True

    def disable_ping(self, id: str) -> bool:
        self.state.disable_ping(id)
        return True

    def get_client_ping_time(self, id: str) -> int:
        return self.state.get_client_ping_time(id)

    def enable_queue_counter(
        self, id: str, max_messages: int = 100, max_time_seconds: int = 3600
    ) -> bool:
        self.state.enable_queue_counter(id, max_messages, max_time_seconds)
        return True

    def disable_queue_counter(self, id: str) -> bool:
        return self.state.disable_queue_counter(id)

    def get_client_message_counter(self, id: str) -> int:
        return self.state.get_client_message_counter(id)

    def get_client_message_queue(self, id: str) -> list[RecordedMessage]:
        return self.state.get_client_message_queue(id)

    def clear_client_message_queue(self, id: str) -> bool:
        return self.state.clear_client_message_queue(id)
