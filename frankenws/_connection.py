"""The sender contract: how every sender reaches the admin endpoint and reports failures.

A client resolves its options once into a frozen :class:`Connection`. The httpx senders
of :class:`~frankenws.Client` / :class:`~frankenws.AsyncClient` and the bulk engine's
HTTP/1.1 lane (``bulk/_http1``) read only that, so they send the same bytes to the same
place. Each sender sorts its failures into a :data:`FailureKind`; :func:`transport_error` turns
the kind into the SDK's error, so the messages and hints are the same on every path.
Strictly private.
"""

from __future__ import annotations

import base64
import math
import os
import re
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ._config import AdminAddress, CertArg, VerifyArg, build_ssl_context
from ._deadline import DEFAULT_MAX_RESPONSE_BYTES
from ._exceptions import (
    ConnectError,
    InvalidArgument,
    RequestTimeout,
    ServerDisconnected,
    TransportError,
)

if TYPE_CHECKING:
    from ._calls import Call

__all__ = ["Connection", "FailureKind", "build_connection", "check_request", "transport_error"]

MAX_URL_LENGTH = 65_536
"""httpx refuses longer URLs (and any URL component longer than this)."""

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
    tls: ssl.SSLContext | bool
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
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    """Answers larger than this are refused unread (:class:`ResponseTooLarge`)."""

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
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    allow_path: bool = False,
) -> Connection:
    import httpx

    if (
        isinstance(max_response_bytes, bool)
        or not isinstance(max_response_bytes, int)
        or max_response_bytes <= 0
    ):
        raise InvalidArgument(
            f"max_response_bytes must be a positive number of bytes, got {max_response_bytes!r}"
        )
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise InvalidArgument(f"timeout must be a positive number of seconds, got {timeout!r}")
    try:
        url = httpx.URL(address.base_url)
    except httpx.InvalidURL as exc:
        raise InvalidArgument(f"admin URL {address.display!r} is not valid: {exc}") from None
    origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
    prefix = url.raw_path.decode("ascii").split("?", 1)[0].rstrip("/")
    if prefix and not allow_path:
        # Every call is sent under the prefix, so a stray path (".../config") would point
        # them all at another API of the same server, such as Caddy's own config routes.
        raise InvalidArgument(
            f"admin URL {address.display!r} has a path ({prefix!r}); the admin API is served "
            "at the root of its address, so give only scheme://host:port. If a reverse proxy "
            "serves it under this path, pass allow_path=True"
        )
    # httpx.Headers merges case-insensitively: a user's "host" replaces ours instead of
    # producing two Host headers, which Go rejects with a 400.
    merged = httpx.Headers({"User-Agent": user_agent})
    # Caddy compares Host with its listen address literally, so it is always explicit
    # (an explicit port included) rather than left to each sender's own default.
    merged["Host"] = _default_host(address, url.netloc.decode("ascii"))
    if url.username or url.password:
        # Credentials in the URL (a proxy in front of the admin API) become a header,
        # so every sender sends them without knowing about them.
        token = base64.b64encode(f"{url.username}:{url.password}".encode()).decode("ascii")
        merged["Authorization"] = f"Basic {token}"
    for name, value in (headers or {}).items():
        merged[_header_name(name)] = _header_value(value, f"header {name!r}")
    if host_header is not None:
        merged["Host"] = _header_value(host_header, "host_header")
    return Connection(
        origin=origin,
        prefix=prefix,
        uds=address.uds,
        tls=build_ssl_context(verify, cert),
        headers=tuple(merged.items()),
        timeout=float(timeout),
        display_url=address.display,
        custom_transport=custom_transport,
        has_cert=cert is not None,
        max_response_bytes=max_response_bytes,
    )


def _default_host(address: AdminAddress, netloc: str) -> str:
    if address.uds is not None:
        # Caddy before 2.7 checks Host on a unix socket as well and, unless `origins` is
        # configured, accepts only an empty one (RFC 9112 3.2: a request whose target
        # has no authority sends an empty Host); 2.7 and later check nothing there. An
        # empty Host is what works on every version.
        return ""
    return address.host_header or netloc


# RFC 9110 token characters: anything else in a name is a request Go refuses.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Visible ASCII, space and tab: CR/LF would split the header, other bytes are
# encoded differently (or refused) by each HTTP library.
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e]*")


def _header_name(name: object) -> str:
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        raise InvalidArgument(f"header name {name!r} must be a non-empty HTTP token")
    return name


def _header_value(value: object, what: str) -> str:
    if not isinstance(value, str) or not _FIELD_VALUE.fullmatch(value):
        raise InvalidArgument(
            f"{what} {value!r} must be a string of printable ASCII (no line breaks or "
            "control characters)"
        )
    return value


_CONFIGURE_URL = "Set the URL with url=... or FRANKENWS_ADMIN_URL (CADDY_ADMIN is read too)"


def check_request(conn: Connection, call: Call[Any]) -> None:
    """Refuse what no sender can send: an overlong URL, a unix socket that does not exist."""
    length = len(conn.url(call))
    if length > MAX_URL_LENGTH:
        raise InvalidArgument(
            f"{call.name}: the request URL would be {length:,} characters once its values "
            f"are percent-encoded, over the {MAX_URL_LENGTH:,} an HTTP client accepts; use "
            "shorter ids, tags, keys or values"
        )
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
            f"{url} did not answer within {conn.timeout:g} s (the whole request's deadline, "
            "connecting and reading included); the server may be busy "
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
