"""Go/Caddy framing: 404, 301, 400, 403, 500, module not loaded, query parsing."""

from __future__ import annotations

import json

import httpx
import pytest
from fake_support import HOST, raw_url

from frankenws.testing import FakeFrankenPHP, RawRequest

NOT_FOUND = (
    404,
    (("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff")),
    b"404 page not found\n",
)
BAD_REQUEST = (
    400,
    (("Content-Type", "text/plain; charset=utf-8"), ("Connection", "close")),
    b"400 Bad Request",
)


def triple(response):
    return response.status, response.headers, response.body


@pytest.mark.parametrize(
    "target",
    [
        "/frankenphp_ws/nope",
        "/frankenphp_ws/getClients/",
        "/frankenphp_ws/getTags/abc/",
        "/frankenphp_ws/getTags/",
        "/frankenphp_ws/getTags",
        "/frankenphp_ws/getTags/a/b",
        "/frankenphp_ws/untag/a",
        "/frankenphp_ws/",
        "/",
        "/config/",
        "/frankenphp_ws%2FgetClients",
    ],
)
def test_unmatched_paths_are_plain_text_404(target, call):
    """Whole-path matching: trailing, missing, empty or extra segments are 404 text."""
    assert triple(call("GET", target)) == NOT_FOUND


def test_encoded_slash_stays_inside_a_segment(call):
    """%2F does not split segments; the value arrives decoded once."""
    response = call("GET", "/frankenphp_ws/getTags/user%2F42")
    assert response.body == b'{"clientID":"user/42","tags":null}\n'


@pytest.mark.parametrize(
    "target",
    [
        "/frankenphp_ws/getTags/%2F",
        "/frankenphp_ws/untag/%2F/t",
        "/frankenphp_ws/untag/c/%2f",
        "/frankenphp_ws/global/get/%2F",
        "/frankenphp_ws/getClientsByRoute/%2F",
    ],
)
def test_a_value_of_exactly_slash_is_404(target, call):
    """Go's mux reads a segment decoding to "/" as a trailing slash: no wildcard matches."""
    method = "DELETE" if "/untag/" in target else "GET"
    assert triple(call(method, target)) == NOT_FOUND


@pytest.mark.parametrize(("wire", "value"), [("a%2F", "a/"), ("%2Fa", "/a"), ("%2F%2F", "//")])
def test_values_containing_slash_route_normally(wire, value, call):
    """Only the exact value "/" fails; longer values with slashes reach the route."""
    response = call("GET", f"/frankenphp_ws/getTags/{wire}")
    assert response.body == f'{{"clientID":"{value}","tags":null}}\n'.encode()


def test_twice_decoded_slash_reaches_the_route(call):
    """On a 2x route, %252F decodes to "/" in the handler, after the mux matched."""
    response = call("GET", "/frankenphp_ws/getClientsByRoute/%252F")
    assert response.body == b'{"clients":null,"count":0,"route":"/"}\n'


def test_literal_segments_match_after_unescaping(call):
    """ServeMux unescapes every segment, so %54 spells the T of getTags."""
    response = call("GET", "/frankenphp_ws/get%54ags/x")
    assert response.body == b'{"clientID":"x","tags":null}\n'


def test_non_canonical_escape_is_reescaped_before_routing(call):
    """A raw '|' makes Go re-escape the decoded path: an encoded slash then splits."""
    assert call("GET", "/frankenphp_ws/getTags/a|b").body == b'{"clientID":"a|b","tags":null}\n'
    assert triple(call("GET", "/frankenphp_ws/getTags/a%2Fb|c")) == NOT_FOUND


def test_module_not_loaded_answers_404_everywhere():
    """A Caddy without the extension: every route is the 404 text."""
    fake = FakeFrankenPHP(module_loaded=False)
    fake.connect(id="c1")
    for target in ("/frankenphp_ws/getClients", "/frankenphp_ws/getTags/c1"):
        assert triple(fake.handle(RawRequest("GET", target, HOST))) == NOT_FOUND
    response = fake.handle(RawRequest("POST", "/frankenphp_ws/send/c1", HOST, b"x"))
    assert triple(response) == NOT_FOUND
    assert fake.received("c1") == []


