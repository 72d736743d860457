"""``FakeFrankenPHP(go_version=..., caddy_version=...)``: the bytes each release writes."""

from __future__ import annotations

import pytest
from fake_support import HOST

from frankenws.testing import FakeFrankenPHP, RawRequest


def get(fake: FakeFrankenPHP, target: str, **headers: str):
    return fake.handle(RawRequest("GET", target, {**HOST, **headers}))


def test_defaults_are_the_pinned_releases():
    """Go 1.25 and Caddy 2.10.2: 301 redirects, escaped U+FFFD, 500 for an upgrade."""
    fake = FakeFrankenPHP()
    assert get(fake, "//frankenphp_ws/getTags/a%2Fb").status == 301
    assert get(fake, "/frankenphp_ws/getTags/%FF").body == b'{"clientID":"\\ufffd","tags":null}\n'
    assert get(fake, "/frankenphp_ws/getClients", upgrade="websocket").status == 500


@pytest.mark.parametrize(("go", "status"), [("1.25", 301), ("1.26", 307), ("go1.27.2", 307)])
def test_redirect_status_follows_go(go, status):
    """Go 1.26 changed the mux's clean-path redirect from 301 to 307."""
    assert get(FakeFrankenPHP(go_version=go), "/frankenphp_ws/./getClients").status == status


def test_go_1_26_redirect_body_and_location():
    """Go 1.26's 307 says Temporary Redirect; its Location is escaped as in 1.25.

    Measured with Caddy 2.11.7 (Go 1.26.8): a %2F still comes back as %252F.
    """
    old = get(FakeFrankenPHP(go_version="1.25"), "//frankenphp_ws/getTags/a%2Fb")
    new = get(FakeFrankenPHP(go_version="1.26"), "//frankenphp_ws/getTags/a%2Fb")
    assert dict(old.headers)["Location"] == "/frankenphp_ws/getTags/a%252Fb"
    assert dict(new.headers)["Location"] == "/frankenphp_ws/getTags/a%252Fb"
    assert new.body == b'<a href="/frankenphp_ws/getTags/a%252Fb">Temporary Redirect</a>.\n\n'


def test_go_1_27_writes_invalid_utf8_as_raw_replacement_characters():
    """Go 1.27's encoding/json writes EF BF BD where older ones wrote \\ufffd."""
    fake = FakeFrankenPHP(go_version="1.27")
    response = get(fake, "/frankenphp_ws/getTags/%FF%5Cufffd")
    # The id is an invalid byte, then the six characters \ufffd (escaped backslash).
    assert response.body == '{"clientID":"\ufffd\\\\ufffd","tags":null}\n'.encode()


def test_caddy_2_11_refuses_an_upgrade_with_400():
    """Caddy 2.11 answers an admin request carrying Upgrade: websocket with a 400."""
    fake = FakeFrankenPHP(caddy_version="2.11.0")
    response = get(fake, "/frankenphp_ws/getClients", upgrade="websocket")
    assert (response.status, response.body) == (
        400,
        b'{"error":"WebSocket connections aren\'t allowed."}\n',
    )


def test_versions_reach_the_loopback_server():
    """The served fake answers with the same release's bytes."""
    import httpx

    with FakeFrankenPHP(go_version="1.26").serve() as server:
        url = httpx.URL(server.admin_url).copy_with(raw_path=b"//frankenphp_ws/getClients")
        answer = httpx.get(url)
    assert answer.status_code == 307


@pytest.mark.parametrize(
    ("go", "caddy"),
    [("2.0", "2.10.2"), ("1.x", "2.10.2"), ("", "2.10.2"), ("1.25", "1.9"), ("1.25", "latest")],
)
def test_nonsense_versions_are_refused(go, caddy):
    """A clear ValueError names the parameter and the expected shape."""
    with pytest.raises(ValueError, match=r"^(go|caddy)_version must look like") as error:
        FakeFrankenPHP(go_version=go, caddy_version=caddy)
    assert str(error.value).endswith((f"got {go!r}", f"got {caddy!r}"))
