"""Every admin route through the SDK, against the in-process and the loopback fake.

Each test runs four times (see conftest): in-process and loopback, sync and async client.
"""

from __future__ import annotations

import base64

import pytest

import frankenws


def test_clients_and_counts(api):
    """getClients / getClientsCount / getAllRoutes / getClientsByRoute, with route filters."""
    ws, fake = api.ws, api.fake
    assert ws.get_clients() == []
    assert ws.get_clients_count() == 0
    assert ws.list_routes() == []
    a = fake.connect("/chat")
    b = fake.connect("/chat")
    c = fake.connect("/news")
    assert sorted(ws.get_clients()) == sorted([a, b, c])
    assert sorted(ws.get_clients(route="/chat")) == sorted([a, b])
    assert ws.get_clients(route="/nowhere") == []
    assert ws.get_clients_count() == 3
    assert ws.get_clients_count(route="/news") == 1
    assert sorted(ws.list_routes()) == ["/chat", "/news"]
    assert sorted(ws.get_clients_by_route("/chat")) == sorted([a, b])
    assert ws.get_clients_by_route("/none") == []


def test_ids_are_32_hex(api):
    """Connection ids look like the real server's: 32 lowercase hex characters."""
    conn = api.fake.connect("/")
    assert len(conn) == 32
    assert set(conn) <= set("0123456789abcdef")


def test_send_and_broadcasts(api):
    """send / sendAll / sendToTag deliver binary frames and count successful writes."""
    ws, fake = api.ws, api.fake
    a, b = fake.connect("/chat"), fake.connect("/news")
    assert ws.send(a, "hello") is None
    assert ws.send(a, b"\x00\x01", route="/news") is None  # route mismatch: nothing sent
    assert ws.send("unknown-id", "x") is None
    assert fake.received(a) == [b"hello"]
    assert ws.send_all("all") == 2
    assert ws.send_all("chat only", route="/chat") == 1
    assert ws.send_all("") == 2
    ws.tag_client(b, "premium")
    assert ws.send_to_tag("premium", "vip") == 1
    assert ws.send_to_tag("premium", "vip", route="/chat") == 0
    assert ws.send_to_tag("nobody", "x") == 0
    assert fake.received(a) == [b"hello", b"all", b"chat only", b""]
    assert fake.received(b) == [b"all", b"", b"vip"]


def test_kill_connection(api):
    """killConnection closes a registered connection once; unknown ids give False."""
    ws, fake = api.ws, api.fake
    a, b = fake.connect("/chat"), fake.connect("/chat")
    ws.tag_client(a, "t")
    ws.set_stored_information(a, "username", "alice")
    assert ws.kill_connection(a) is True
    assert ws.get_clients() == [b]
    assert ws.kill_connection(a) is False
    assert ws.kill_connection("nope") is False
    # normal close clears tags and stored information (cleanup matrix)
    assert ws.get_client_tags(a) == []
    assert ws.get_stored_information(a, "username") is None


def test_tags(api):
    """tag / untag / clearTags / getTags / getAllTags / getClientsByTag / getTagCount."""
    ws, fake = api.ws, api.fake
    a, b = fake.connect(), fake.connect()
    ws.tag_client(a, "admin")
    ws.tag_client(a, "admin")
    ws.tag_client(a, "premium")
    ws.tag_client(b, "premium")
    assert sorted(ws.get_client_tags(a)) == ["admin", "premium"]
    assert sorted(ws.get_tags()) == ["admin", "premium"]
    assert sorted(ws.get_clients_by_tag("premium")) == sorted([a, b])
    assert ws.get_tag_count("premium") == 2
    assert ws.get_tag_count("ghost-tag") == 0
    ws.untag_client(a, "premium")
    assert ws.get_client_tags(a) == ["admin"]
    ws.clear_tag_client(a)
    assert ws.get_client_tags(a) == []
    assert ws.get_clients_by_tag("admin") == []
    ws.untag_client("nobody", "x")  # always fine
    ws.clear_tag_client("nobody")


def test_orphan_state(api):
    """Writes accept unknown ids; their tags show up in tag listings (PROTOCOL §1.1)."""
    ws = api.ws
    ws.tag_client("orphan", "lost")
    assert ws.get_clients() == []
    assert ws.get_clients_by_tag("lost") == ["orphan"]
    assert ws.send_to_tag("lost", "x") == 0


