"""The per-id queue counter (PROTOCOL.md §7.5)."""

from __future__ import annotations

import base64
import json

import pytest

START = 1_700_000_000


def queue(call, conn):
    return json.loads(call("GET", f"/frankenphp_ws/getClientMessageQueue/{conn}").body)


def test_records_successful_sends_of_every_kind(fake, clock, call):
    """send/sendAll/sendToTag/sendToTagExpression record type, target, route filter."""
    conn = fake.connect("/chat", id="c1")
    fake.tag_client(conn, "vip")
    call("POST", "/frankenphp_ws/enableQueueCounter/c1")
    call("POST", "/frankenphp_ws/send/c1", b"\x00\xff")
    clock.advance(1.5)
    call("POST", "/frankenphp_ws/sendAll?route=/chat", b"")
    call("POST", "/frankenphp_ws/sendToTag/vip", b"ab")
    call("POST", "/frankenphp_ws/sendToTagExpression/vip%2526%2521x", b"abc")
    body = queue(call, conn)
    assert body["count"] == 4
    assert body["messages"] == [
        {"data": "AP8=", "id": 1, "route": "", "sendTarget": "c1", "sendType": "direct",
         "timestamp": START},
        {"data": "", "id": 2, "route": "/chat", "sendTarget": "all", "sendType": "all",
         "timestamp": START + 1},
        {"data": "YWI=", "id": 3, "route": "", "sendTarget": "vip", "sendType": "tag",
         "timestamp": START + 1},
        {"data": "YWJj", "id": 4, "route": "", "sendTarget": "vip&!x",
         "sendType": "tagExpression", "timestamp": START + 1},
    ]  # fmt: skip
    counter = call("GET", "/frankenphp_ws/getClientMessageCounter/c1").body
    assert counter == b'{"clientID":"c1","counter":4}\n'


def test_message_json_bytes(fake, call):
    """Byte-exact queue body: sorted keys, HTML-escaped target, padded base64."""
    fake.connect(id="a<b")
    fake.enable_queue_counter("a<b")
    call("POST", "/frankenphp_ws/send/a%3Cb", b"x")
    body = call("GET", "/frankenphp_ws/getClientMessageQueue/a%3Cb").body
    assert body == (
        b'{"clientID":"a\\u003cb","count":1,"messages":[{"data":"eA==","id":1,"route":"",'
        b'"sendTarget":"a\\u003cb","sendType":"direct","timestamp":1700000000}]}\n'
    )


def test_route_field_is_the_filter_not_the_connection_route(fake):
    """An unfiltered send records route '' even on /chat."""
    conn = fake.connect("/chat")
    fake.enable_queue_counter(conn)
    fake.send(conn, b"x")
    fake.send(conn, b"y", route="/chat")
    assert [m.route for m in fake.get_client_message_queue(conn)] == ["", "/chat"]


def test_failed_writes_and_pings_are_not_recorded(fake):
    """Route mismatch, unknown id, closed ghost, pings: nothing recorded."""
    conn = fake.connect("/chat")
    fake.enable_queue_counter(conn)
    fake.send(conn, b"x", route="/news")
    fake.enable_ping(conn)
    fake.enable_queue_counter("nobody")
    fake.send("nobody", b"x")
    fake.activate_ghost(conn)
    fake.disconnect(conn)
    assert fake.send_all(b"x") == 0
    assert fake.get_client_message_counter(conn) == 0
    assert fake.get_client_message_counter("nobody") == 0


def test_defaults_and_invalid_limits(call):
    """maxMessages 100 / maxTime 3600 unless a positive decimal int is given."""
    for query in ("", "?maxMessages=0&maxTime=-1", "?maxMessages=x&maxTime=1.5"):
        body = json.loads(call("POST", f"/frankenphp_ws/enableQueueCounter/z{query}").body)
        assert (body["maxMessages"], body["maxTime"]) == (100, 3600)
    body = json.loads(call("POST", "/frankenphp_ws/enableQueueCounter/z?maxMessages=%2B3").body)
    assert body["maxMessages"] == 3


