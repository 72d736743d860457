"""The bulk engine's own HTTP/1.1 sender: keep-alive connections, one request on each.

A bulk kill is one small request per target, and on a 2-core machine a hand-written
aiohttp loop spends about 250 µs of CPU per request, most of it in aiohttp's generic
request and response machinery (cookies, redirects, tracing, stream readers, timers).
This sender knows exactly what it sends: the client's own request line and headers
(:class:`~frankenws._connection.Connection`, ``Host`` and credentials included), one
request at a time on each of up to ``concurrency`` keep-alive connections (a request
never shares a connection with another in flight, so a lost connection never leaves
doubt about a request other than its own), and an answer read by a small parser on an
asyncio protocol, usually from one read.

Every answer goes through the SDK's decoding and errors, and every failure is sorted
into the same :data:`~frankenws._connection.FailureKind` the other senders use: nothing
reached the server (``connect``, retried by a resume), no answer in time (``timeout``),
the server hung up without answering (``disconnected``), anything else (``other``).
Strictly private.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from frankenws._calls import Call, Operation
from frankenws._client import RETRY_BACKOFF
from frankenws._connection import Connection, FailureKind, check_request, transport_error
from frankenws._deadline import _Body, too_large
from frankenws._drive import drive_async
from frankenws._exceptions import ConnectError, FrankenWSError
from frankenws._models import Response

from ._reads import _parse_head, _ssl_context, header_lines

if TYPE_CHECKING:
    from frankenws._client import BaseClient

__all__ = ["Http1Lane", "lane_available"]

T = TypeVar("T")

_HEAD_LIMIT = 64 * 1024 + 4096
"""The longest answer head accepted (Go's own limit for request heads is 1 MB; answers
from the admin API carry a handful of headers)."""

_WITH_LENGTH = frozenset({"POST", "PUT", "PATCH"})
"""Methods sent with ``Content-Length`` even without a body, as httpx and aiohttp do."""


def lane_available(client: BaseClient) -> bool:
    """True when the client uses its default transport (a user's transport carries all)."""
    return not client._connection.custom_transport


class _Failed(Exception):
    """A request failed below HTTP; ``kind`` says how far it got."""

    def __init__(self, kind: FailureKind, cause: BaseException) -> None:
        super().__init__(kind)
        self.kind = kind
        self.cause = cause


class _Link(asyncio.Protocol):
    """One keep-alive connection and the answer it is reading."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.used = False
        """Has carried a request before: a server may have closed it while idle."""
        self._waiter: asyncio.Future[Response] | None = None
        self._url = ""
        self._limit = 0
        self._buffer = b""
        self._got = False
        """Some of the answer arrived (a hang-up after that is not a clean refusal)."""
        self._head: tuple[int, dict[str, str], bool] | None = None
        self._length = -1
        """Body bytes expected (Content-Length); -1 chunked, -2 until the connection ends."""
        self._body: _Body | None = None
        """A body without a declared length, collected up to the size cap."""
        self.keep = False

    # --- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            # Bytes nobody asked for: the connection's framing can no longer be trusted.
            self._close()
            return
        self._got = True
        self._buffer = self._buffer + data if self._buffer else data
        try:
            self._parse()
        except FrankenWSError as exc:  # an answer over the size cap
            self._fail(exc)
        except (ValueError, IndexError) as exc:
            self._fail(_Failed("other", ValueError(f"malformed answer: {exc}")))

    def eof_received(self) -> bool:
        self.closed = True  # before connection_lost: an idle link must not be taken again
        waiter = self._waiter
        if waiter is not None and not waiter.done() and self._head and self._length == -2:
            self._finish(self._collected(), keep=False)
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._head is not None and self._length == -2 and exc is None:
            self._finish(self._collected(), keep=False)
            return
        if exc is None and not self._got:
            self._fail(_Failed("disconnected", ConnectionError("server closed the connection")))
        else:
            cause = exc or ConnectionError("the connection ended in the middle of an answer")
            self._fail(_Failed("other", cause))

    # --- one exchange -------------------------------------------------------------

    async def exchange(self, request: bytes, url: str, limit: int) -> Response:
        transport = self.transport
        assert transport is not None
        waiter: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        self._url, self._limit = url, limit
        self._buffer, self._got, self._head, self._body, self._length = b"", False, None, None, 0
        self.used = True
        transport.write(request)
        return await waiter

    def expire(self) -> None:
        """The request's deadline passed without a whole answer."""
        self._fail(_Failed("timeout", TimeoutError("no answer in time")))

    def _fail(self, exc: BaseException) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self._close()

    def _close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _finish(self, body: bytes, *, keep: bool) -> None:
        assert self._head is not None
        assert self._waiter is not None
        status, headers, keep_alive = self._head
        self.keep = keep and keep_alive and not self._buffer
        self._waiter.set_result(Response(status, headers, body, self._url))

    def _parse(self) -> None:
        while self._head is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > _HEAD_LIMIT:
                    raise ValueError("the answer's head is too long")
                return
            head, self._buffer = self._buffer[: end + 4], self._buffer[end + 4 :]
            status, version, headers = _parse_head(head)
            if 100 <= status < 200:
                continue  # interim answers (100 Continue) precede the real one
            connection = headers.get("connection", "").lower()
            keep_alive = (
                "keep-alive" in connection if version == "HTTP/1.0" else "close" not in connection
            )
            self._head = (status, headers, keep_alive)
            if status in (204, 304):
                self._length = 0
            elif "chunked" in headers.get("transfer-encoding", "").lower():
                self._length = -1
                self._body = _Body(headers, self._limit, self._url)
            elif "content-length" in headers:
                length = headers["content-length"]
                if not length.isdigit():
                    raise ValueError(f"bad Content-Length {length!r}")
                self._length = int(length)
                if self._length > self._limit:
                    raise too_large(self._limit, self._url, self._length)
            else:
                # Framed by the end of the connection (Go's own 400s): nothing follows.
                self._length = -2
                self._body = _Body(headers, self._limit, self._url)
        if self._length >= 0:
            if len(self._buffer) >= self._length:
                body, self._buffer = self._buffer[: self._length], self._buffer[self._length :]
                self._finish(body, keep=True)
        elif self._length == -1:
            self._chunks()
        else:
            self._collect(self._buffer)
            self._buffer = b""

    def _collect(self, part: bytes) -> None:
        assert self._body is not None
        self._body.add(part)

    def _collected(self) -> bytes:
        assert self._body is not None
        return self._body.value()

    def _chunks(self) -> None:
        buffer = self._buffer
        while True:
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                break
            size = int(buffer[:line_end].split(b";", 1)[0].strip(), 16)
            if size == 0:
                # The trailers (usually none) end with an empty line.
                end = buffer.find(b"\r\n\r\n", line_end)
                if end < 0:
                    break
                self._buffer = buffer[end + 4 :]
                self._finish(self._collected(), keep=True)
                return
            start = line_end + 2
            if len(buffer) < start + size + 2:
                break
            if buffer[start + size : start + size + 2] != b"\r\n":
                raise ValueError("bad chunk framing")
            self._collect(buffer[start : start + size])
            buffer = buffer[start + size + 2 :]
        self._buffer = buffer


class Http1Lane:
    """Send operations for one client over its own keep-alive connections (an async
    context manager); at most ``concurrency`` connections are open at once."""

    def __init__(self, client: BaseClient, concurrency: int, *, retries: int = 0) -> None:
        self._conn: Connection = client._connection
        self._retries = retries
        """How many times a GET whose connection could not be opened is sent again, as
        the clients do (a bulk job's own requests are not: a resume retries them)."""
        self._limit = max(1, concurrency)
        self._idle: list[_Link] = []
        self._open = 0
        self._waiting: collections.deque[asyncio.Future[None]] = collections.deque()
        self._head = header_lines(self._conn)
        self._address: tuple[str, int, ssl.SSLContext | None] | None = None

    async def __aenter__(self) -> Http1Lane:
        conn = self._conn
        if conn.uds is None:
            url = urlsplit(conn.origin)
            secure = url.scheme == "https"
            self._address = (
                url.hostname or "localhost",
                url.port or (443 if secure else 80),
                _ssl_context(conn.tls) if secure else None,
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        for link in self._idle:
            link._close()
        self._idle.clear()

    async def run(self, op: Operation[T]) -> T:
        """Send one operation and decode its replies (raising the SDK's usual errors)."""
        return await drive_async(op, self.send)

    async def send(self, call: Call[Any]) -> Response:
        """One request; the SDK's transport errors for a failure below HTTP."""
        attempt = 0
        while True:
            try:
                return await self._send_once(call)
            except ConnectError:
                # Nothing reached the server; GETs change nothing anyway.
                if not call.idempotent or attempt >= self._retries:
                    raise
            await asyncio.sleep(RETRY_BACKOFF * 2**attempt)
            attempt += 1

    async def _send_once(self, call: Call[Any]) -> Response:
        conn = self._conn
        check_request(conn, call)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + conn.timeout
        request = self._request(call)
        url = conn.shown_url(call)
        try:
            while True:
                link = await self._acquire(deadline)
                reused = link.used
                timer = loop.call_at(deadline, link.expire)
                try:
                    response = await link.exchange(request, url, conn.max_response_bytes)
                except _Failed as failed:
                    # A kept connection the server closed while it sat idle: a GET goes
                    # again on a fresh one (nothing of it was read), as other clients do.
                    if failed.kind == "disconnected" and reused and call.idempotent:
                        continue
                    raise
                except BaseException:
                    link._close()  # cancelled mid-answer: the connection cannot be reused
                    raise
                finally:
                    timer.cancel()
                    self._release(link)
                return response
        except _Failed as failed:
            raise transport_error(failed.kind, conn, call, failed.cause) from failed.cause

    def _request(self, call: Call[Any]) -> bytes:
        target = (self._conn.prefix + call.path).encode("ascii")
        body = call.body
        if body or call.method in _WITH_LENGTH:
            return b"%s %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s" % (
                call.method.encode("ascii"),
                target,
                self._head,
                len(body),
                body,
            )
        return b"%s %s HTTP/1.1\r\n%s\r\n" % (call.method.encode("ascii"), target, self._head)

    async def _acquire(self, deadline: float) -> _Link:
        while self._idle:
            link = self._idle.pop()
            if not link.closed:
                return link
            self._open -= 1
        while self._open >= self._limit:
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                await asyncio.wait_for(waiter, deadline - asyncio.get_running_loop().time())
            except asyncio.TimeoutError as exc:
                # Every connection stayed busy until the deadline (more callers than
                # connections): nothing was sent.
                raise _Failed("timeout", exc) from exc
            except BaseException:
                if not waiter.cancelled():
                    self._wake()  # pass the released connection on
                raise
            while self._idle:
                link = self._idle.pop()
                if not link.closed:
                    return link
                self._open -= 1
        self._open += 1
        try:
            return await self._connect(deadline)
        except BaseException:
            self._open -= 1
            self._wake()
            raise

    def _release(self, link: _Link) -> None:
        if link.closed or not link.keep:
            link._close()
            self._open -= 1
        else:
            self._idle.append(link)
        self._wake()

    def _wake(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _connect(self, deadline: float) -> _Link:
        loop = asyncio.get_running_loop()
        conn = self._conn
        try:
            if conn.uds is not None:
                opening = loop.create_unix_connection(_Link, conn.uds)
            else:
                assert self._address is not None
                host, port, context = self._address
                opening = loop.create_connection(_Link, host, port, ssl=context)
            _, link = await asyncio.wait_for(opening, max(0.0, deadline - loop.time()))
        except (OSError, asyncio.TimeoutError, ssl.SSLError) as exc:
            raise _Failed("connect", exc) from exc
        return link
