"""The public surface of frankenws.testing and the server-mode helpers."""

from __future__ import annotations

import subprocess
import sys
import threading
import types
import typing

import frankenws.testing
from frankenws.testing import FakeFrankenPHP


def test_public_names():
    """frankenws.testing exports exactly these names, sorted."""
    assert frankenws.testing.__all__ == [
        "Event",
        "FakeFrankenPHP",
        "LoopbackServer",
        "ManualClock",
        "Population",
        "RawRequest",
        "RawResponse",
        "SystemClock",
    ]


def test_all_lists_every_public_name():
    """Nothing public is left out of __all__, and every export says it lives here."""
    public = sorted(
        name
        for name, value in vars(frankenws.testing).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    )
    assert public == frankenws.testing.__all__
    for name in frankenws.testing.__all__:
        assert getattr(frankenws.testing, name).__module__ == "frankenws.testing", name


def test_loopback_clients_are_typed():
    """LoopbackServer.client()/async_client() are annotated with the SDK's classes."""
    # The SDK is imported for type checkers only (importing the fake stays light).
    sdk = {"Client": frankenws.Client, "AsyncClient": frankenws.AsyncClient}
    server = frankenws.testing.LoopbackServer
    assert typing.get_type_hints(server.client, localns=sdk)["return"] is frankenws.Client
    hints = typing.get_type_hints(server.async_client, localns=sdk)
    assert hints["return"] is frankenws.AsyncClient


def test_importing_the_fake_does_not_import_aiohttp():
    """The in-process fake must not pull aiohttp in at import time."""
    code = "import sys, frankenws.testing; print('aiohttp' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_sdk_clients(fake):
    """fake.client() and fake.async_client() are frankenws clients on this fake."""
    conn = fake.connect("/chat")
    with fake.client() as client:
        assert client.get_clients() == [conn]
        client.send(conn, b"sync")
    assert fake.received(conn) == [b"sync"]
    assert isinstance(fake.async_client(), frankenws.AsyncClient)


async def test_async_sdk_client(fake):
    """The async client goes through the same transport."""
    conn = fake.connect("/chat")
    async with fake.async_client() as client:
        assert await client.get_clients_count() == 1
        await client.send(conn, "async")
    assert fake.received(conn) == [b"async"]


def test_server_mode_helpers_return_python_values(fake):
    """Helpers mirror the PHP functions: lists (never None), None for missing values."""
    conn = fake.connect("/chat")
    assert fake.get_clients() == [conn]
    assert fake.get_clients("/none") == []
    assert fake.get_clients_count("/chat") == 1
    assert fake.list_routes() == ["/chat"]
    fake.tag_client(conn, "a")
    fake.tag_client("orphan", "b")
    assert fake.get_tags() == ["a", "b"]
    fake.untag_client("orphan", "b")
    assert fake.get_clients_by_tag("b") == []
    assert fake.get_tag_count("a") == 1
    fake.clear_tag_client(conn)
    assert fake.get_client_tags(conn) == []
    assert fake.get_stored_information(conn, "k") is None
    fake.set_stored_information(conn, "k", "")
    assert fake.get_stored_information(conn, "k") == ""  # server mode can store ""
    assert fake.has_stored_information(conn, "k")
    assert fake.list_stored_information_keys(conn) == ["k"]
    assert fake.delete_stored_information(conn, "zz") is True
    fake.clear_stored_information(conn)
    assert fake.list_stored_information_keys(conn) == []
    assert fake.get_clients_by_tag_expression("  ") == []
    assert fake.enable_ping("x") is True
    assert fake.disable_ping("x") is True
    assert fake.get_client_ping_time("x") == 0
    assert fake.enable_queue_counter("x", 0, 0) is True
    assert fake.disable_queue_counter("x") is True
    assert fake.clear_client_message_queue("x") is True
    assert fake.get_client_message_queue("x") == []


def test_queue_counter_zero_means_unlimited_in_server_mode(fake, clock):
    """PHP server mode can pass 0 (unlimited), which the admin API cannot."""
    conn = fake.connect()
    fake.enable_queue_counter(conn, max_messages=0, max_time_seconds=0)
    for _ in range(150):
        fake.send(conn, "x")
    clock.advance(10**6)
    fake.send(conn, "y")
    assert len(fake.get_client_message_queue(conn)) == 151


def test_events_log_and_peer_access(fake):
    """fake.events lists every event; fake.peer exposes the virtual socket."""
    conn = fake.connect("/r")
    fake.client_message(conn, "hi")
    assert [e.type for e in fake.events] == ["open", "message"]
    assert fake.peer(conn).is_open
    assert repr(fake).startswith("<FakeFrankenPHP clients=1")


def test_concurrent_use_is_consistent():
    """The state's lock makes concurrent sends and connects safe."""
    fake = FakeFrankenPHP()
    conns = [fake.connect() for _ in range(20)]
    for conn in conns:
        fake.enable_queue_counter(conn, max_messages=1000)

    def worker() -> None:
        for _ in range(50):
            fake.send_all(b"x")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for conn in conns:
        assert len(fake.received(conn)) == 200
        ids = [m.id for m in fake.get_client_message_queue(conn)]
        assert ids == list(range(1, 201))


def test_event_log_is_bounded(monkeypatch):
    """The event log keeps the most recent events only, trimmed in batches."""
    from frankenws.testing import _events

    monkeypatch.setattr(_events, "MAX_EVENTS", 50)
    fake = FakeFrankenPHP()
    conn = fake.connect()
    for i in range(200):
        fake.client_message(conn, f"m{i}")
    assert 50 <= len(fake.events) <= 55
    assert fake.events[-1].payload == b"m199"
