"""The bulk engine's own HTTP/1.1 sender against raw servers that frame, close and
misbehave in every way the lane must read: each answer gives what a single SDK call
gives, and no connection is reused after its framing became doubtful.

The "same error on every sender" checks (refused, timeout, hang-up, reset, size cap,
redirects, headers) live in ``tests/sdk``; real Caddies are in ``tests/sdk/test_unix_host``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

import frankenws
from frankenws import bulk
from frankenws._calls import calls
from frankenws.bulk._http1 import Http1Lane

CLIENTS = b'{"clients":["a","b"]}\n'


@dataclass
class Seen:
    """What a raw server saw: connections accepted, requests read (in order)."""

    connections: int = 0
    open_now: int = 0
    most_open: int = 0
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


Handler = Callable[[socket.socket, "Requests", Seen], None]


class Requests:
    """Reads the requests of one connection, as a server does."""

    def __init__(self, conn: socket.socket, seen: Seen) -> None:
        self._file = conn.makefile("rb")
        self._seen = seen

    def next(self) -> tuple[str, str, dict[str, str], bytes] | None:
        line = self._file.readline()
        if not line:
            return None
        method, target, _ = line.decode().split(" ", 2)
        headers: dict[str, str] = {}
        while (line := self._file.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self._file.read(int(headers.get("content-length", "0")))
        request = (method, target, headers, body)
        with self._seen.lock:
            self._seen.requests.append(request)
        return request


@pytest.fixture
def raw() -> Iterator[Callable[[Handler], str]]:
    """Start a raw server running ``handler(conn, requests, seen)`` per connection."""
    listeners: list[socket.socket] = []

    def start(handler: Handler) -> str:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listeners.append(listener)
        seen = Seen()
        start.seen = seen  # type: ignore[attr-defined]

        def one(conn: socket.socket) -> None:
            with seen.lock:
                seen.connections += 1
                seen.open_now += 1
                seen.most_open = max(seen.most_open, seen.open_now)
            try:
                with conn:
                    handler(conn, Requests(conn, seen), seen)
            except OSError:
                pass
            finally:
                with seen.lock:
                    seen.open_now -= 1

        def accept() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=one, args=(conn,), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}"

    yield start
    for listener in listeners:
        listener.close()


def _answer(body: bytes, *, extra: str = "", status: str = "200 OK") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
    return (head + f"Content-Length: {len(body)}\r\n{extra}\r\n").encode() + body


def _killed(target: str) -> bytes:
    return _answer(b'{"clientID":"%s","success":true}\n' % target.rsplit("/", 1)[1].encode())


def keep_alive(conn: socket.socket, requests: Requests, seen: Seen) -> None:
    """Answers every kill on the same connection until the client hangs up."""
    while (request := requests.next()) is not None:
        conn.sendall(_killed(request[1]))


async def _get_clients(url: str) -> list[str]:
    with frankenws.Client(url) as client:
        async with Http1Lane(client, 1) as lane:
            return await lane.run(calls.get_clients())


def _chunked(body: bytes) -> bytes:
    pieces = [body[:5], body[5:9], body[9:]]
    chunks = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in pieces)
    return (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\nX-T: 1\r\n\r\n"
    )


FRAMINGS = {
    "content-length": _answer(CLIENTS),
    "chunked": _chunked(CLIENTS),
    "until-close": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + CLIENTS,
    "after-100-continue": b"HTTP/1.1 100 Continue\r\n\r\n" + _answer(CLIENTS),
    "http/1.0": _answer(CLIENTS).replace(b"HTTP/1.1", b"HTTP/1.0", 1),
}


@pytest.mark.parametrize("framing", list(FRAMINGS))
@pytest.mark.parametrize("piece", [0, 1, 7], ids=["one-write", "byte-by-byte", "7-bytes"])
async def test_every_framing_reads_as_the_client_reads_it(raw, framing, piece):
    answer = FRAMINGS[framing]

    def serve(conn: socket.socket, requests: Requests, seen: Seen) -> None:
        requests.next()
        if not piece:
            conn.sendall(answer)
        for start in range(0, len(answer) if piece else 0, piece or 1):
            conn.sendall(answer[start : start + piece])
            time.sleep(0.001)
        if framing in ("until-close", "http/1.0"):
            conn.shutdown(socket.SHUT_WR)
        requests.next()  # the client may keep the connection: wait for it to hang up

    url = raw(serve)
    assert await _get_clients(url) == ["a", "b"]
    with frankenws.Client(url) as client:
        assert client.get_clients() == ["a", "b"]


def test_connections_are_kept_and_bounded_by_concurrency(raw):
    url = raw(keep_alive)
    ids = [f"c{i}" for i in range(300)]
    with frankenws.Client(url) as client:
        report = bulk.kill_connections(client, ids, concurrency=4)
    assert report.sender == "http1"
    assert sorted(report.done) == sorted(ids)
    seen = raw.seen  # type: ignore[attr-defined]
    assert 1 <= seen.connections <= 4
    assert seen.most_open <= 4
    assert len(seen.requests) == 300


def test_requests_carry_the_clients_bytes(raw):
    """Method, target (prefix included), Content-Length and body as the SDK sends them."""
    url = raw(keep_alive)
    with frankenws.Client(url + "/caddy", allow_path=True) as client:
        bulk.kill_connections(client, ["a b", "c"], concurrency=1)
        bulk.send_messages(client, ["c"], "héllo", concurrency=1)
    seen = raw.seen  # type: ignore[attr-defined]
    by_target = {target: (method, headers, body) for method, target, headers, body in seen.requests}
    method, headers, body = by_target["/caddy/frankenphp_ws/killConnection/a%20b"]
    assert (method, headers["content-length"], body) == ("POST", "0", b"")
    method, headers, body = by_target["/caddy/frankenphp_ws/send/c"]
    assert method == "POST"
    assert body == "héllo".encode()
    assert headers["content-length"] == str(len(body))
    assert headers["host"] == url.removeprefix("http://")


def test_answers_that_close_the_connection_are_not_reused(raw):
    def serve(conn: socket.socket, requests: Requests, seen: Seen) -> None:
        request = requests.next()
        assert request is not None
        conn.sendall(_killed(request[1]).replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))

    url = raw(serve)
    ids = [f"c{i}" for i in range(20)]
    with frankenws.Client(url) as client:
        report = bulk.kill_connections(client, ids, concurrency=2)
    assert sorted(report.done) == sorted(ids)
    assert raw.seen.connections == 20  # type: ignore[attr-defined]


def test_bytes_after_an_answer_end_that_connection(raw):
    """Whatever follows a complete answer cannot be framed: the next request goes on a
    new connection instead of reading it as its answer."""

    def serve(conn: socket.socket, requests: Requests, seen: Seen) -> None:
        while (request := requests.next()) is not None:
            conn.sendall(_killed(request[1]) + b"HTTP/1.1 200 OK\r\n")

    url = raw(serve)
    with frankenws.Client(url) as client:
        report = bulk.kill_connections(client, ["a", "b", "c"], concurrency=1)
    assert sorted(report.done) == ["a", "b", "c"]
    assert raw.seen.connections == 3  # type: ignore[attr-defined]


async def test_a_kept_connection_closed_while_idle_is_not_used(raw):
    """The server closing an idle connection (an idle timeout) costs nothing: the next
    request, a POST, goes on a fresh connection and is answered."""

    def serve(conn: socket.socket, requests: Requests, seen: Seen) -> None:
        request = requests.next()
        assert request is not None
        conn.sendall(_killed(request[1]))
        time.sleep(0.05)  # then close the idle connection

    url = raw(serve)
    with frankenws.Client(url) as client:
        async with Http1Lane(client, 1) as lane:
            assert await lane.run(calls.kill_connection("a")) is True
            await asyncio.sleep(0.3)
            assert await lane.run(calls.kill_connection("b")) is True
    assert raw.seen.connections == 2  # type: ignore[attr-defined]


async def test_a_kept_connection_lost_as_a_request_left(raw):
    """Closed with the second request unanswered: a GET is sent again on a new
    connection (nothing was read; GETs change nothing); a POST is not, it may have
    been applied."""

    def serve(conn: socket.socket, requests: Requests, seen: Seen) -> None:
        request = requests.next()
        assert request is not None
        answer = _answer(CLIENTS) if request[0] == "GET" else _killed(request[1])
        conn.sendall(answer)
        requests.next()  # read the next one, then hang up without answering

    url = raw(serve)
    with frankenws.Client(url) as client:
        async with Http1Lane(client, 1) as lane:
            assert await lane.run(calls.get_clients()) == ["a", "b"]
            assert await lane.run(calls.get_clients()) == ["a", "b"]
            assert raw.seen.connections == 2  # type: ignore[attr-defined]
            with pytest.raises(frankenws.ServerDisconnected, match="may or may not"):
                await lane.run(calls.kill_connection("y"))
    posts = [target for method, target, _, _ in raw.seen.requests if method == "POST"]  # type: ignore[attr-defined]
    assert posts == ["/frankenphp_ws/killConnection/y"]
    assert raw.seen.connections == 2  # type: ignore[attr-defined]


async def test_a_malformed_answer_is_a_transport_error(raw):
    def serve(conn: socket.socket, requests: Requests, seen: Seen) -> None:
        requests.next()
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        requests.next()

    url = raw(serve)
    with pytest.raises(frankenws.TransportError, match="malformed answer"):
        await _get_clients(url)


@pytest.mark.parametrize("framing", ["chunked", "until-close"])
async def test_the_size_cap_holds_for_answers_without_a_length(raw, framing):
    body = b'{"clients":[' + b'"xxxxxxxx",' * 20_000 + b'"y"]}'
    answer = (
        _chunked(body) if framing == "chunked" else FRAMINGS["until-close"][: -len(CLIENTS)] + body
    )

    def serve(conn: socket.socket, requests: Requests, seen: Seen) -> None:
        requests.next()
        conn.sendall(answer)
        conn.shutdown(socket.SHUT_WR)
        requests.next()

    url = raw(serve)
    with frankenws.Client(url, max_response_bytes=100_000) as client:
        async with Http1Lane(client, 1) as lane:
            with pytest.raises(frankenws.ResponseTooLarge, match="100,000 bytes"):
                await lane.run(calls.get_clients())


async def test_a_cancelled_request_frees_its_connection(raw):
    """Ctrl-C with a request in flight: that connection is dropped, and the lane (at
    concurrency 1) still sends the next request."""

    def serve(conn: socket.socket, requests: Requests, seen: Seen) -> None:
        request = requests.next()
        if seen.connections == 1:
            requests.next()  # the first connection never answers
            return
        assert request is not None
        conn.sendall(_killed(request[1]))
        requests.next()

    url = raw(serve)
    with frankenws.Client(url) as client:
        async with Http1Lane(client, 1) as lane:
            hung = asyncio.ensure_future(lane.run(calls.kill_connection("a")))
            await asyncio.sleep(0.2)
            hung.cancel()
            with pytest.raises(asyncio.CancelledError):
                await hung
            answered = await asyncio.wait_for(lane.run(calls.kill_connection("b")), 5)
    assert answered is True
    assert raw.seen.connections == 2  # type: ignore[attr-defined]


async def test_waiting_for_a_busy_connection_counts_against_the_deadline(raw):
    """More callers than connections, and the one connection never answers: the caller
    waiting for it gets the deadline's error too, instead of waiting without end."""

    def serve(conn: socket.socket, requests: Requests, seen: Seen) -> None:
        requests.next()
        requests.next()

    url = raw(serve)
    with frankenws.Client(url, timeout=0.3) as client:
        async with Http1Lane(client, 1) as lane:
            results = await asyncio.wait_for(
                asyncio.gather(
                    *(lane.run(calls.kill_connection(x)) for x in "ab"), return_exceptions=True
                ),
                5,
            )
    assert isinstance(results[0], frankenws.RequestTimeout)
    # The second one ran out of time waiting, connecting (nothing sent: ConnectError) or,
    # given the connection with a moment left, waiting for its own answer.
    assert isinstance(results[1], (frankenws.RequestTimeout, frankenws.ConnectError))