def test_stored_information(api):
    """The six stored-information routes plus getAllStoredInformation."""
    ws, fake = api.ws, api.fake
    a = fake.connect()
    assert ws.get_stored_information(a, "k") is None
    assert ws.has_stored_information(a, "k") is False
    assert ws.list_stored_information_keys(a) == []
    assert ws.get_all_stored_information(a) == {}
    ws.set_stored_information(a, "username", "alice")
    ws.set_stored_information(a, "city", "Grenoble")
    assert ws.get_stored_information(a, "username") == "alice"
    assert ws.has_stored_information(a, "city") is True
    assert sorted(ws.list_stored_information_keys(a)) == ["city", "username"]
    assert ws.get_all_stored_information(a) == {"city": "Grenoble", "username": "alice"}
    assert ws.delete_stored_information(a, "city") is None
    assert ws.delete_stored_information(a, "never-there") is None
    assert ws.get_all_stored_information(a) == {"username": "alice"}
    ws.clear_stored_information(a)
    assert ws.get_all_stored_information(a) == {}


def test_search(api):
    """searchStoredInformation with every server operator and a route filter."""
    ws, fake = api.ws, api.fake
    a, b, c = fake.connect("/chat"), fake.connect("/chat"), fake.connect("/news")
    ws.set_stored_information(a, "username", "Alice")
    ws.set_stored_information(b, "username", "bob")
    ws.set_stored_information(c, "username", "alicia")

    def search(op, value="", route=None):
        return sorted(ws.search_stored_information("username", op, value, route=route))

    assert search("eq", "bob") == [b]
    assert search("neq", "bob") == sorted([a, c])
    assert search("prefix", "ali") == [c]
    assert search("iprefix", "ali") == sorted([a, c])
    assert search("suffix", "ob") == [b]
    assert search("isuffix", "CE") == [a]
    assert search("contains", "lic") == sorted([a, c])
    assert search("icontains", "LIC") == sorted([a, c])
    assert search("ieq", "ALICE") == [a]
    assert search("regex", "^[ab]") == sorted([b, c])
    assert search("regex", "(?i)^a", route="/chat") == [a]
    assert search("prefix") == sorted([a, b, c])
    assert ws.search_stored_information("missing", "neq", "x") == []


def test_tag_expressions(api):
    """Expressions the server evaluates correctly, both routes."""
    ws, fake = api.ws, api.fake
    a, b, c = fake.connect("/chat"), fake.connect("/chat"), fake.connect("/news")
    ws.tag_client(a, "admin")
    ws.tag_client(b, "admin")
    ws.tag_client(b, "test")
    ws.tag_client(c, "vip")
    assert sorted(ws.get_clients_by_tag_expression("admin&!test")) == [a]
    assert sorted(ws.get_clients_by_tag_expression("admin | vip")) == sorted([a, b, c])
    assert sorted(ws.get_clients_by_tag_expression("!admin")) == [c]
    assert ws.send_to_tag_expression("admin&!test", "hi") == 1
    assert ws.send_to_tag_expression("admin|vip", "hi", route="/news") == 1
    assert fake.received(a) == [b"hi"]


def test_rename(api):
    """renameConnection moves route, tags and stored information; failures give False."""
    ws, fake = api.ws, api.fake
    a, b = fake.connect("/chat"), fake.connect("/chat")
    ws.tag_client(a, "vip")
    ws.set_stored_information(a, "username", "alice")
    assert ws.rename_connection(a, "user:alice/1") is True
    assert sorted(ws.get_clients()) == sorted([b, "user:alice/1"])
    assert ws.get_client_tags("user:alice/1") == ["vip"]
    assert ws.get_stored_information("user:alice/1", "username") == "alice"
    assert sorted(ws.get_clients_by_route("/chat")) == sorted([b, "user:alice/1"])
    assert ws.rename_connection(a, "x") is False  # a is gone
    assert ws.rename_connection(b, "user:alice/1") is False  # taken
    assert ws.rename_connection(b, b) is False
    ws.send("user:alice/1", "renamed")
    assert fake.received(a) == [b"renamed"]  # same socket, new id


def test_ghosts(api):
    """activateGhost / isGhost / releaseGhost and the ghost close path."""
    ws, fake = api.ws, api.fake
    a = fake.connect("/chat")
    ws.set_stored_information(a, "username", "alice")
    assert ws.is_ghost(a) is False
    assert ws.activate_ghost("unknown") is False
    assert ws.activate_ghost(a) is True
    assert ws.is_ghost(a) is True
    fake.disconnect(a)
    # a disconnected ghost stays registered with its data, but cannot be killed
    assert ws.get_clients() == [a]
    assert ws.get_stored_information(a, "username") == "alice"
    assert ws.kill_connection(a) is False
    assert ws.send_all("x") == 0
    assert ws.release_ghost(a) is True
    assert ws.get_clients() == []
    assert ws.is_ghost(a) is False
    assert ws.release_ghost(a) is False


