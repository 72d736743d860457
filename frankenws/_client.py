"""The clients. :class:`BaseClient` holds configuration; the two subclasses only send.

Request building, validation and response decoding live in ``_calls`` (sans-I/O), and
the 41 public operations in the ``_api`` mixins, so ``Client`` and ``AsyncClient`` are
guaranteed to behave the same way: each only supplies ``_run``, which sends what an
operation builds.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ._api import AsyncOperations, SyncOperations
from ._calls import Call, Operation, calls
from ._config import CertArg, VerifyArg, resolve_address
from ._connection import (
    Connection,
    FailureKind,
    build_connection,
    check_request,
    transport_error,
)
from ._deadline import DEFAULT_MAX_RESPONSE_BYTES, collect, collect_async, deadline
from ._drive import drive, drive_async
from ._guard import confined, deadline_transport, warn_if_exposed
from ._models import Response

if TYPE_CHECKING:
    from ._async_lane import LoopLanes

__all__ = ["AsyncClient", "BaseClient", "Client"]

T = TypeVar("T")

RETRY_BACKOFF = 0.05


class BaseClient:
    """Configuration shared by :class:`Client` and :class:`AsyncClient`. Strictly private."""

    def __init__(
        self,
        url: str | None,
        *,
        timeout: float,
        host_header: str | None,
        headers: Mapping[str, str] | None,
        cert: CertArg | None,
        verify: VerifyArg,
        retries: int,
        transport: object | None,
        max_response_bytes: int,
        allow_path: bool,
    ) -> None:
        self._connection: Connection = build_connection(
            resolve_address(url),
            timeout=timeout,
            host_header=host_header,
            headers=headers,
            cert=cert,
            verify=verify,
            custom_transport=transport is not None,
            user_agent=_user_agent(),
            max_response_bytes=max_response_bytes,
            allow_path=allow_path,
        )
        if transport is None:
            warn_if_exposed(self._connection, verify)
        self._retries = max(0, int(retries))
        # raw_path is used as given, so the escapes built by _encoding reach the wire
        # unchanged (httpx would otherwise drop literal dot segments).
        self._origin = httpx.URL(self._connection.origin)

    @property
    def url(self) -> str:
        """The admin endpoint this client talks to (without credentials)."""
        return self._connection.display_url

    @property
    def host_header(self) -> str:
        """The ``Host`` header sent with every request (what Caddy's Host check sees)."""
        return self._connection.host_header

    @property
    def timeout(self) -> float:
        """Seconds allowed per request, from connecting to the last byte of the answer."""
        return self._connection.timeout

    @property
    def max_response_bytes(self) -> int:
        """Answers larger than this raise :class:`~frankenws.ResponseTooLarge`."""
        return self._connection.max_response_bytes

    def __repr__(self) -> str:
        return f"<{type(self).__name__} url={self.url!r}>"

    def _http_options(self, transport: Any, *, asynchronous: bool) -> dict[str, Any]:
        conn = self._connection
        if transport is None:
            transport = deadline_transport(conn, asynchronous=asynchronous)
        return {
            "transport": transport,
            "headers": list(conn.headers),
            "timeout": conn.timeout,
            "follow_redirects": False,
            "trust_env": False,
        }

    def _build(self, call: Call[Any], http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        path = (self._connection.prefix + call.path).encode("ascii")
        return http.build_request(
            call.method,
            self._origin.copy_with(raw_path=path),
            content=call.body if call.body or call.method == "POST" else None,
        )

    def _response(self, call: Call[Any], answer: httpx.Response, body: bytes) -> Response:
        headers = {k.lower(): v for k, v in answer.headers.items()}
        return Response(answer.status_code, headers, body, self._connection.shown_url(call))

    def _failure(
        self, call: Call[Any], exc: httpx.TransportError, attempt: int
    ) -> Exception | None:
        """The error to raise for ``exc``, or ``None`` when the call should be retried."""
        kind = _kind(exc)
        # Only a GET whose connection could not even be opened is retried: nothing
        # reached the server, and GETs change nothing anyway.
        if kind == "connect" and call.idempotent and attempt < self._retries:
            return None
        return transport_error(kind, self._connection, call, exc)


def _kind(exc: httpx.TransportError) -> FailureKind:
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return "connect"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "disconnected"
    return "other"


def _user_agent() -> str:
    from .__version__ import __version__

    return f"frankenws/{__version__}"


class Client(BaseClient, SyncOperations):
    """A synchronous client for the FrankenPHP WebSocket admin API.

    Usage::

        with frankenws.Client("http://localhost:2019") as ws:
            for id in ws.search_stored_information("username", "eq", "alice"):
                ws.kill_connection(id)

    **Parameters:**

    * **url** - ``http://host:port``, ``https://host:port``, ``host:port``, ``:port``,
      ``unix//path/admin.sock`` or ``unix:///path/admin.sock``. Default:
      ``$FRANKENWS_ADMIN_URL``, then ``$CADDY_ADMIN``, then ``http://localhost:2019``.
    * **timeout** - the deadline of each request in seconds (default 10): connecting,
      sending, waiting and reading the whole answer must all fit in it, however slowly
      the server sends. A retried GET gets a fresh deadline per attempt, so it can take
      up to ``(retries + 1) * timeout``.
    * **host_header** - the ``Host`` to send; Caddy refuses any other than its own
      listen address, so set this when going through a tunnel or proxy.
    * **headers** - extra headers for every request.
    * **cert** - client certificate for mTLS (remote admin): a PEM path or a
      ``(cert, key)`` tuple.
    * **verify** - ``True``, ``False``, a CA bundle path or an ``ssl.SSLContext``.
    * **transport** - an httpx transport (e.g. the fake's ``fake.transport()``).
    * **retries** - how many times a GET is retried when the connection cannot be opened.
    * **max_response_bytes** - the largest answer accepted (default 256 MiB); a larger one
      raises :class:`~frankenws.ResponseTooLarge` without being read into memory.
    * **allow_path** - accept a URL with a path (``https://proxy/caddy-admin``), for an
      admin API behind a reverse proxy. Without it such a URL is refused: a path would
      send every call to another API of the server (``/config`` is Caddy's own).

    ``verify=False`` and a plain ``http://`` URL to a host other than loopback each warn
    once (:class:`~frankenws.InsecureConnectionWarning`): the admin API has no
    authentication of its own.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        timeout: float = 10.0,
        host_header: str | None = None,
        headers: Mapping[str, str] | None = None,
        cert: CertArg | None = None,
        verify: VerifyArg = True,
        transport: httpx.BaseTransport | None = None,
        retries: int = 2,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        allow_path: bool = False,
    ) -> None:
        super().__init__(
            url,
            timeout=timeout,
            host_header=host_header,
            headers=headers,
            cert=cert,
            verify=verify,
            retries=retries,
            transport=transport,
            max_response_bytes=max_response_bytes,
            allow_path=allow_path,
        )
        self._http = httpx.Client(**self._http_options(transport, asynchronous=False))

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _send(self, call: Call[Any]) -> Response:
        check_request(self._connection, call)
        attempt = 0
        while True:
            try:
                with deadline(self._connection.timeout):
                    answer = self._http.send(self._build(call, self._http), stream=True)
                    try:
                        body = collect(
                            answer.headers,
                            answer.iter_bytes(),
                            self._connection.max_response_bytes,
                            self._connection.shown_url(call),
                        )
                    finally:
                        answer.close()
            except httpx.TransportError as exc:
                error = self._failure(call, exc, attempt)
                if error is not None:
                    raise error from exc
                time.sleep(RETRY_BACKOFF * 2**attempt)
                attempt += 1
                continue
            return self._response(call, answer, body)

    def _run(self, op: Operation[T]) -> T:
        return drive(op, self._send)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes = b"",
        any_path: bool = False,
    ) -> Response:
        """Send a raw request to the admin endpoint (an escape hatch for new routes).

        ``path`` is sent exactly as given (it must already be percent-encoded);
        ``params`` are form-encoded. Error statuses raise like every other method.
        Only paths under ``/frankenphp_ws/`` are sent unless ``any_path=True``: the same
        endpoint also serves Caddy's ``/load``, ``/stop`` and ``/config/``.
        """
        return self._run(calls.raw(method, confined(path, any_path), params, content))


class AsyncClient(BaseClient, AsyncOperations):
    """The asyncio twin of :class:`Client`: same parameters, same methods, awaited.

    Usage::

        async with frankenws.AsyncClient() as ws:
            count = await ws.send_all("hello", route="/chat")
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        timeout: float = 10.0,
        host_header: str | None = None,
        headers: Mapping[str, str] | None = None,
        cert: CertArg | None = None,
        verify: VerifyArg = True,
        transport: httpx.AsyncBaseTransport | None = None,
        retries: int = 2,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        allow_path: bool = False,
    ) -> None:
        super().__init__(
            url,
            timeout=timeout,
            host_header=host_header,
            headers=headers,
            cert=cert,
            verify=verify,
            retries=retries,
            transport=transport,
            max_response_bytes=max_response_bytes,
            allow_path=allow_path,
        )
        self._lanes: LoopLanes | None = None
        """The default sender (``_async_lane``), made on first use: creating it imports
        asyncio, which ``import frankenws`` leaves out (the CLI's start-up time)."""
        # httpx carries the requests only through a user's transport (see _send).
        self._http = (
            httpx.AsyncClient(**self._http_options(transport, asynchronous=True))
            if transport is not None
            else None
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._lanes is not None:
            await self._lanes.aclose()
        if self._http is not None:
            await self._http.aclose()

    async def _send(self, call: Call[Any]) -> Response:
        if self._http is None:
            return await self._send_own(call)
        check_request(self._connection, call)
        attempt = 0
        while True:
            try:
                with deadline(self._connection.timeout):
                    answer = await self._http.send(self._build(call, self._http), stream=True)
                    try:
                        body = await collect_async(
                            answer.headers,
                            answer.aiter_bytes(),
                            self._connection.max_response_bytes,
                            self._connection.shown_url(call),
                        )
                    finally:
                        await answer.aclose()
            except httpx.TransportError as exc:
                error = self._failure(call, exc, attempt)
                if error is not None:
                    raise error from exc
                # Imported here: the retry pause is the client's only use of asyncio, and
                # `import frankenws` stays free of it (the CLI's start-up time).
                import asyncio

                await asyncio.sleep(RETRY_BACKOFF * 2**attempt)
                attempt += 1
                continue
            return self._response(call, answer, body)

    async def _send_own(self, call: Call[Any]) -> Response:
        from ._async_lane import LoopLanes

        if self._lanes is None:
            self._lanes = LoopLanes(self)
        return await (await self._lanes.lane()).send(call)

    async def _run(self, op: Operation[T]) -> T:
        return await drive_async(op, self._send)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes = b"",
        any_path: bool = False,
    ) -> Response:
        """See :meth:`Client.request`."""
        return await self._run(calls.raw(method, confined(path, any_path), params, content))
