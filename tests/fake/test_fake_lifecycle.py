"""Connection lifecycle: the cleanup matrix of §10.5, ghosts, rename, events, hooks."""

from __future__ import annotations

import json

import pytest

from frankenws.testing import Event, FakeFrankenPHP, ManualClock, RawRequest
from frankenws.testing._peers import VirtualPeer


def loaded(fake: FakeFrankenPHP, route: str = "/chat", conn_id: str = "c1") -> str:
    """A connection with every kind of per-id state."""
    conn = fake.connect(route, id=conn_id)
    fake.tag_client(conn, "vip")
    fake.set_stored_information(conn, "user", "alice")
    fake.enable_ping(conn)  # manual ping: pending timestamp recorded
    fake.client_pong(conn)  # measured: last ping time 0 ns, enabled stays
    fake.enable_ping(conn)  # pending again
    fake.enable_queue_counter(conn)
    fake.send(conn, b"m")
    fake.global_set("g", b"v")
    return conn


def snapshot(fake: FakeFrankenPHP, conn: str) -> dict[str, object]:
    state = fake.state
    return {
        "registered": conn in fake.get_clients(),
        "route": state._routes.get(conn),
        "tags": fake.get_client_tags(conn),
        "stored": fake.get_all_stored_information(conn),
        "ping_enabled": state.pings.is_enabled(conn),
        "pending": conn in state.pings.pending_ns,
        "queue_counter": fake.get_client_message_counter(conn),
        "queue_len": len(fake.get_client_message_queue(conn)),
        "ghost": fake.is_ghost(conn),
        "global": fake.global_get("g"),
    }


KEPT = {
    "registered": True,
    "route": "/chat",
    "tags": ["vip"],
    "stored": {"user": "alice"},
    "ping_enabled": True,
    "pending": True,
    "queue_counter": 1,
    "queue_len": 1,
    "global": b"v",
}
CLEANED = {
    "registered": False,
    "route": None,
    "tags": [],
    "stored": {},
    "ping_enabled": False,
    "pending": False,
    "queue_counter": 1,
    "queue_len": 1,
    "global": b"v",
}


def types(fake: FakeFrankenPHP) -> list[tuple[str, str]]:
    return [(event.type, event.connection) for event in fake.events]


class TestNormalClose:
    """Column 'Normal close (incl. kill)' of the cleanup matrix."""

    def test_disconnect_cleans_everything_but_queue_and_global(self, fake):
        """Registration, route, tags, stored info, ping state go; queue and global stay."""
        conn = loaded(fake)
        fake.disconnect(conn)
        assert snapshot(fake, conn) == {**CLEANED, "ghost": False}
        assert types(fake)[-2:] == [("beforeClose", conn), ("close", conn)]

    def test_kill_runs_the_same_path(self, fake, call):
        """killConnection: TCP drop (1006 for the peer), then the normal close path."""
        conn = loaded(fake)
        response = call("POST", f"/frankenphp_ws/killConnection/{conn}")
        assert json.loads(response.body) == {"clientID": conn, "success": True}
        assert fake.peer(conn).close_code == 1006
        assert snapshot(fake, conn) == {**CLEANED, "ghost": False}
        again = call("POST", f"/frankenphp_ws/killConnection/{conn}")
        assert json.loads(again.body)["success"] is False

    def test_before_close_sees_state_without_tags(self):
        """During beforeClose: still registered, stored info and route present, tags gone."""
        seen: dict[str, object] = {}

        def on_close(event: Event) -> None:
            if event.type == "beforeClose":
                seen["clients"] = fake.get_clients()
                seen["tags"] = fake.get_client_tags(event.connection)
                seen["user"] = fake.get_stored_information(event.connection, "user")
                seen["route"] = event.route

        fake = FakeFrankenPHP(on_close=on_close)
        conn = fake.connect("/chat")
        fake.tag_client(conn, "vip")
        fake.set_stored_information(conn, "user", "alice")
        fake.disconnect(conn)
        assert seen == {"clients": [conn], "tags": [], "user": "alice", "route": "/chat"}

    def test_close_events_carry_route_payload_and_remote(self, fake):
        """beforeClose/close report the route and the close reason."""
        conn = fake.connect("/chat")
        fake.disconnect(conn, 1001, "bye")
        before, close = fake.events[-2:]
        assert (before.type, close.type) == ("beforeClose", "close")
        assert close.route == "/chat"
        assert close.remote_addr == "127.0.0.1:0"
        assert close.payload == b"connection closed: code=1001, reason=bye"

    def test_unregistered_socket_close_has_empty_connection(self, fake):
        """A socket the registry does not know emits close with '' and route /unknown."""
        peer = VirtualPeer()
        fake.state.socket_closed(peer, "gone")
        assert fake.events[-1] == Event("close", "", "/unknown", "", {}, b"gone")

    def test_frames_stay_readable_after_close(self, fake):
        """received() keeps the frames of a closed connection."""
        conn = fake.connect()
        fake.send(conn, "x")
        fake.disconnect(conn)
        assert fake.received(conn) == [b"x"]
        assert fake.send(conn, "y") is False


