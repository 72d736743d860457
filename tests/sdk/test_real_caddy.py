"""The SDK against real Caddy builds that lack the WebSocket extension.

``each_real_caddy`` runs a test against the pinned Caddy and the newer FRANKENWS_CADDY_NEXT.
"""

from __future__ import annotations

import pytest

import frankenws


def test_module_not_loaded(each_real_caddy):
    """Caddy's plain-text 404 on a /frankenphp_ws/ route means the extension is missing."""
    real_caddy = each_real_caddy.url
    with frankenws.Client(real_caddy) as client, pytest.raises(frankenws.ModuleNotLoaded) as info:
        client.get_clients()
    assert info.value.status_code == 404
    assert info.value.body == b"404 page not found\n"
    assert real_caddy in str(info.value)
    assert "extension" in str(info.value)


def test_module_not_loaded_on_global_routes(each_real_caddy):
    """The global store's own 404 is not confused with Caddy's router 404."""
    with frankenws.Client(each_real_caddy.url) as client, pytest.raises(frankenws.ModuleNotLoaded):
        client.global_get("key")


def test_host_not_allowed(each_real_caddy):
    """Caddy's Host check answers 403; the error suggests host_header."""
    with (
        frankenws.Client(each_real_caddy.url, host_header="tunnel:12019") as client,
        pytest.raises(frankenws.HostNotAllowed) as info,
    ):
        client.list_routes()
    assert info.value.status_code == 403
    assert "host not allowed: tunnel:12019" in str(info.value)
    assert "host_header" in str(info.value)


def test_websocket_upgrade_header_is_a_server_error(real_caddy):
    """An Upgrade: websocket header makes the pinned Caddy's admin answer 500."""
    with (
        frankenws.Client(real_caddy, headers={"Upgrade": "websocket"}) as client,
        pytest.raises(frankenws.ServerError, match="websocket connections aren't allowed"),
    ):
        client.get_clients()


def test_websocket_upgrade_header_on_newer_caddy(real_caddy_next):
    """Caddy 2.11 refuses the same request with 400 and its own wording; still an APIError."""
    with (
        frankenws.Client(real_caddy_next, headers={"Upgrade": "websocket"}) as client,
        pytest.raises(frankenws.APIError, match="WebSocket connections aren't allowed") as info,
    ):
        client.get_clients()
    assert info.value.status_code == 400


async def test_async_module_not_loaded(each_real_caddy):
    """The async client maps the same answer to the same error."""
    async with frankenws.AsyncClient(each_real_caddy.url) as client:
        with pytest.raises(frankenws.ModuleNotLoaded):
            await client.get_tags()


def test_unix_socket(real_caddy_unix):
    """Caddy's unix//path admin address reaches the admin server through the socket."""
    assert real_caddy_unix.startswith("unix//")
    with frankenws.Client(real_caddy_unix) as client, pytest.raises(frankenws.ModuleNotLoaded):
        client.get_clients()
    with (
        frankenws.Client("unix://" + real_caddy_unix[len("unix/") :]) as client,
        pytest.raises(frankenws.ModuleNotLoaded),
    ):
        client.list_routes()