def test_ping(api):
    """enablePing / getClientPingTime / disablePing."""
    ws, fake = api.ws, api.fake
    a = fake.connect()
    assert ws.get_client_ping_time(a) == 0
    assert ws.enable_ping(a) is True
    assert ws.enable_ping(a, interval_ms=1000) is True
    assert isinstance(ws.get_client_ping_time(a), int)
    assert ws.disable_ping(a) is True
    assert ws.get_client_ping_time(a) == 0
    assert ws.enable_ping("unknown") is True  # the server never checks


def test_queue_counter(api):
    """The queue-counter routes record successful writes with their metadata."""
    ws, fake = api.ws, api.fake
    a = fake.connect("/chat")
    assert ws.disable_queue_counter(a) is False
    assert ws.clear_client_message_queue(a) is False
    assert ws.enable_queue_counter(a, max_messages=10, max_time_seconds=60) is True
    ws.send(a, b"\xffraw")
    ws.tag_client(a, "t")
    ws.send_to_tag("t", "tagged", route="/chat")
    ws.send_all("everyone")
    assert ws.get_client_message_counter(a) == 3
    queue = ws.get_client_message_queue(a)
    assert [m.data for m in queue] == [b"\xffraw", b"tagged", b"everyone"]
    assert [m.send_type for m in queue] == ["direct", "tag", "all"]
    assert [m.send_target for m in queue] == [a, "t", "all"]
    assert [m.route for m in queue] == ["", "/chat", ""]
    assert [m.id for m in queue] == [1, 2, 3]
    assert queue[0].timestamp.timestamp() == int(api.clock.now())
    assert ws.clear_client_message_queue(a) is True
    assert ws.get_client_message_queue(a) == []
    assert ws.get_client_message_counter(a) == 3
    assert ws.disable_queue_counter(a) is True


def test_global_store(api):
    """global set/get/has/delete, empty values, expiry on the fake's clock."""
    ws, clock = api.ws, api.clock
    assert ws.global_get("k") is None
    assert ws.global_has("k") is False
    assert ws.global_delete("k") is False
    ws.global_set("k", "")
    assert ws.global_get("k") == ""
    assert ws.global_has("k") is True
    ws.global_set("k", b"\xff\xfe", expire_seconds=10)
    assert ws.global_get("k").encode("utf-8", "surrogateescape") == b"\xff\xfe"
    clock.advance(11)
    assert ws.global_has("k") is False
    assert ws.global_delete("k") is True  # expired but never purged: still deletable
    ws.global_set("maintenance", "on", expire_seconds=5)
    clock.advance(6)
    assert ws.global_get("maintenance") is None
    assert ws.global_delete("maintenance") is False  # get purged it


def test_raw_request_errors(api):
    """The raw escape hatch maps the server's error answers to the error tree."""
    ws = api.ws
    with pytest.raises(frankenws.MethodNotAllowed) as info:
        ws.request("GET", "/frankenphp_ws/killConnection/x")
    assert info.value.body == b'{"error":"method not allowed"}\n'
    with pytest.raises(frankenws.BadRequest, match="tag is required"):
        ws.request("POST", "/frankenphp_ws/tag/x")
    with pytest.raises(frankenws.BadRequest, match="invalid route encoding"):
        ws.request("GET", "/frankenphp_ws/getClientsByRoute/%25zz")
    with pytest.raises(frankenws.NotFound, match="no such route"):
        ws.request("GET", "/frankenphp_ws/noSuchRoute")
    with pytest.raises(frankenws.ProtocolError, match="301"):
        ws.request("GET", "/frankenphp_ws//getClients")
    reply = ws.request("GET", "/frankenphp_ws/getClients", params={"route": "/a;b"})
    assert reply.status == 200
    assert reply.body == b'{"clients":null,"route":"/a;b"}\n'
    assert reply.headers["content-type"] == "application/json"


def test_empty_send_drops_the_connection(api):
    """The server's send handler crashes on an empty body: ServerDisconnected."""
    a = api.fake.connect()
    with pytest.raises(frankenws.ServerDisconnected):
        api.ws.request("POST", f"/frankenphp_ws/send/{a}")


def test_queue_data_is_base64_on_the_wire(api):
    """The raw queue JSON carries padded base64, which the SDK decodes to bytes."""
    a = api.fake.connect()
    api.ws.enable_queue_counter(a)
    api.ws.send(a, b"\x00\x01\x02")
    reply = api.ws.request("GET", f"/frankenphp_ws/getClientMessageQueue/{a}")
    assert base64.b64encode(b"\x00\x01\x02") in reply.body
