"""What keeps a client away from the rest of Caddy's admin API, and loud when exposed.

The admin endpoint that serves ``/frankenphp_ws/`` also serves ``/load``, ``/stop`` and
``/config/``, and has no authentication of its own. So raw requests stay under the
extension's prefix unless the caller opts out, and a client that talks to the API in a
way anyone on the network could too says so, once. Strictly private.
"""

from __future__ import annotations

import ipaddress
import re
import warnings
from typing import Any
from urllib.parse import unquote, urlsplit

from ._connection import Connection
from ._deadline import AsyncDeadlineBackend, DeadlineBackend
from ._exceptions import InsecureConnectionWarning, InvalidArgument

__all__ = ["confined", "deadline_transport", "warn_if_exposed"]

PREFIX = "/frankenphp_ws/"

_warned: set[tuple[str, str]] = set()


def confined(path: str, any_path: bool) -> str:
    """``path``, if a raw request may go there."""
    if any_path or not isinstance(path, str):
        return path  # the raw call's own checks word the type error
    route = path.split("?", 1)[0]
    segments = unquote(route).split("/")
    if not route.startswith(PREFIX) or ".." in segments or "." in segments:
        raise InvalidArgument(
            f"path {path!r} is outside {PREFIX}; request() only sends to the WebSocket "
            "extension's routes, since the same endpoint also serves Caddy's /load, /stop "
            "and /config/. Pass any_path=True to send it anyway"
        )
    return path


def deadline_transport(conn: Connection, *, asynchronous: bool) -> Any:
    """httpx's own transport for ``conn``, with every socket operation under the deadline."""
    import httpx

    # httpx has no public hook for httpcore's network backend, so the pool's is wrapped in
    # place (the same attribute from httpx 0.27 on); the dripping-server tests fail if a
    # release moves it.
    transport: Any
    if asynchronous:
        transport = httpx.AsyncHTTPTransport(verify=conn.tls, uds=conn.uds, retries=0)
        pool = transport._pool
        pool._network_backend = AsyncDeadlineBackend(pool._network_backend)
    else:
        transport = httpx.HTTPTransport(verify=conn.tls, uds=conn.uds, retries=0)
        pool = transport._pool
        pool._network_backend = DeadlineBackend(pool._network_backend)
    return transport


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_if_exposed(conn: Connection, verify: object) -> None:
    """Warn (once per URL and reason) when the admin API is reached insecurely."""
    if conn.uds is not None:
        return
    parts = urlsplit(conn.origin)
    host = re.sub(r"^\[|\]$", "", parts.hostname or "")
    if verify is False and parts.scheme == "https":
        _warn(
            "verify",
            conn,
            f"TLS verification is off for {conn.display_url}: anyone able to intercept the "
            "connection can impersonate the admin API. Pass verify=<CA bundle> instead",
        )
    if parts.scheme == "http" and not _loopback(host):
        _warn(
            "http",
            conn,
            f"{conn.display_url} is plain HTTP to a host that is not loopback; the admin API "
            "has no authentication, so anyone on that network can kill every connection. "
            "Use a unix socket, an SSH tunnel or remote admin over mTLS (docs/security.md)",
        )


def _warn(reason: str, conn: Connection, message: str) -> None:
    key = (reason, conn.display_url)
    if key in _warned:
        return
    _warned.add(key)
    # stacklevel 5: warn_if_exposed <- BaseClient.__init__ <- Client.__init__ <- the caller
    warnings.warn(message, InsecureConnectionWarning, stacklevel=5)
