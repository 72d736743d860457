"""Transport failures provoked for real, and the retry policy."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

import frankenws


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _tcp_server(handle: Callable[[socket.socket], None]) -> Iterator[str]:
    """A loopback server that hands each accepted connection to ``handle``."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.settimeout(2)
            handle(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        server.close()


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never answers."""
    held: list[socket.socket] = []
    with _tcp_server(held.append) as url:
        yield url
    for conn in held:
        conn.close()


@pytest.fixture
def canned_server() -> Iterator[tuple[str, list[bytes]]]:
    """An HTTP server answering each request with the next canned raw response."""
    answers: list[bytes] = []

    def answer(conn: socket.socket) -> None:
        with conn:
            _read_head(conn)
            if answers:
                conn.sendall(answers.pop(0))

    with _tcp_server(answer) as url:
        yield url, answers


@pytest.fixture
def resetting_server() -> Iterator[str]:
    """A server that reads the request, then resets the connection (RST, no answer)."""

    def reset(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    with _tcp_server(reset) as url:
        yield url


@pytest.fixture
def recording_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """An HTTP server that records each request's headers and answers an empty list."""
    seen: list[dict[str, str]] = []

    def record(conn: socket.socket) -> None:
        with conn:
            lines = _read_head(conn).split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
            seen.append({k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])})
            conn.sendall(_http("200 OK", b'{"clients":null}'))

    with _tcp_server(record) as url:
        yield url, seen


def _http(status: str, body: bytes, ctype: str = "application/json") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"Connection: close\r\n\r\n" + body


def test_connect_error():
    """Nothing listening: ConnectError names the URL and how to configure it."""
    url = f"http://127.0.0.1:{_closed_port()}"
    with frankenws.Client(url, retries=0) as client, pytest.raises(frankenws.ConnectError) as info:
        client.get_clients()
    assert url in str(info.value)
    assert "FRANKENWS_ADMIN_URL" in str(info.value)
    assert isinstance(info.value, frankenws.TransportError)


def test_connect_error_unix_socket(tmp_path):
    """A missing unix socket is a ConnectError too."""
    path = tmp_path / "admin.sock"
    with (
        frankenws.Client(f"unix/{path}", retries=0) as client,
        pytest.raises(frankenws.ConnectError, match="unix/"),
    ):
        client.list_routes()


def test_request_timeout(silent_server):
    """A server that accepts but never answers raises RequestTimeout."""
    with (
        frankenws.Client(silent_server, timeout=0.3) as client,
        pytest.raises(frankenws.RequestTimeout, match=r"did not answer within 0\.3 s"),
    ):
        client.kill_connection("abc")


async def test_async_request_timeout(silent_server):
    """Same for the async client."""
    async with frankenws.AsyncClient(silent_server, timeout=0.3) as client:
        with pytest.raises(frankenws.RequestTimeout):
            await client.get_clients_count()


def test_connection_reset_is_a_transport_error(resetting_server):
    """A reset mid-request is a TransportError that is none of the specific ones."""
    with (
        frankenws.Client(resetting_server) as client,
        pytest.raises(frankenws.TransportError) as info,
    ):
        client.kill_connection("x")
    assert resetting_server in str(info.value)
    assert "may or may not have been applied" in str(info.value)
    assert type(info.value) is frankenws.TransportError


def test_protocol_error_on_garbage(canned_server):
    """A 200 whose body is not the protocol's JSON raises ProtocolError."""
    url, answers = canned_server
    answers.append(_http("200 OK", b"<html>hello</html>", "text/html"))
    answers.append(_http("200 OK", b'{"clients": 5}'))
    answers.append(_http("200 OK", b'{"count": "3"}'))
    with frankenws.Client(url) as client:
        with pytest.raises(frankenws.ProtocolError, match="not JSON"):
            client.get_clients()
        with pytest.raises(frankenws.ProtocolError, match="not a list of strings"):
            client.get_clients()
        with pytest.raises(frankenws.ProtocolError, match="'count'"):
            client.get_clients_count()


