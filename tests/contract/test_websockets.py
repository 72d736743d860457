"""Real WebSocket clients (the ``websockets`` package) against the loopback fake."""

from __future__ import annotations

import contextlib
import re
import socket as socket_module
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from support import wait_for
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

import frankenws
from frankenws.testing import FakeFrankenPHP


class Peer:
    def __init__(self, socket: ClientConnection, conn_id: str) -> None:
        self.socket = socket
        self.id = conn_id

    def recv(self) -> bytes | str:
        return self.socket.recv(timeout=5)


@dataclass
class Env:
    fake: FakeFrankenPHP
    ws: frankenws.Client
    open: Callable[[str], Peer]


@pytest.fixture
def env() -> Iterator[Env]:
    fake = FakeFrankenPHP()
    with fake.serve() as server, server.client() as ws, contextlib.ExitStack() as sockets:

        def open_peer(route: str) -> Peer:
            before = set(ws.get_clients())
            # Keepalive pings off: the real server only answers pings when ping is enabled.
            socket = sockets.enter_context(
                connect(server.ws_url(route), ping_interval=None, open_timeout=5)
            )
            new = wait_for(lambda: set(ws.get_clients()) - before)
            (conn_id,) = new
            return Peer(socket, conn_id)

        yield Env(fake, ws, open_peer)


def test_connection_gets_id_and_route(env):
    """A client opening /chat is registered with a 32-hex id and route /chat."""
    ws, open_peer = env.ws, env.open
    peer = open_peer("/chat")
    assert len(peer.id) == 32
    assert ws.get_clients(route="/chat") == [peer.id]
    assert ws.list_routes() == ["/chat"]


def test_frames_from_every_send_route(env):
    """send, sendAll, sendToTag and sendToTagExpression arrive as binary frames."""
    ws, open_peer = env.ws, env.open
    a, b = open_peer("/chat"), open_peer("/news")
    ws.tag_client(b.id, "vip")
    ws.send(a.id, "direct")
    assert a.recv() == b"direct"
    assert ws.send_all("everyone") == 2
    assert a.recv() == b"everyone"
    assert b.recv() == b"everyone"
    assert ws.send_to_tag("vip", b"\x00tag") == 1
    assert b.recv() == b"\x00tag"
    assert ws.send_to_tag_expression("vip&!banned", "expr") == 1
    assert b.recv() == b"expr"


def test_kill_aborts_the_socket(env):
    """killConnection drops the TCP connection: the client sees 1006, the id goes away."""
    ws, open_peer = env.ws, env.open
    a, b = open_peer("/chat"), open_peer("/chat")
    ws.send(a.id, "last words")
    assert ws.kill_connection(a.id) is True
    assert a.recv() == b"last words"
    with pytest.raises(ConnectionClosed) as info:
        a.recv()
    assert info.value.rcvd is None  # no close frame was sent
    assert a.socket.close_code == 1006
    wait_for(lambda: ws.get_clients() == [b.id])
    ws.send(b.id, "still here")
    assert b.recv() == b"still here"


def test_client_close_cleans_up(env):
    """A client that closes normally leaves the registry; its tags and data go with it."""
    ws, open_peer = env.ws, env.open
    a = open_peer("/chat")
    ws.tag_client(a.id, "t")
    ws.set_stored_information(a.id, "k", "v")
    a.socket.close()
    wait_for(lambda: ws.get_clients() == [])
    assert ws.get_tags() == []
    assert ws.get_stored_information(a.id, "k") is None


def test_ping_round_trip(env):
    """enablePing sends a ping frame; the client's pong sets a positive RTT."""
    ws, open_peer = env.ws, env.open
    a = open_peer("/chat")
    assert ws.enable_ping(a.id) is True
    # The sync client answers pings from its background thread.
    rtt = wait_for(lambda: ws.get_client_ping_time(a.id))
    assert 0 < rtt < 5_000_000_000


def test_periodic_ping(env):
    """With an interval, pings keep coming and the RTT stays measured."""
    ws, open_peer = env.ws, env.open
    a = open_peer("/chat")
    ws.enable_ping(a.id, interval_ms=20)
    assert wait_for(lambda: ws.get_client_ping_time(a.id)) > 0
    ws.disable_ping(a.id)
    assert ws.get_client_ping_time(a.id) == 0


