"""Ping/pong measurement and the periodic pinger (PROTOCOL.md §7.4, §10.7)."""

from __future__ import annotations

import json

from frankenws.testing import FakeFrankenPHP, ManualClock, SystemClock
from frankenws.testing._clock import InertScheduler

START_NS = 1_700_000_000 * 10**9


def ping_time(call, conn):
    return call("GET", f"/frankenphp_ws/getClientPingTime/{conn}").body


def test_manual_ping_and_measured_round_trip(fake, clock, call):
    """interval=0: one manual_ping_<unix-ns> now; the pong gives the exact RTT."""
    conn = fake.connect(id="c1")
    response = call("POST", "/frankenphp_ws/enablePing/c1")
    assert response.body == b'{"action":"enablePing","clientID":"c1","interval":0,"success":true}\n'
    assert fake.pings(conn) == [f"manual_ping_{START_NS}".encode()]
    assert ping_time(call, conn) == b'{"clientID":"c1","pingTime":0,"pingTimeMs":0}\n'
    clock.advance(0.012)
    fake.client_pong(conn)
    assert ping_time(call, conn) == b'{"clientID":"c1","pingTime":12000000,"pingTimeMs":12}\n'


def test_fractional_milliseconds(fake, clock, call):
    """1 234 567 ns is reported as pingTimeMs 1.234567; 1 ns as 0.000001."""
    conn = fake.connect(id="c1")
    fake.enable_ping(conn)
    clock.advance(0.001234567)
    fake.client_pong(conn)
    assert ping_time(call, conn) == b'{"clientID":"c1","pingTime":1234567,"pingTimeMs":1.234567}\n'
    fake.enable_ping(conn)
    clock.advance(1e-9)
    fake.client_pong(conn)
    assert ping_time(call, conn) == b'{"clientID":"c1","pingTime":1,"pingTimeMs":0.000001}\n'


def test_pong_without_pending_ping_is_the_5ms_placeholder(fake, call):
    """An unsolicited pong records exactly 5 000 000 ns."""
    conn = fake.connect(id="c1")
    fake.enable_ping(conn)
    fake.client_pong(conn)  # consumes the pending timestamp (0 ns round trip)
    fake.client_pong(conn)
    assert ping_time(call, conn) == b'{"clientID":"c1","pingTime":5000000,"pingTimeMs":5}\n'


def test_periodic_pings_at_i_3i_5i(fake, clock, call):
    """interval=I: the first ping after I, then every 2I (I, 3I, 5I ...)."""
    conn = fake.connect(id="c1")
    body = call("POST", "/frankenphp_ws/enablePing/c1?interval=100").body
    assert json.loads(body)["interval"] == 100
    assert fake.pings(conn) == []
    times = []
    for _ in range(60):
        before = len(fake.pings(conn))
        clock.advance(0.01)
        if len(fake.pings(conn)) > before:
            times.append(round(clock.now() - START_NS / 1e9, 3))
    assert times == [0.1, 0.3, 0.5]
    expected = [f"ping_{START_NS + ms * 1_000_000}".encode() for ms in (100, 300, 500)]
    assert fake.pings(conn) == expected


def test_periodic_round_trip(fake, clock):
    """A pong after a periodic ping measures from when that ping was written."""
    conn = fake.connect(id="c1")
    fake.enable_ping(conn, 50)
    clock.advance(0.05)
    clock.advance(0.003)
    fake.client_pong(conn)
    assert fake.get_client_ping_time(conn) == 3_000_000


def test_re_enabling_replaces_the_periodic_pinger(fake, clock):
    """A second enablePing restarts the schedule instead of adding one."""
    conn = fake.connect(id="c1")
    fake.enable_ping(conn, 100)
    clock.advance(0.05)
    fake.enable_ping(conn, 100)
    clock.advance(0.1)
    assert len(fake.pings(conn)) == 1
    assert clock.pending == 1


def test_disable_stops_timer_and_clears_times(fake, clock, call):
    """disablePing stops the pinger and forgets the measurements."""
    conn = fake.connect(id="c1")
    fake.enable_ping(conn, 100)
    clock.advance(0.1)
    fake.client_pong(conn)
    body = call("POST", "/frankenphp_ws/disablePing/c1").body
    assert body == b'{"action":"disablePing","clientID":"c1","success":true}\n'
    clock.advance(1)
    assert len(fake.pings(conn)) == 1
    assert clock.pending == 0
    assert fake.get_client_ping_time(conn) == 0


