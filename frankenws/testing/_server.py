"""The fake on loopback: a real HTTP admin port and a real WebSocket port.

Both run on one asyncio loop in a background thread, so synchronous tests (and the
synchronous ``frankenws.Client``) can use them without an event loop of their own. The
admin port frames HTTP like Go's server (``_goserver``) and feeds every request to the
same pure handler as the in-process transport; the WebSocket port (aiohttp, refusing
what gws refuses) registers each connection in the fake's state through a
:class:`SocketPeer`. Like the in-process transport it is an adapter: it gets the handler,
the state and two callbacks, and knows nothing else of ``FakeFrankenPHP``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import _msgs
from ._clock import Scheduler
from ._goconn import AdminConnection
from ._goserver import AdminApp
from ._state import FakeState

if TYPE_CHECKING:
    from aiohttp import web

    from frankenws import AsyncClient, Client

__all__ = ["LoopbackServer", "SocketPeer"]

# gws accepts frames up to 16 MiB by default; the fake must not be stricter.
_MAX_INCOMING = 16 * 1024 * 1024 + 1024

_WRITE, _PING, _ABORT, _CLOSE = "write", "ping", "abort", "close"


def _go_header_name(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


class SocketPeer:
    """One real WebSocket connection, as the fake's state sees it. Strictly private.

    Writes are queued and sent in order by one task per connection, so a write followed
    by a kill delivers the frame first, as the real server (whose writes are synchronous)
    does. ``write`` may be called from any thread.
    """

    def __init__(self, ws: web.WebSocketResponse, loop: asyncio.AbstractEventLoop) -> None:
        self._ws = ws
        self._loop = loop
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._open = True

    @property
    def is_open(self) -> bool:
        return self._open

    def _put(self, item: tuple[str, bytes]) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._queue.put_nowait(item)
        else:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    def write(self, data: bytes) -> bool:
        if not self._open:
            return False
        self._put((_WRITE, data))
        return True

    def ping(self, payload: bytes) -> bool:
        if not self._open:
            return False
        self._put((_PING, payload))
        return True

    def abort(self) -> None:
        if self._open:
            self._open = False
            self._put((_ABORT, b""))

    def close(self, code: int, reason: str) -> None:
        """Close with a close frame (gws does this after a failed oversized write)."""
        if self._open:
            self._open = False
            self._put((_CLOSE, f"{code}:{reason}".encode()))

    def mark_closed(self) -> None:
        self._open = False

    async def pump(self) -> None:
        """Send queued frames until the connection ends."""
        while True:
            kind, data = await self._queue.get()
            try:
                if kind == _WRITE:
                    await self._ws.send_bytes(data)
                elif kind == _PING:
                    await self._ws.ping(data)
                elif kind == _CLOSE:
                    code, _, reason = data.decode().partition(":")
                    await self._ws.close(code=int(code), message=reason.encode())
                    return
                else:
                    # No close frame: the real server closes the TCP connection itself,
                    # and the peer sees an abnormal closure (1006).
                    transport = self._ws._req.transport if self._ws._req else None
                    if transport is not None:
                        transport.abort()
                    return
            except (ConnectionError, RuntimeError):
                self._open = False
                return


class _LoopScheduler:
    """Periodic-ping timers on the server's loop (the fake's scheduler protocol)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def call_later(self, delay: float, fn: Callable[[], Any]) -> _Timer:
        timer = _Timer(self._loop)
        self._loop.call_soon_threadsafe(timer.start, delay, fn)
        return timer


class _Timer:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._handle: asyncio.TimerHandle | None = None
        self._cancelled = False

    def start(self, delay: float, fn: Callable[[], Any]) -> None:
        if not self._cancelled:
            self._handle = self._loop.call_later(delay, fn)

    def cancel(self) -> None:
        self._cancelled = True
        if self._handle is not None:
            self._loop.call_soon_threadsafe(self._handle.cancel)


Owner = TypeVar("Owner")


