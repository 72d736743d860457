"""The pytest plugin's fixtures, used exactly as a user's test suite would."""

from __future__ import annotations

import frankenws


def test_fake_fixture_is_fresh_and_wired(frankenws_fake):
    """frankenws_fake is an empty in-process fake with a working client."""
    assert frankenws_fake.get_clients() == []
    conn = frankenws_fake.connect("/chat")
    with frankenws_fake.client() as ws:
        assert ws.get_clients() == [conn]


def test_server_fixture_serves_the_same_fake(frankenws_server, frankenws_fake):
    """frankenws_server serves frankenws_fake on loopback with a real admin URL."""
    assert frankenws_server.fake is frankenws_fake
    conn = frankenws_fake.connect("/chat")
    with frankenws.Client(frankenws_server.admin_url) as ws:
        assert ws.get_clients() == [conn]
    assert frankenws_server.ws_url("/chat").startswith("ws://127.0.0.1:")


def test_both_fixtures_in_one_test(frankenws_fake, frankenws_server):
    """After serve(), the in-process client keeps working next to the loopback one."""
    with frankenws_fake.client() as local:
        conn = local.get_clients() or frankenws_fake.connect("/chat")
        local.tag_client(conn, "vip")
    with frankenws_server.client() as remote:
        assert remote.get_clients_by_tag("vip") == [conn]
        remote.untag_client(conn, "vip")
    with frankenws_fake.client() as local:
        assert local.get_client_tags(conn) == []
