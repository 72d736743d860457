"""Client-side validation: InvalidArgument, and nothing is sent (ARCHITECTURE §4)."""

from __future__ import annotations

import pytest

import frankenws

BIG = b"x" * (16 * 1024 * 1024 + 1)

CASES = [
    ("kill_connection", ("",), "id must not be empty"),
    ("kill_connection", (42,), "id must be a string"),
    ("get_client_tags", ("\ud800",), "lone surrogate"),
    ("send", ("id", ""), "must not be empty"),
    ("send", ("id", b""), "must not be empty"),
    ("send", ("a\x00b", "x"), "NUL"),
    ("send", ("a", "x", "/r\x00"), "NUL"),
    ("search_stored_information", ("k", "eq", "\udc80"), "lone surrogate"),
    ("send", ("id", BIG), "16 MiB"),
    ("send", ("id", 3), "str or bytes"),
    ("send_all", (BIG,), "16 MiB"),
    ("send_to_tag", ("t", BIG), "16 MiB"),
    ("send_to_tag", ("", "x"), "tag must not be empty"),
    ("send_to_tag_expression", ("a", BIG), "16 MiB"),
    ("send_to_tag_expression", ("", "x"), "expression must not be empty"),
    ("tag_client", ("id", ""), "tag must not be empty"),
    ("untag_client", ("", "t"), "id must not be empty"),
    ("set_stored_information", ("id", "k", ""), "value must not be empty"),
    ("set_stored_information", ("id", "", "v"), "key must not be empty"),
    ("search_stored_information", ("k", "between", "3"), "unknown search operator 'between'"),
    ("search_stored_information", ("k", "gte", "three"), "three"),
    ("search_stored_information", ("k", "gte", True), "must be a number"),
    ("search_stored_information", ("k", "in", 5), "list of strings"),
    ("search_stored_information", ("k", "in", ["a", 1]), "must be strings"),
    ("get_clients_by_tag_expression", ("a&(b",), "position"),
    ("get_clients_by_tag_expression", ("a&&b",), "use & for AND"),
    ("send_to_tag_expression", ("a|", "x"), "position"),
    ("search_stored_information", ("k", "EQ", "3"), "unknown search operator"),
    ("search_stored_information", ("k", "regex", "a("), "invalid RE2"),
    ("search_stored_information", ("k", "regex", "(?=x)"), "invalid RE2"),
    ("search_stored_information", ("k", "regex", r"(a)\1"), "invalid RE2"),
    ("search_stored_information", ("", "eq", "x"), "key must not be empty"),
    ("global_set", ("k", "v", -1), "expire_seconds must be >= 0"),
    ("global_set", ("k", "v", 9_223_372_037), "at most 9223372036"),
    ("global_set", ("k", "v", 1.5), "must be an integer"),
    ("enable_ping", ("id", -5), "interval_ms must be >= 0"),
    ("enable_queue_counter", ("id", 0), "max_messages must be > 0"),
    ("enable_queue_counter", ("id", 10, 0), "max_time_seconds must be > 0"),
    ("enable_queue_counter", ("id", True), "must be an integer"),
    ("get_clients_by_route", ("",), "route must not be empty"),
    ("rename_connection", ("a", ""), "new_id must not be empty"),
    ("get_clients", (5,), "route must be a string"),
]


@pytest.mark.parametrize(("method", "args", "message"), CASES)
def test_refused_before_sending(wire, wire_client, method, args, message):
    """Bad input raises InvalidArgument (a ValueError) and no request leaves the client."""
    client = wire_client()
    with pytest.raises(frankenws.InvalidArgument, match=message) as info:
        getattr(client, method)(*args)
    assert isinstance(info.value, ValueError)
    assert wire.requests == []


async def test_async_refuses_too(wire):
    """The async client runs the same checks."""
    import httpx

    async with frankenws.AsyncClient(transport=httpx.MockTransport(wire.handler)) as client:
        with pytest.raises(frankenws.InvalidArgument):
            await client.send("id", "")
    assert wire.requests == []


def test_limits_at_the_edge(wire, wire_client):
    """Exactly 16 MiB and the largest expiry are accepted."""
    client = wire_client()
    client.send("id", b"x" * (16 * 1024 * 1024))
    assert len(wire.last.content) == 16 * 1024 * 1024
    client.global_set("k", "", 9_223_372_036)
    assert wire.target == "/frankenphp_ws/global/set/k?exp=9223372036"
    assert wire.last.content == b""


