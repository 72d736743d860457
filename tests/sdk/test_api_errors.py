"""API error classes not covered elsewhere, each provoked for real."""

from __future__ import annotations

import pytest

import frankenws
from frankenws.testing import FakeFrankenPHP


def test_forbidden_by_origin_enforcement():
    """With enforce_origin, a request without an allowed Origin is refused (403)."""
    fake = FakeFrankenPHP(enforce_origin=True)
    with fake.serve() as server, server.client() as ws:
        with pytest.raises(frankenws.Forbidden) as info:
            ws.get_clients()
        assert info.value.status_code == 403
        assert "client is not allowed to access from origin" in str(info.value)
        assert not isinstance(info.value, frankenws.HostNotAllowed)
        origin = {"Origin": server.admin_url}
        with server.client(headers=origin) as allowed:
            assert allowed.get_clients() == []


def test_unexpected_status_is_an_api_error(each_real_caddy):
    """A status outside the protocol (Caddy's 431 for huge headers) is an APIError."""
    huge = {"X-Padding": "x" * 70_000}
    with (
        frankenws.Client(each_real_caddy.url, headers=huge) as ws,
        pytest.raises(frankenws.APIError) as info,
    ):
        ws.get_clients()
    assert info.value.status_code == 431
    assert type(info.value) is frankenws.APIError


def test_every_error_class_is_a_frankenws_error():
    """One except clause catches everything the SDK raises."""
    for name in frankenws.__all__:
        obj = getattr(frankenws, name)
        if isinstance(obj, type) and issubclass(obj, Exception) and not issubclass(obj, Warning):
            assert issubclass(obj, frankenws.FrankenWSError), name
