"""Sending: frame limit, empty bodies, NUL truncation, orphans, ghosts (PROTOCOL.md §4)."""

from __future__ import annotations

import json

import pytest

LIMIT = 16 * 1024 * 1024


@pytest.mark.parametrize("route", ["send/c1", "sendAll", "sendToTag/t", "sendToTagExpression/t"])
def test_frames_over_16_mib_fail_and_close_the_connection(route, fake, call):
    """Exactly 16 MiB is delivered; one byte more fails and closes with 1001."""
    conn = fake.connect("/chat", id="c1")
    fake.tag_client(conn, "t")
    fake.enable_queue_counter(conn)
    call("POST", f"/frankenphp_ws/{route}", b"a" * LIMIT)
    assert [len(frame) for frame in fake.received(conn)] == [LIMIT]
    response = call("POST", f"/frankenphp_ws/{route}", b"b" * (LIMIT + 1))
    assert response.status == 200
    if response.body:
        assert json.loads(response.body)["sentCount"] == 0
    assert fake.peer(conn).close_code == 1001
    assert fake.get_clients() == []
    assert [e.type for e in fake.events[-2:]] == ["beforeClose", "close"]
    assert fake.events[-1].payload == b"message too large"
    assert fake.get_client_message_counter(conn) == 1


def test_oversized_write_to_a_ghost(fake):
    """A ghost hit by an oversized write takes the ghost path and stays registered."""
    conn = fake.connect()
    fake.activate_ghost(conn)
    assert fake.send(conn, b"x" * (LIMIT + 1)) is False
    assert fake.get_clients() == [conn]
    assert fake.events[-1].type == "ghostConnectionClose"


def test_empty_frames_are_fine_for_broadcasts(fake, call):
    """sendAll, sendToTag and sendToTagExpression accept an empty body."""
    conn = fake.connect(id="c1")
    fake.tag_client(conn, "t")
    call("POST", "/frankenphp_ws/sendAll")
    call("POST", "/frankenphp_ws/sendToTag/t")
    call("POST", "/frankenphp_ws/sendToTagExpression/t")
    assert fake.received(conn) == [b"", b"", b""]


def test_send_truncates_id_and_route_at_nul(fake, call):
    """send passes id and route through C strings: a NUL ends them."""
    conn = fake.connect("/chat", id="c1")
    fake.enable_queue_counter(conn)
    call("POST", "/frankenphp_ws/send/c1%00junk?route=/chat%00x", b"x")
    assert fake.received(conn) == [b"x"]
    (message,) = fake.get_client_message_queue(conn)
    assert (message.send_target, message.route) == ("c1", "/chat")


def test_other_sends_keep_nul_bytes(fake, call):
    """Only send crosses C; a NUL in a tag is part of the tag."""
    conn = fake.connect(id="c1")
    fake.tag_client(conn, "t")
    assert json.loads(call("POST", "/frankenphp_ws/sendToTag/t%00x", b"x").body)["sentCount"] == 0


def test_send_to_tag_skips_orphans_and_route_mismatches(fake, call):
    """Orphans hold the tag but have no socket; a route filter applies per id."""
    chat = fake.connect("/chat", id="a")
    news = fake.connect("/news", id="b")
    for conn in (chat, news, "orphan"):
        fake.tag_client(conn, "t")
    body = call("POST", "/frankenphp_ws/sendToTag/t?route=/news", b"x").body
    assert body == b'{"route":"/news","sentCount":1,"tag":"t"}\n'
    assert call("GET", "/frankenphp_ws/getTagCount/t").body == b'{"count":3,"tag":"t"}\n'


def test_send_to_tag_expression_with_route_and_plus(fake, call):
    """A single-encoded '+' becomes a space and is then deleted by the cleaner."""
    a = fake.connect("/chat", id="a")
    b = fake.connect("/news", id="b")
    for conn in (a, b):
        fake.tag_client(conn, "x")
        fake.tag_client(conn, "y")
    body = call("POST", "/frankenphp_ws/sendToTagExpression/x+%2526+y?route=/chat", b"m").body
    assert body == b'{"expression":"x \\u0026 y","route":"/chat","sentCount":1}\n'
    assert fake.received(a) == [b"m"]
    assert fake.received(b) == []


def test_server_mode_send_helpers(fake):
    """The fake's PHP-style helpers accept str or bytes and report delivery."""
    a = fake.connect("/chat")
    assert fake.send(a, "é") is True
    assert fake.send(a, b"x", route="/news") is False
    assert fake.send("nobody", "x") is False
    assert fake.send_all("all", route="/chat") == 1
    fake.tag_client(a, "vip")
    assert fake.send_to_tag("vip", b"t") == 1
    assert fake.send_to_tag_expression("vip&!banned", b"e") == 1
    assert fake.send_to_tag_expression("vip&!u", b"e") == 0  # 'u' corrupts 'true' (§8.3)
    assert fake.received(a) == ["é".encode(), b"all", b"t", b"e"]
