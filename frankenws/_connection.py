"""The sender contract: how every sender reaches the admin endpoint and reports failures.

A client resolves its options once into a frozen :class:`Connection`. The httpx senders
of :class:`~frankenws.Client` / :class:`~frankenws.AsyncClient` and the bulk engine's
aiohttp lane read only that, so they send the same bytes to the same place. Each sender
sorts its library's exceptions into a :data:`FailureKind`; :func:`transport_error` turns
the kind into the SDK's error, so the messages and hints are the same on every path.
Strictly private.
"""

from __future__ import annotations

import base64
import os
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ._config import AdminAddress, CertArg, VerifyArg, build_ssl_context
from ._exceptions import ConnectError, RequestTimeout, ServerDisconnected, TransportError

if TYPE_CHECKING:
    from ._calls import Call

__all__ = ["Connection", "FailureKind", "build_connection", "check_socket", "transport_error"]

FailureKind = Literal["connect", "timeout", "disconnected", "other"]
"""What went wrong below HTTP: the connection could not be opened; no answer in time;
the server hung up without answering; anything else (reset, broken pipe, ...)."""


@dataclass(frozen=True, slots=True)
class Connection:
    """Everything a sender needs to reach one admin endpoint. Strictly private."""

    origin: str
    """``scheme://host:port`` without credentials (``http://localhost`` for a unix socket)."""
    prefix: str
    """Path prefix of the admin API behind a proxy (``""`` or ``/caddy``), no trailing slash."""
    uds: str | None
    """Unix socket path, when the endpoint is a socket."""
    ssl: ssl.SSLContext | bool
    """``True`` (default verification), ``False`` (none) or a configured context."""
    headers: tuple[tuple[str, str], ...]
    """Every header sent on every request, ``Host`` included."""
    timeout: float
    display_url: str
    """How messages name the endpoint (no credentials)."""
    custom_transport: bool
    """The user supplied the transport: only that transport may carry requests."""
    has_cert: bool
    """A client certificate is configured (changes the hint for a dropped TLS connection)."""

    @property
    def host_header(self) -> str:
        return next(value for name, value in self.headers if name.lower() == "host")

    def url(self, call: Call[Any]) -> str:
        """The absolute URL of ``call``, escapes exactly as built."""
        return self.origin + self.prefix + call.path

    def shown_url(self, call: Call[Any]) -> str:
        """The URL of ``call`` as error messages show it."""
        return self.display_url + call.path


def build_connection(
    address: AdminAddress,
    *,
    timeout: float,
    host_header: str | None,
    headers: Mapping[str, str] | None,
    cert: CertArg | None,
    verify: VerifyArg,
    custom_transport: bool,
    user_agent: str,
) -> Connection:
    import httpx

    url = httpx.URL(address.base_url)
    origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
    prefix = url.raw_path.decode("ascii").split("?", 1)[0].rstrip("/")
    # httpx.Headers merges case-insensitively: a user's "host" replaces ours instead of
    # producing two Host headers, which Go rejects with a 400.
    merged = httpx.Headers({"User-Agent": user_agent})
    # Caddy compares Host with its listen address literally, so it is always explicit
    # (an explicit port included) rather than left to each sender's own default.
    merged["Host"] = address.host_header or url.netloc.decode("ascii")
    if url.username or url.password:
        # Credentials in the URL (a proxy in front of the admin API) become a header,
        # so every sender sends them without knowing about them.
        token = base64.b64encode(f"{url.username}:{url.password}".encode()).decode("ascii")
        merged["Authorization"] = f"Basic {token}"
    merged.update(headers or {})
    if host_header is not None:
        merged["Host"] = host_header
    return Connection(
        origin=origin,
        prefix=prefix,
        uds=address.uds,
        ssl=build_ssl_context(verify, cert),
        headers=tuple(merged.items()),
        timeout=float(timeout),
        display_url=address.display,
        custom_transport=custom_transport,
        has_cert=cert is not None,
    )


_CONFIGURE_URL = "Set the URL with url=... or FRANKENWS_ADMIN_URL (CADDY_ADMIN is read too)"


def check_socket(conn: Connection, call: Call[Any]) -> None:
    """Refuse to send to a unix socket that does not exist, before any sender tries."""
    # httpcore leaks the socket object when connecting to a missing unix socket fails,
    # and the answer is the same for every sender, so it is given before trying.
    if conn.uds is not None and not os.path.exists(conn.uds):
        raise ConnectError(
            f"cannot connect to {conn.display_url}: no such socket file {conn.uds!r}. "
            f"Is Caddy running with 'admin unix//...' at this path? {_CONFIGURE_URL}",
            url=conn.shown_url(call),
        )


def transport_error(
    kind: FailureKind, conn: Connection, call: Call[Any], cause: BaseException
) -> TransportError:
    """The SDK's error for a failure of ``kind`` while sending ``call``."""
    url = conn.shown_url(call)
    if kind == "connect":
        return ConnectError(
            f"cannot connect to {conn.display_url} ({_reason(cause)}). Is Caddy running "
            f"with its admin endpoint at this address? {_CONFIGURE_URL}",
            url=url,
        )
    if kind == "timeout":
        return RequestTimeout(
            f"{url} did not answer within {conn.timeout:g} s; the server may be busy "
            "(ghost releases wait for PHP handlers). Raise timeout= if this is expected",
            url=url,
        )
    if kind == "disconnected":
        hint = ""
        if url.startswith("https:") and not conn.has_cert:
            # With TLS 1.3 a server that requires a client certificate accepts the
            # handshake and then hangs up: this is what a missing cert looks like.
            hint = (
                "; over HTTPS this is also how a server that requires a client "
                "certificate refuses one: pass cert=(cert.pem, key.pem)"
            )
        return ServerDisconnected(
            f"{url} closed the connection without answering; the request may or may not "
            f"have been applied{hint}",
            url=url,
        )
    return TransportError(
        f"{url}: the connection failed ({_reason(cause)}); the request may or may not have "
        "been applied - check before retrying a state change",
        url=url,
    )


def _reason(exc: BaseException) -> str:
    """The operating system's words for a failure, whichever library wrapped them."""
    chain = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    # TLS and name-resolution errors carry their own text; for the rest, errno gives
    # the same words everywhere (asyncio says "Connect call failed" for a refusal).
    for error in chain:
        if isinstance(error, (ssl.SSLError, socket.gaierror)):
            return error.strerror or str(error)
    for error in chain:
        if isinstance(error, OSError) and error.errno and error.errno > 0:
            return os.strerror(error.errno)
    return str(exc) or type(exc).__name__
