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
from contextvars import ContextVar
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

_SENT: ContextVar[bool] = ContextVar("frankenws_lane_sent", default=False)
"""Whether the request of the current task has started to leave (see ``_request_class``).
aiohttp runs a request inside the caller's task, so the flag set in ``send`` is seen by
the caller, and each task has its own."""


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
        self._url: Any = None
        self._failures: tuple[type[BaseException], ...] = ()

    async def __aenter__(self) -> AiohttpLane:
        import aiohttp
        from yarl import URL

        # Looked up once: a request is sent for every target of a bulk job.
        self._url = URL
        self._failures = (asyncio.TimeoutError, aiohttp.ClientError)

        conn = self._conn
        ssl_arg: Any = None if conn.tls is True else conn.tls  # None: aiohttp's default checks
        connector: aiohttp.BaseConnector
        if conn.uds is not None:
            connector = aiohttp.UnixConnector(path=conn.uds, limit=self._concurrency)
        else:
            connector = aiohttp.TCPConnector(limit=self._concurrency, ssl=ssl_arg)
        self._session = aiohttp.ClientSession(
            request_class=_request_class(),
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
        session = self._session
        assert session is not None, "use the lane as an async context manager"
        conn = self._conn
        check_request(conn, call)
        _SENT.set(False)
        try:
            async with session.request(
                call.method,
                # Built from a plain string: an httpx.URL per request would cost more than
                # the request itself at bulk rates.
                self._url(conn.url(call), encoded=True),
                # No body is no payload object: aiohttp still sends Content-Length: 0 on
                # a POST, as httpx does, without a second write per request.
                data=call.body or None,
                allow_redirects=False,
            ) as response:
                length = response.content_length
                if length is not None and length <= conn.max_response_bytes:
                    body = await response.read()  # the parser stops at the declared length
                else:
                    body = await collect_async(
                        response.headers,
                        response.content.iter_any(),
                        conn.max_response_bytes,
                        conn.shown_url(call),
                    )
                headers = {k.lower(): v for k, v in response.headers.items()}
                return Response(response.status, headers, body, conn.shown_url(call))
        except self._failures as exc:
            kind = _kind(exc)
            # A timeout before the request started to leave means nothing reached the
            # server: a connect failure (retried on resume), not an uncertain send.
            if kind == "timeout" and not _SENT.get():
                kind = "connect"
            raise transport_error(kind, conn, call, exc) from exc


def _request_class() -> type[aiohttp.ClientRequest]:
    """aiohttp's request, marking ``_SENT`` as it starts to write.

    Marked before the first byte is written, so a timeout that cuts the write short counts
    as possibly delivered: the safe side for a send that must not be repeated. (aiohttp's
    tracing gives the same signal, at the price of a dozen signal dispatches per request.)
    """
    import aiohttp

    class _Request(aiohttp.ClientRequest):
        async def send(self, conn: Any) -> aiohttp.ClientResponse:
            _SENT.set(True)
            return await super().send(conn)

    return _Request


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