def test_redirect_is_never_followed(canned_server):
    """A 3xx is reported as an encoding bug, not followed."""
    url, answers = canned_server
    answers.append(
        b"HTTP/1.1 301 Moved Permanently\r\nLocation: /frankenphp_ws/x\r\n"
        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    with frankenws.Client(url) as client, pytest.raises(frankenws.ProtocolError, match="301"):
        client.kill_connection("x")


def test_not_found_from_something_else(canned_server):
    """A 404 that is not Go's router text means the URL is not the admin endpoint."""
    url, answers = canned_server
    answers.append(_http("404 Not Found", b"404: Not Found", "text/plain"))
    with frankenws.Client(url) as client, pytest.raises(frankenws.NotFound, match="admin endpoint"):
        client.get_clients()


class _FlakyTransport(httpx.BaseTransport):
    """Fails to connect a given number of times, then answers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={"clientID": "x", "success": True, "counter": 3})


def test_get_is_retried_on_connect_errors():
    """A GET whose connection fails is retried (bounded) and then succeeds."""
    transport = _FlakyTransport(failures=2)
    with frankenws.Client(transport=transport, retries=2) as client:
        assert client.get_client_message_counter("x") == 3
    assert transport.attempts == 3


def test_retries_are_bounded():
    """After the retries are spent the ConnectError surfaces."""
    transport = _FlakyTransport(failures=10)
    with (
        frankenws.Client(transport=transport, retries=2) as client,
        pytest.raises(frankenws.ConnectError),
    ):
        client.get_client_message_counter("x")
    assert transport.attempts == 3


def test_post_is_never_retried():
    """State-changing requests are sent at most once."""
    transport = _FlakyTransport(failures=1)
    with (
        frankenws.Client(transport=transport, retries=5) as client,
        pytest.raises(frankenws.ConnectError),
    ):
        client.kill_connection("x")
    assert transport.attempts == 1


async def _failure_on_every_sender(url: str, **kw: object) -> list[tuple[type, str, str]]:
    """The error each sender raises for the same request: both clients and the bulk lane."""
    from frankenws._calls import calls
    from frankenws._lane import AiohttpLane

    errors: list[frankenws.FrankenWSError] = []
    with frankenws.Client(url, retries=0, **kw) as client:
        with pytest.raises(frankenws.FrankenWSError) as info:
            client.kill_connection("x")
        errors.append(info.value)
        async with AiohttpLane(client, 1) as lane:
            with pytest.raises(frankenws.FrankenWSError) as info:
                await lane.run(calls.kill_connection("x"))
            errors.append(info.value)
    async with frankenws.AsyncClient(url, retries=0, **kw) as aclient:
        with pytest.raises(frankenws.FrankenWSError) as info:
            await aclient.kill_connection("x")
        errors.append(info.value)
    return [(type(e), str(e), e.url) for e in errors]


async def test_refused_connection_reads_the_same_on_every_sender():
    """Same error class, message (with its hints) and URL from all three senders."""
    url = f"http://127.0.0.1:{_closed_port()}"
    sync, lane, asynchronous = await _failure_on_every_sender(url)
    assert sync == lane == asynchronous
    assert sync[0] is frankenws.ConnectError
    assert "Connection refused" in sync[1]
    assert "FRANKENWS_ADMIN_URL" in sync[1]


async def test_missing_unix_socket_reads_the_same_on_every_sender(tmp_path):
    """The lane checks the socket file too, instead of a library error."""
    sync, lane, asynchronous = await _failure_on_every_sender(f"unix/{tmp_path}/admin.sock")
    assert sync == lane == asynchronous
    assert sync[0] is frankenws.ConnectError
    assert "no such socket file" in sync[1]


async def test_timeout_reads_the_same_on_every_sender(silent_server):
    """The timeout hint is on every path."""
    sync, lane, asynchronous = await _failure_on_every_sender(silent_server, timeout=0.3)
    assert sync == lane == asynchronous
    assert sync[0] is frankenws.RequestTimeout
    assert "Raise timeout=" in sync[1]


async def test_hang_up_reads_the_same_on_every_sender(canned_server):
    """A server closing without an answer: ServerDisconnected with its caveat, everywhere."""
    url, _ = canned_server  # no canned answer: it reads the request and hangs up
    sync, lane, asynchronous = await _failure_on_every_sender(url)
    assert sync == lane == asynchronous
    assert sync[0] is frankenws.ServerDisconnected
    assert "may or may not have been applied" in sync[1]


async def test_reset_reads_the_same_on_every_sender(resetting_server):
    """A reset is the generic TransportError, worded alike whichever library saw it."""
    sync, lane, asynchronous = await _failure_on_every_sender(resetting_server)
    assert sync == lane == asynchronous
    assert sync[0] is frankenws.TransportError


async def test_every_sender_sends_the_same_headers(recording_server):
    """Host, credentials from the URL, User-Agent and extra headers reach the wire alike."""
    from frankenws._calls import calls
    from frankenws._lane import AiohttpLane

    base, seen = recording_server
    address = base.removeprefix("http://")
    url = f"http://admin:s%40cret@{address}"
    options = {"headers": {"X-Team": "ops"}}
    with frankenws.Client(url, **options) as client:
        assert client.get_clients() == []
        async with AiohttpLane(client, 1) as lane:
            assert await lane.run(calls.get_clients()) == []
    async with frankenws.AsyncClient(url, **options) as aclient:
        assert await aclient.get_clients() == []
    wanted = ("host", "authorization", "user-agent", "x-team")
    sync, lane_headers, asynchronous = ({k: h.get(k) for k in wanted} for h in seen)
    assert sync == lane_headers == asynchronous
    assert sync["host"] == address == client.host_header
    assert sync["authorization"] == "Basic YWRtaW46c0BjcmV0"  # admin:s@cret
