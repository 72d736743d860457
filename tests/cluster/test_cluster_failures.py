"""Fleets of loopback fakes with nodes that stop, lag or never answer.

Partial failure must be explicit (``PartialFailure`` with the others' answers, or the
answers of the rest when ``strict=False``), and a bad node must cost at most one timeout:
it neither blocks the other nodes nor is waited for again on the next call.
"""

from __future__ import annotations

import time

import pytest
from cluster_support import SlowRelay, blackhole, dead_url, serve_fleet

import frankenws


def _populate(fleet, per_node: int = 2) -> list[list[str]]:
    return [[fake.connect("/chat") for _ in range(per_node)] for fake in fleet.fakes]


def _relayed(relay: SlowRelay) -> frankenws.Client:
    # The fake checks Host against its own listener, which the relay stands in front of.
    return frankenws.Client(relay.url, host_header=f"127.0.0.1:{relay.upstream_port}")


@pytest.mark.slow
def test_a_fleet_of_fifty_answers_as_one_server():
    with serve_fleet(50) as fleet, frankenws.Cluster(fleet.urls) as cluster:
        ids = _populate(fleet, 1)
        assert cluster.get_clients_count() == 50
        assert cluster.get_clients() == sorted(i for node in ids for i in node)
        target = ids[37][0]
        assert cluster.owner_of(target) == fleet.urls[37]
        assert cluster.kill_connection(target) is True
        assert fleet.fakes[37].get_clients() == []
        assert cluster.send_all("bye") == 49


def test_node_stopped_mid_run_is_reported_with_the_others_answers(fleet3):
    _populate(fleet3)
    with frankenws.Cluster(fleet3.urls, timeout=2) as cluster:
        assert cluster.get_clients_count() == 6
        fleet3.servers[1].close()
        with pytest.raises(frankenws.PartialFailure) as info:
            cluster.get_clients_count()
        failure = info.value
        assert failure.failed_nodes == [fleet3.urls[1]]
        assert isinstance(failure.errors[fleet3.urls[1]], frankenws.ConnectError)
        assert failure.results == {fleet3.urls[0]: 2, fleet3.urls[2]: 2}
        assert failure.partial == 4
        assert fleet3.urls[1] in str(failure)
        states = {node.name: node.state for node in cluster.nodes}
        assert states[fleet3.urls[1]] == "down"
        assert states[fleet3.urls[0]] == "up"


def test_non_strict_cluster_combines_what_answered(fleet3, caplog):
    ids = _populate(fleet3)
    fleet3.servers[2].close()
    with frankenws.Cluster(fleet3.urls, strict=False, timeout=2) as cluster:
        assert cluster.get_clients() == sorted(ids[0] + ids[1])
        assert cluster.get_clients_count() == 4
        warnings = [r for r in caplog.records if r.levelname == "WARNING"]
        # Logged once when the node fails, not again on every call while it stays down.
        assert len(warnings) == 1
        assert "answered without 1 node(s)" in warnings[0].getMessage()
        # An id on a live node is still reached; the dead node does not matter to it.
        assert cluster.kill_connection(ids[0][0]) is True


def test_owner_lookup_with_a_dead_node_cannot_claim_the_id_is_nowhere(fleet3):
    ids = _populate(fleet3)
    fleet3.servers[2].close()
    with frankenws.Cluster(fleet3.urls, timeout=2) as cluster:
        # Held by a live node: found, the dead node is irrelevant.
        assert cluster.kill_connection(ids[1][0]) is True
        # Not on any live node: it may be on the dead one, so strict mode says so.
        with pytest.raises(frankenws.PartialFailure, match="cannot tell which node holds"):
            cluster.kill_connection(ids[2][0])


def test_a_dead_node_costs_one_connect_failure_then_is_skipped(fleet3):
    urls = [*fleet3.urls, dead_url()]
    with frankenws.Cluster(urls, strict=False, retry_down_after=60) as cluster:
        assert cluster.get_clients_count() == 0
        (down,) = [node for node in cluster.nodes if node.state == "down"]
        assert down.url == urls[3]
        assert isinstance(down.error, frankenws.ConnectError)
        assert down.retry_in is not None
        assert down.retry_in > 50
        # probe() asks even the nodes marked down.
        assert [n.state for n in cluster.probe()] == ["up", "up", "up", "down"]


def test_slow_node_is_cut_at_the_node_timeout_and_does_not_hold_up_the_others(fleet3):
    _populate(fleet3)
    with SlowRelay(fleet3.servers[0].admin_port, delay=3.0) as slow:
        relayed = _relayed(slow)
        with (
            relayed,
            frankenws.Cluster(
                [relayed, *fleet3.urls[1:]], strict=False, node_timeout=0.5
            ) as cluster,
        ):
            started = time.monotonic()
            assert cluster.get_clients_count() == 4
            assert time.monotonic() - started < 2.0
            states = {node.name: node.state for node in cluster.nodes}
            assert states[slow.url] == "down"
            # Skipped while down: the next call does not wait for it again.
            started = time.monotonic()
            assert cluster.get_clients_count() == 4
            assert time.monotonic() - started < 1.0  # the slow node would take 3 s


