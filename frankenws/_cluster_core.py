"""The decisions of a cluster call, written once for ``Cluster`` and ``AsyncCluster``.

A call on a fleet is a small generator (like the SDK's flows): it yields :class:`Ask`
steps ("send this call to these nodes") and receives ``(results, errors)`` per node; the
sync and async clusters only differ in how they wait for the nodes. Strictly private.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ._calls import Call, calls
from ._exceptions import FrankenWSError, InvalidArgument
from ._fanout import Health, Node, OwnerCache, call_values, partial_failure, settle

__all__ = ["Ask", "FleetCore", "NodeResults", "Plan", "node_names"]

T = TypeVar("T")

Answers = tuple[dict[str, Any], dict[str, FrankenWSError]]


@dataclass(frozen=True, slots=True)
class Ask:
    """Send ``call`` to ``nodes`` (``None``: every node) and report back per node."""

    call: Call[Any]
    nodes: tuple[str, ...] | None = None


Plan = Generator[Ask, Answers, T]


@dataclass(frozen=True, slots=True)
class NodeResults(Generic[T]):
    """What every node answered, and which nodes failed (from ``Cluster.map``).

    Attributes:
        results: Node name -> value, for the nodes that answered.
        errors: Node name -> error, for the nodes that failed.
    """

    results: dict[str, T]
    errors: dict[str, FrankenWSError]

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self, operation: str = "map") -> dict[str, T]:
        """The results, or :class:`PartialFailure` when some node failed."""
        if self.errors:
            raise partial_failure(operation, dict(self.results), self.errors)
        return self.results


def node_names(nodes: Iterable[Any] | Mapping[str, Any]) -> list[tuple[str, Any]]:
    """``(name, url-or-client)`` pairs; a node's name is its URL unless given by a mapping."""
    if isinstance(nodes, Mapping):
        pairs = [(str(name), node) for name, node in nodes.items()]
    elif isinstance(nodes, str):
        raise InvalidArgument("nodes must be a list of URLs or clients, not one string")
    else:
        pairs = [(node if isinstance(node, str) else str(node.url), node) for node in nodes]
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            raise InvalidArgument(
                f"node {name!r} is listed twice; give nodes that share a URL distinct names "
                "with a mapping ({'a': client_a, 'b': client_b})"
            )
        seen.add(name)
    return pairs


class FleetCore:
    """Node health, owner cache and the plan of every call. Holds no clients."""

    def __init__(self, *, strict: bool, owner_ttl: float, retry_down_after: float) -> None:
        if owner_ttl < 0 or retry_down_after < 0:
            raise InvalidArgument("owner_ttl and retry_down_after must not be negative")
        self.strict = strict
        self.cooldown = retry_down_after
        self.health: dict[str, Health] = {}
        self.owners = OwnerCache(owner_ttl)

    # --- nodes ----------------------------------------------------------------------

    def add(self, name: str, url: str) -> None:
        self.health[name] = Health(name, url, self.cooldown)

    def remove(self, name: str) -> None:
        del self.health[name]
        # Ids cached as living on a node that left would be sent nowhere.
        self.owners.clear()

    def nodes(self) -> list[Node]:
        now = time.monotonic()
        return [h.snapshot(now) for h in self.health.values()]

    def split(
        self, names: Iterable[str] | None, *, probe: bool = False
    ) -> tuple[list[str], dict[str, FrankenWSError]]:
        """Which nodes to ask now, and the errors of those skipped as down."""
        now = time.monotonic()
        ask, skipped = [], {}
        for name in self.health if names is None else names:
            health = self.health[name]
            if probe or health.available(now):
                ask.append(name)
            else:
                assert health.error is not None
                skipped[name] = health.error
        return ask, skipped

    def news(self, errors: Mapping[str, FrankenWSError]) -> set[str]:
        """The failed nodes not reported before (each failure is logged once)."""
        fresh = set()
        for name in errors:
            health = self.health.get(name)
            if health is None or not health.announced:
                fresh.add(name)
                if health is not None:
                    health.announced = True
        return fresh

    def record(self, name: str, error: FrankenWSError | None) -> None:
        health = self.health.get(name)
        if health is None:  # removed by a refresh while the call was running
            return
        if error is None:
            health.succeeded()
        else:
            health.failed(error, time.monotonic())

    # --- plans ----------------------------------------------------------------------

    def plan(self, call: Call[T]) -> Plan[T]:
        """How one SDK call runs on the fleet; see ``_endpoints`` for the rules."""
        endpoint = call.endpoint
        if endpoint is None:
            raise InvalidArgument("raw requests have no fleet rule; use cluster.map()")
        if endpoint.combine != "owner":
            results, errors = yield Ask(call)
            value: T = settle(endpoint, results, errors, strict=self.strict, news=self.news(errors))
            return value
        values = call_values(call)
        conn = values[0]
        node = yield from self.owner(conn, endpoint.name)
        if endpoint.name == "rename_connection" and node is not None:
            holder = self.owners.lookup(values[1])[0]
            if holder is not None and holder != node:
                # The server refuses a new id it already holds; across the fleet, an id
                # held by another node must be refused the same way, or it would exist twice.
                return False  # type: ignore[return-value]
        if node is None:
            results, errors = yield Ask(call)
            value = settle(endpoint, results, errors, strict=self.strict, news=self.news(errors))
            return value
        results, errors = yield Ask(call, (node,))
        if node in errors:
            self.owners.forget(conn)
            raise errors[node]
        result: T = results[node]
        if endpoint.name == "kill_connection" and result:
            self.owners.forget(conn)
        elif endpoint.name == "rename_connection" and result:
            self.owners.moved(conn, values[1], node)
        return result

    def owner(self, conn: str, operation: str = "owner_of") -> Generator[Ask, Answers, str | None]:
        """The node that holds ``conn``, asking every node when the cache does not know."""
        node, reread = self.owners.lookup(conn)
        if node is not None or not reread:
            return node
        results, errors = yield Ask(calls.get_clients())
        self.owners.fill(results)
        node = self.owners.lookup(conn)[0]
        if node is None and errors and self.strict:
            raise partial_failure(
                operation,
                results,
                errors,
                what=f"cannot tell which node holds {conn!r}: it is on none of the nodes that "
                "answered, and the id may be on",
            )
        return node

    def by_node(self, call: Call[T]) -> Plan[dict[str, T]]:
        results, errors = yield Ask(call)
        if errors and (self.strict or not results):
            assert call.endpoint is not None
            raise partial_failure(f"{call.endpoint.name}_by_node", results, errors)
        return results
