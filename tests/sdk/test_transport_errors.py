"""Transport failures provoked for real, and the retry policy."""

from __future__ import annotations

import socket

import httpx
import pytest

import frankenws


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    url = canned_server.url
    canned_server.reply("200 OK", b"<html>hello</html>", "text/html")
    canned_server.reply("200 OK", b'{"clients": 5}')
    canned_server.reply("200 OK", b'{"count": "3"}')
    with frankenws.Client(url) as client:
        with pytest.raises(frankenws.ProtocolError, match="not JSON"):
            client.get_clients()
        with pytest.raises(frankenws.ProtocolError, match="not a list of strings"):
            client.get_clients()
        with pytest.raises(frankenws.ProtocolError, match="'count'"):
            client.get_clients_count()


@pytest.mark.parametrize("status", ["301 Moved Permanently", "307 Temporary Redirect"])
async def test_redirect_is_never_followed(canned_server, status):
    """Go up to 1.25 redirects with 301, from 1.26 with 307: both are reported, not followed."""
    from frankenws._calls import calls
    from frankenws.bulk._http1 import Http1Lane

    for _ in range(3):
        canned_server.reply(status, b"", "text/html", (("Location", "/frankenphp_ws/x"),))
    code = status.split()[0]
    with frankenws.Client(canned_server.url) as client:
        with pytest.raises(frankenws.ProtocolError, match=f"{code} redirect") as info:
            client.kill_connection("x")
        # What an old Go router (Caddy 2.6) does to escaped values, not a plea to report it.
        assert "instead of running the call" in str(info.value)
        assert "Go 1.21 and older" in str(info.value)
        assert "bug" not in str(info.value)
        async with Http1Lane(client, 1) as lane:
            with pytest.raises(frankenws.ProtocolError, match=f"{code} redirect"):
                await lane.run(calls.kill_connection("x"))
    async with frankenws.AsyncClient(canned_server.url) as aclient:
        with pytest.raises(frankenws.ProtocolError, match=f"{code} redirect"):
            await aclient.kill_connection("x")
    assert canned_server.answers == []  # three requests, none followed to /frankenphp_ws/x


def test_not_found_from_something_else(canned_server):
    """A 404 that is not Go's router text means the URL is not the admin endpoint."""
    url = canned_server.url
    canned_server.reply("404 Not Found", b"404: Not Found", "text/plain")
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
    from frankenws.bulk._http1 import Http1Lane

    errors: list[frankenws.FrankenWSError] = []
    with frankenws.Client(url, retries=0, **kw) as client:
        with pytest.raises(frankenws.FrankenWSError) as info:
            client.kill_connection("x")
        errors.append(info.value)
        async with Http1Lane(client, 1) as lane:
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
    url = canned_server.url  # no canned answer: it reads the request and hangs up
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
    from frankenws.bulk._http1 import Http1Lane

    base, seen = recording_server
    address = base.removeprefix("http://")
    url = f"http://admin:s%40cret@{address}"
    options = {"headers": {"X-Team": "ops"}}
    with frankenws.Client(url, **options) as client:
        assert client.get_clients() == []
        async with Http1Lane(client, 1) as lane:
            assert await lane.run(calls.get_clients()) == []
    async with frankenws.AsyncClient(url, **options) as aclient:
        assert await aclient.get_clients() == []
    wanted = ("host", "authorization", "user-agent", "x-team")
    sync, lane_headers, asynchronous = ({k: h.get(k) for k in wanted} for h in seen)
    assert sync == lane_headers == asynchronous
    assert sync["host"] == address == client.host_header
    assert sync["authorization"] == "Basic YWRtaW46c0BjcmV0"  # admin:s@cret
