"""The SDK against a real Caddy that lacks the WebSocket extension."""

from __future__ import annotations

import pytest

import frankenws


def test_module_not_loaded(real_caddy):
    """Caddy's plain-text 404 on a /frankenphp_ws/ route means the extension is missing."""
    with frankenws.Client(real_caddy) as client, pytest.raises(frankenws.ModuleNotLoaded) as info:
        client.get_clients()
    assert info.value.status_code == 404
    assert info.value.body == b"404 page not found\n"
    assert real_caddy in str(info.value)
    assert "extension" in str(info.value)


def test_module_not_loaded_on_global_routes(real_caddy):
    """The global store's own 404 is not confused with Caddy's router 404."""
    with frankenws.Client(real_caddy) as client, pytest.raises(frankenws.ModuleNotLoaded):
        client.global_get("key")


def test_host_not_allowed(real_caddy):
    """Caddy's Host check answers 403; the error suggests host_header."""
    with (
        frankenws.Client(real_caddy, host_header="tunnel:12019") as client,
        pytest.raises(frankenws.HostNotAllowed) as info,
    ):
        client.list_routes()
    assert info.value.status_code == 403
    assert "host not allowed: tunnel:12019" in str(info.value)
    assert "host_header" in str(info.value)


def test_websocket_upgrade_header_is_a_server_error(real_caddy):
    """An Upgrade: websocket header makes Caddy's admin answer 500."""
    with (
        frankenws.Client(real_caddy, headers={"Upgrade": "websocket"}) as client,
        pytest.raises(frankenws.ServerError, match="websocket connections aren't allowed"),
    ):
        client.get_clients()


async def test_async_module_not_loaded(real_caddy):
    """The async client maps the same answer to the same error."""
    async with frankenws.AsyncClient(real_caddy) as client:
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