def test_redirect_on_get_has_location_query_and_html_body(call):
    """A // path is cleaned with a 301; GET gets Go's small HTML body."""
    response = call("GET", "//frankenphp_ws/getClients?route=/a&x=<1>")
    assert response.status == 301
    assert response.headers == (
        ("Content-Type", "text/html; charset=utf-8"),
        ("Location", "/frankenphp_ws/getClients?route=/a&x=<1>"),
    )
    assert response.body == (
        b'<a href="/frankenphp_ws/getClients?route=/a&amp;x=&lt;1&gt;">Moved Permanently</a>.\n\n'
    )


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/frankenphp_ws/./getClients", "/frankenphp_ws/getClients"),
        ("/x/../frankenphp_ws/getClients", "/frankenphp_ws/getClients"),
        ("/frankenphp_ws/getTags/..", "/frankenphp_ws"),
        ("/frankenphp_ws/getTags/../", "/frankenphp_ws/"),
        ("/frankenphp_ws/untag//t", "/frankenphp_ws/untag/t"),
        ("/frankenphp_ws//getClients/", "/frankenphp_ws/getClients/"),
        ("/../../frankenphp_ws/getClients", "/frankenphp_ws/getClients"),
    ],
)
def test_dot_segments_and_double_slashes_redirect(target, location, call):
    """Every non-canonical path is redirected to Go's cleanPath result."""
    response = call("GET", target)
    assert response.status == 301
    assert dict(response.headers)["Location"] == location


def test_redirect_escapes_the_escaped_path_again(call):
    """Go ≤ 1.25 puts the escaped path in URL.Path, so %2F comes back as %252F."""
    response = call("DELETE", "//frankenphp_ws/untag/a%2Fb/t%21")
    assert response.headers == (("Location", "/frankenphp_ws/untag/a%252Fb/t%2521"),)
    assert response.body == b""


def test_redirect_for_post_and_head(call):
    """POST gets no body and no Content-Type; HEAD gets the Content-Type only."""
    post = call("POST", "//frankenphp_ws/send/c1?route=x", b"payload")
    assert triple(post) == (301, (("Location", "/frankenphp_ws/send/c1?route=x"),), b"")
    head = call("HEAD", "//frankenphp_ws/getClients")
    assert head.headers == (
        ("Content-Type", "text/html; charset=utf-8"),
        ("Location", "/frankenphp_ws/getClients"),
    )
    assert head.body == b""


def test_encoded_dots_are_not_cleaned(call):
    """%2E%2E is a value, not a dot segment."""
    response = call("GET", "/frankenphp_ws/getTags/%2E%2E")
    assert response.body == b'{"clientID":"..","tags":null}\n'


def test_redirect_through_httpx_is_not_followed(fake, http):
    """httpx sees the 301 and its Location; following it lands on a 404."""
    response = http.get(raw_url("/frankenphp_ws/untag//t"))
    assert response.status_code == 301
    assert response.headers["location"] == "/frankenphp_ws/untag/t"
    assert http.delete(response.headers["location"]).status_code == 404


@pytest.mark.parametrize(
    "target",
    [
        "/frankenphp_ws/getTags/%zz",
        "/frankenphp_ws/getTags/%",
        "/frankenphp_ws/getTags/a%4",
        "/frankenphp_ws/getTags/a b",
        "/frankenphp_ws/getTags/a\x01b",
        "/frankenphp_ws/getTags/a\x7f",
        "frankenphp_ws/getClients",
        ":x",
    ],
)
def test_malformed_targets_are_400_and_close(target, call):
    """Go's request parser refuses these before any handler, then hangs up."""
    response = call("GET", target)
    assert triple(response) == BAD_REQUEST
    assert response.close


def test_bad_escape_over_httpx_keeps_connection_close_framing(http):
    """Through httpx the 400 carries no Content-Length (connection-delimited)."""
    response = http.get(raw_url("/frankenphp_ws/getTags/%zz"))
    assert response.status_code == 400
    assert response.text == "400 Bad Request"
    assert response.headers["connection"] == "close"
    assert "content-length" not in response.headers


def test_invalid_method_token_is_400(call):
    """A method that is not an HTTP token never reaches Caddy."""
    assert triple(call("GE T", "/frankenphp_ws/getClients")) == BAD_REQUEST


def test_missing_or_malformed_host_header(call):
    """HTTP/1.1 without Host, or with an invalid Host, is rejected by Go's server."""
    missing = call("GET", "/frankenphp_ws/getClients", headers={})
    assert missing.body == b"400 Bad Request: missing required Host header"
    assert missing.close
    bad = call("GET", "/frankenphp_ws/getClients", headers={"host": "local host:2019"})
    assert bad.body == b"400 Bad Request: malformed Host header"


def test_upgrade_websocket_is_500(call):
    """Caddy refuses anything whose Upgrade header contains 'websocket'."""
    response = call(
        "GET", "/frankenphp_ws/getClients", headers={**HOST, "upgrade": "h2c, websocket"}
    )
    assert triple(response) == (
        500,
        (("Content-Type", "application/json"),),
        b'{"error":"websocket connections aren\'t allowed"}\n',
    )


