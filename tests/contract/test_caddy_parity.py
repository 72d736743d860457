"""The fake's router and admin-server answers, byte for byte against a real Caddy.

A Debian Caddy has no WebSocket extension, so only the layers above the extension are
compared: unknown paths, the Host check, non-canonical paths, malformed targets and the
WebSocket-upgrade refusal. The fake runs with ``module_loaded=False`` (a Caddy without
the extension) and, for unknown paths, with the module loaded too. Only ``Date`` differs.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from frankenws.testing import FakeFrankenPHP


def raw_exchange(url: str, request: bytes) -> tuple[bytes, list[tuple[bytes, bytes]], bytes]:
    """Send raw bytes, read until the server closes; return status line, headers, body."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    headers = [tuple(line.split(b": ", 1)) for line in lines]
    return status, [h for h in headers if h[0].lower() != b"date"], body


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, str]]:
    with FakeFrankenPHP(module_loaded=False).serve() as bare, FakeFrankenPHP().serve() as full:
        yield {"bare": bare.admin_url, "full": full.admin_url}


def _request(method: str, target: str, host: str, extra: str = "") -> bytes:
    return (
        f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


CASES = {
    "unknown route": ("GET", "/frankenphp_ws/noSuchRoute", ""),
    "module route": ("GET", "/frankenphp_ws/getClients", ""),
    "trailing slash": ("GET", "/frankenphp_ws/getClients/", ""),
    "double slash GET": ("GET", "/frankenphp_ws//getClients?route=%2Fchat", ""),
    "double slash POST": ("POST", "/frankenphp_ws/killConnection//x", ""),
    "dot segment": ("GET", "/frankenphp_ws/getTags/../x", ""),
    "bad escape": ("GET", "/frankenphp_ws/getTags/%zz", ""),
    "upgrade header": ("GET", "/frankenphp_ws/getClients", "Upgrade: websocket\r\n"),
}


def _hostport(url: str) -> str:
    return urlsplit(url).netloc


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_answer_as_caddy(real_caddy, fakes, case):
    """Status, headers (except Date) and body match a real Caddy without the extension."""
    method, target, extra = CASES[case]
    want = raw_exchange(real_caddy, _request(method, target, _hostport(real_caddy), extra))
    got = raw_exchange(fakes["bare"], _request(method, target, _hostport(fakes["bare"]), extra))
    assert got == want


@pytest.mark.parametrize("host", ["evil.example:80", "localhost", "localhost:1"])
def test_host_check_like_caddy(real_caddy, fakes, host):
    """A Host that is not the listener's own address is refused the same way."""
    want = raw_exchange(real_caddy, _request("GET", "/frankenphp_ws/getClients", host))
    got = raw_exchange(fakes["bare"], _request("GET", "/frankenphp_ws/getClients", host))
    assert got == want
    assert want[0] == b"HTTP/1.1 403 Forbidden"


def test_loopback_aliases_are_allowed(real_caddy, fakes):
    """localhost:<port>, 127.0.0.1:<port> and [::1]:<port> all pass the Host check."""
    for base in (real_caddy, fakes["bare"]):
        port = urlsplit(base).port
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
            status, _, _ = raw_exchange(base, _request("GET", "/frankenphp_ws/x", host))
            assert status == b"HTTP/1.1 404 Not Found", (base, host)


def test_unknown_route_with_module_loaded(real_caddy, fakes):
    """With the extension loaded, an unknown path still gets Go's plain 404."""
    target = "/frankenphp_ws/noSuchRoute"
    want = raw_exchange(real_caddy, _request("GET", target, _hostport(real_caddy)))
    got = raw_exchange(fakes["full"], _request("GET", target, _hostport(fakes["full"])))
    assert got == want
