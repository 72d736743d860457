"""What a fleet of nodes needs besides I/O: node health, folds, the owner cache.

``Cluster`` and ``AsyncCluster`` differ only in how they wait for their nodes; everything
they decide (which nodes to ask, how answers merge, when a node counts as down, when a
partial answer is an error) lives here, written once and free of sockets. Strictly private.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ._calls import Call
from ._endpoints import Endpoint
from ._exceptions import (
    FrankenWSError,
    NodesDisagree,
    PartialFailure,
    RequestTimeout,
    TransportError,
)
from ._models import QueuedMessage

__all__ = [
    "Health",
    "Node",
    "OwnerCache",
    "call_values",
    "fold",
    "settle",
    "timed_out",
]

log = logging.getLogger("frankenws.cluster")

_LISTED = 5


@dataclass(frozen=True, slots=True)
class Node:
    """One node of a cluster as last seen by it.

    Attributes:
        name: How the cluster names the node in results and errors (its URL unless the
            cluster was built from a mapping).
        url: The admin endpoint.
        state: ``"up"`` (answered last time), ``"down"`` (its last request failed at the
            transport level: refused, timed out, dropped) or ``"unknown"`` (not asked yet).
        error: The error that put it ``down``.
        retry_in: Seconds until a ``down`` node is asked again (until then it is reported
            as failed at once, so a dead node costs one timeout, not one per call).
    """

    name: str
    url: str
    state: str
    error: FrankenWSError | None = None
    retry_in: float | None = None


class Health:
    """The mutable state behind :class:`Node`; updated only by the calling thread."""

    def __init__(self, name: str, url: str, cooldown: float) -> None:
        self.name = name
        self.url = url
        self.cooldown = cooldown
        self.state = "unknown"
        self.error: FrankenWSError | None = None
        self.down_until = 0.0
        self.announced = False
        """Whether the current failure was already logged."""

    def available(self, now: float) -> bool:
        return self.state != "down" or now >= self.down_until

    def succeeded(self) -> None:
        self.state, self.error, self.announced = "up", None, False

    def failed(self, error: FrankenWSError, now: float) -> None:
        # Only a node that cannot be talked to is skipped; one that answers with an
        # error status is reachable, and the next call may well succeed.
        if isinstance(error, TransportError):
            self.state, self.error, self.down_until = "down", error, now + self.cooldown
        else:
            self.state, self.error = "up", None

    def snapshot(self, now: float) -> Node:
        if self.state == "down":
            return Node(self.name, self.url, "down", self.error, max(0.0, self.down_until - now))
        return Node(self.name, self.url, self.state)


def timed_out(health: Health, seconds: float) -> RequestTimeout:
    """The error of a node that did not finish within the cluster's per-node deadline."""
    return RequestTimeout(
        f"{health.url} did not answer within the cluster's per-node timeout of {seconds:g} s; "
        "it is skipped for the next calls until it answers again",
        url=health.url,
    )


def call_values(call: Call[Any]) -> list[str]:
    """The path parameters of a call, decoded back from its request target."""
    endpoint = call.endpoint
    assert endpoint is not None
    target = call.path.split("?", 1)[0]
    segments = target.split("/")[1:]
    values = []
    for template, segment in zip(endpoint.segments, segments, strict=True):
        if template.startswith("{"):
            value = unquote(segment, errors="strict")
            values.append(unquote(value, errors="strict") if endpoint.double else value)
    return values


# --- folding answers of several nodes ------------------------------------------------


def _union(values: Iterable[list[str]]) -> list[str]:
    return sorted({item for value in values for item in value})


def _first(values: Iterable[Any]) -> Any:
    return next((v for v in values if v is not None), None)