def test_upgrade_check_is_case_sensitive_and_comes_first(call):
    """'WebSocket' passes (strings.Contains); the check precedes the Host check."""
    ok = call("GET", "/frankenphp_ws/getClients", headers={**HOST, "upgrade": "WebSocket"})
    assert ok.status == 200
    both = call(
        "GET", "/frankenphp_ws/getClients", headers={"host": "evil", "upgrade": "websocket"}
    )
    assert both.status == 500


@pytest.mark.parametrize("host", ["localhost:2019", "127.0.0.1:2019", "[::1]:2019"])
def test_default_allowed_hosts(host, call):
    """The three loopback names on the admin port pass the Host check."""
    assert call("GET", "/frankenphp_ws/getClients", headers={"host": host}).status == 200


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:12019", "example.com:2019", "LOCALHOST:2019"]
)
def test_other_hosts_are_403(host, call):
    """Host must match exactly, port included; the body names the Host."""
    response = call("GET", "/frankenphp_ws/getClients", headers={"host": host})
    assert triple(response) == (
        403,
        (("Content-Type", "application/json"),),
        f'{{"error":"host not allowed: {host}"}}\n'.encode(),
    )


def test_host_is_html_escaped_in_the_error(call):
    """The error text goes through Go's JSON encoder (HTML escaping)."""
    response = call("GET", "/frankenphp_ws/getClients", headers={"host": "a&b"})
    assert response.body == b'{"error":"host not allowed: a\\u0026b"}\n'


def test_host_check_off_and_custom_hosts():
    """host_check=False accepts anything; allowed_hosts replaces the defaults."""
    open_fake = FakeFrankenPHP(host_check=False)
    response = open_fake.handle(RawRequest("GET", "/frankenphp_ws/getClients", {"host": "x"}))
    assert response.status == 200
    custom = FakeFrankenPHP(allowed_hosts=["admin.internal:8443", "https://ops.example:443"])
    for host, status in (
        ("admin.internal:8443", 200),
        ("ops.example:443", 200),
        (HOST["host"], 403),
    ):
        request = RawRequest("GET", "/frankenphp_ws/getClients", {"host": host})
        assert custom.handle(request).status == status
    nobody = FakeFrankenPHP(allowed_hosts=[])
    assert nobody.handle(RawRequest("GET", "/frankenphp_ws/getClients", HOST)).status == 403


def test_admin_port_moves_the_default_hosts():
    """A handler listening on another port allows that port; the fake's own keeps 2019."""
    fake = FakeFrankenPHP()
    loopback = fake.handler.listening_on(40123)
    ok = loopback(RawRequest("GET", "/frankenphp_ws/getClients", {"host": "127.0.0.1:40123"}))
    assert ok.status == 200
    assert loopback(RawRequest("GET", "/frankenphp_ws/getClients", HOST)).status == 403
    assert fake.handle(RawRequest("GET", "/frankenphp_ws/getClients", HOST)).status == 200


def test_explicit_hosts_do_not_follow_the_port():
    """Configured origins are the same on every listener, as in Caddy."""
    fake = FakeFrankenPHP(allowed_hosts=["admin.internal:8443"])
    loopback = fake.handler.listening_on(40123)
    request = RawRequest("GET", "/frankenphp_ws/getClients", {"host": "admin.internal:8443"})
    assert loopback(request).status == 200