class LoopbackServer(Generic[Owner]):
    """A running loopback fake. Use as a context manager; ``close()`` stops it.

    ``FakeFrankenPHP.serve()`` builds one; the constructor is the adapter's contract.

    Args:
        state: the extension state the WebSocket port registers connections in.
        handler_for_port: the admin handler for a listener on the given port (Caddy's
            default allowed hosts name the port), called once the port is bound.
        install_scheduler: called with the server's timer scheduler once running, and
            with ``None`` after it stopped.
        owner: what :attr:`fake` returns (the ``FakeFrankenPHP`` being served).
        host, admin_port, ws_port: where to listen; port ``0`` picks a free one.
        ssl_context: serve the admin port over TLS.

    Attributes:
        admin_port: the admin port (once started).
        ws_port: the WebSocket port; see :meth:`ws_url`.
    """

    def __init__(
        self,
        state: FakeState,
        handler_for_port: Callable[[int], AdminApp],
        install_scheduler: Callable[[Scheduler | None], None],
        owner: Owner,
        host: str = "127.0.0.1",
        admin_port: int = 0,
        ws_port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._state = state
        self._handler_for_port = handler_for_port
        self._handler: AdminApp | None = None
        self._install_scheduler = install_scheduler
        self._owner = owner
        self._ssl = ssl_context
        self._host = host
        self._want = (admin_port, ws_port)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._runners: list[web.AppRunner] = []
        self._admin_server: asyncio.Server | None = None
        self._admin_connections: set[AdminConnection] = set()
        self._peers: set[SocketPeer] = set()
        self.admin_port = 0
        self.ws_port = 0

    @property
    def fake(self) -> Owner:
        """The fake whose state this server serves."""
        return self._owner

    @property
    def admin_url(self) -> str:
        scheme = "https" if self._ssl is not None else "http"
        return f"{scheme}://{self._host}:{self.admin_port}"

    def ws_url(self, route: str = "/") -> str:
        """The URL a WebSocket client opens to get a connection on ``route``."""
        if not route.startswith("/"):
            raise ValueError(f"route must start with '/', got {route!r}")
        return f"ws://{self._host}:{self.ws_port}{route}"

    def client(self, **kw: Any) -> Client:
        """A ``frankenws.Client`` for this server's admin URL."""
        from frankenws import Client

        return Client(self.admin_url, **kw)

    def async_client(self, **kw: Any) -> AsyncClient:
        """A ``frankenws.AsyncClient`` for this server's admin URL."""
        from frankenws import AsyncClient

        return AsyncClient(self.admin_url, **kw)

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> LoopbackServer[Owner]:
        if self._thread is not None:
            raise RuntimeError("this server is already running")
        self._thread = threading.Thread(target=self._run, name="frankenws-fake", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            self._thread.join(5)
            raise self._error
        return self

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # loop already stopped
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(30)
        thread.join(30)
        self._thread = None
        self._install_scheduler(None)

    def __enter__(self) -> LoopbackServer[Owner]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:  # reported to the thread that called start()
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _startup(self) -> None:
        from aiohttp import web

        loop = asyncio.get_running_loop()
        # The admin port speaks Go's HTTP framing (our own server); only it speaks TLS
        # (Caddy's remote admin). The WebSocket port is aiohttp, in gws' manner.
        self._admin_server = await loop.create_server(
            self._admin_connection,
            self._host,
            self._want[0],
            ssl=self._ssl,
            reuse_address=True,
        )
        admin_port = self._admin_server.sockets[0].getsockname()[1]
        # Before the next await, so no request can find the handler missing.
        self._handler = self._handler_for_port(admin_port)
        app = web.Application()
        app.router.add_route("*", r"/{tail:[\s\S]*}", self._websocket)
        app.on_response_prepare.append(_gws_headers)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, self._host, self._want[1], reuse_address=True)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.admin_port, self.ws_port = admin_port, sockets[0].getsockname()[1]
        self._install_scheduler(_LoopScheduler(loop))

    async def _shutdown(self) -> None:
        for peer in list(self._peers):
            peer.abort()
        if self._admin_server is not None:
            self._admin_server.close()
            for connection in list(self._admin_connections):
                connection.abort()
            await self._admin_server.wait_closed()
        await asyncio.sleep(0)
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        loop = asyncio.get_running_loop()
        loop.call_soon(loop.stop)

    # --- handlers --------------------------------------------------------------------

    def _admin_connection(self) -> AdminConnection:
        handler = self._handler
        assert handler is not None  # set before the port accepts connections
        return AdminConnection(handler, self._admin_connections)

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import WSMsgType, web

        refusal = _gws_refusal(request.method, request.headers)
        if refusal is not None:
            if request.transport is not None:
                request.transport.write(refusal)
                request.transport.close()
            raise asyncio.CancelledError
        # gws built without options never negotiates permessage-deflate.
        ws = web.WebSocketResponse(autoping=False, max_msg_size=_MAX_INCOMING, compress=False)
        await ws.prepare(request)
        loop = asyncio.get_running_loop()
        peer = SocketPeer(ws, loop)
        self._peers.add(peer)
        state = self._state
        headers: dict[str, list[str]] = {}
        for name, value in request.headers.items():
            if name.lower() != "host":
                headers.setdefault(_go_header_name(name), []).append(value)
        if request.remote:
            headers.setdefault("X-Forwarded-For", [request.remote])
        peername = request.transport.get_extra_info("peername") if request.transport else None
        remote = f"{peername[0]}:{peername[1]}" if peername else "127.0.0.1:0"
        pump = loop.create_task(peer.pump())
        reason = "close 1000 (normal)"
        try:
            state.open_connection(request.path, peer, headers=headers, remote_addr=remote)
            async for message in ws:
                if message.type in (WSMsgType.BINARY, WSMsgType.TEXT):
                    data = message.data
                    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
                    state.message_received(peer, payload)
                elif message.type == WSMsgType.PING:
                    if state.ping_received(peer, bytes(message.data)):
                        await ws.pong(message.data)
                elif message.type == WSMsgType.PONG:
                    state.pong_received(peer, bytes(message.data))
                elif message.type == WSMsgType.ERROR:
                    reason = f"read error: {ws.exception()}"
                    break
            if ws.close_code not in (None, 1000):
                reason = f"close {ws.close_code}"
        except ConnectionError:
            reason = "connection reset"
        finally:
            if not peer.is_open:
                reason = "use of closed network connection"
            peer.mark_closed()
            self._peers.discard(peer)
            pump.cancel()
            state.socket_closed(peer, reason)
        return ws


async def _gws_headers(request: web.Request, response: web.StreamResponse) -> None:
    # gws' 101 carries Upgrade, Connection and Sec-WebSocket-Accept only; aiohttp would
    # add Date and Server.
    response.headers.popall("Server", None)
    response.headers.popall("Date", None)
    if response.status == 101:
        response.headers["Connection"] = "Upgrade"


def _gws_refusal(method: str, headers: Mapping[str, str]) -> bytes | None:
    """gws' answer to an upgrade it refuses (its checks, in its order), or None."""
    if method != "GET":
        reason = _msgs.GWS_HANDSHAKE_ERROR
    elif headers.get("Sec-WebSocket-Version", "").lower() != "13":
        reason = _msgs.GWS_VERSION_NOT_SUPPORTED
    elif (
        "upgrade" not in headers.get("Connection", "").lower()
        or headers.get("Upgrade", "").lower() != "websocket"
        or not headers.get("Sec-WebSocket-Key")
    ):
        reason = _msgs.GWS_HANDSHAKE_ERROR
    else:
        return None
    date = time.strftime("%a, %d %b %Y %H:%M:%S UTC", time.gmtime())
    head = (
        f"HTTP/1.1 400 Bad Request\r\nDate: {date}\r\nContent-Length: {len(reason)}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    return (head + reason).encode("ascii")
