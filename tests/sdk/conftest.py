from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest


class Wire:
    """Records what a client puts on the wire and answers with a canned response."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.status = 200
        self.body = b""
        self.headers: dict[str, str] = {}

    def handler(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return httpx.Response(self.status, headers=self.headers, content=self.body)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    @property
    def target(self) -> str:
        return self.last.url.raw_path.decode("ascii")


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def wire_client(wire: Wire) -> Iterator[Callable[..., object]]:
    import frankenws

    made: list[frankenws.Client] = []

    def make(**kw: object) -> frankenws.Client:
        client = frankenws.Client(
            "http://localhost:2019", transport=httpx.MockTransport(wire.handler), **kw
        )
        made.append(client)
        return client

    yield make
    for c in made:
        c.close()


# A valid argument for every parameter name of the 41 operation methods.
_SAMPLE_ARGS: dict[str, object] = {
    "id": "conn",
    "current_id": "conn",
    "new_id": "other",
    "tag": "t",
    "key": "k",
    "route": "/chat",
    "data": "hello",
    "value": "v",
    "expression": "t",
    "op": "eq",
    "interval_ms": 5,
    "max_messages": 5,
    "max_time_seconds": 5,
    "expire_seconds": 5,
}


@pytest.fixture
def sample_args() -> Callable[..., dict[str, object]]:
    """Valid keyword arguments for an operation method, some of them overridden."""
    import inspect

    import frankenws

    def make(method: str, **overrides: object) -> dict[str, object]:
        params = list(inspect.signature(getattr(frankenws.Client, method)).parameters)[1:]
        return {p: overrides.get(p, _SAMPLE_ARGS[p]) for p in params}

    return make


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FRANKENWS_ADMIN_URL", raising=False)
    monkeypatch.delenv("CADDY_ADMIN", raising=False)


# --- real loopback servers that misbehave on purpose -----------------------------


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


class Canned:
    """A server's queue of raw answers; a request finding the queue empty gets none."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers: list[bytes] = []

    def reply(
        self,
        status: str,
        body: bytes,
        ctype: str = "application/json",
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.answers.append(http_answer(status, body, ctype, headers))


@pytest.fixture
def canned_server() -> Iterator[Canned]:
    """An HTTP server answering each request with the next canned raw response."""
    canned: list[Canned] = []

    def answer(conn: socket.socket) -> None:
        with conn:
            _read_head(conn)
            if canned[0].answers:
                conn.sendall(canned[0].answers.pop(0))

    with _tcp_server(answer) as url:
        canned.append(Canned(url))
        yield canned[0]


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
            conn.sendall(http_answer("200 OK", b'{"clients":null}'))

    with _tcp_server(record) as url:
        yield url, seen


def http_answer(
    status: str,
    body: bytes,
    ctype: str = "application/json",
    headers: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """A raw HTTP/1.1 response that closes the connection."""
    head = f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers)
    return head.encode() + b"Connection: close\r\n\r\n" + body
