"""The loopback admin port frames HTTP like Go's server, checked with raw sockets.

Where a real Caddy is available (``caddy`` on PATH) the same bytes are also compared
with it, on paths both answer alike (Caddy without the extension, the fake with
``module_loaded=False``); only ``Date`` differs.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from frankenws.testing import FakeFrankenPHP, LoopbackServer, _goserver


def exchange(url: str, request: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes; read until the server closes (or ``timeout``); drop ``Date``."""
    parts = urlsplit(url)
    data = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(request)
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except TimeoutError:
            pass
    return re.sub(rb"Date: [^\r]*\r\n", b"", data)


def host(url: str) -> bytes:
    return f"Host: {urlsplit(url).netloc}\r\n".encode()


@pytest.fixture(scope="module")
def served() -> Iterator[LoopbackServer[FakeFrankenPHP]]:
    fake = FakeFrankenPHP()
    for number in range(60):
        fake.connect("/chat", id=f"connection-{number:02d}-{'x' * 30}")
    with fake.serve() as server:
        yield server


@pytest.fixture(scope="module")
def bare() -> Iterator[str]:
    with FakeFrankenPHP(module_loaded=False).serve() as server:
        yield server.admin_url


def test_raw_non_ascii_bytes_in_the_target_act(served):
    """curl's unencoded é reaches the route, as with Go (was a 400)."""
    url = served.admin_url
    request = b"POST /frankenphp_ws/tag/caf\xc3\xa9 HTTP/1.1\r\n" + host(url)
    answer = exchange(url, request + b"Content-Length: 3\r\nConnection: close\r\n\r\nvip")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert served.fake.get_client_tags("café") == ["vip"]


def test_lowercase_method_reaches_the_route(served):
    """A method is any token: ``get`` is not GET, so the route answers 405 JSON."""
    url = served.admin_url
    request = b"get /frankenphp_ws/getClientsCount HTTP/1.1\r\n" + host(url)
    answer = exchange(url, request + b"Connection: close\r\n\r\n")
    assert answer == (
        b"HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\n"
        b"Content-Length: 31\r\nConnection: close\r\n\r\n"
        b'{"error":"method not allowed"}\n'
    )


@pytest.mark.parametrize("size", [10_000, 20_000, 64_000])
def test_big_header_lines_are_accepted(served, size):
    """Cookies and tokens of tens of KB pass; Go allows 64 KiB plus 4 KiB of slack."""
    url = served.admin_url
    request = b"GET /frankenphp_ws/getClientsCount HTTP/1.1\r\n" + host(url)
    request += b"Cookie: " + b"c" * size + b"\r\nConnection: close\r\n\r\n"
    assert exchange(url, request).endswith(b'\r\n\r\n{"count":60}\n')


def test_a_header_block_beyond_the_limit_is_431(served):
    """Past 64 KiB + 4 KiB Go answers 431 itself and hangs up."""
    url = served.admin_url
    request = b"GET /frankenphp_ws/getClientsCount HTTP/1.1\r\n" + host(url)
    request += b"Cookie: " + b"c" * 70_000 + b"\r\n\r\n"
    assert exchange(url, request) == (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
        b"431 Request Header Fields Too Large"
    )


