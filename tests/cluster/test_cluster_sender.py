"""The sync cluster's sender: one event loop thread for every node, not a thread per node.

A thread per node cost about three times the client CPU of the event-loop sender (see
docs/performance.md); ``map(fn)`` runs arbitrary code and keeps its threads.
"""

from __future__ import annotations

import threading

import pytest
from cluster_support import serve_fleet

import frankenws


def _threads(prefix: str) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(prefix)]


def test_a_fleet_call_uses_one_loop_thread_not_one_thread_per_node():
    with serve_fleet(6) as fleet:
        for fake in fleet.fakes:
            fake.connect("/chat")
        with frankenws.Cluster(fleet.urls) as cluster:
            assert cluster.get_clients_count() == 6
            assert cluster.send_all("hello") == 6
            assert _threads("frankenws-cluster-loop") == ["frankenws-cluster-loop"]
            assert [t for t in _threads("frankenws-cluster") if "loop" not in t] == []
            # Any code per node still runs in the pool.
            assert cluster.map(lambda client: client.get_clients_count()).results == dict.fromkeys(
                fleet.urls, 1
            )
        assert _threads("frankenws-cluster-loop") == []


def test_errors_through_the_loop_sender_are_the_clients_errors():
    # The fakes check Host like Caddy: a wrong one is refused with 403.
    with serve_fleet(2) as fleet, frankenws.Cluster(fleet.urls, host_header="wrong:1") as cluster:
        with pytest.raises(frankenws.PartialFailure) as info:
            cluster.get_clients_count()
        errors = info.value.errors
        assert sorted(errors) == sorted(fleet.urls)
        assert all(isinstance(e, frankenws.HostNotAllowed) for e in errors.values())
        assert {node.state for node in cluster.nodes} == {"up"}
