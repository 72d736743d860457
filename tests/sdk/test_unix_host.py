"""The Host header on a unix-socket admin, against real Caddies of every generation.

Caddy before 2.7 checks Host on a unix socket too and, with no ``origins`` configured,
accepts only an empty one; 2.7 and later do not check it at all. ``each_caddy_unix``
starts each Caddy with the admin on a socket and Caddy's defaults, so a request that
gets past the Host check meets Caddy's router 404 (these Caddies have no WebSocket
extension): ``ModuleNotLoaded`` proves the Host was accepted, ``HostNotAllowed`` that
it was not. The old Caddy comes from FRANKENWS_CADDY_OLD (Debian's caddy 2.6).
"""

from __future__ import annotations

import httpx
import pytest

import frankenws
import frankenws.bulk


def _socket(url: str) -> str:
    return url[len("unix/") :]


def test_sync_client_passes_the_host_check(each_caddy_unix):
    with frankenws.Client(each_caddy_unix.url) as client:
        assert client.host_header == ""
        with pytest.raises(frankenws.ModuleNotLoaded):
            client.get_clients_count()


async def test_async_client_passes_the_host_check(each_caddy_unix):
    """The default async sender (aiohttp when installed) sends the same empty Host."""
    async with frankenws.AsyncClient(each_caddy_unix.url) as client:
        with pytest.raises(frankenws.ModuleNotLoaded):
            await client.get_tags()


async def test_httpx_async_sender_passes_the_host_check(each_caddy_unix):
    """httpx's own asyncio transport (the default without aiohttp) too."""
    transport = httpx.AsyncHTTPTransport(uds=_socket(each_caddy_unix.url))
    async with frankenws.AsyncClient(each_caddy_unix.url, transport=transport) as client:
        with pytest.raises(frankenws.ModuleNotLoaded):
            await client.list_routes()


def test_bulk_lane_passes_the_host_check(each_caddy_unix):
    """A bulk job's requests (the HTTP/1.1 lane) are refused by the router, not the Host check."""
    with frankenws.Client(each_caddy_unix.url) as client:
        report = frankenws.bulk.kill_connections(client, ["c1", "c2"], concurrency=2)
    assert report.sender == "http1"
    assert sorted(report.failed) == ["c1", "c2"]
    errors = [outcome.error or "" for outcome in report.outcomes]
    assert all("404 page not found" in error for error in errors), errors


def test_an_explicit_host_is_still_sent(each_caddy_unix):
    """host_header overrides the default: the old Caddy refuses it and says what it accepts."""
    with frankenws.Client(each_caddy_unix.url, host_header="localhost") as client:
        assert client.host_header == "localhost"
        version = tuple(int(part) for part in each_caddy_unix.build.caddy_version.split("."))
        if version >= (2, 7):
            with pytest.raises(frankenws.ModuleNotLoaded):
                client.get_clients_count()
            return
        with pytest.raises(frankenws.HostNotAllowed) as info:
            client.get_clients_count()
    message = str(info.value)
    assert "host not allowed: localhost" in message
    # The fix that works on this server, not a TCP listener's address that fails too.
    assert "localhost:2019" not in message
    assert "origins" in message
    assert "empty Host" in message
