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
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    import aiohttp

    from ._connection import Connection

__all__ = ["AiohttpTransport", "available"]


def available() -> bool:
    """Whether aiohttp is installed (without importing it)."""
    return find_spec("aiohttp") is not None


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests over one aiohttp session, created in the first request's loop."""

    def __init__(self, conn: Connection, *, limit: int = 100) -> None:
        self._conn = conn
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        loop = asyncio.get_running_loop()
        if self._session is not None and self._loop is loop and not self._session.closed:
            return self._session
        conn = self._conn
        connector: aiohttp.BaseConnector
        if conn.uds is not None:
            connector = aiohttp.UnixConnector(path=conn.uds, limit=self._limit)
        else:
            # None: aiohttp's default certificate checks, as verify=True gives with httpx.
            ssl_arg: Any = None if conn.tls is True else conn.tls
            connector = aiohttp.TCPConnector(limit=self._limit, ssl=ssl_arg)
        # A session from another event loop cannot be used (nor closed) from this one.
        self._session = aiohttp.ClientSession(
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
        self._loop = loop
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import aiohttp
        from yarl import URL

        session = self._open()
        try:
            async with session.request(
                request.method,
                # raw_path as httpx holds it: yarl must neither re-quote nor normalise it.
                URL(str(request.url), encoded=True),
                headers=request.headers.multi_items(),
                data=request.content or None,
                allow_redirects=False,
            ) as response:
                # Read here rather than streamed through httpx: answers of the admin API
                # are read whole anyway, and a stream object per call costs more.
                body = await response.read()
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            raise _as_httpx(exc, request) from exc
        return httpx.Response(
            response.status, headers=list(response.raw_headers), content=body, request=request
        )

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


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