def test_max_messages_drops_one_oldest_per_record(fake):
    """Over the limit, exactly one oldest message is dropped per recording."""
    conn = fake.connect()
    fake.enable_queue_counter(conn, max_messages=5)
    for index in range(5):
        fake.send(conn, str(index))
    fake.enable_queue_counter(conn, max_messages=2)  # keeps counter and messages
    fake.send(conn, "5")
    assert [m.data for m in fake.get_client_message_queue(conn)] == [b"1", b"2", b"3", b"4", b"5"]
    fake.send(conn, "6")
    assert [m.id for m in fake.get_client_message_queue(conn)] == [3, 4, 5, 6, 7]
    assert fake.get_client_message_counter(conn) == 7


def test_max_time_trims_only_when_recording(fake, clock):
    """Old messages stay readable until the next recording purges them."""
    conn = fake.connect()
    fake.enable_queue_counter(conn, max_time_seconds=10)
    fake.send(conn, "old")
    clock.advance(10)
    fake.send(conn, "edge")
    assert [m.data for m in fake.get_client_message_queue(conn)] == [b"edge"]
    clock.advance(9.5)
    fake.send(conn, "mid")
    clock.advance(100)
    assert len(fake.get_client_message_queue(conn)) == 2
    fake.send(conn, "new")
    assert [m.data for m in fake.get_client_message_queue(conn)] == [b"new"]


def test_disable_keeps_data_and_reports_existence(fake, call):
    """disable: success iff a config ever existed; counter and messages stay."""
    conn = fake.connect(id="c1")
    never = json.loads(call("POST", "/frankenphp_ws/disableQueueCounter/c1").body)
    assert never["success"] is False
    fake.enable_queue_counter(conn)
    fake.send(conn, "x")
    for _ in range(2):
        body = json.loads(call("POST", "/frankenphp_ws/disableQueueCounter/c1").body)
        assert body == {"action": "disableQueueCounter", "clientID": "c1", "success": True}
    fake.send(conn, "y")
    assert fake.get_client_message_counter(conn) == 1
    fake.enable_queue_counter(conn)
    fake.send(conn, "z")
    assert [m.id for m in fake.get_client_message_queue(conn)] == [1, 2]


def test_clear_keeps_counter(fake, call):
    """clear empties the list, not the counter; false when never enabled."""
    conn = fake.connect(id="c1")
    assert (
        json.loads(call("POST", "/frankenphp_ws/clearClientMessageQueue/c1").body)["success"]
        is False
    )
    fake.enable_queue_counter(conn)
    fake.send(conn, "x")
    body = json.loads(call("POST", "/frankenphp_ws/clearClientMessageQueue/c1").body)
    assert body == {"action": "clearClientMessageQueue", "clientID": "c1", "success": True}
    assert queue(call, conn) == {"clientID": "c1", "count": 0, "messages": []}
    assert fake.get_client_message_counter(conn) == 1


@pytest.mark.parametrize("how", ["close", "release", "rename"])
def test_queue_state_is_never_cleaned_nor_moved(how, fake):
    """Close, release and rename leave the queue under the original id."""
    conn = fake.connect()
    fake.enable_queue_counter(conn)
    fake.send(conn, "x")
    if how == "close":
        fake.disconnect(conn)
    elif how == "release":
        fake.activate_ghost(conn)
        fake.release_ghost(conn)
    else:
        fake.rename_connection(conn, "renamed")
        assert fake.get_client_message_counter("renamed") == 0
    assert fake.get_client_message_counter(conn) == 1
    (message,) = fake.get_client_message_queue(conn)
    assert (message.data, message.to_json()["data"]) == (b"x", base64.b64encode(b"x").decode())