class TestEnforceOrigin:
    """Caddy's enforce_origin: Origin (or Referer) must name an allowed origin."""

    @pytest.fixture
    def strict(self):
        return FakeFrankenPHP(enforce_origin=True)

    def get(self, fake, **headers):
        return fake.handle(RawRequest("GET", "/frankenphp_ws/getClients", {**HOST, **headers}))

    def test_absent_origin(self, strict):
        """No Origin and no Referer: the empty origin is not allowed."""
        response = self.get(strict)
        assert response.status == 403
        assert response.body == b'{"error":"client is not allowed to access from origin \'\'"}\n'

    def test_unparsable_origin(self, strict):
        """An Origin Go's url.Parse rejects gives the 'missing or invalid' message."""
        for origin in ("http://[::1", "http://localhost:2019/%zz", "://x"):
            response = self.get(strict, origin=origin)
            assert response.body == b'{"error":"required Origin header is missing or invalid"}\n'

    def test_foreign_origin(self, strict):
        """A parsable but foreign origin is named in the 403."""
        response = self.get(strict, origin="https://evil.example")
        assert response.body == (
            b'{"error":"client is not allowed to access from origin \'https://evil.example\'"}\n'
        )

    def test_allowed_origin_adds_cors_header(self, strict):
        """Allowed: the response carries Access-Control-Allow-Origin (path stripped)."""
        response = self.get(strict, origin="http://localhost:2019/some/page?q=1")
        assert response.status == 200
        assert response.headers == (
            ("Access-Control-Allow-Origin", "http://localhost:2019"),
            ("Content-Type", "application/json"),
        )

    def test_referer_fallback_and_404(self, strict):
        """Referer stands in for a missing Origin; the header also lands on a 404."""
        response = strict.handle(
            RawRequest("GET", "/nope", {**HOST, "referer": "http://127.0.0.1:2019/x"})
        )
        assert response.status == 404
        assert ("Access-Control-Allow-Origin", "http://127.0.0.1:2019") in response.headers

    def test_options_gets_cors_preflight_headers_and_405(self, strict):
        """OPTIONS passes Caddy's check with extra headers, then the module says 405."""
        response = strict.handle(
            RawRequest(
                "OPTIONS", "/frankenphp_ws/getClients", {**HOST, "origin": "http://localhost:2019"}
            )
        )
        assert response.status == 405
        assert dict(response.headers) == {
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Headers": "Content-Type, Content-Length, Cache-Control",
            "Access-Control-Allow-Methods": "OPTIONS, GET, POST, PUT, PATCH, DELETE",
            "Access-Control-Allow-Origin": "http://localhost:2019",
            "Content-Type": "application/json",
        }

    def test_scheme_restricted_origin(self):
        """An allowed origin with a scheme only admits that scheme."""
        fake = FakeFrankenPHP(enforce_origin=True, allowed_hosts=["https://localhost:2019"])
        assert self.get(fake, origin="https://localhost:2019").status == 200
        assert self.get(fake, origin="http://localhost:2019").status == 403


def test_options_star_is_answered_by_go(call):
    """'OPTIONS *' never reaches Caddy: an empty 200."""
    assert triple(call("OPTIONS", "*", headers={"host": "anything"})) == (200, (), b"")


class TestQueryParsing:
    """url.ParseQuery semantics: bad pairs vanish, first value wins, '+' is a space."""

    def test_bad_escape_in_query_is_not_an_error(self, fake, call):
        """route=%zz is dropped, so the 'filtered' broadcast reaches everyone."""
        fake.connect("/a", id="x")
        fake.connect("/b", id="y")
        response = call("POST", "/frankenphp_ws/sendAll?route=%zz", b"m")
        assert response.body == b'{"sentCount":2}\n'

    def test_semicolon_pair_is_dropped(self, fake, call):
        """route=/a;b is dropped as a whole."""
        fake.connect("/a;b", id="x")
        fake.connect("/c", id="y")
        assert call("POST", "/frankenphp_ws/sendAll?route=/a;b", b"m").body == b'{"sentCount":2}\n'
        encoded = call("POST", "/frankenphp_ws/sendAll?route=/a%3Bb", b"m")
        assert encoded.body == b'{"route":"/a;b","sentCount":1}\n'

    def test_first_value_wins_and_plus_is_space(self, call):
        """Repeated keys keep the first value; '+' decodes to a space."""
        response = call("GET", "/frankenphp_ws/getClients?route=a+b&route=c")
        assert json.loads(response.body)["route"] == "a b"

    def test_key_escapes_are_decoded(self, call):
        """Keys are unescaped too (r%6Fute is route)."""
        response = call("GET", "/frankenphp_ws/getClientsCount?r%6Fute=%2Fx")
        assert response.body == b'{"count":0,"route":"/x"}\n'


def test_httpx_default_url_building_survives_escapes(fake, http):
    """Escapes httpx keeps (%2F, %25, %252F) reach the handler unchanged."""
    fake.connect("/r", id="a/b")
    assert http.get("/frankenphp_ws/getTags/a%2Fb").json()["clientID"] == "a/b"
    response = http.get(httpx.URL("http://localhost:2019/frankenphp_ws/getClientsByRoute/%252Fr"))
    assert response.json() == {"clients": ["a/b"], "count": 1, "route": "/r"}


def test_head_keeps_gos_own_400_body(call):
    """Go writes its parser 400 verbatim, even for HEAD; handler bodies are dropped."""
    assert call("HEAD", "/frankenphp_ws/getTags/%zz").body == b"400 Bad Request"
    assert call("HEAD", "/nope").body == b""
