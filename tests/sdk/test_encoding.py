"""What the SDK puts on the wire: PROTOCOL.md §3 encodings."""

from __future__ import annotations

import pytest

# (value, 1x wire form, 2x wire form) from PROTOCOL.md §3.1
TABLE = [
    ("user/42", "user%2F42", "user%252F42"),
    ("a b", "a%20b", "a%2520b"),
    ("c++", "c%2B%2B", "c%252B%252B"),
    ("50%", "50%25", "50%2525"),
    ("user:1", "user%3A1", "user%253A1"),
    ("..", "%2E%2E", "%252E%252E"),
    (".", "%2E", "%252E"),
    ("é", "%C3%A9", "%25C3%25A9"),
    ("plain-id_1.x~", "plain-id_1.x~", "plain-id_1.x~"),
]


@pytest.mark.parametrize(("value", "once", "twice"), TABLE)
def test_once_encoded_routes(wire, wire_client, value, once, twice):
    """1x routes carry each value percent-encoded once, dots escaped."""
    wire.body = b'{"clientID":"x","tags":null}\n'
    wire_client().get_client_tags(value)
    assert wire.target == f"/frankenphp_ws/getTags/{once}"


@pytest.mark.parametrize(("value", "once", "twice"), TABLE)
def test_twice_encoded_routes(wire, wire_client, value, once, twice):
    """The four 2x routes carry values encoded twice."""
    wire.status = 400
    wire.body = b'{"error":"failed to rename connection"}\n'
    assert wire_client().rename_connection(value, "new") is False
    assert wire.target == f"/frankenphp_ws/renameConnection/{twice}/new"


def test_expression_wire_form(wire, wire_client):
    """A tag expression the server handles travels twice-encoded."""
    wire.body = b'{"clients":null,"count":0,"expression":"x"}\n'
    wire_client().get_clients_by_tag_expression("(admin|vip)&!banned")
    assert wire.target == (
        "/frankenphp_ws/getClientsByTagExpression/%2528admin%257Cvip%2529%2526%2521banned"
    )


def test_route_path_wire_form(wire, wire_client):
    """getClientsByRoute double-encodes the route."""
    wire.body = b'{"clients":null,"count":0,"route":"/chat"}\n'
    assert wire_client().get_clients_by_route("/chat") == []
    assert wire.target == "/frankenphp_ws/getClientsByRoute/%252Fchat"


def test_query_is_fully_form_encoded(wire, wire_client):
    """A route filter with ; & + % # is escaped so Go cannot drop the pair."""
    wire.body = b'{"sentCount":0,"route":"x"}\n'
    wire_client().send_all("hi", route="/a;b&c+d%e#f g")
    assert wire.target == "/frankenphp_ws/sendAll?route=%2Fa%3Bb%26c%2Bd%25e%23f%20g"
    assert wire.last.content == b"hi"


def test_search_query(wire, wire_client):
    """Search parameters are sent in a stable order, value included even when empty."""
    wire.body = b'{"clients":null,"count":0,"key":"k","op":"eq","route":"","value":""}\n'
    assert wire_client().search_stored_information("user name", "eq") == []
    assert wire.target == "/frankenphp_ws/searchStoredInformation?key=user%20name&op=eq&value="


def test_bodies_are_raw_bytes(wire, wire_client):
    """Tags, values and payloads are the request body byte for byte."""
    client = wire_client()
    client.tag_client("id", "premium")
    assert wire.last.content == b"premium"
    client.set_stored_information("id", "k", b"\x00\xff")
    assert wire.last.content == b"\x00\xff"
    client.send("id", "héllo")
    assert wire.last.content == "héllo".encode()
    assert wire.last.method == "POST"


def test_host_header_keeps_explicit_port(wire):
    """Caddy compares Host literally, so the port is sent even when it is the default."""
    import httpx

    import frankenws

    with frankenws.Client("http://example:80", transport=httpx.MockTransport(wire.handler)) as c:
        wire.body = b'{"routes":null}\n'
        assert c.list_routes() == []
    assert wire.last.headers["host"] == "example:80"


def test_host_header_override(wire, wire_client):
    """host_header= replaces the Host sent."""
    wire.body = b'{"routes":null}\n'
    wire_client(host_header="localhost:2019").list_routes()
    assert wire.last.headers["host"] == "localhost:2019"
