"""``frankenws.bulk`` on a fleet: plans cover every node, each target is acted on at its owner.

Real WebSocket clients (the ``websockets`` package) connect to three loopback fakes, so a
kill is seen where it matters: the client's socket closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_support import SlowRelay
from support import wait_for
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

import frankenws
from frankenws import bulk


@contextlib.contextmanager
def sockets() -> Iterator[contextlib.ExitStack]:
    with contextlib.ExitStack() as stack:
        yield stack


def open_session(stack, server, route: str = "/chat") -> tuple[ClientConnection, str]:
    """A real WebSocket client on ``server``; returns it with its connection id."""
    fake = server.fake
    before = set(fake.get_clients())
    socket = stack.enter_context(connect(server.ws_url(route), ping_interval=None, open_timeout=5))
    (conn,) = wait_for(lambda: set(fake.get_clients()) - before)
    return socket, conn


def closed(socket: ClientConnection) -> bool:
    try:
        socket.recv(timeout=5)
    except ConnectionClosed:
        return True
    return False


def test_disconnect_user_reaches_every_replica(fleet3):
    with sockets() as stack, frankenws.Cluster(fleet3.urls) as cluster:
        alice = []
        for server in fleet3.servers:
            socket, conn = open_session(stack, server)
            server.fake.set_stored_information(conn, "username", "alice")
            alice.append((socket, conn, server.admin_url))
        _bob_socket, bob = open_session(stack, fleet3.servers[1])
        fleet3.fakes[1].set_stored_information(bob, "username", "bob")

        plan = bulk.plan_disconnect_user(cluster, "alice")
        assert {(item.id, item.node) for item in plan.targets} == {
            (conn, node) for _, conn, node in alice
        }
        assert all(t["node"] for t in plan.to_dict()["targets"])
        assert bulk.Plan.from_dict(plan.to_dict()) == plan

        report = bulk.run(cluster, plan)
        assert report.ok
        assert sorted(report.done) == sorted(conn for _, conn, _ in alice)
        assert {o.target: o.node for o in report.outcomes} == {
            conn: node for _, conn, node in alice
        }
        assert report.counts_by_node() == {
            node: {
                "done": 1,
                "not_found": 0,
                "failed": 0,
                "skipped": 0,
                "uncertain": 0,
                "not_attempted": 0,
            }
            for _, _, node in alice
        }
        assert all(closed(socket) for socket, _, _ in alice)
        assert cluster.get_clients() == [bob]


def test_kill_sends_one_request_per_target_at_its_owner(fleet3):
    """The owner map is read once per node: no per-target fan-out to every node."""
    # In-process clients: the fakes log every request they answer.
    nodes = {name: fake.client() for name, fake in zip("abc", fleet3.fakes, strict=True)}
    with frankenws.Cluster(nodes) as cluster:
        ids = [[fake.connect("/chat") for _ in range(4)] for fake in fleet3.fakes]
        before = [len(fake.calls) for fake in fleet3.fakes]
        report = bulk.kill_connections(cluster, [i for node in ids for i in node])
        assert report.ok
        assert len(report.done) == 12
        # One getClients to map the owners, then its own four kills.
        assert [len(f.calls) - b for f, b in zip(fleet3.fakes, before, strict=True)] == [5, 5, 5]
        assert all(fake.get_clients() == [] for fake in fleet3.fakes)


def test_maintenance_warns_and_disconnects_everyone_on_every_node(fleet3):
    with sockets() as stack:
        sessions = [open_session(stack, server) for server in fleet3.servers for _ in range(2)]

        async def main() -> frankenws.bulk.BulkReport:
            async with frankenws.AsyncCluster(fleet3.urls) as cluster:
                plan = await bulk.plan_maintenance(cluster, "upgrade", grace=0)
                assert len(plan.targets) == 6
                return await bulk.run(cluster, plan)

        report = asyncio.run(main())
        assert report.ok
        assert report.counts("warn")["done"] == 6
        assert report.counts("kill")["done"] == 6
        for socket, _ in sessions:
            warning = json.loads(socket.recv(timeout=5))
            assert warning["type"] == "maintenance_warning"
            assert closed(socket)


def test_a_node_stopped_mid_job_fails_its_targets_and_only_those(fleet3):
    with frankenws.Cluster(fleet3.urls, timeout=2) as cluster:
        ids = [[fake.connect("/chat") for _ in range(3)] for fake in fleet3.fakes]
        dying = fleet3.urls[2]
        # Node a's targets come first; node c stops after the first outcome.
        targets = [i for node in ids for i in node]

        def stop_c(outcome: bulk.Outcome) -> None:
            if outcome.target == ids[0][0]:
                fleet3.servers[2].close()

        report = bulk.kill_connections(cluster, targets, concurrency=1, on_outcome=stop_c)
        assert len(report.outcomes) == 9  # nothing dropped
        assert not report.ok
        assert sorted(report.failed) == sorted(ids[2])
        assert {o.node for o in report.outcomes if o.status == "failed"} == {dying}
        assert sorted(report.done) == sorted(ids[0] + ids[1])


def test_a_node_down_before_the_job_is_named_and_its_targets_fail(fleet3):
    with frankenws.Cluster(fleet3.urls, timeout=2) as cluster:
        ids = [fake.connect("/chat") for fake in fleet3.fakes]
        fleet3.servers[1].close()
        report = bulk.kill_connections(cluster, ids)
        assert list(report.node_errors) == [fleet3.urls[1]]
        assert any(fleet3.urls[1] in note for note in report.notes)
        assert sorted(report.done) == sorted([ids[0], ids[2]])
        assert report.failed == [ids[1]]
        (lost,) = [o for o in report.outcomes if o.target == ids[1]]
        assert lost.node is None
        assert "cannot tell which node holds" in (lost.error or "")
        assert not report.ok
        assert report.to_dict()["node_errors"] == report.node_errors


def test_a_plan_sends_the_targets_of_an_unlisted_node_where_it_saw_them(fleet3):
    with frankenws.Cluster(fleet3.urls, timeout=2) as cluster:
        ids = [fake.connect("/chat") for fake in fleet3.fakes]
        plan = bulk.plan_disconnect_route(cluster, "/chat")
        fleet3.servers[1].close()
        report = bulk.run(cluster, plan)
        failed = [o for o in report.outcomes if o.status == "failed"]
        # Sent to node b as the plan said (and refused there), not "cannot tell".
        assert [(o.target, o.node) for o in failed] == [(ids[1], fleet3.urls[1])]
        assert "cannot tell" not in (failed[0].error or "")


def test_the_journal_records_the_node_and_a_resume_goes_there(fleet3, tmp_path: Path):
    upstream = fleet3.servers[2]
    with SlowRelay(upstream.admin_port, 0.0) as relay:
        nodes = {
            "a": fleet3.servers[0].client(timeout=0.5),
            "b": fleet3.servers[1].client(timeout=0.5),
            # The fake checks Host against its own listener, which the relay fronts.
            "c": frankenws.Client(
                relay.url, host_header=f"127.0.0.1:{upstream.admin_port}", timeout=0.5
            ),
        }
        with frankenws.Cluster(nodes, timeout=0.5) as cluster:
            ids = [[fake.connect("/chat") for _ in range(2)] for fake in fleet3.fakes]
            journal = tmp_path / "kill.jsonl"

            def lag_c(outcome: bulk.Outcome) -> None:
                relay.delay = 3.0  # from now on, node c answers too late

            first = bulk.kill_connections(
                cluster,
                [i for node in ids for i in node],
                concurrency=1,
                journal=journal,
                on_outcome=lag_c,
            )
            assert sorted(first.failed) == sorted(ids[2])
            lines = [json.loads(line) for line in journal.read_text().splitlines()[1:]]
            assert {line["target"]: line["node"] for line in lines} == {
                i: name for name, node in zip("abc", ids, strict=True) for i in node
            }

            relay.delay = 0.0
            second = bulk.kill_connections(
                cluster, [i for node in ids for i in node], resume=journal
            )
            assert sorted(second.skipped) == sorted(ids[0] + ids[1])
            # Node c did kill them in the first run (only its answers were late): the
            # resume asks c again, as the journal says, and c no longer knows them.
            assert {
                o.target: (o.node, o.status) for o in second.outcomes if o.target in ids[2]
            } == dict.fromkeys(ids[2], ("c", "not_found"))
            assert fleet3.fakes[2].get_clients() == []
        for client in nodes.values():
            client.close()


def test_send_messages_and_disconnect_matching_alerts_across_nodes(fleet3):
    with frankenws.Cluster(fleet3.urls) as cluster:
        watchers = [fake.connect("/admin") for fake in fleet3.fakes]
        for fake, watcher in zip(fleet3.fakes, watchers, strict=True):
            fake.tag_client(watcher, "ops")
        spam = [fake.connect("/chat") for fake in fleet3.fakes]
        for fake, conn in zip(fleet3.fakes, spam, strict=True):
            fake.set_stored_information(conn, "flag", "spam")

        sent = bulk.send_messages(cluster, spam, "bye")
        assert sent.ok
        assert sorted(sent.done) == sorted(spam)
        assert all(f.received(c) == [b"bye"] for f, c in zip(fleet3.fakes, spam, strict=True))

        plan = bulk.plan_disconnect_matching(cluster, "flag", "eq", "spam", notify_tag="ops")
        report = bulk.run(cluster, plan)
        assert report.counts("kill")["done"] == 3
        assert report.counts("notify")["done"] == 3
        # Each alert went to the watchers of every node (send_to_tag fans out).
        for fake, watcher in zip(fleet3.fakes, watchers, strict=True):
            assert len(fake.received(watcher)) == 3


def test_a_cluster_that_is_not_a_fleet_type_is_refused():
    with pytest.raises(frankenws.InvalidArgument, match="Cluster"):
        bulk.kill_connections(object(), ["x"])  # type: ignore[call-overload]