class TestGhosts:
    """Columns 'Ghost socket closes' and 'releaseGhost'."""

    def test_activate_only_registered(self, fake, call):
        """activateGhost needs a registered id; isGhost is the raw flag."""
        conn = fake.connect(id="c1")
        body = json.loads(call("POST", "/frankenphp_ws/activateGhost/nobody").body)
        assert body == {"action": "activateGhost", "clientID": "nobody", "success": False}
        assert json.loads(call("POST", "/frankenphp_ws/activateGhost/c1").body)["success"]
        assert json.loads(call("POST", "/frankenphp_ws/activateGhost/c1").body)["success"]
        assert json.loads(call("GET", "/frankenphp_ws/isGhost/c1").body)["isGhost"] is True
        assert fake.is_ghost(conn)

    def test_ghost_close_keeps_everything(self, fake, call):
        """Socket gone, id stays: listed, counted, tags/info/ping kept, writes fail."""
        conn = loaded(fake)
        other = fake.connect("/chat", id="c2")
        fake.activate_ghost(conn)
        fake.disconnect(conn)
        assert snapshot(fake, conn) == {**KEPT, "ghost": True}
        assert fake.events[-1].type == "ghostConnectionClose"
        assert [e.type for e in fake.events].count("beforeClose") == 0
        assert call("POST", "/frankenphp_ws/sendAll", b"x").body == b'{"sentCount":1}\n'
        assert fake.received(other) == [b"x"]
        assert call("POST", f"/frankenphp_ws/send/{conn}", b"x").status == 200
        kill = json.loads(call("POST", f"/frankenphp_ws/killConnection/{conn}").body)
        assert kill["success"] is False
        assert json.loads(call("GET", "/frankenphp_ws/getClientsCount").body)["count"] == 2
        assert fake.get_clients_by_tag_expression("vip") == [conn]

    def test_release_after_disconnect(self, fake, call):
        """release: ghostConnectionClose again, beforeClose, cleanup, close; queue stays."""
        conn = loaded(fake)
        fake.activate_ghost(conn)
        fake.disconnect(conn)
        fake.events.clear()
        body = json.loads(call("POST", f"/frankenphp_ws/releaseGhost/{conn}").body)
        assert body == {"action": "releaseGhost", "clientID": conn, "success": True}
        assert [(e.type, e.payload) for e in fake.events] == [
            ("ghostConnectionClose", b"ghost_released"),
            ("beforeClose", b"ghost_released"),
            ("close", b"ghost_released"),
        ]
        assert snapshot(fake, conn) == {**CLEANED, "ghost": False}
        again = json.loads(call("POST", f"/frankenphp_ws/releaseGhost/{conn}").body)
        assert again["success"] is False

    def test_release_keeps_tags_during_before_close(self):
        """Unlike a normal close, release clears tags only after beforeClose."""
        seen = []
        fake = FakeFrankenPHP(
            on_close=lambda e: seen.append((e.type, fake.get_client_tags(e.connection)))
        )
        conn = fake.connect()
        fake.tag_client(conn, "t")
        fake.activate_ghost(conn)
        fake.release_ghost(conn)
        assert seen == [("ghostConnectionClose", ["t"]), ("beforeClose", ["t"]), ("close", [])]

    def test_release_of_non_ghost_or_unknown(self, fake):
        """Not flagged: False and nothing happens."""
        conn = fake.connect()
        assert fake.release_ghost(conn) is False
        assert fake.release_ghost("nobody") is False
        assert fake.get_clients() == [conn]

    def test_release_with_open_socket_leaves_it_connected_but_unregistered(self, fake, call):
        """The socket stays open; its next message registers a new random id (/unknown)."""
        conn = fake.connect("/chat")
        fake.activate_ghost(conn)
        fake.release_ghost(conn)
        peer = fake.peer(conn)
        assert peer.is_open
        assert fake.get_clients() == []
        fake.client_message(conn, b"")
        assert fake.get_clients() == []  # empty frames are dropped before anything
        fake.client_message(conn, b"hello")
        (new_id,) = fake.get_clients()
        assert new_id != conn
        assert len(new_id) == 32
        event = fake.events[-1]
        assert (event.type, event.connection, event.route, event.payload) == (
            "message",
            new_id,
            "/unknown",
            b"hello",
        )
        assert fake.get_clients(route="/chat") == []
        assert fake.list_routes() == []
        assert call("GET", "/frankenphp_ws/getClientsCount?route=/unknown").body == (
            b'{"count":0,"route":"/unknown"}\n'
        )
        fake.send(new_id, "back")
        assert fake.received(conn)[-1] == b"back"

    def test_released_socket_closing_unregistered(self, fake):
        """A released, still open socket that closes gets close with an empty id."""
        conn = fake.connect()
        fake.activate_ghost(conn)
        fake.release_ghost(conn)
        fake.disconnect(conn)
        assert (fake.events[-1].type, fake.events[-1].connection) == ("close", "")