def test_hooks_play_the_php_worker(env):
    """on_message can store data, which the admin API then finds."""
    fake, ws, open_peer = env.fake, env.ws, env.open
    seen: list[str] = []

    def on_message(event: Any) -> None:
        seen.append(event.type)
        name = event.payload.decode()
        fake.set_stored_information(event.connection, "username", name)
        fake.tag_client(event.connection, "greeted")

    fake.on_message = on_message
    a = open_peer("/chat")
    a.socket.send("alice")
    wait_for(lambda: ws.search_stored_information("username", "eq", "alice") == [a.id])
    assert ws.get_clients_by_tag("greeted") == [a.id]
    assert seen == ["message"]


def test_open_and_close_events(env):
    """on_open sees the route and headers; on_close gets beforeClose then close."""
    fake, ws, open_peer = env.fake, env.ws, env.open
    events: list[tuple[str, str, str]] = []
    fake.on_open = lambda e: events.append((e.type, e.connection, e.route))
    fake.on_close = lambda e: events.append((e.type, e.connection, e.route))
    a = open_peer("/notifications")
    assert ws.kill_connection(a.id) is True
    wait_for(lambda: any(t == "close" for t, _, _ in events))
    types = [t for t, _, _ in events]
    assert types == ["open", "beforeClose", "close"]
    assert all(conn == a.id for _, conn, _ in events)
    assert events[0][2] == "/notifications"


def test_ghost_keeps_state_after_disconnect(env):
    """A ghost whose socket closes stays registered until released."""
    ws, open_peer = env.ws, env.open
    a = open_peer("/chat")
    ws.set_stored_information(a.id, "username", "alice")
    assert ws.activate_ghost(a.id) is True
    a.socket.close()
    time.sleep(0.2)
    assert ws.get_clients() == [a.id]
    assert ws.get_stored_information(a.id, "username") == "alice"
    assert ws.kill_connection(a.id) is False
    assert ws.release_ghost(a.id) is True
    assert ws.get_clients() == []


@pytest.fixture(scope="module")
def gws_url() -> Iterator[str]:
    with FakeFrankenPHP().serve() as server:
        yield server.ws_url("/chat")


def test_permessage_deflate_is_never_negotiated(gws_url):
    """websockets offers compression by default; like gws, the server accepts none."""
    with connect(gws_url, ping_interval=None, open_timeout=5) as socket:
        assert "permessage-deflate" in socket.request.headers["Sec-WebSocket-Extensions"]
        assert "Sec-WebSocket-Extensions" not in socket.response.headers
        assert socket.protocol.extensions == []


def raw_upgrade(url: str, method: str = "GET", version: str = "13") -> bytes:
    """A hand-written upgrade request; the answer without its Date header."""
    parts = urlsplit(url)
    request = (
        f"{method} {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Connection: Upgrade\r\nUpgrade: websocket\r\n"
        f"Sec-WebSocket-Version: {version}\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    data = b""
    with socket_module.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(request.encode())
        while chunk := sock.recv(65536):
            data += chunk
    return re.sub(rb"Date: [^\r]*\r\n", b"", data)


def test_old_protocol_version_is_400(gws_url):
    """Sec-WebSocket-Version: 8 gets gws' plain-text 400, then the socket closes."""
    assert raw_upgrade(gws_url, version="8") == (
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 36\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        b"gws: websocket version not supported"
    )


def test_post_upgrade_is_a_handshake_error(gws_url):
    """Only GET upgrades: a POST gets gws' handshake error (was a 405)."""
    answer = raw_upgrade(gws_url, method="POST")
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert answer.endswith(b"\r\n\r\ngws: handshake error")


def test_switching_protocols_answer_is_gws_shaped(gws_url):
    """The 101 carries Upgrade, Connection and Sec-WebSocket-Accept, nothing else."""
    parts = urlsplit(gws_url)
    request = (
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
    )
    with socket_module.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(request.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(4096)
    assert answer == (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    )
