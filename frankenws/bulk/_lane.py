"""The bulk engine's fast lane: the sans-I/O operations sent over an aiohttp session.

httpx's async client slows down sharply at high concurrency (ARCHITECTURE §8), so bulk
jobs send through aiohttp when it is installed. The lane reads the client's
:class:`~frankenws._connection.Connection` (URL, headers, TLS context, timeout) and
shares the driver and the error mapping with the clients, so a bulk request and a single
SDK call are indistinguishable on the wire and in their errors. Strictly private.
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import TYPE_CHECKING, Any, TypeVar

from frankenws._calls import Call, Operation
from frankenws._connection import FailureKind, check_request, transport_error
from frankenws._deadline import collect_async
from frankenws._drive import drive_async
from frankenws._models import Response

if TYPE_CHECKING:
    import aiohttp

    from frankenws._client import BaseClient

__all__ = ["AiohttpLane", "lane_available"]

T = TypeVar("T")


def lane_available(client: BaseClient) -> bool:
    """True when aiohttp is installed and the client uses its default transport."""
    return not client._connection.custom_transport and (
        importlib.util.find_spec("aiohttp") is not None
    )


class AiohttpLane:
    """Send operations for one client over one aiohttp session (an async context manager)."""

    def __init__(self, client: BaseClient, concurrency: int) -> None:
        self._conn = client._connection
        self._concurrency = max(1, concurrency)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> AiohttpLane:
        import aiohttp

        conn = self._conn
        ssl_arg: Any = None if conn.tls is True else conn.tls  # None: aiohttp's default checks
        connector: aiohttp.BaseConnector
        if conn.uds is not None:
            connector = aiohttp.UnixConnector(path=conn.uds, limit=self._concurrency)
        else:
            connector = aiohttp.TCPConnector(limit=self._concurrency, ssl=ssl_arg)
        # A timeout before the request's headers were written means nothing left the
        # machine: it is a connect failure (retried on resume), not an uncertain send.
        tracing = aiohttp.TraceConfig()
        tracing.on_request_headers_sent.append(_mark_sent)
        self._session = aiohttp.ClientSession(
            trace_configs=[tracing],
            connector=connector,
            headers=conn.headers,
            timeout=aiohttp.ClientTimeout(total=conn.timeout),
            auto_decompress=False,
            trust_env=False,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def run(self, op: Operation[T]) -> T:
        """Send one operation and decode its replies (raising the SDK's usual errors)."""
        return await drive_async(op, self._send)

    async def _send(self, call: Call[Any]) -> Response:
        import aiohttp
        from yarl import URL

        assert self._session is not None, "use the lane as an async context manager"
        conn = self._conn
        check_request(conn, call)
        progress = _Progress()
        try:
            async with self._session.request(
                call.method,
                # Built from a plain string: an httpx.URL per request would cost more than
                # the request itself at bulk rates.
                URL(conn.url(call), encoded=True),
                data=call.body if call.body or call.method == "POST" else None,
                allow_redirects=False,
                trace_request_ctx=progress,
            ) as response:
                body = await collect_async(
                    response.headers,
                    response.content.iter_any(),
                    conn.max_response_bytes,
                    conn.shown_url(call),
                )
                headers = {k.lower(): v for k, v in response.headers.items()}
                return Response(response.status, headers, body, conn.shown_url(call))
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            kind = _kind(exc)
            if kind == "timeout" and not progress.sent:
                kind = "connect"
            raise transport_error(kind, conn, call, exc) from exc


class _Progress:
    """How far one request got (set by aiohttp's tracing)."""

    __slots__ = ("sent",)

    def __init__(self) -> None:
        self.sent = False


async def _mark_sent(session: object, context: Any, params: object) -> None:
    progress = context.trace_request_ctx
    if isinstance(progress, _Progress):
        progress.sent = True


def _kind(exc: BaseException) -> FailureKind:
    import aiohttp

    # ConnectionTimeoutError is also a TimeoutError: a connect timeout is a connect
    # failure, as with httpx.
    if isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
        return "connect"
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "disconnected"
    return "other"
