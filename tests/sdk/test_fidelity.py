"""Where the SDK must follow the real server rather than the obvious reading (issue 8).

A value that is exactly ``/`` on a once-decoded path parameter can never reach its
handler; the global store's empty 404 is an answer, not an error, even through
``request()``; and Go 1.27 writes invalid UTF-8 in JSON as raw U+FFFD bytes.
"""

from __future__ import annotations

import pytest

import frankenws
from frankenws._endpoints import ENDPOINTS
from frankenws.testing import FakeFrankenPHP

SDK_NAME = {"clientID": "id"}

ONCE_DECODED = [
    (endpoint.name, SDK_NAME.get(param, param))
    for endpoint in ENDPOINTS
    if not endpoint.double
    for param in endpoint.params
]


@pytest.mark.parametrize(("method", "param"), ONCE_DECODED, ids=lambda v: str(v))
def test_slash_on_a_once_decoded_parameter_is_refused(
    wire, wire_client, sample_args, method, param
):
    """Exactly '/' raises InvalidArgument naming the parameter and the reason; nothing sent."""
    client = wire_client()
    with pytest.raises(frankenws.InvalidArgument) as info:
        getattr(client, method)(**sample_args(method, **{param: "/"}))
    message = str(info.value)
    assert message.startswith(f"{param} '/' cannot be sent to {method}")
    assert "trailing slash" in message
    assert "no encoding can reach the handler" in message
    assert wire.requests == []


@pytest.mark.parametrize("value", ["a/", "/a", "//", "/ "])
def test_other_values_with_slashes_are_sent(wire, wire_client, value):
    """Only the exact value '/' is unreachable."""
    wire.body = b'{"clientID":"x","success":true}'
    wire_client().kill_connection(value)
    assert len(wire.requests) == 1


def test_slash_is_fine_where_the_route_decodes_twice():
    """Twice-decoded routes carry '/' as %252F, which their handler decodes back."""
    fake = FakeFrankenPHP()
    root = fake.connect("/")
    with fake.client() as client:
        assert client.get_clients_by_route("/") == [root]
        assert client.rename_connection(root, "/") is True
        assert client.get_clients_by_route("/") == ["/"]


async def test_async_client_refuses_too(wire):
    """The refusal is part of building the request, so both clients share it."""
    import httpx

    async with frankenws.AsyncClient(transport=httpx.MockTransport(wire.handler)) as client:
        with pytest.raises(frankenws.InvalidArgument, match="key '/' cannot be sent"):
            await client.global_get("/")
    assert wire.requests == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/frankenphp_ws/global/get/missing"),
        ("GET", "/frankenphp_ws/global/has/missing"),
        ("DELETE", "/frankenphp_ws/global/delete/missing"),
    ],
)
async def test_raw_request_returns_the_global_stores_empty_404(method, path):
    """request() hands back the route's normal 'no such key' answer instead of raising."""
    fake = FakeFrankenPHP()
    with fake.client() as client:
        response = client.request(method, path)
    async with fake.async_client() as aclient:
        assert await aclient.request(method, path) == response
    assert (response.status, response.body) == (404, b"")
    assert response.url.endswith(path)


def test_raw_request_still_raises_for_real_errors(canned_server):
    """Caddy's own 404, even on a global-store path, and a wrong method are errors."""
    canned_server.reply("404 Not Found", b"404 page not found\n", "text/plain")
    with (
        frankenws.Client(canned_server.url) as client,
        pytest.raises(frankenws.NotFound, match="no such route"),
    ):
        client.request("GET", "/frankenphp_ws/global/get/%2F")
    fake = FakeFrankenPHP()
    with fake.client() as client:
        with pytest.raises(frankenws.NotFound, match="no such route"):
            client.request("GET", "/frankenphp_ws/global/gets/missing")
        with pytest.raises(frankenws.MethodNotAllowed):
            client.request("POST", "/frankenphp_ws/global/get/missing")


def test_raw_request_redirect_blames_the_path(canned_server):
    """A non-canonical raw path is the caller's to fix, not an SDK encoding bug."""
    canned_server.reply(
        "307 Temporary Redirect", b"", "text/html", (("Location", "/frankenphp_ws/getClients"),)
    )
    with (
        frankenws.Client(canned_server.url) as client,
        pytest.raises(frankenws.ProtocolError, match="307") as info,
    ):
        client.request("GET", "/frankenphp_ws//getClients")
    assert "encoding bug" not in str(info.value)
    assert "'..'" in str(info.value)


@pytest.mark.parametrize(
    "raw",
    [b'{"tags":["a\\ufffdb"]}\n', b'{"tags":["a\xef\xbf\xbdb"]}\n'],
    ids=["go-1.26-escaped", "go-1.27-raw-bytes"],
)
def test_replacement_character_in_json_either_way(canned_server, raw):
    """Go <= 1.26 escapes U+FFFD, Go 1.27 writes its UTF-8 bytes: both decode the same."""
    canned_server.reply("200 OK", raw)
    with frankenws.Client(canned_server.url) as client:
        assert client.get_client_tags("x") == ["a\ufffdb"]