def test_bodies_over_2048_bytes_are_chunked(served):
    """Go switches to chunked encoding once its 2 KiB buffer overflows."""
    url = served.admin_url
    request = b"GET /frankenphp_ws/getClients HTTP/1.1\r\n" + host(url)
    answer = exchange(url, request + b"Connection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert b"Content-Length" not in head
    size, _, rest = body.partition(b"\r\n")
    assert int(size, 16) > 2048
    assert rest.endswith(b"\r\n0\r\n\r\n")
    assert rest.startswith(b'{"clients":["connection-')


def test_head_405_announces_the_length(served):
    """HEAD on a GET-only route: 405 with the JSON error's Content-Length and no body."""
    url = served.admin_url
    request = b"HEAD /frankenphp_ws/getClients HTTP/1.1\r\n" + host(url)
    assert exchange(url, request + b"Connection: close\r\n\r\n") == (
        b"HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\n"
        b"Content-Length: 31\r\nConnection: close\r\n\r\n"
    )


def test_get_announcing_a_chunked_body_is_answered_at_once(served):
    """GET with Transfer-Encoding: chunked and no body: the route does not wait for it."""
    url = served.admin_url
    request = b"GET /frankenphp_ws/getClientsCount HTTP/1.1\r\n" + host(url)
    request += b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    started = time.monotonic()
    answer = exchange(url, request, timeout=3)
    assert answer.endswith(b'{"count":60}\n')
    assert time.monotonic() - started < 2.5


def test_an_unread_body_that_never_comes_times_out(served, monkeypatch):
    """Kept alive, Go waits for the body it must discard; at the read timeout it answers
    and closes the connection (Caddy's admin server allows 10 s)."""
    monkeypatch.setattr(_goserver, "READ_TIMEOUT", 0.5)
    url = served.admin_url
    request = b"GET /frankenphp_ws/getClientsCount HTTP/1.1\r\n" + host(url)
    started = time.monotonic()
    answer = exchange(url, request + b"Transfer-Encoding: chunked\r\n\r\n", timeout=5)
    assert 0.4 < time.monotonic() - started < 4
    assert b"\r\nConnection: close\r\n" in answer
    assert answer.endswith(b'{"count":60}\n')


def test_an_unread_body_is_discarded_and_the_connection_kept(served):
    """A complete body on a route that ignores it is read away; the next request works."""
    url = served.admin_url
    first = b"GET /frankenphp_ws/getClientsCount HTTP/1.1\r\n" + host(url)
    first += b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    second = b"GET /frankenphp_ws/getTagCount/none HTTP/1.1\r\n" + host(url)
    second += b"Connection: close\r\n\r\n"
    answer = exchange(url, first + second)
    assert answer.count(b"HTTP/1.1 200 OK") == 2
    assert answer.endswith(b'{"count":0,"tag":"none"}\n')


def test_http_1_0_without_host_is_refused_by_the_host_check(served):
    """HTTP/1.0 may omit Host; Caddy's check then refuses the empty host (403 JSON)."""
    answer = exchange(served.admin_url, b"GET /frankenphp_ws/getClientsCount HTTP/1.0\r\n\r\n")
    assert answer == (
        b"HTTP/1.0 403 Forbidden\r\nContent-Type: application/json\r\n"
        b'Content-Length: 31\r\n\r\n{"error":"host not allowed: "}\n'
    )


def test_options_star_is_200(served):
    """Go's server answers ``OPTIONS *`` itself, before Caddy or the mux."""
    url = served.admin_url
    answer = exchange(url, b"OPTIONS * HTTP/1.1\r\n" + host(url) + b"Connection: close\r\n\r\n")
    assert answer == b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def _requests(url: str) -> dict[str, bytes]:
    h = host(url)
    get = b"GET /x HTTP/1.1\r\n" + h
    close = b"Connection: close\r\n"
    return {
        "non-ASCII target": b"GET /x/caf\xc3\xa9 HTTP/1.1\r\n" + h + close + b"\r\n",
        "20 KB header": get + b"X-Big: " + b"a" * 20_000 + b"\r\n" + close + b"\r\n",
        "70 KB header": get + b"X-Big: " + b"a" * 70_000 + b"\r\n\r\n",
        "HEAD 404": b"HEAD /x HTTP/1.1\r\n" + h + close + b"\r\n",
        "HTTP/1.0 without Host": b"GET /x HTTP/1.0\r\n\r\n",
        "HTTP/1.0 with Host": b"GET /x HTTP/1.0\r\n" + h + b"\r\n",
        "OPTIONS *": b"OPTIONS * HTTP/1.1\r\n" + h + close + b"\r\n",
        "HTTP/2.0": b"GET /x HTTP/2.0\r\n" + h + b"\r\n",
        "header without colon": get + b"Bad header\r\n\r\n",
        "two requests": get + b"\r\nGET /y HTTP/1.1\r\n" + h + close + b"\r\n",
        "unread body": b"POST /x HTTP/1.1\r\n" + h + b"Content-Length: 5\r\n\r\nhello",
        "chunked unread body": (
            get + b"Transfer-Encoding: chunked\r\n" + close + b"\r\n5\r\nhello\r\n0\r\n\r\n"
        ),
        "gzip transfer coding": b"POST /x HTTP/1.1\r\n" + h + b"Transfer-Encoding: gzip\r\n\r\n",
        "bad Content-Length": b"POST /x HTTP/1.1\r\n" + h + b"Content-Length: abc\r\n\r\n",
    }


@pytest.mark.parametrize("case", sorted(_requests("http://h:1")))
def test_framing_like_caddy(real_caddy, bare, case):
    """The same raw request gets the same bytes from a real Caddy and from the fake."""
    want = exchange(real_caddy, _requests(real_caddy)[case], timeout=3)
    got = exchange(bare, _requests(bare)[case], timeout=3)
    # The Host header names each server's own port.
    assert got.replace(urlsplit(bare).netloc.encode(), b"HOST") == want.replace(
        urlsplit(real_caddy).netloc.encode(), b"HOST"
    )


def test_a_failing_hook_drops_the_request_like_a_go_panic():
    """Over loopback a hook's exception is recorded and the request goes unanswered."""
    import httpx

    fake = FakeFrankenPHP()

    def failing(event: object) -> None:
        raise RuntimeError("the worker crashed")

    conn = fake.connect("/chat")
    fake.on_close = failing
    with fake.serve() as server:
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(f"{server.admin_url}/frankenphp_ws/killConnection/{conn}")
        assert [str(error) for error in fake.hook_errors][:1] == ["the worker crashed"]
        answer = httpx.get(f"{server.admin_url}/frankenphp_ws/getClientsCount")
        assert answer.text == '{"count":0}\n'
