"""Every route on a fleet: each Client method has a Cluster twin with its combining rule.

The cases are keyed by SDK method name and the test fails if a route of ENDPOINTS has no
case, so a new route cannot reach the clusters untested. The same cases run on the sync
and the async cluster; three in-process fakes stand in for the nodes (the loopback tests
are in test_cluster_failures.py).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import frankenws
from frankenws._endpoints import ENDPOINTS, by_name
from frankenws.testing import FakeFrankenPHP


class World:
    """Nodes a, b, c: a holds a1 a2 (/chat), b holds b1 (/news), c holds c1 (/chat)."""

    def __init__(self) -> None:
        self.a, self.b, self.c = FakeFrankenPHP(), FakeFrankenPHP(), FakeFrankenPHP()
        self.a1 = self.a.connect("/chat", id="a1")
        self.a2 = self.a.connect("/chat", id="a2")
        self.b1 = self.b.connect("/news", id="b1")
        self.c1 = self.c.connect("/chat", id="c1")
        self.a.tag_client("a1", "vip")
        self.b.tag_client("b1", "vip")
        self.c.tag_client("c1", "staff")
        self.a.set_stored_information("a1", "username", "alice")
        self.b.set_stored_information("b1", "username", "bob")
        self.c.set_stored_information("c1", "username", "alice")

    @property
    def fakes(self) -> dict[str, FakeFrankenPHP]:
        return {"a": self.a, "b": self.b, "c": self.c}


@dataclass
class Case:
    args: tuple[Any, ...]
    expected: Any
    before: Callable[[World], None] | None = None
    after: Callable[[World], None] | None = None


def _queued(w: World) -> None:
    w.b.enable_queue_counter("b1")
    w.b.send("b1", b"q1")


def _pinged(w: World) -> None:
    w.b.enable_ping("b1")
    w.b.client_pong("b1")
    # A pong with no ping pending records the server's 5 ms placeholder: a fixed value.
    w.b.client_pong("b1")


def _expect(condition: bool) -> None:
    assert condition


CASES: dict[str, Case] = {
    "get_clients": Case((), ["a1", "a2", "b1", "c1"]),
    "get_clients_count": Case((), 4),
    "send": Case(
        ("b1", "hi"),
        None,
        after=lambda w: _expect(w.b.received("b1") == [b"hi"] and w.a.received("a1") == []),
    ),
    "send_all": Case(("x",), 4),
    "kill_connection": Case(
        ("c1",),
        True,
        after=lambda w: _expect(w.c.get_clients() == [] and len(w.a.get_clients()) == 2),
    ),
    "get_client_ping_time": Case(("b1",), 5_000_000, before=_pinged),
    "enable_ping": Case(("b1",), True, after=lambda w: _expect(len(w.b.pings("b1")) == 1)),
    "disable_ping": Case(("b1",), True, before=_pinged),
    "enable_queue_counter": Case(
        ("b1",), True, after=lambda w: _expect(w.b.get_client_message_counter("b1") == 0)
    ),
    "disable_queue_counter": Case(("b1",), True, before=_queued),
    "get_client_message_counter": Case(("b1",), 1, before=_queued),
    "get_client_message_queue": Case(("b1",), None, before=_queued),  # checked below
    "clear_client_message_queue": Case(("b1",), True, before=_queued),
    "tag_client": Case(
        ("c1", "new"),
        None,
        after=lambda w: _expect(
            sorted(w.c.get_client_tags("c1")) == ["new", "staff"] and w.a.get_tags() == ["vip"]
        ),
    ),
    "untag_client": Case(("b1", "vip"), None, after=lambda w: _expect(w.b.get_tags() == [])),
    "clear_tag_client": Case(("a1",), None, after=lambda w: _expect(w.a.get_tags() == [])),
    "get_tags": Case((), ["staff", "vip"]),
    "get_client_tags": Case(("c1",), ["staff"]),
    "get_clients_by_tag": Case(("vip",), ["a1", "b1"]),
    "get_tag_count": Case(("vip",), 2),
    "send_to_tag": Case(("vip", "x"), 2),
    "set_stored_information": Case(
        ("b1", "k", "v"),
        None,
        after=lambda w: _expect(
            w.b.get_stored_information("b1", "k") == "v"
            and w.a.get_stored_information("b1", "k") is None
        ),
    ),
    "get_stored_information": Case(("b1", "username"), "bob"),
    "delete_stored_information": Case(
        ("c1", "username"),
        None,
        after=lambda w: _expect(w.c.list_stored_information_keys("c1") == []),
    ),
    "clear_stored_information": Case(
        ("a1",), None, after=lambda w: _expect(w.a.get_all_stored_information("a1") == {})
    ),
    "has_stored_information": Case(("c1", "username"), True),
    "list_stored_information_keys": Case(("b1",), ["username"]),
    "get_all_stored_information": Case(("a1",), {"username": "alice"}),
    "search_stored_information": Case(("username", "eq", "alice"), ["a1", "c1"]),
    "send_to_tag_expression": Case(("vip | staff", "x"), 3),
    "get_clients_by_tag_expression": Case(("vip & !staff",), ["a1", "b1"]),
    "list_routes": Case((), ["/chat", "/news"]),
    "get_clients_by_route": Case(("/chat",), ["a1", "a2", "c1"]),
    "rename_connection": Case(
        ("b1", "bob-1"), True, after=lambda w: _expect(w.b.get_clients() == ["bob-1"])
    ),
    "activate_ghost": Case(("a2",), True, after=lambda w: _expect(w.a.is_ghost("a2"))),
    "release_ghost": Case(("a2",), True, before=lambda w: _expect(w.a.activate_ghost("a2"))),
    "is_ghost": Case(("a2",), True, before=lambda w: _expect(w.a.activate_ghost("a2"))),
    "global_set": Case(
        ("k", "v"),
        None,
        after=lambda w: _expect(all(f.global_get("k") == b"v" for f in w.fakes.values())),
    ),
    "global_get": Case(
        ("k",), "v", before=lambda w: [f.global_set("k", "v") for f in w.fakes.values()]
    ),
    "global_has": Case(("k",), False),
    "global_delete": Case(
        ("k",),
        True,
        before=lambda w: w.c.global_set("k", "v"),
        after=lambda w: _expect(not w.c.global_has("k")),
    ),
}


def test_every_route_has_a_case_and_a_rule():
    assert set(CASES) == {e.name for e in ENDPOINTS}
    for endpoint in ENDPOINTS:
        if endpoint.combine == "owner":
            # The owner is found from the first path parameter: a connection id.
            assert endpoint.params[0] in ("clientID", "currentId"), endpoint.name


def test_every_client_method_has_a_cluster_twin():
    for endpoint in ENDPOINTS:
        for client, cluster in (
            (frankenws.Client, frankenws.Cluster),
            (frankenws.AsyncClient, frankenws.AsyncCluster),
        ):
            mine, theirs = getattr(cluster, endpoint.name), getattr(client, endpoint.name)
            assert inspect.signature(mine) == inspect.signature(theirs), endpoint.name
            assert mine.__doc__ == theirs.__doc__, endpoint.name
            assert inspect.iscoroutinefunction(mine) == inspect.iscoroutinefunction(theirs)


def _check(name: str, world: World, result: Any) -> None:
    case = CASES[name]
    if name == "get_client_message_queue":
        assert [m.data for m in result] == [b"q1"]
    else:
        assert result == case.expected
    if case.after is not None:
        case.after(world)


@pytest.mark.parametrize("name", sorted(CASES))
def test_sync_cluster_route(name: str):
    world = World()
    case = CASES[name]
    if case.before is not None:
        case.before(world)
    clients = {key: fake.client() for key, fake in world.fakes.items()}
    with frankenws.Cluster(clients) as cluster:
        _check(name, world, getattr(cluster, name)(*case.args))
    for client in clients.values():
        client.close()


@pytest.mark.parametrize("name", sorted(CASES))
async def test_async_cluster_route(name: str):
    world = World()
    case = CASES[name]
    if case.before is not None:
        case.before(world)
    clients = {key: fake.async_client() for key, fake in world.fakes.items()}
    async with frankenws.AsyncCluster(clients) as cluster:
        _check(name, world, await getattr(cluster, name)(*case.args))
    for client in clients.values():
        await client.aclose()


# --- the fold used when no node holds the id -----------------------------------------


def _cluster(world: World, **options: Any) -> frankenws.Cluster:
    return frankenws.Cluster({k: f.client() for k, f in world.fakes.items()}, **options)


def test_an_unknown_id_is_asked_of_every_node_and_folded():
    world = World()
    with _cluster(world) as cluster:
        assert cluster.kill_connection("nobody") is False
        assert cluster.get_stored_information("nobody", "username") is None
        assert cluster.rename_connection("nobody", "x") is False
        # Orphan state (the server keeps tags of unknown ids) reads back fleet-wide.
        cluster.tag_client("orphan", "t")
        assert cluster.get_client_tags("orphan") == ["t"]
        assert by_name("get_client_tags").fold == "union"


def test_queue_log_of_a_closed_connection_stays_readable():
    """The queue counter outlives its connection; with no owner every node is asked."""
    world = World()
    _queued(world)
    with _cluster(world) as cluster:
        assert cluster.kill_connection("b1") is True
        assert cluster.owner_of("b1") is None
        assert cluster.get_client_message_counter("b1") == 1
        assert [m.data for m in cluster.get_client_message_queue("b1")] == [b"q1"]


def test_rename_to_an_id_held_by_another_node_is_refused():
    world = World()
    with _cluster(world) as cluster:
        assert cluster.rename_connection("b1", "a1") is False
        assert world.b.get_clients() == ["b1"]
        assert cluster.rename_connection("b1", "b-new") is True
        assert cluster.owner_of("b-new") == "b"
        assert cluster.kill_connection("b-new") is True


def test_global_reads_disagree_loudly():
    world = World()
    world.a.global_set("mode", "on")
    with _cluster(world) as cluster:
        with pytest.raises(frankenws.NodesDisagree) as info:
            cluster.global_get("mode")
        assert info.value.values == {"a": "on", "b": None, "c": None}
        assert "a: 'on'" in str(info.value)
        with pytest.raises(frankenws.NodesDisagree):
            cluster.global_has("mode")
        cluster.global_set("mode", "off")
        assert cluster.global_get("mode") == "off"
        assert cluster.global_delete("mode") is True
        assert cluster.global_delete("mode") is False


def test_owner_lookup_is_cached_and_rechecked_on_a_miss():
    world = World()
    with _cluster(world, owner_ttl=60) as cluster:
        assert cluster.owner_of("a1") == "a"
        late = world.c.connect("/chat", id="late")
        # Cached map: a new id is a miss, which re-reads every node.
        assert cluster.owner_of(late) == "c"
        world.c.disconnect(late)
        world.a.connect("/chat", id="late")
        # Within the TTL the cache still says c; the answer of c is what a closed id gets.
        assert cluster.owner_of("late") == "c"


def test_by_node_results_say_who_holds_what():
    world = World()
    with _cluster(world) as cluster:
        assert cluster.get_clients_by_node() == {"a": ["a1", "a2"], "b": ["b1"], "c": ["c1"]}
        assert cluster.get_clients_count_by_node("/chat") == {"a": 2, "b": 0, "c": 1}
        mapped = cluster.map(lambda client: client.get_tags())
        assert mapped.ok
        assert mapped.results == {"a": ["vip"], "b": ["vip"], "c": ["staff"]}
        assert [node.state for node in cluster.nodes] == ["up", "up", "up"]


def test_validation_happens_before_any_node_is_asked():
    world = World()
    with _cluster(world) as cluster, pytest.raises(frankenws.InvalidArgument):
        cluster.send("a1", b"")
    assert [node.state for node in cluster.nodes] == ["unknown"] * 3


def test_the_rule_table_in_the_docs_is_the_route_table():
    """docs/cluster.md lists every method with its combine rule and fold, as declared."""
    page = Path(__file__).resolve().parents[2] / "docs" / "cluster.md"
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \| (\w+) \|$", page.read_text(), re.MULTILINE)
    assert sorted(rows) == sorted((e.name, e.combine, e.fold) for e in ENDPOINTS)
