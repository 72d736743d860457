"""Where the admin API is and how to reach it: URL forms, env vars, TLS, Host."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ._exceptions import InvalidArgument

__all__ = [
    "DEFAULT_URL",
    "ENV_VARS",
    "AdminAddress",
    "build_ssl_context",
    "redact_url",
    "resolve_address",
]

DEFAULT_URL = "http://localhost:2019"
ENV_VARS = ("FRANKENWS_ADMIN_URL", "CADDY_ADMIN")

CertArg = str | os.PathLike[str] | tuple[str | os.PathLike[str], str | os.PathLike[str]]
VerifyArg = bool | str | os.PathLike[str] | ssl.SSLContext


@dataclass(frozen=True, slots=True)
class AdminAddress:
    """Where the admin API is, resolved from a URL, the environment or the default.

    Strictly private."""

    base_url: str
    """``scheme://host:port`` plus an optional path prefix, without a trailing slash."""
    uds: str | None
    """Unix socket path, when the endpoint is a socket."""
    display: str
    """How messages name the endpoint (no credentials)."""
    host_header: str | None
    """The ``Host`` value Caddy's check expects when the URL carries an explicit port."""
    source: str
    """Where the URL came from: ``argument``, an env var name, or ``default``."""


def resolve_address(url: str | None, env: Mapping[str, str] | None = None) -> AdminAddress:
    """Resolve ``url`` (or the environment, or the default) into an :class:`AdminAddress`.

    Accepted forms: ``http://host:port``, ``https://host:port``, ``host:port``,
    ``:port``, Caddy's ``unix//path/admin.sock`` and ``unix:///path/admin.sock``.
    """
    env = os.environ if env is None else env
    source = "argument"
    if url is None:
        for name in ENV_VARS:
            if env.get(name, "").strip():
                url, source = env[name].strip(), name
                break
        else:
            url, source = DEFAULT_URL, "default"
    if not isinstance(url, str) or not url.strip():
        raise InvalidArgument(
            "the admin URL is empty; give e.g. http://localhost:2019 or unix//run/caddy/admin.sock"
        )
    text = url.strip()
    origin = "" if source == "argument" else f" (from {source})"

    if text.startswith(("unix:", "unix/")):
        path = _unix_path(text)
        if not path.strip("/"):
            raise InvalidArgument(
                f"admin URL {text!r}{origin} names no socket path; "
                "use unix//path/to/admin.sock or unix:///path/to/admin.sock"
            )
        return AdminAddress(
            "http://localhost",
            path,
            f"unix//{path.lstrip('/')}" if path.startswith("/") else f"unix/{path}",
            None,
            source,
        )
    if text.startswith("fd/"):
        raise InvalidArgument(
            f"admin address {text!r}{origin} is a file descriptor that only Caddy itself can "
            "use; connect with the TCP address or unix socket instead"
        )
    if "://" not in text:
        if text.startswith(":"):
            text = "localhost" + text
        text = "http://" + text
    shown = redact_url(url)
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket: http://[::1
        raise InvalidArgument(f"admin URL {shown!r}{origin} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidArgument(
            f"admin URL {shown!r}{origin} has scheme {parts.scheme!r}; use http://, https:// "
            "or unix//path"
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidArgument(f"admin URL {shown!r}{origin} has an invalid port: {exc}") from None
    host = parts.hostname
    if not host:
        raise InvalidArgument(
            f"admin URL {shown!r}{origin} has no host; e.g. http://localhost:2019"
        )
    if parts.query or parts.fragment:
        raise InvalidArgument(
            f"admin URL {shown!r}{origin} must not carry a query or fragment; give only "
            "scheme://host:port"
        )
    shown_host = f"[{host}]" if ":" in host else host
    netloc_display = shown_host if port is None else f"{shown_host}:{port}"
    path = parts.path.rstrip("/")
    base = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    display = urlunsplit((parts.scheme, netloc_display, path, "", ""))
    # httpx drops a default port from Host, but Caddy compares Host with its listen
    # address literally, so an explicit port is always sent.
    host_header = netloc_display if port is not None else None
    return AdminAddress(base, None, display, host_header, source)


def redact_url(url: str) -> str:
    """``url`` with the password of any ``user:password@`` replaced, for messages.

    Works with or without a scheme (``user:pw@host:2019``), and with an ``@`` or ``/`` in
    the password: everything up to the last ``@`` counts as credentials. A path holding
    an ``@`` is then over-redacted, which is the safe side for a message.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    head, at, tail = rest.rpartition("@")
    if not at:
        return url
    user, colon, _ = head.partition(":")
    if not colon:
        return url
    return f"{scheme}{sep}{user}:***@{tail}"


def _unix_path(text: str) -> str:
    if text.startswith("unix://"):
        rest = text[len("unix://") :]
    elif text.startswith("unix:"):
        rest = text[len("unix:") :]
    else:
        rest = text[len("unix/") :]
    # Caddy allows a file-mode suffix ("unix//run/admin.sock|0600"); it is not part of the path.
    return rest.split("|", 1)[0]


def build_ssl_context(verify: VerifyArg, cert: CertArg | None) -> ssl.SSLContext | bool:
    """An SSL context for mTLS/private CAs, or ``verify`` itself when nothing is custom."""
    if isinstance(verify, ssl.SSLContext):
        if cert is not None:
            _load_cert(verify, cert)
        return verify
    if cert is None and isinstance(verify, bool):
        return verify
    if verify is False:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif verify is True:
        # The same CA bundle httpx uses without a client certificate, so adding cert=
        # does not silently change which servers are trusted.
        import certifi

        ctx = ssl.create_default_context(cafile=certifi.where())
    else:
        ca = os.fspath(verify)
        if not os.path.exists(ca):
            raise InvalidArgument(
                f"CA bundle {ca!r} does not exist; pass verify=<path to a PEM file>"
            )
        try:
            ctx = ssl.create_default_context(cafile=ca)
        except (ssl.SSLError, OSError) as exc:
            raise InvalidArgument(f"cannot load CA bundle {ca!r}: {exc}") from None
    if cert is not None:
        _load_cert(ctx, cert)
    return ctx


def _load_cert(ctx: ssl.SSLContext, cert: CertArg) -> None:
    if isinstance(cert, tuple):
        certfile, keyfile = os.fspath(cert[0]), os.fspath(cert[1])
    else:
        certfile, keyfile = os.fspath(cert), None
    for path in (certfile, keyfile):
        if path is not None and not os.path.exists(path):
            raise InvalidArgument(f"client certificate file {path!r} does not exist")
    try:
        ctx.load_cert_chain(certfile, keyfile)
    except (ssl.SSLError, OSError) as exc:
        raise InvalidArgument(
            f"cannot load client certificate {certfile!r}: {exc}; pass cert=(cert.pem, key.pem)"
        ) from None