def test_pong_ignored_while_disabled(fake):
    """Without enablePing a pong records nothing."""
    conn = fake.connect()
    fake.client_pong(conn, b"x")
    assert fake.get_client_ping_time(conn) == 0


def test_client_pings_answered_only_when_enabled(fake, clock):
    """The extension replaces the automatic pong: only ping-enabled ids get one."""
    conn = fake.connect()
    assert fake.client_ping(conn, b"keepalive") is False
    assert fake.peer(conn).pongs == []
    fake.enable_ping(conn)
    clock.advance(1)
    assert fake.client_ping(conn, b"keepalive") is True
    assert fake.peer(conn).pongs == [b"keepalive"]
    clock.advance(0.002)
    fake.client_pong(conn)
    # The client's ping overwrote the pending timestamp of the server's ping.
    assert fake.get_client_ping_time(conn) == 2_000_000


def test_unknown_id_is_enabled_without_pinging(fake, call):
    """enablePing succeeds for any id; nothing is sent to nobody."""
    body = json.loads(call("POST", "/frankenphp_ws/enablePing/nobody?interval=5").body)
    assert body == {"action": "enablePing", "clientID": "nobody", "interval": 5, "success": True}
    assert fake.state.pings.is_enabled("nobody")


def test_invalid_intervals_mean_a_manual_ping(fake, call):
    """interval parses as a decimal int; invalid or <= 0 is 0 (one ping now)."""
    conn = fake.connect(id="c1")
    for query in ("abc", "-5", "0", "1.5", "%2B0", ""):
        body = json.loads(call("POST", f"/frankenphp_ws/enablePing/c1?interval={query}").body)
        assert body["interval"] == 0
    assert len(fake.pings(conn)) == 6
    body = json.loads(call("POST", "/frankenphp_ws/enablePing/c1?interval=%2B7").body)
    assert body["interval"] == 7


def test_timer_stops_after_close_and_after_rename(fake, clock):
    """The pinger looks its id up: after close or rename it finds nothing and stops."""
    closed = fake.connect(id="a")
    renamed = fake.connect(id="b")
    fake.enable_ping(closed, 10)
    fake.enable_ping(renamed, 10)
    fake.disconnect(closed)
    fake.rename_connection(renamed, "b2")
    clock.advance(1)
    assert fake.pings(closed) == []
    assert fake.pings("b2") == []
    assert clock.pending == 0


def test_timer_stops_on_failed_write_of_a_ghost(fake, clock):
    """A disconnected ghost keeps its ping state, but the pinger's write fails."""
    conn = fake.connect()
    fake.enable_ping(conn, 10)
    clock.advance(0.01)
    fake.client_pong(conn)
    fake.activate_ghost(conn)
    fake.disconnect(conn)
    clock.advance(1)
    assert len(fake.pings(conn)) == 1
    assert clock.pending == 0
    assert fake.get_client_ping_time(conn) == 0  # RTT of the first ping, kept
    assert fake.state.pings.is_enabled(conn)


def test_system_clock_timers_never_fire_in_process():
    """With real time the in-process fake records timers but cannot fire them."""
    fake = FakeFrankenPHP(clock=SystemClock())
    conn = fake.connect()
    fake.enable_ping(conn, 1)
    scheduler = fake.state.scheduler
    assert isinstance(scheduler, InertScheduler)
    assert len(scheduler.pending) == 1
    assert fake.pings(conn) == []


def test_installed_scheduler_takes_over():
    """_set_scheduler plugs in another scheduler (what the loopback server does)."""
    fake = FakeFrankenPHP()
    driver = ManualClock()
    fake._set_scheduler(driver)
    conn = fake.connect()
    fake.enable_ping(conn, 100)
    driver.advance(0.1)
    assert len(fake.pings(conn)) == 1
    fake._set_scheduler(None)
    assert isinstance(fake.state.scheduler, InertScheduler)


def test_pings_are_not_sent_to_unknown_ids_and_survive_get(fake, call):
    """getClientPingTime of an unknown id is 0/0."""
    assert ping_time(call, "zz") == b'{"clientID":"zz","pingTime":0,"pingTimeMs":0}\n'
