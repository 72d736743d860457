"""An httpx transport that sends through aiohttp: ``AsyncClient``'s default when installed.

httpx's own asyncio pool slows down as concurrent requests grow (on loopback about
1,400 calls/s at 4 concurrent, 400/s at 32; docs/performance.md), which services that
share one ``AsyncClient`` between many tasks feel. aiohttp's pool does not. Only the
socket work moves: httpx still builds every request and reads every response, so
headers, the raw path (sent exactly as ``_encoding`` escaped it), redirects (never
followed) and timeouts are the same; aiohttp's exceptions become the httpx ones the
client already maps to frankenws errors. Strictly private.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

import httpx

from ._deadline import time_left

if TYPE_CHECKING:
    import aiohttp

    from ._connection import Connection

__all__ = ["AiohttpTransport", "available"]


def available() -> bool:
    """Whether aiohttp is installed (without importing it)."""
    return find_spec("aiohttp") is not None


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests over aiohttp: one session per event loop that uses it.

    A session (its pooled sockets) belongs to the loop it was created in and can be
    neither used nor closed from another, yet one ``AsyncClient`` may serve several
    loops in turn (each ``asyncio.run()`` makes one). So every loop gets its own session,
    closed while that loop shuts down rather than abandoned with its sockets open."""

    def __init__(self, conn: Connection, *, limit: int = 100) -> None:
        self._conn = conn
        self._limit = limit
        self._sessions: dict[
            asyncio.AbstractEventLoop, tuple[aiohttp.ClientSession, AsyncGenerator[None, None]]
        ] = {}

    async def _open(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        known = self._sessions.get(loop)
        if known is not None and not known[0].closed:
            return known[0]
        self._forget_closed_loops()
        session = self._new_session()
        # asyncio.run() (and any loop shut down properly) closes the async generators
        # started in it before it closes: this one closes the session then.
        keeper = _closed_at_shutdown(session)
        self._sessions[loop] = (session, keeper)
        await keeper.asend(None)
        return session

    def _new_session(self) -> aiohttp.ClientSession:
        import aiohttp

        conn = self._conn
        connector: aiohttp.BaseConnector
        if conn.uds is not None:
            connector = aiohttp.UnixConnector(path=conn.uds, limit=self._limit)
        else:
            # None: aiohttp's default certificate checks, as verify=True gives with httpx.
            ssl_arg: Any = None if conn.tls is True else conn.tls
            connector = aiohttp.TCPConnector(limit=self._limit, ssl=ssl_arg)
        return aiohttp.ClientSession(
            connector=connector,
            # httpx's single timeout applies to each phase, so aiohttp's per-phase ones
            # get it too (``connect`` includes waiting for a free pooled connection).
            timeout=aiohttp.ClientTimeout(
                total=None, connect=conn.timeout, sock_connect=conn.timeout, sock_read=conn.timeout
            ),
            auto_decompress=False,
            trust_env=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
        )

    def _forget_closed_loops(self) -> None:
        """Drop the sessions of loops that are gone (a program calling asyncio.run()
        over and over must not keep every loop it ever ran)."""
        for loop in [loop for loop in self._sessions if loop.is_closed()]:
            _finish(self._sessions.pop(loop)[0])

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import aiohttp
        from yarl import URL

        session = await self._open()
        conn = self._conn
        # The client's deadline covers the whole request, as on httpx's own transport
        # (frankenws._deadline): aiohttp's total timeout is set to what is left of it.
        left = time_left()
        if left is not None and left <= 0:
            raise httpx.ReadTimeout("the request's deadline has passed", request=request)
        timeout = aiohttp.ClientTimeout(
            total=left, connect=conn.timeout, sock_connect=conn.timeout, sock_read=conn.timeout
        )
        try:
            async with session.request(
                request.method,
                # raw_path as httpx holds it: yarl must neither re-quote nor normalise it.
                URL(str(request.url), encoded=True),
                headers=request.headers.multi_items(),
                data=request.content or None,
                allow_redirects=False,
                timeout=timeout,
            ) as response:
                body = await _capped(response, conn.max_response_bytes)
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            raise _as_httpx(exc, request) from exc
        # A stream, not content=: httpx would add a Content-Length the server never sent.
        return httpx.Response(
            response.status,
            headers=list(response.raw_headers),
            stream=httpx.ByteStream(body),
            request=request,
        )

    async def aclose(self) -> None:
        here = asyncio.get_running_loop()
        for loop, (session, keeper) in list(self._sessions.items()):
            if loop is here:
                await keeper.aclose()
            elif loop.is_running():
                # Another thread's loop: its sockets are closed there.
                asyncio.run_coroutine_threadsafe(_close(keeper), loop)
            elif loop.is_closed():
                _finish(session)
            else:
                continue  # a loop between two runs: it closes its session at shutdown
            del self._sessions[loop]


async def _closed_at_shutdown(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await session.close()


async def _close(keeper: AsyncGenerator[None, None]) -> None:
    await keeper.aclose()


def _finish(session: aiohttp.ClientSession) -> None:
    """Close ``session`` of a loop that closed without shutting down its generators:
    with no loop left to run on, only the session's bookkeeping can be closed (it then
    needs nothing to await); its sockets went with the loop."""
    if session.closed:
        return
    closing = session.close()
    try:
        closing.send(None)
    except (StopIteration, RuntimeError):
        return
    closing.close()  # it wanted to wait for the loop after all


async def _capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, but never more than one byte past ``limit``: the client's own size check
    (``_deadline.collect_async``) then refuses it with the error users see everywhere.
    A declared length over the limit is refused there before any of the body is read."""
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > limit:
        return b""
    parts: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(parts)


def _as_httpx(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception that httpx's own transport raises for the same failure."""
    import aiohttp

    message = str(exc) or type(exc).__name__
    # ConnectionTimeoutError is also a TimeoutError: a connect timeout is a connect
    # failure, as with httpx.
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, asyncio.TimeoutError):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(message, request=request)
    return httpx.ReadError(message, request=request)