def test_search_operator_lists(wire, wire_client):
    """SEARCH_OPERATORS is everything accepted; SERVER_SEARCH_OPERATORS the server's ten."""
    assert len(frankenws.SERVER_SEARCH_OPERATORS) == 10
    assert len(frankenws.SEARCH_OPERATORS) == 16
    assert set(frankenws.SERVER_SEARCH_OPERATORS) < set(frankenws.SEARCH_OPERATORS)
    client = wire_client()
    wire.body = b'{"clients":[]}'
    for op in frankenws.SEARCH_OPERATORS:
        assert client.search_stored_information("k", op, "1") == []
    sent_ops = {r.url.params["op"] for r in wire.requests}
    assert sent_ops <= set(frankenws.SERVER_SEARCH_OPERATORS)


def test_malformed_expression_is_an_exported_error(wire, wire_client):
    """ExpressionSyntaxError is public, an InvalidArgument, and gives the position."""
    client = wire_client()
    with pytest.raises(frankenws.ExpressionSyntaxError) as info:
        client.get_clients_by_tag_expression("a&(b")
    assert isinstance(info.value, frankenws.InvalidArgument)
    assert info.value.position == 4
    assert info.value.expression == "a&(b"
    assert wire.requests == []


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"timeout": float("nan")}, "timeout must be a positive number"),
        ({"timeout": float("inf")}, "timeout must be a positive number"),
        ({"timeout": -1}, "timeout must be a positive number"),
        ({"host_header": "localhost:2019\r\nX-Evil: 1"}, "host_header"),
        ({"host_header": "\udcff"}, "host_header"),
        ({"host_header": "hôte:2019"}, "printable ASCII"),
        ({"headers": {"X-Team": "a\nb"}}, "header 'X-Team'"),
        ({"headers": {"X Team": "a"}}, "HTTP token"),
        ({"headers": {"X-Team": 5}}, "header 'X-Team'"),
    ],
)
def test_bad_client_options_are_refused_at_construction(kw, message):
    """Options no request could carry raise InvalidArgument when the client is made."""
    with pytest.raises(frankenws.InvalidArgument, match=message):
        frankenws.Client("http://localhost:2019", **kw)
    with pytest.raises(frankenws.InvalidArgument, match=message):
        frankenws.AsyncClient("http://localhost:2019", **kw)


@pytest.mark.parametrize("url", ["http://[::1", "http://[::1]x:80", "http://h:99999"])
def test_malformed_admin_urls_are_invalid_arguments(url):
    """URLs the parser chokes on are InvalidArgument, not a bare ValueError or httpx error."""
    with pytest.raises(frankenws.InvalidArgument, match="admin URL"):
        frankenws.Client(url)


def test_url_errors_do_not_echo_the_password():
    """A rejected URL is quoted with its password masked."""
    with pytest.raises(frankenws.InvalidArgument) as info:
        frankenws.Client("ftp://admin:hunter2@proxy:8080")
    assert "hunter2" not in str(info.value)
    assert "admin:***@proxy" in str(info.value)


@pytest.mark.parametrize("method", ["kill_connection", "get_client_tags", "is_ghost"])
def test_overlong_ids_are_refused_before_sending(wire, wire_client, method):
    """An id too long for any HTTP client, once encoded, is InvalidArgument naming the call."""
    client = wire_client()
    with pytest.raises(frankenws.InvalidArgument, match=f"{method}: the request URL would be"):
        getattr(client, method)("é" * 11_000)  # 66,000 characters as %C3%A9
    assert wire.requests == []
    wire.body = b'{"success":true,"tags":[],"isGhost":false}'
    getattr(client, method)("é" * 10_000)  # 60,000: still fine
    assert len(wire.requests) == 1


async def test_overlong_ids_are_refused_by_the_bulk_lane_too():
    """The lane shares the check: the same InvalidArgument, nothing sent."""
    from frankenws._calls import calls
    from frankenws.bulk._http1 import Http1Lane

    with frankenws.Client("http://127.0.0.1:9") as client:
        async with Http1Lane(client, 1) as lane:
            with pytest.raises(frankenws.InvalidArgument, match="kill_connection: the request"):
                await lane.run(calls.kill_connection("é" * 11_000))