def test_an_owner_call_is_cut_at_the_node_timeout_too(fleet3):
    ids = _populate(fleet3)
    with SlowRelay(fleet3.servers[0].admin_port, delay=0.0) as slow:
        relayed = _relayed(slow)
        with (
            relayed,
            frankenws.Cluster(
                [relayed, *fleet3.urls[1:]], node_timeout=0.5, owner_ttl=60
            ) as cluster,
        ):
            assert cluster.owner_of(ids[0][0]) == slow.url
            slow.delay = 3.0
            started = time.monotonic()
            with pytest.raises(frankenws.RequestTimeout, match="per-node timeout"):
                cluster.kill_connection(ids[0][0])
            assert time.monotonic() - started < 2.0


def test_a_slow_node_within_its_timeout_is_waited_for(fleet3):
    _populate(fleet3)
    with SlowRelay(fleet3.servers[0].admin_port, delay=0.3) as slow:
        relayed = _relayed(slow)
        with relayed, frankenws.Cluster([relayed, *fleet3.urls[1:]], node_timeout=3) as cluster:
            assert cluster.get_clients_count() == 6


def test_blackholed_node_costs_one_timeout_in_total(fleet3):
    _populate(fleet3)
    with blackhole() as hole:
        urls = [*fleet3.urls, hole]
        with frankenws.Cluster(urls, strict=False, timeout=0.5) as cluster:
            started = time.monotonic()
            for _ in range(5):
                assert cluster.get_clients_count() == 6
            elapsed = time.monotonic() - started
            assert 0.5 <= elapsed < 2.0  # five timeouts would be 2.5 s
        with frankenws.Cluster(urls, timeout=0.5) as cluster:
            with pytest.raises(frankenws.PartialFailure) as info:
                cluster.get_clients_count()
            assert isinstance(info.value.errors[hole], frankenws.RequestTimeout)


def test_a_node_that_comes_back_is_used_again(fleet3):
    ids = _populate(fleet3)
    port = fleet3.servers[1].admin_port
    fleet3.servers[1].close()
    with frankenws.Cluster(fleet3.urls, strict=False, retry_down_after=0) as cluster:
        assert cluster.get_clients_count() == 4
        fleet3.servers[1] = fleet3.fakes[1].serve(admin_port=port)
        assert cluster.get_clients_count() == 6
        assert cluster.owner_of(ids[1][1]) == fleet3.urls[1]


async def test_async_cluster_on_loopback_with_a_blackholed_node(fleet3):
    ids = _populate(fleet3)
    with blackhole() as hole:
        urls = [*fleet3.urls, hole]
        async with frankenws.AsyncCluster(urls, timeout=0.5) as cluster:
            with pytest.raises(frankenws.PartialFailure) as info:
                await cluster.get_clients()
            assert info.value.partial == sorted(i for node in ids for i in node)
            assert await cluster.kill_connection(ids[2][0]) is True
            assert await cluster.owner_of(ids[0][0]) == fleet3.urls[0]
            mapped = await cluster.map(lambda client: client.get_clients_count())
            assert not mapped.ok
            assert mapped.results == {fleet3.urls[0]: 2, fleet3.urls[1]: 2, fleet3.urls[2]: 1}
            with pytest.raises(frankenws.PartialFailure):
                mapped.raise_for_errors()
        async with frankenws.AsyncCluster(urls, strict=False, timeout=0.5) as cluster:
            assert await cluster.get_clients_count_by_node() == {
                fleet3.urls[0]: 2,
                fleet3.urls[1]: 2,
                fleet3.urls[2]: 1,
            }
            assert [n.state for n in cluster.nodes] == ["up", "up", "up", "down"]


def test_nodes_must_be_named_once():
    with pytest.raises(frankenws.InvalidArgument, match="listed twice"):
        frankenws.Cluster(["http://127.0.0.1:1", "http://127.0.0.1:1"])
    with pytest.raises(frankenws.InvalidArgument, match="at least one node"):
        frankenws.Cluster([])
    with pytest.raises(frankenws.InvalidArgument, match="not one string"):
        frankenws.Cluster("http://127.0.0.1:1")  # type: ignore[arg-type]


def test_an_owner_that_fails_raises_its_own_error(fleet3):
    ids = _populate(fleet3)
    with frankenws.Cluster(fleet3.urls, timeout=2, owner_ttl=60) as cluster:
        assert cluster.owner_of(ids[1][0]) == fleet3.urls[1]
        fleet3.servers[1].close()
        # The id is known to live on node 1, which is gone: its error, not a guess elsewhere.
        with pytest.raises(frankenws.ConnectError):
            cluster.kill_connection(ids[1][0])
        mapped = cluster.map(lambda client: client.get_clients_count())
        assert set(mapped.errors) == {fleet3.urls[1]}
        assert mapped.results == {fleet3.urls[0]: 2, fleet3.urls[2]: 2}
