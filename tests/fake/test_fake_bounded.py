"""A long-running fake keeps a bounded amount for connections that are gone.

A load test opens and kills connections for hours against one ``fake-server``; what
the fake remembers about closed connections (their frames for ``received``, the event
log) must stop growing. The bounds are lowered here so the test stays small.
"""

from __future__ import annotations

import pytest

from frankenws.testing import FakeFrankenPHP


def test_closed_virtual_connections_are_forgotten_oldest_first(monkeypatch):
    from frankenws.testing import _events, _fake

    monkeypatch.setattr(_fake, "MAX_CLOSED_PEERS", 50)
    monkeypatch.setattr(_events, "MAX_EVENTS", 50)
    fake = FakeFrankenPHP()
    keeper = fake.connect("/chat", id="keeper")
    fake.send(keeper, b"hello")
    for i in range(1000):
        conn = fake.connect("/chat", id=f"c{i}")
        fake.send(conn, b"frame %d" % i)
        fake.kill_connection(conn)
    # Recent closed connections keep their frames; the oldest ones are forgotten.
    assert fake.received("c999") == [b"frame 999"]
    with pytest.raises(KeyError, match="c0"):
        fake.received("c0")
    # An open connection is never forgotten, however old.
    assert fake.received(keeper) == [b"hello"]
    fake.send(keeper, b"again")
    assert fake.received(keeper) == [b"hello", b"again"]
    assert fake.get_clients() == ["keeper"]
    assert len(fake.events) <= 55


def test_a_renamed_open_connection_keeps_its_old_id(monkeypatch):
    from frankenws.testing import _fake

    monkeypatch.setattr(_fake, "MAX_CLOSED_PEERS", 5)
    fake = FakeFrankenPHP()
    fake.connect("/chat", id="old")
    fake.rename_connection("old", "new")
    for i in range(100):
        fake.kill_connection(fake.connect("/chat", id=f"c{i}"))
    fake.send("new", b"x")
    assert fake.received("old") == [b"x"]
    assert fake.received("new") == [b"x"]