class TestRename:
    """Column 'renameConnection'."""

    def test_moves_route_tags_stored_and_socket(self, fake, call):
        """Route, tags, stored info and the socket move; queue, ping, ghost flag stay."""
        conn = loaded(fake)
        fake.activate_ghost(conn)
        response = call("POST", f"/frankenphp_ws/renameConnection/{conn}/new")
        assert response.status == 200
        assert snapshot(fake, "new") == {
            **KEPT,
            "ping_enabled": False,
            "pending": False,
            "queue_counter": 0,
            "queue_len": 0,
            "ghost": False,
        }
        old = snapshot(fake, conn)
        assert old["registered"] is False
        assert (old["tags"], old["stored"], old["route"]) == ([], {}, None)
        assert (old["ghost"], old["ping_enabled"], old["queue_counter"]) == (True, True, 1)
        fake.send("new", "after")
        assert fake.received(conn)[-1] == b"after"
        assert fake.received("new")[-1] == b"after"

    def test_renamed_ghost_is_no_longer_a_ghost(self, fake):
        """The close path checks the flag under the new id: a normal close happens."""
        conn = fake.connect()
        fake.activate_ghost(conn)
        fake.rename_connection(conn, "renamed")
        fake.disconnect("renamed")
        assert fake.get_clients() == []
        assert fake.events[-1].type == "close"
        assert fake.is_ghost(conn) is True  # stale flag

    def test_orphan_adoption(self, fake):
        """newId's orphan tags/info are adopted when currentId has none of that kind."""
        conn = fake.connect(id="c1")
        fake.tag_client("target", "orphan-tag")
        fake.set_stored_information("target", "k", "orphan")
        fake.set_stored_information(conn, "k", "mine")
        fake.rename_connection(conn, "target")
        assert fake.get_client_tags("target") == ["orphan-tag"]
        assert fake.get_stored_information("target", "k") == "mine"

    @pytest.mark.parametrize("case", ["unknown", "taken", "same"])
    def test_failures_are_400(self, case, fake, call):
        """Unknown current id, taken new id, same id: all the same 400."""
        fake.connect(id="a")
        fake.connect(id="b")
        target = {"unknown": "zz/b2", "taken": "a/b", "same": "a/a"}[case]
        response = call("POST", f"/frankenphp_ws/renameConnection/{target}")
        assert (response.status, response.body) == (
            400,
            b'{"error":"failed to rename connection"}\n',
        )

    def test_rename_to_an_orphan_only_id_succeeds(self, fake):
        """Only registered ids count as taken."""
        fake.connect(id="a")
        fake.tag_client("b", "t")
        assert fake.rename_connection("a", "b") is True


