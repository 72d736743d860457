"""The clients. :class:`BaseClient` holds configuration; the two subclasses only send.

Request building, validation and response decoding live in ``_calls`` (sans-I/O), and
the 41 public operations in the ``_api`` mixins, so ``Client`` and ``AsyncClient`` are
guaranteed to behave the same way: each only supplies ``_run``, which sends what an
operation builds.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx

from ._api import AsyncOperations, SyncOperations
from ._calls import Call, Operation, Reply, calls, decode_reply
from ._config import CertArg, Target, VerifyArg, build_ssl_context, resolve_target
from ._exceptions import (
    ConnectError,
    FrankenWSError,
    RequestTimeout,
    ServerDisconnected,
    TransportError,
)

__all__ = ["AsyncClient", "BaseClient", "Client", "Response"]

T = TypeVar("T")

Response = Reply
"""What :meth:`Client.request` returns: status, lower-cased headers, body, url."""

_RETRY_BACKOFF = 0.05


class BaseClient:
    """Configuration shared by :class:`Client` and :class:`AsyncClient`. Strictly private."""

    def __init__(
        self,
        url: str | None = None,
        *,
        timeout: float = 10.0,
        host_header: str | None = None,
        headers: Mapping[str, str] | None = None,
        cert: CertArg | None = None,
        verify: VerifyArg = True,
        retries: int = 2,
    ) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            from ._exceptions import InvalidArgument

            raise InvalidArgument(f"timeout must be a positive number of seconds, got {timeout!r}")
        self._target: Target = resolve_target(url)
        self._timeout = float(timeout)
        self._retries = max(0, int(retries))
        self._ssl = build_ssl_context(verify, cert)
        self._has_cert = cert is not None
        # httpx.Headers merges case-insensitively: a user's "host" replaces our "Host"
        # instead of producing two Host headers, which Go rejects with a 400.
        merged = httpx.Headers({"User-Agent": _user_agent()})
        if self._target.host_header:
            merged["Host"] = self._target.host_header
        merged.update(headers or {})
        if host_header is not None:
            merged["Host"] = host_header
        self._headers = merged
        base = httpx.URL(self._target.base_url)
        self._base_url = base
        self._prefix = base.raw_path.decode("ascii").split("?", 1)[0].rstrip("/")

    @property
    def url(self) -> str:
        """The admin endpoint this client talks to (without credentials)."""
        return self._target.display

    @property
    def timeout(self) -> float:
        return self._timeout

    def __repr__(self) -> str:
        return f"<{type(self).__name__} url={self.url!r}>"

    def _url_for(self, call: Call[Any]) -> httpx.URL:
        # raw_path is used as given, so the escapes built by _encoding reach the wire
        # unchanged (httpx would otherwise drop literal dot segments).
        return self._base_url.copy_with(raw_path=(self._prefix + call.target).encode("ascii"))

    def _display_url(self, call: Call[Any]) -> str:
        return self._target.display + call.target

    def _transport_for(self, transport: Any, *, asynchronous: bool) -> Any:
        if transport is not None:
            return transport
        cls = httpx.AsyncHTTPTransport if asynchronous else httpx.HTTPTransport
        return cls(verify=self._ssl, uds=self._target.uds, retries=0)

    def _reply(self, call: Call[Any], response: httpx.Response) -> Reply:
        headers = {k.lower(): v for k, v in response.headers.items()}
        return Reply(response.status_code, headers, response.content, self._display_url(call))

    def _wrap(self, call: Call[Any], exc: httpx.TransportError) -> FrankenWSError:
        url = self._display_url(call)
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            return ConnectError(
                f"cannot connect to {self._target.display} ({exc or type(exc).__name__}). "
                "Is Caddy running with its admin endpoint at this address? Set the URL with "
                "url=... or FRANKENWS_ADMIN_URL (CADDY_ADMIN is read too)",
                url=url,
            )
        if isinstance(exc, httpx.TimeoutException):
            return RequestTimeout(
                f"{url} did not answer within {self._timeout:g} s; the server may be busy "
                "(ghost releases wait for PHP handlers). Raise timeout= if this is expected",
                url=url,
            )
        if isinstance(exc, httpx.RemoteProtocolError):
            hint = ""
            if url.startswith("https:") and not self._has_cert:
                # With TLS 1.3 a server that requires a client certificate accepts the
                # handshake and then hangs up: this is what a missing cert looks like.
                hint = (
                    "; over HTTPS this is also how a server that requires a client "
                    "certificate refuses one: pass cert=(cert.pem, key.pem)"
                )
            return ServerDisconnected(
                f"{url} closed the connection without answering ({exc}); the request may or "
                f"may not have been applied{hint}",
                url=url,
            )
        return TransportError(
            f"{url}: the connection failed ({type(exc).__name__}: {exc}); the request may or "
            "may not have been applied - check before retrying a state change",
            url=url,
        )

    def _check_socket(self, call: Call[Any]) -> None:
        # httpcore leaks the socket object when connecting to a missing unix socket
        # fails, so the common "no such file" case is answered before trying.
        uds = self._target.uds
        if uds is not None and not os.path.exists(uds):
            raise ConnectError(
                f"cannot connect to {self._target.display}: no such socket file {uds!r}. "
                "Is Caddy running with 'admin unix//...' at this path? Set the URL with "
                "url=... or FRANKENWS_ADMIN_URL (CADDY_ADMIN is read too)",
                url=self._display_url(call),
            )

    def _should_retry(self, call: Call[Any], exc: Exception, attempt: int) -> bool:
        # Only a GET whose connection could not even be opened is retried: nothing
        # reached the server, and GETs change nothing anyway.
        return (
            call.idempotent
            and attempt < self._retries
            and isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
        )

    def _build(self, call: Call[Any], http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        return http.build_request(
            call.method,
            self._url_for(call),
            content=call.body if call.body or call.method == "POST" else None,
        )


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
    * **timeout** - seconds per request (default 10).
    * **host_header** - the ``Host`` to send; Caddy refuses any other than its own
      listen address, so set this when going through a tunnel or proxy.
    * **headers** - extra headers for every request.
    * **cert** - client certificate for mTLS (remote admin): a PEM path or a
      ``(cert, key)`` tuple.
    * **verify** - ``True``, ``False``, a CA bundle path or an ``ssl.SSLContext``.
    * **transport** - an httpx transport (e.g. the fake's ``fake.transport()``).
    * **retries** - how many times a GET is retried when the connection cannot be opened.
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
    ) -> None:
        super().__init__(
            url,
            timeout=timeout,
            host_header=host_header,
            headers=headers,
            cert=cert,
            verify=verify,
            retries=retries,
        )
        self._custom_transport = transport is not None
        self._http = httpx.Client(
            transport=self._transport_for(transport, asynchronous=False),
            headers=self._headers,
            timeout=self._timeout,
            follow_redirects=False,
            trust_env=False,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _send(self, call: Call[Any]) -> Reply:
        self._check_socket(call)
        attempt = 0
        while True:
            try:
                response = self._http.send(self._build(call, self._http))
            except httpx.TransportError as exc:
                if self._should_retry(call, exc, attempt):
                    time.sleep(_RETRY_BACKOFF * 2**attempt)
                    attempt += 1
                    continue
                raise self._wrap(call, exc) from exc
            return self._reply(call, response)

    def _run(self, op: Operation[T]) -> T:
        if isinstance(op, Call):
            return decode_reply(op, self._send(op))
        # A flow: feed each yielded call's result back in until it returns.
        steps = op.start()
        try:
            step = next(steps)
            while True:
                step = steps.send(decode_reply(step, self._send(step)))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes = b"",
    ) -> Response:
        """Send a raw request to the admin endpoint (an escape hatch for new routes).

        ``path`` is sent exactly as given (it must already be percent-encoded);
        ``params`` are form-encoded. Error statuses raise like every other method.
        """
        return self._run(calls.raw(method, path, params, content))


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
    ) -> None:
        super().__init__(
            url,
            timeout=timeout,
            host_header=host_header,
            headers=headers,
            cert=cert,
            verify=verify,
            retries=retries,
        )
        self._custom_transport = transport is not None
        self._http = httpx.AsyncClient(
            transport=self._transport_for(transport, asynchronous=True),
            headers=self._headers,
            timeout=self._timeout,
            follow_redirects=False,
            trust_env=False,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _send(self, call: Call[Any]) -> Reply:
        self._check_socket(call)
        attempt = 0
        while True:
            try:
                response = await self._http.send(self._build(call, self._http))
            except httpx.TransportError as exc:
                if self._should_retry(call, exc, attempt):
                    await asyncio.sleep(_RETRY_BACKOFF * 2**attempt)
                    attempt += 1
                    continue
                raise self._wrap(call, exc) from exc
            return self._reply(call, response)

    async def _run(self, op: Operation[T]) -> T:
        if isinstance(op, Call):
            return decode_reply(op, await self._send(op))
        steps = op.start()
        try:
            step = next(steps)
            while True:
                step = steps.send(decode_reply(step, await self._send(step)))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes = b"",
    ) -> Response:
        """See :meth:`Client.request`."""
        return await self._run(calls.raw(method, path, params, content))
