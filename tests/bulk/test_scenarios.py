"""The bulk scenarios against the loopback fake, with real WebSocket clients.

Each scenario is planned first (targets, reasons, nothing changed on the server), then
run. The sockets tell what really happened: a killed client sees its TCP connection drop
(close code 1006, no close frame); every other client stays connected and still receives
messages. Stored data and tags are set in server mode (``fake.set_stored_information``,
``fake.tag_client``), as the PHP worker would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from support import wait_for
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

import frankenws
from frankenws import bulk
from frankenws.testing import FakeFrankenPHP

NOW = 1_700_000_000
"""The reference time of the idle-cleanup tests (``now=``)."""


@dataclass(eq=False)
class Peer:
    """One real WebSocket client and the connection id the server gave it."""

    name: str
    id: str
    socket: ClientConnection

    def recv(self) -> bytes | str:
        return self.socket.recv(timeout=5)

    def json(self) -> Any:
        frame = self.recv()
        assert isinstance(frame, bytes)  # admin sends are binary frames
        return json.loads(frame)

    def frames_until_dropped(self) -> list[bytes | str]:
        """The frames that arrived before the server cut the connection."""
        frames: list[bytes | str] = []
        with pytest.raises(ConnectionClosed) as info:
            self._read_into(frames)
        assert info.value.rcvd is None  # no close frame: the TCP connection was dropped
        assert self.socket.close_code == 1006
        return frames

    def _read_into(self, frames: list[bytes | str]) -> None:
        while True:
            frames.append(self.recv())


class Sockets:
    """Real WebSocket clients on a loopback fake; set-up and checks in server mode."""

    def __init__(self, fake: FakeFrankenPHP, server: Any, stack: contextlib.ExitStack) -> None:
        self.fake = fake
        self.server = server
        self.stack = stack

    def open(
        self, name: str, route: str = "/chat", *, tags: tuple[str, ...] = (), **stored: str
    ) -> Peer:
        """Connect a client on ``route``, then store ``stored`` and ``tags`` for it."""
        before = set(self.fake.get_clients())
        # Keepalive pings off: like the real server, the fake only answers pings when
        # ping is enabled for the connection.
        socket = self.stack.enter_context(
            connect(self.server.ws_url(route), ping_interval=None, open_timeout=5)
        )
        (conn,) = wait_for(lambda: set(self.fake.get_clients()) - before)
        for key, value in stored.items():
            self.fake.set_stored_information(conn, key, value)
        for tag in tags:
            self.fake.tag_client(conn, tag)
        return Peer(name, conn, socket)

    def quiet(self, *peers: Peer) -> None:
        """Nothing reached these sockets so far: a frame sent now is the first to arrive."""
        for peer in peers:
            marker = f"marker for {peer.name}"
            assert self.fake.send(peer.id, marker)
            assert peer.recv() == marker.encode()

    def snapshot(self) -> dict[str, Any]:
        """What a plan must not change: connections, their routes, tags and stored data."""
        return {
            conn: (
                self.fake.get_client_tags(conn),
                self.fake.get_all_stored_information(conn),
            )
            for conn in sorted(self.fake.get_clients())
        } | {"routes": {r: sorted(self.fake.get_clients(r)) for r in self.fake.list_routes()}}

    def gone(self, *peers: Peer) -> None:
        """The killed ids leave the registry (the server cleans up after answering)."""
        ids = {peer.id for peer in peers}
        wait_for(lambda: not ids & set(self.fake.get_clients()))


@dataclass
class Env:
    fake: FakeFrankenPHP
    server: Any
    ws: frankenws.Client
    sockets: Sockets

    def still_open(self, *peers: Peer) -> None:
        """These clients are connected and still get what the admin API sends them."""
        for peer in peers:
            self.ws.send(peer.id, f"still here, {peer.name}")
            assert peer.recv() == f"still here, {peer.name}".encode()


@pytest.fixture
def env() -> Iterator[Env]:
    fake = FakeFrankenPHP()
    with fake.serve() as server, server.client() as ws, contextlib.ExitStack() as stack:
        yield Env(fake, server, ws, Sockets(fake, server, stack))


def reasons(items: tuple[bulk.PlanItem, ...]) -> dict[str, str]:
    return {item.id: item.reason for item in items}


def ids(*peers: Peer) -> list[str]:
    return sorted(peer.id for peer in peers)


# --- disconnect_user --------------------------------------------------------------------


def test_disconnect_user(env):
    """Every connection of the user goes, on any route; other users and case variants stay."""
    open_ = env.sockets.open
    alice = [open_("alice-chat", "/chat", username="alice"), open_("alice-news", "/news")]
    env.fake.set_stored_information(alice[1].id, "username", "alice")
    others = [
        open_("bob", "/chat", username="bob"),
        open_("Alice", "/chat", username="Alice"),  # eq is case-sensitive
        open_("anonymous", "/chat"),
    ]
    before = env.sockets.snapshot()

    plan = bulk.plan_disconnect_user(env.ws, "alice")

    assert isinstance(plan, bulk.Plan)
    assert plan.scenario == "disconnect_user"
    assert plan.target_ids == ids(*alice)
    assert reasons(plan.targets) == dict.fromkeys(ids(*alice), "username = 'alice'")
    assert plan.left_alone == ()
    assert plan.params == bulk.DisconnectUser(username="alice", key="username")
    assert plan.summary == "disconnect 2 connection(s) of user 'alice' (username)"
    assert env.sockets.snapshot() == before  # planning changed nothing...
    env.sockets.quiet(*alice, *others)  # ...and sent nothing

    report = bulk.run(env.ws, plan)

    assert isinstance(report, bulk.BulkReport)
    assert report.job == "disconnect_user"
    assert sorted(report.done) == ids(*alice)
    assert report.ok
    assert report.counts() == {
        "done": 2,
        "not_found": 0,
        "failed": 0,
        "skipped": 0,
        "uncertain": 0,
        "not_attempted": 0,
    }
    for peer in alice:
        assert peer.frames_until_dropped() == []
    env.sockets.gone(*alice)
    env.still_open(*others)
    assert sorted(env.ws.get_clients()) == ids(*others)


# --- cleanup_inactive -------------------------------------------------------------------


def test_cleanup_inactive(env):
    """Idle connections go; fresh ones stay; no or unreadable lastActivity is reported."""
    open_ = env.sockets.open
    fresh = open_("fresh", lastActivity=str(NOW - 60))
    edge = open_("edge", lastActivity=str(NOW - 3600))  # exactly max_idle: not older
    idle = open_("idle", lastActivity=str(NOW - 3601))
    ancient = open_("ancient", "/news", lastActivity=str(NOW - 86_400))
    garbage = open_("garbage", lastActivity="yesterday")
    exponent = open_("exponent", lastActivity="1.6e9")  # not a number to the search
    nan = open_("nan", lastActivity="nan")
    unknown = open_("unknown")
    before = env.sockets.snapshot()

    plan = bulk.plan_cleanup_inactive(env.ws, timedelta(hours=1), now=NOW)

    assert plan.scenario == "cleanup_inactive"
    # Found by a numeric range search, without reading each value back.
    since = f"lastActivity < {NOW - 3600}, idle more than 3600 s"
    assert reasons(plan.targets) == {
        idle.id: since,
        ancient.id: since,
        exponent.id: f"idle {NOW - 1.6e9:.0f} s (> 3600 s)",  # float() had a second look
    }
    assert reasons(plan.left_alone) == {
        garbage.id: "lastActivity = 'yesterday' is not a unix time",
        nan.id: "lastActivity = 'nan' is not a unix time",
        unknown.id: "no lastActivity stored",
    }
    assert plan.params == bulk.CleanupInactive(max_idle=3600.0, key="lastActivity", now=NOW)
    # the same plan from a datetime, from seconds as a number
    moment = datetime.fromtimestamp(NOW, timezone.utc)
    assert bulk.plan_cleanup_inactive(env.ws, 3600, now=moment) == plan
    assert env.sockets.snapshot() == before
    env.sockets.quiet(fresh, edge, idle, ancient, garbage, exponent, nan, unknown)

    report = bulk.run(env.ws, plan)

    assert sorted(report.done) == ids(idle, ancient, exponent)
    assert report.ok
    for peer in (idle, ancient, exponent):
        assert peer.frames_until_dropped() == []
    env.sockets.gone(idle, ancient, exponent)
    env.still_open(fresh, edge, garbage, nan, unknown)


# --- disconnect_matching ----------------------------------------------------------------


def test_disconnect_matching_alerts_admins(env):
    """violationCount gte 3 goes; each admin gets one JSON alert per killed connection."""
    open_ = env.sockets.open
    mallory = open_("mallory", username="mallory", violationCount="5")
    trudy = open_("trudy", "/news", username="trudy", violationCount="3")
    nameless = open_("nameless", violationCount="12")  # who is None in the alert
    eve = open_("eve", username="eve", violationCount="2")
    bob = open_("bob", username="bob", violationCount="0")
    clean = open_("clean", username="clean")
    admins = [
        open_("admin-1", "/admin", tags=("admin",), username="root"),
        open_("admin-2", "/admin", tags=("admin", "ops")),
    ]
    moderator = open_("moderator", "/admin", tags=("moderator",))
    targets = [mallory, trudy, nameless]
    before = env.sockets.snapshot()

    plan = bulk.plan_disconnect_matching(env.ws, "violationCount", "gte", "3", notify_tag="admin")

    assert plan.scenario == "disconnect_matching"
    assert reasons(plan.targets) == {
        mallory.id: "violationCount = '5' (gte '3')",
        trudy.id: "violationCount = '3' (gte '3')",
        nameless.id: "violationCount = '12' (gte '3')",
    }
    assert plan.summary == (
        "disconnect 3 connection(s) where violationCount gte '3', alerting tag 'admin'"
    )
    assert plan.left_alone == ()
    assert env.sockets.snapshot() == before
    env.sockets.quiet(*targets, eve, bob, clean, *admins, moderator)

    report = bulk.run(env.ws, plan)

    assert sorted(report.by_status("done", "kill")) == ids(*targets)
    assert sorted(report.by_status("done", "notify")) == ids(*targets)
    assert report.counts("kill")["done"] == 3
    assert report.ok
    for peer in targets:
        assert peer.frames_until_dropped() == []
    expected = {
        (mallory.id, "mallory"),
        (trudy.id, "trudy"),
        (nameless.id, None),
    }
    for admin in admins:
        alerts = [admin.json() for _ in targets]
        assert {(a["connection"], a["who"]) for a in alerts} == expected
        assert {a["type"] for a in alerts} == {"user_disconnected"}
        assert {a["reason"] for a in alerts} == {"violationCount gte 3"}
    env.sockets.gone(*targets)
    env.still_open(eve, bob, clean, *admins, moderator)  # no stray alerts either


def test_disconnect_matching_without_alert(env):
    """Without notify_tag nobody is alerted; a string operator works the same way."""
    open_ = env.sockets.open
    spammers = [open_("spam-1", email="x@spam.example"), open_("spam-2", email="y@spam.example")]
    admin = open_("admin", "/admin", tags=("admin",))
    regular = open_("regular", email="z@mail.example")

    plan = bulk.plan_disconnect_matching(env.ws, "email", "suffix", "@spam.example")
    assert plan.target_ids == ids(*spammers)
    report = bulk.run(env.ws, plan)

    assert sorted(report.done) == ids(*spammers)
    assert report.by_status("done", "notify") == []
    for peer in spammers:
        assert peer.frames_until_dropped() == []
    env.sockets.gone(*spammers)
    env.still_open(admin, regular)


# --- maintenance ------------------------------------------------------------------------


def test_maintenance_warns_then_kills(env):
    """The warning arrives before the drop; late arrivals go too; leavers are 'already gone'."""
    open_ = env.sockets.open
    alice = open_("alice", "/chat")
    bob = open_("bob", "/chat")
    leaver = open_("leaver", "/chat")
    reader = open_("reader", "/news")  # another route: neither warned nor killed
    chat = [alice, bob, leaver]
    before = env.sockets.snapshot()

    plan = bulk.plan_maintenance(env.ws, "Back in 5 minutes", grace=0.2, route="/chat")

    assert plan.scenario == "maintenance"
    assert reasons(plan.targets) == dict.fromkeys(ids(*chat), "connected on /chat")
    assert plan.params == bulk.Maintenance("Back in 5 minutes", grace=0.2, route="/chat")
    assert env.sockets.snapshot() == before
    env.sockets.quiet(*chat, reader)

    late: list[Peer] = []
    waited: list[float] = []

    def during_grace() -> None:
        # the warning is already there; one client leaves, another one arrives
        assert leaver.json()["type"] == "maintenance_warning"
        leaver.socket.close()
        env.sockets.gone(leaver)
        late.append(env.sockets.open("latecomer", "/chat"))

    async def grace(seconds: float) -> None:
        waited.append(seconds)
        await asyncio.to_thread(during_grace)

    started = int(time.time())
    report = bulk.run(env.ws, plan, sleep=grace)
    finished = int(time.time())

    assert waited == [0.2]
    (latecomer,) = late
    assert report.job == "maintenance"
    assert sorted(report.by_status("done", "warn")) == ids(*chat)  # warned
    assert sorted(report.by_status("done", "kill")) == ids(alice, bob, latecomer)  # killed
    assert report.by_status("not_found", "kill") == [leaver.id]  # already gone
    assert report.ok
    for peer in (alice, bob):
        (frame,) = peer.frames_until_dropped()  # the warning, then the drop
        assert isinstance(frame, bytes)
        warning = json.loads(frame)
        assert warning == {
            "type": "maintenance_warning",
            "message": "Back in 5 minutes",
            "timestamp": warning["timestamp"],
            "grace_seconds": 0.2,
        }
        assert started <= warning["timestamp"] <= finished
    assert latecomer.frames_until_dropped() == []  # arrived after the warning
    env.sockets.gone(alice, bob, latecomer)
    env.still_open(reader)  # first frame it gets: no warning was sent to it
    assert env.ws.get_clients() == [reader.id]


def test_maintenance_everywhere_waits_the_grace(env):
    """Without route every connection is warned, and the kill waits the real grace period."""
    peers = [env.sockets.open(f"p{i}", route) for i, route in enumerate(["/a", "/b", "/a/b"])]

    plan = bulk.plan_maintenance(env.ws, "Upgrade", grace=0.3)
    assert reasons(plan.targets) == dict.fromkeys(ids(*peers), "connected on every route")
    report = bulk.run(env.ws, plan, wait_closed=True, timeout=5)

    assert env.ws.get_clients() == []  # wait_closed: gone from the registry on return
    assert report.notes == []

    assert report.finished is not None
    assert (report.finished - report.started).total_seconds() >= 0.3
    assert sorted(report.by_status("done", "kill")) == ids(*peers)
    for peer in peers:
        (frame,) = peer.frames_until_dropped()
        assert json.loads(frame)["message"] == "Upgrade"


# --- enforce_connection_limit -----------------------------------------------------------


def test_enforce_connection_limit_by_id(env):
    """Without order_key the smallest ids survive; the plan is the same every time."""
    open_ = env.sockets.open
    alice = sorted((open_(f"alice-{i}", username="alice") for i in range(4)), key=lambda p: p.id)
    bob = [open_(f"bob-{i}", "/news", username="bob") for i in range(2)]
    carol = open_("carol", username="carol")
    anonymous = open_("anonymous")
    before = env.sockets.snapshot()

    plan = bulk.plan_enforce_connection_limit(env.ws, 2)

    assert plan.scenario == "enforce_connection_limit"
    assert reasons(plan.targets) == {
        alice[2].id: "over the limit of 2: username = 'alice', #3 of 4",
        alice[3].id: "over the limit of 2: username = 'alice', #4 of 4",
    }
    bob_kept = sorted(bob, key=lambda p: p.id)
    assert reasons(plan.left_alone) == {
        alice[0].id: "kept: username = 'alice', #1 of 4",
        alice[1].id: "kept: username = 'alice', #2 of 4",
        bob_kept[0].id: "kept: username = 'bob', #1 of 2",
        bob_kept[1].id: "kept: username = 'bob', #2 of 2",
        carol.id: "kept: username = 'carol', #1 of 1",
    }
    assert bulk.plan_enforce_connection_limit(env.ws, 2) == plan  # deterministic
    assert env.sockets.snapshot() == before
    env.sockets.quiet(*alice, *bob, carol, anonymous)

    report = bulk.run(env.ws, plan)

    assert sorted(report.done) == ids(alice[2], alice[3])
    for peer in alice[2:]:
        assert peer.frames_until_dropped() == []
    env.sockets.gone(*alice[2:])
    env.still_open(*alice[:2], *bob, carol, anonymous)
    # now within the limit: nothing more to do
    assert bulk.plan_enforce_connection_limit(env.ws, 2).targets == ()


def test_enforce_connection_limit_by_order_key(env):
    """With order_key the oldest survive, whatever their ids; no timestamp counts as newest."""
    open_ = env.sockets.open
    alice = sorted((open_(f"alice-{i}", username="alice") for i in range(4)), key=lambda p: p.id)
    # the largest ids are the oldest connections; alice[0] has no timestamp at all
    for stamp, peer in zip((300, 200, 100), alice[1:], strict=True):
        env.fake.set_stored_information(peer.id, "connectedAt", str(NOW + stamp))
    bob = open_("bob", username="bob", connectedAt=str(NOW))

    plan = bulk.plan_enforce_connection_limit(env.ws, 2, order_key="connectedAt")

    assert reasons(plan.targets) == {
        alice[1].id: "over the limit of 2: username = 'alice', #3 of 4 by connectedAt",
        alice[0].id: "over the limit of 2: username = 'alice', #4 of 4 by connectedAt",
    }
    assert reasons(plan.left_alone) == {
        alice[3].id: "kept: username = 'alice', #1 of 4 by connectedAt",
        alice[2].id: "kept: username = 'alice', #2 of 4 by connectedAt",
        bob.id: "kept: username = 'bob', #1 of 1 by connectedAt",
    }
    assert plan.params == bulk.EnforceConnectionLimit(2, key="username", order_key="connectedAt")

    report = bulk.run(env.ws, plan)

    assert sorted(report.done) == ids(alice[0], alice[1])
    for peer in alice[:2]:
        assert peer.frames_until_dropped() == []
    env.sockets.gone(*alice[:2])
    env.still_open(alice[2], alice[3], bob)


# --- disconnect_route -------------------------------------------------------------------


def test_disconnect_route(env):
    """Only the route itself goes: routes are compared exactly (not /chat/room, not /Chat)."""
    open_ = env.sockets.open
    chat = [open_("chat-1", "/chat"), open_("chat-2", "/chat", tags=("vip",))]
    others = [open_("room", "/chat/room"), open_("upper", "/Chat"), open_("news", "/news")]
    before = env.sockets.snapshot()

    plan = bulk.plan_disconnect_route(env.ws, "/chat")

    assert plan.scenario == "disconnect_route"
    assert reasons(plan.targets) == dict.fromkeys(ids(*chat), "route = '/chat'")
    assert plan.summary == "disconnect 2 connection(s) on route '/chat'"
    assert env.sockets.snapshot() == before
    env.sockets.quiet(*chat, *others)

    report = bulk.run(env.ws, plan, wait_closed=True, timeout=5)

    assert sorted(report.done) == ids(*chat)
    assert report.notes == []  # wait_closed saw them leave the registry
    for peer in chat:
        assert peer.frames_until_dropped() == []
    assert "/chat" not in env.ws.list_routes()
    env.still_open(*others)


def test_plan_is_a_dry_run(env):
    """A plan does not change what is there: running it later acts on what still exists."""
    gone = env.sockets.open("gone", "/chat")
    stays = env.sockets.open("stays", "/chat")
    plan = bulk.plan_disconnect_route(env.ws, "/chat")
    gone.socket.close()
    env.sockets.gone(gone)

    report = bulk.run(env.ws, plan)

    assert report.not_found == [gone.id]
    assert report.done == [stays.id]
    assert report.ok  # already gone is not a failure
    assert stays.frames_until_dropped() == []
    assert json.loads(json.dumps(plan.to_dict()))["targets"] == [
        {"id": i, "reason": "route = '/chat'"} for i in ids(gone, stays)
    ]


# --- the same scenarios with an AsyncClient ---------------------------------------------


SCENARIOS = [
    "disconnect_user",
    "cleanup_inactive",
    "disconnect_matching",
    "maintenance",
    "enforce_connection_limit",
    "disconnect_route",
]


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_scenario_with_async_client(env, scenario):
    """With an AsyncClient, plan_... and run return coroutines with the same results."""
    open_ = env.sockets.open
    peers = {
        "a": open_("a", "/chat", user="ann", seen=str(NOW - 7200), strikes="4", at="2"),
        "b": open_("b", "/news", user="ann", seen=str(NOW), strikes="1", at="1"),
        "c": open_("c", "/chat", user="cid", seen=str(NOW), strikes="0"),
        "admin": open_("admin", "/admin", tags=("admin",)),
    }
    moment = datetime.fromtimestamp(NOW, timezone.utc)
    makers: dict[str, tuple[Callable[[frankenws.AsyncClient], Any], list[str]]] = {
        "disconnect_user": (lambda c: bulk.plan_disconnect_user(c, "ann", key="user"), ["a", "b"]),
        "cleanup_inactive": (
            lambda c: bulk.plan_cleanup_inactive(c, 3600, key="seen", now=moment),
            ["a"],
        ),
        "disconnect_matching": (
            lambda c: bulk.plan_disconnect_matching(
                c,
                "strikes",
                "gt",
                "3",
                notify_tag="admin",
                who_key="user",
            ),
            ["a"],
        ),
        "maintenance": (
            lambda c: bulk.plan_maintenance(c, "bye", grace=0.1, route="/chat"),
            ["a", "c"],
        ),
        "enforce_connection_limit": (
            lambda c: bulk.plan_enforce_connection_limit(c, 1, key="user", order_key="at"),
            ["a"],  # "b" is the older of ann's two connections
        ),
        "disconnect_route": (lambda c: bulk.plan_disconnect_route(c, "/news"), ["b"]),
    }
    make_plan, doomed = makers[scenario]

    async with env.server.async_client() as client:
        pending = make_plan(client)
        assert asyncio.iscoroutine(pending)
        plan = await pending
        assert plan.scenario == scenario
        assert plan.target_ids == sorted(peers[name].id for name in doomed)
        # A custom alert is given to run: a plan holds data only.
        notify = (
            (lambda conn, who: json.dumps({"type": "security_alert", "who": who}))
            if scenario == "disconnect_matching"
            else None
        )
        pending = bulk.run(client, plan, notify=notify)
        assert asyncio.iscoroutine(pending)
        report = await pending

    assert isinstance(report, bulk.BulkReport)
    assert report.ok
    assert sorted(report.by_status("done", "kill")) == plan.target_ids
    for name in doomed:
        frames = peers[name].frames_until_dropped()
        if scenario == "maintenance":
            assert [json.loads(f)["type"] for f in frames] == ["maintenance_warning"]
        else:
            assert frames == []
    if scenario == "disconnect_matching":
        assert peers["admin"].json() == {"type": "security_alert", "who": "ann"}
    env.sockets.gone(*(peers[name] for name in doomed))
    env.still_open(*(peer for name, peer in peers.items() if name not in doomed))


# --- interrupted runs and resume --------------------------------------------------------


def journal_lines(path: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["journal"] == "frankenws-bulk"
    return lines[1:]


def finished_once(lines: list[dict[str, Any]], action: str, status: str = "done") -> list[str]:
    """Targets with a ``status`` line for ``action``; fails if one has two."""
    targets = [r["target"] for r in lines if r["action"] == action and r["status"] == status]
    assert len(targets) == len(set(targets)), f"a {action} was {status} twice"
    return sorted(targets)


def test_resume_after_the_admin_server_stopped(tmp_path):
    """Stop the admin server half-way, start it again, resume: every socket dropped once."""
    fake = FakeFrankenPHP()
    journal = tmp_path / "route.jsonl"
    # The WebSocket clients live on one listener; the admin API the job talks to is a
    # second one on the same fake, stopped half-way and started again on its port (like a
    # restart of Caddy's admin endpoint). The fake's state, and the sockets, survive.
    with fake.serve() as app, contextlib.ExitStack() as stack:
        sockets = Sockets(fake, app, stack)
        doomed = [sockets.open(f"chat-{i}", "/chat") for i in range(12)]
        spared = [sockets.open(f"news-{i}", "/news") for i in range(3)]
        admin = fake.serve()
        stack.callback(admin.close)  # stopped half-way; this is for failures
        port = admin.admin_port
        ws = stack.enter_context(frankenws.Client(admin.admin_url, timeout=2))
        plan = bulk.plan_disconnect_route(ws, "/chat")
        assert plan.target_ids == ids(*doomed)

        def stop_half_way(done: int, total: int) -> None:
            if done == 5:
                admin.close()

        first = bulk.run(ws, plan, concurrency=1, progress=stop_half_way, journal=journal)

        assert len(first.done) == 5
        # Five connection failures in a row stop the job; the rest waits for a resume.
        assert len(first.failed) == 5
        assert len(first.not_attempted) == 2
        assert not first.ok
        assert all(
            "closed the connection" in o.error or "cannot connect" in o.error
            for o in first.outcomes
            if o.status == "failed"
        )
        left = first.failed + first.not_attempted
        by_id = {peer.id: peer for peer in doomed}
        for conn in first.done:
            assert by_id[conn].frames_until_dropped() == []
        sockets.gone(*(by_id[conn] for conn in first.done))
        sockets.quiet(*(by_id[conn] for conn in left))  # still connected

        with fake.serve(admin_port=port):  # the same address again: the same plan works
            second = bulk.run(ws, plan, resume=journal)

        assert sorted(second.skipped) == sorted(first.done)
        assert sorted(second.done) == sorted(left)
        assert second.ok
        for conn in left:
            assert by_id[conn].frames_until_dropped() == []
        sockets.gone(*doomed)
        sockets.quiet(*spared)
        assert sorted(fake.get_clients()) == ids(*spared)

    lines = journal_lines(journal)
    assert finished_once(lines, "kill") == ids(*doomed)  # per the journal: each exactly once
    assert sorted(r["target"] for r in lines if r["status"] == "failed") == sorted(first.failed)


def test_sends_cut_off_by_a_stop_are_never_repeated(tmp_path):
    """A warning whose answer was lost is 'uncertain' and not resent: nobody is warned twice."""
    fake = FakeFrankenPHP()
    journal = tmp_path / "maintenance.jsonl"
    with fake.serve() as app, contextlib.ExitStack() as stack:
        sockets = Sockets(fake, app, stack)
        peers = {peer.id: peer for peer in (sockets.open(f"p{i}", "/chat") for i in range(6))}
        admin = fake.serve()
        stack.callback(admin.close)  # stopped half-way; this is for failures
        port = admin.admin_port
        ws = stack.enter_context(frankenws.Client(admin.admin_url, timeout=2))
        plan = bulk.plan_maintenance(ws, "Restarting", grace=0, route="/chat")

        def stop_after_two(done: int, total: int) -> None:
            if done == 2:
                admin.close()

        first = bulk.run(ws, plan, concurrency=1, progress=stop_after_two, journal=journal)
        assert len(first.by_status("done", "warn")) == 2
        # The request right after the stop may have been written to a connection the
        # server was closing: no answer, so maybe delivered. The rest never left.
        cut_off = first.by_status("uncertain", "warn")
        assert len(cut_off) <= 1
        assert len(first.by_status("failed", "warn")) == 4 - len(cut_off)
        assert first.by_status("done", "kill") == []  # the server is still down
        assert "could not list the connections that arrived" in first.notes[0]

        with fake.serve(admin_port=port):
            second = bulk.run(ws, plan, resume=journal)

        assert second.by_status("uncertain", "warn") == cut_off  # reported, not resent
        assert sorted(second.by_status("done", "kill")) == sorted(peers)
        for conn, peer in peers.items():
            frames = peer.frames_until_dropped()
            assert len(frames) == (0 if conn in cut_off else 1)  # never twice


class Crash(Exception):
    """Stands in for the process dying (Ctrl-C, OOM kill) in the middle of a run."""


def test_resume_after_a_crash_sends_the_owed_alerts(env, tmp_path):
    """A run dying between a kill and its alert: on resume the alert is sent, exactly once."""
    open_ = env.sockets.open
    cheats = [open_(f"cheat-{i}", username=f"user{i}", violationCount="9") for i in range(5)]
    admin = open_("admin", "/admin", tags=("admin",))
    honest = open_("honest", username="honest", violationCount="0")
    journal = tmp_path / "sweep.jsonl"
    plan = bulk.plan_disconnect_matching(env.ws, "violationCount", "gte", 3, notify_tag="admin")
    assert plan.target_ids == ids(*cheats)
    ticks: list[int] = []

    def crash_after_third_kill(done: int, total: int) -> None:
        ticks.append(done)
        if done == 5:  # kill, alert, kill, alert, kill: the third alert is not sent yet
            raise Crash

    with pytest.raises(Crash):
        bulk.run(env.ws, plan, concurrency=1, progress=crash_after_third_kill, journal=journal)
    killed_first = [r["target"] for r in journal_lines(journal) if r["action"] == "kill"]
    assert len(killed_first) == 3
    assert [admin.json()["connection"] for _ in range(2)] == killed_first[:2]

    # The plan as stored and read back (e.g. by another process) owes the same alerts.
    stored = bulk.Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
    report = bulk.run(env.ws, stored, resume=journal)

    assert sorted(report.by_status("skipped", "kill")) == sorted(killed_first)
    assert sorted(report.by_status("skipped", "notify")) == sorted(killed_first[:2])
    assert sorted(report.by_status("done", "notify")) == sorted(
        [killed_first[2], *(set(ids(*cheats)) - set(killed_first))]
    )
    assert report.ok
    alerts = [admin.json()["connection"] for _ in range(3)]  # the owed one and two new ones
    assert sorted(killed_first[:2] + alerts) == ids(*cheats)
    for peer in cheats:
        assert peer.frames_until_dropped() == []
    env.sockets.gone(*cheats)
    env.still_open(admin, honest)  # no duplicate alert is waiting for the admin
    lines = journal_lines(journal)
    assert finished_once(lines, "kill") == ids(*cheats)
    assert finished_once(lines, "notify") == ids(*cheats)


def test_resume_a_maintenance_warns_nobody_twice(env, tmp_path):
    """A maintenance that died while warning resumes: one warning per socket, then the kill."""
    peers = [env.sockets.open(f"p{i}", "/chat") for i in range(4)]
    journal = tmp_path / "maintenance.jsonl"
    plan = bulk.plan_maintenance(env.ws, "Restarting", grace=0)

    def crash_after_two_warnings(done: int, total: int) -> None:
        if done == 2:
            raise Crash

    with pytest.raises(Crash):
        bulk.run(env.ws, plan, concurrency=1, progress=crash_after_two_warnings, journal=journal)
    warned_first = finished_once(journal_lines(journal), "warn")
    assert len(warned_first) == 2

    report = bulk.run(env.ws, plan, resume=journal)

    assert sorted(report.by_status("skipped", "warn")) == warned_first
    assert sorted(report.by_status("done", "kill")) == ids(*peers)
    for peer in peers:
        (frame,) = peer.frames_until_dropped()
        assert json.loads(frame)["message"] == "Restarting"
    lines = journal_lines(journal)
    assert finished_once(lines, "warn") == ids(*peers)
    assert finished_once(lines, "kill") == ids(*peers)


def test_resume_into_a_new_journal_carries_what_is_done(env, tmp_path):
    """resume=old, journal=new: the new journal alone is enough to resume from later."""
    peers = [env.sockets.open(f"p{i}", "/chat") for i in range(4)]
    plan = bulk.plan_maintenance(env.ws, "Restarting", grace=0)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"

    def crash_at(n: int) -> Callable[[int, int], None]:
        def progress(done: int, total: int) -> None:
            if done == n:
                raise Crash

        return progress

    with pytest.raises(Crash):
        bulk.run(env.ws, plan, concurrency=1, progress=crash_at(2), journal=first)
    with pytest.raises(Crash):
        bulk.run(env.ws, plan, concurrency=1, progress=crash_at(3), resume=first, journal=second)
    third = bulk.run(env.ws, plan, resume=second)

    assert len(third.by_status("skipped", "warn")) == 3
    assert len(third.by_status("done", "warn")) == 1
    for peer in peers:
        (frame,) = peer.frames_until_dropped()  # one warning each, over three runs
        assert json.loads(frame)["type"] == "maintenance_warning"
    carried = [r for r in journal_lines(second) if r.get("carried")]
    assert sorted(r["target"] for r in carried) == finished_once(journal_lines(first), "warn")