class TestEventsAndHooks:
    """Events delivered to the hooks that stand in for the PHP worker."""

    def test_open_event(self):
        """open carries the id, route, headers and remote address; payload None."""
        events: list[Event] = []
        fake = FakeFrankenPHP(on_open=events.append)
        conn = fake.connect("/chat", headers={"X-Forwarded-For": ["203.0.113.9"]})
        assert events == [
            Event("open", conn, "/chat", "127.0.0.1:0", {"X-Forwarded-For": ["203.0.113.9"]}, None)
        ]

    def test_message_events_only_for_non_empty_frames(self):
        """Empty frames are dropped; others reach on_message with the payload."""
        events: list[Event] = []
        fake = FakeFrankenPHP(on_message=events.append)
        conn = fake.connect("/chat")
        fake.client_message(conn, b"")
        fake.client_message(conn, "héllo")
        assert [(e.type, e.connection, e.route, e.payload) for e in events] == [
            ("message", conn, "/chat", "héllo".encode())
        ]
        assert events[0].headers == {}

    def test_hooks_can_call_server_mode_functions(self):
        """A hook may act on the fake (re-entrant lock), e.g. store the user name."""

        def on_open(event: Event) -> None:
            fake.set_stored_information(event.connection, "username", "alice")
            fake.tag_client(event.connection, "new")
            fake.send(event.connection, b"welcome")

        fake = FakeFrankenPHP(on_open=on_open)
        conn = fake.connect()
        assert fake.get_stored_information(conn, "username") == "alice"
        assert fake.received(conn) == [b"welcome"]

    def test_hook_errors_are_reraised_after_the_operation(self):
        """The state finishes its work, then the hook's exception surfaces."""

        def on_close(event: Event) -> None:
            raise RuntimeError(f"boom in {event.type}")

        fake = FakeFrankenPHP(on_close=on_close)
        conn = fake.connect()
        fake.tag_client(conn, "t")
        with pytest.raises(RuntimeError, match="boom in beforeClose"):
            fake.disconnect(conn)
        assert fake.get_clients() == []
        assert fake.get_tags() == []
        assert [str(e) for e in fake.hook_errors] == ["boom in beforeClose", "boom in close"]

    def test_hook_error_surfaces_through_http(self):
        """An exception in a hook run by an admin request reaches the HTTP caller."""
        fake = FakeFrankenPHP(host_check=False, on_close=lambda event: 1 / 0)
        conn = fake.connect()
        with pytest.raises(ZeroDivisionError):
            fake.handle(RawRequest("POST", f"/frankenphp_ws/killConnection/{conn}", {"host": "x"}))
        assert fake.get_clients() == []

    def test_explicit_and_random_ids(self, fake):
        """connect(id=...) uses the id; random ids are 32 lowercase hex; ids are unique."""
        assert fake.connect(id="mine") == "mine"
        random_id = fake.connect()
        assert len(random_id) == 32
        assert set(random_id) <= set("0123456789abcdef")
        with pytest.raises(ValueError, match="already registered"):
            fake.connect(id="mine")

    def test_unknown_virtual_connection(self, fake):
        """received() of an id never seen is an error, not an empty list."""
        with pytest.raises(KeyError, match="no virtual connection"):
            fake.received("never")


def test_kill_close_path_runs_before_response_is_built():
    """In process the close path is synchronous: the id is gone when kill returns."""
    fake = FakeFrankenPHP(clock=ManualClock())
    conn = fake.connect()
    fake.kill_connection(conn)
    assert fake.get_clients() == []


def test_hook_error_does_not_leak_into_a_later_call():
    """When the operation itself fails, its pending hook error is dropped with it."""

    def on_open(event: Event) -> None:
        raise RuntimeError("hook")

    fake = FakeFrankenPHP(on_open=on_open)

    def failing_operation() -> None:
        with fake.state._operation():
            fake.connect(id="a")  # the hook error is deferred to the end of the operation
            raise KeyError("the operation fails on its own")

    with pytest.raises(KeyError):
        failing_operation()
    assert fake.get_clients() == ["a"]  # no stale RuntimeError surfaces here
    assert [str(error) for error in fake.hook_errors] == ["hook"]
