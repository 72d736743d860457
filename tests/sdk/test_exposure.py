"""The client stays inside the WebSocket extension's API and says when it is exposed."""

from __future__ import annotations

import warnings

import pytest

import frankenws
from frankenws.testing import FakeFrankenPHP


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:2019/config", "http://127.0.0.1:2019/config/", "localhost:2019/x"]
)
def test_a_path_in_the_admin_url_is_refused(url):
    """A path would rebase every call, e.g. into Caddy's own /config API."""
    with pytest.raises(frankenws.InvalidArgument, match="allow_path=True"):
        frankenws.Client(url)


def test_a_path_is_accepted_for_a_reverse_proxy(recording_server):
    base, _ = recording_server
    with frankenws.Client(base + "/caddy-admin", allow_path=True) as client:
        assert client.url == base + "/caddy-admin"
        assert client.get_clients() == []


@pytest.mark.parametrize(
    "path",
    [
        "/load",
        "/stop",
        "/config/",
        "/id/x",
        "/frankenphp_ws",  # not under the prefix
        "/frankenphp_ws/../load",
        "/frankenphp_ws/%2e%2e/load",
        "/frankenphp_ws/./getAllClients",
    ],
)
async def test_raw_requests_stay_under_the_extension(path):
    fake = FakeFrankenPHP()
    with fake.client() as client, pytest.raises(frankenws.InvalidArgument, match="any_path"):
        client.request("POST", path)
    async with fake.async_client() as aclient:
        with pytest.raises(frankenws.InvalidArgument, match="any_path"):
            await aclient.request("POST", path)


def test_raw_request_opt_out_and_normal_use():
    fake = FakeFrankenPHP()
    with fake.client() as client:
        assert client.request("GET", "/frankenphp_ws/getClients").status == 200
        # Opting out sends it: the fake, like Caddy without the route, answers 404.
        with pytest.raises(frankenws.NotFound):
            client.request("GET", "/config/", any_path=True)


def test_plain_http_to_another_host_warns_once():
    url = "http://10.9.8.7:2019"
    with pytest.warns(frankenws.InsecureConnectionWarning, match="no authentication"):
        frankenws.Client(url).close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frankenws.Client(url).close()  # once per URL


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:2019", "http://localhost:2019", "http://[::1]:2019", "unix//x.sock"]
)
def test_loopback_and_unix_sockets_do_not_warn(url):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frankenws.Client(url).close()


def test_verify_false_warns_once():
    url = "https://admin.example:2021"
    with pytest.warns(frankenws.InsecureConnectionWarning, match="verification is off"):
        frankenws.Client(url, verify=False).close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frankenws.Client(url, verify=False).close()
        frankenws.Client(url).close()  # verified: no warning at all