def _merge(values: Iterable[dict[str, str]]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for value in values:
        merged.update(value)
    return merged


def _concat(values: Iterable[list[QueuedMessage]]) -> list[QueuedMessage]:
    return sorted((m for value in values for m in value), key=lambda m: (m.timestamp, m.id))


_FOLDS: dict[str, Callable[[list[Any]], Any]] = {
    "union": _union,
    "sum": sum,
    "any": any,
    "none": lambda values: None,
    "first": _first,
    "merge": _merge,
    "concat": _concat,
    "max": lambda values: max(values, default=0),
}


def fold(endpoint: Endpoint, results: Mapping[str, Any]) -> Any:
    """Merge the answers of several nodes (node name -> answer) by the route's fold."""
    if endpoint.fold == "agree":
        distinct = {_hashable(v) for v in results.values()}
        if len(distinct) > 1:
            listing = ", ".join(f"{node}: {value!r}" for node, value in results.items())
            raise NodesDisagree(
                f"{endpoint.name}: the nodes hold different values ({listing}). The global "
                "store is per node; write it through the cluster (global_set goes to every "
                "node) or read one node with cluster.map()",
                operation=endpoint.name,
                values=dict(results),
            )
        return next(iter(results.values()), None)
    return _FOLDS[endpoint.fold](list(results.values()))


def _hashable(value: Any) -> Any:
    return value if not isinstance(value, (list, dict)) else repr(value)


def settle(
    endpoint: Endpoint,
    results: dict[str, Any],
    errors: dict[str, FrankenWSError],
    *,
    strict: bool,
    news: Collection[str] | None = None,
) -> Any:
    """The combined answer, or :class:`PartialFailure` when nodes failed.

    Non-strict clusters combine what answered and log the failures (at warning level
    those in ``news``, the nodes that just failed; the others at debug level); with no
    answer at all there is nothing to combine, so they raise as well.
    """
    if errors and (strict or not results):
        raise partial_failure(
            endpoint.name, results, errors, combine=lambda: fold(endpoint, results)
        )
    if errors:
        # A node that stays down would repeat the same warning on every call.
        fresh = {n: e for n, e in errors.items() if news is None or n in news}
        level = logging.WARNING if fresh else logging.DEBUG
        log.log(level, "%s: answered without %s", endpoint.name, _describe(fresh or errors))
    return fold(endpoint, results)


def partial_failure(
    operation: str,
    results: dict[str, Any],
    errors: dict[str, FrankenWSError],
    *,
    combine: Callable[[], Any] | None = None,
    what: str = "",
) -> PartialFailure:
    partial = None
    if combine is not None and results:
        try:
            partial = combine()
        except FrankenWSError:
            partial = None
    answered = f"; {len(results)} other node(s) answered" if results else "; no node answered"
    return PartialFailure(
        f"{operation}: {what or 'failed on'} {_describe(errors)}{answered} (see .results, "
        ".partial). Pass strict=False to the cluster to get the others' combined answer",
        operation=operation,
        errors=dict(errors),
        results=dict(results),
        partial=partial,
    )


def _describe(errors: Mapping[str, FrankenWSError]) -> str:
    parts = [f"{node} ({type(exc).__name__}: {exc})" for node, exc in sorted(errors.items())]
    # A whole fleet failing the same way would bury the message; .errors has them all.
    more = f"; and {len(parts) - _LISTED} more" if len(parts) > _LISTED else ""
    return f"{len(errors)} node(s): " + "; ".join(parts[:_LISTED]) + more


# --- which node holds a connection id -----------------------------------------------


class OwnerCache:
    """Connection id -> node, from every node's ``getClients``, kept ``ttl`` seconds.

    Ids are random per connection, so an id seen on a node stays there until it closes
    (or is renamed); a short ``ttl`` bounds how long a closed id keeps pointing at its old
    node. A miss re-reads every node (a connection opened since), unless the map is
    younger than ``recheck`` seconds.
    """

    def __init__(self, ttl: float, recheck: float = 0.0) -> None:
        self.ttl = ttl
        self.recheck = recheck
        self._owners: dict[str, str] = {}
        self._read_at = -math.inf

    def lookup(self, id: str, now: float | None = None) -> tuple[str | None, bool]:
        """``(node, must_reread)``: the cached owner, and whether to read the fleet again."""
        now = time.monotonic() if now is None else now
        age = now - self._read_at
        node = self._owners.get(id) if age <= self.ttl else None
        return node, node is None and age > self.recheck

    def fill(self, ids_by_node: Mapping[str, list[str]], now: float | None = None) -> None:
        self._owners = {conn: node for node, ids in ids_by_node.items() for conn in ids}
        self._read_at = time.monotonic() if now is None else now

    def forget(self, id: str) -> None:
        self._owners.pop(id, None)

    def moved(self, old: str, new: str, node: str) -> None:
        self._owners.pop(old, None)
        self._owners[new] = node

    def clear(self) -> None:
        self._owners.clear()
        self._read_at = -math.inf
