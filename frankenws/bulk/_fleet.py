"""Bulk jobs on a fleet (``Cluster``/``AsyncCluster``): each target acted on at its owner.

A request about one connection must reach the node that holds it. Sending it through the
cluster would look the owner up per request (and re-read every node on a miss); a job
instead reads ``getClients`` once from every node, then sends each target's request to
its owner over that node's own runner (the HTTP/1.1 lane per node when available), so a
fleet kill costs one request per target, as on one server. Requests that are not about
one connection (a ``send_to_tag`` alert, a listing) go through the cluster, which fans
them out by the route's rule.

Nothing is dropped: a node that cannot be listed is named in ``report.node_errors``, and
a target that only such a node may hold is ``failed`` unless the plan or the resumed
journal says where it was. Strictly private.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import ChainMap
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import replace
from typing import Any, TypeVar, cast

from frankenws._calls import Call, Flow, calls
from frankenws._cluster import Cluster
from frankenws._cluster_async import AsyncCluster
from frankenws._exceptions import FrankenWSError
from frankenws._fanout import partial_failure

from ._context import _Context
from ._engine import _Runner
from ._journal import JournalState
from ._plans import Plan, PlanItem
from ._report import BulkReport, Outcome
from ._targets import AsyncTarget, SyncTarget, Target, run_one

__all__ = ["FleetRunner", "located", "runner_for"]

T = TypeVar("T")
Fleet = Cluster | AsyncCluster


class FleetRunner(_Runner):
    """The runner of a fleet job: one ``_Runner`` per node and the id -> node map."""

    def __init__(self, cluster: Fleet, concurrency: int, hints: Mapping[str, str]) -> None:
        super().__init__(cluster, concurrency)
        self.cluster = cluster
        self.owners: dict[str, str] = {}
        self.errors: dict[str, FrankenWSError] = {}
        """Nodes whose listing failed at the last read of the map."""
        self._hints = hints
        self._runners: dict[str, _Runner] = {}
        self._stack = contextlib.AsyncExitStack()
        self._lock = asyncio.Lock()
        self._read_at = -1.0

    async def __aenter__(self) -> FleetRunner:
        for node in self.cluster.nodes:
            runner = _Runner(self.cluster.client(node.name), self.concurrency)
            self._runners[node.name] = await self._stack.enter_async_context(runner)
        senders = sorted({runner.sender for runner in self._runners.values()})
        self.sender = "+".join(senders)
        await self.locate()
        return self

    def context(self, report: BulkReport, *args: Any, **kwargs: Any) -> FleetContext:
        for name, exc in sorted(self.errors.items()):
            report.node_errors[name] = f"{type(exc).__name__}: {exc}"
            report.notes.append(
                f"node {name} could not be listed ({type(exc).__name__}: {exc}); its "
                "targets were sent where the plan or journal placed them, or are failed"
            )
        return FleetContext(self, report, *args, **kwargs)

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def one(self, call: Call[T] | Flow[T]) -> T:
        """Through the cluster: the route's own fan-out rule applies."""
        return await run_one(self.cluster, call)

    async def locate(self) -> None:
        """Read every node's ``getClients`` concurrently; a failing node is remembered."""
        started = time.monotonic()
        names = list(self._runners)
        answers = await asyncio.gather(
            *(self._runners[name].one(calls.get_clients()) for name in names),
            return_exceptions=True,
        )
        owners: dict[str, str] = {}
        errors: dict[str, FrankenWSError] = {}
        for name, answer in zip(names, answers, strict=True):
            if isinstance(answer, FrankenWSError):
                errors[name] = answer
            elif isinstance(answer, BaseException):
                raise answer
            else:
                owners.update(dict.fromkeys(answer, name))
        self.owners, self.errors, self._read_at = owners, errors, started

    def node_of(self, target: str) -> str | None:
        node = self.owners.get(target) or self._hints.get(target)
        return node if node in self._runners else None

    async def bulk(self, call: Call[T], target: str | None = None) -> T:
        endpoint = call.endpoint
        if target is None or endpoint is None or endpoint.combine != "owner":
            return await self.one(call)
        if target not in self.owners:
            await self._reread(time.monotonic())
        node = self.node_of(target)
        if node is not None:
            return await self._runners[node].bulk(call)
        if self.errors:
            raise partial_failure(
                endpoint.name,
                {},
                self.errors,
                what=f"cannot tell which node holds {target!r}: it is on none of the nodes "
                "that answered, and may be on",
            )
        # On no node: the cluster asks every node, as each would answer an unknown id.
        return await self.one(call)

    async def _reread(self, missed_at: float) -> None:
        # Many targets may miss at once (late arrivals in a maintenance): one re-read
        # serves every miss that began before it.
        async with self._lock:
            if self._read_at < missed_at:
                await self.locate()


class FleetContext(_Context):
    """A job's context whose outcomes (and journal lines) carry the target's node."""

    runner: FleetRunner

    def record(self, outcome: Outcome, *, journal: bool = True) -> None:
        if outcome.node is None:
            outcome = replace(outcome, node=self.runner.node_of(outcome.target))
        super().record(outcome, journal=journal)


def runner_for(
    client: Target, concurrency: int, placed: Mapping[str, str] | None, state: JournalState | None
) -> _Runner:
    """The runner of a job: per node for a fleet, else the client's own."""
    if isinstance(client, (Cluster, AsyncCluster)):
        # Where the plan, then the resumed journal, saw each target.
        # A lookup through both, not a merged copy: the journal's nodes stay compact.
        # (ChainMap only reads them; its type asks for mutable mappings.)
        maps = [state.nodes] if state is not None else []
        hints = ChainMap(*cast("list[dict[str, str]]", maps), dict(placed or {}))
        return FleetRunner(client, concurrency, hints)
    return _Runner(client, concurrency)


def located(
    client: SyncTarget | AsyncTarget, make: Callable[[], Coroutine[Any, Any, Plan]]
) -> Callable[[], Coroutine[Any, Any, Plan]]:
    """``make`` for one server; for a fleet, also names the node of every plan item."""
    if not isinstance(client, (Cluster, AsyncCluster)):
        return make
    fleet = client

    async def make_located() -> Plan:
        plan = await make()
        by_node: dict[str, list[str]] = await _by_node(fleet)
        owner = {conn: node for node, ids in by_node.items() for conn in ids}

        def place(items: tuple[PlanItem, ...]) -> tuple[PlanItem, ...]:
            return tuple(replace(item, node=owner.get(item.id)) for item in items)

        return replace(plan, targets=place(plan.targets), left_alone=place(plan.left_alone))

    return make_located


async def _by_node(fleet: Fleet) -> dict[str, list[str]]:
    if isinstance(fleet, AsyncCluster):
        return await fleet.get_clients_by_node()
    return await asyncio.to_thread(fleet.get_clients_by_node)
