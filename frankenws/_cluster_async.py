"""``AsyncCluster``: the asyncio twin of ``Cluster`` (see ``_cluster`` for the design).

Nodes are awaited together with ``asyncio.gather``, each under ``asyncio.wait_for`` with
the per-node timeout, so a slow node is cancelled instead of holding up the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from ._api import AsyncOperations
from ._calls import Call, Operation, calls
from ._client import AsyncClient
from ._cluster import Fleet, checked_id
from ._cluster_core import Answers, Ask, NodeResults, Plan
from ._discovery import Discovery
from ._exceptions import FrankenWSError
from ._fanout import Node, timed_out

__all__ = ["AsyncCluster"]

T = TypeVar("T")

log = logging.getLogger("frankenws.cluster")


class AsyncCluster(Fleet, AsyncOperations):
    """The asyncio twin of :class:`Cluster`: same parameters, same methods, awaited.

    Usage::

        async with frankenws.AsyncCluster(urls) as fleet:
            sent = await fleet.send_all("maintenance in 5 minutes")
    """

    _client_class = AsyncClient

    @classmethod
    async def discover(
        cls,
        url: str,
        *,
        nameservers: Sequence[str] | None = None,
        resolver: Any = None,
        refresh_interval: float | None = None,
        **options: Any,
    ) -> AsyncCluster:
        """See :meth:`Cluster.discover`; DNS is asked in a worker thread."""
        discovery = Discovery(
            url, nameservers=nameservers, resolver=resolver, refresh_interval=refresh_interval
        )
        import asyncio

        cluster = cls(await asyncio.to_thread(discovery.resolve), **options)
        cluster._discovery = discovery
        return cluster

    async def refresh(self, *, force: bool = False) -> list[Node]:
        """See :meth:`Cluster.refresh`."""
        if self._discovery is not None:
            discovery = self._discovery
            import asyncio

            urls = await asyncio.to_thread(lambda: discovery.resolve(force=force))
            _, removed = self._reconcile(urls)
            for client in removed:
                await client.aclose()
        return self.nodes

    async def probe(self) -> list[Node]:
        """See :meth:`Cluster.probe`."""
        await self._each(None, lambda client: client.get_clients_count(), probe=True)
        return self.nodes

    async def map(self, fn: Callable[[AsyncClient], Awaitable[T]]) -> NodeResults[T]:
        """Await ``fn(node_client)`` on every node concurrently; never raises for a node."""
        results, errors = await self._each(None, fn)
        return NodeResults(results, errors)

    def client(self, name: str) -> AsyncClient:
        """The :class:`AsyncClient` of one node."""
        client: AsyncClient = self._clients[name]
        return client

    async def owner_of(self, id: str) -> str | None:
        """See :meth:`Cluster.owner_of`."""
        return await self._drive(self._core.owner(checked_id(id)))

    async def get_clients_by_node(self, route: str | None = None) -> dict[str, list[str]]:
        """See :meth:`Cluster.get_clients_by_node`."""
        return await self._drive(self._core.by_node(calls.get_clients(route)))

    async def get_clients_count_by_node(self, route: str | None = None) -> dict[str, int]:
        """See :meth:`Cluster.get_clients_count_by_node`."""
        return await self._drive(self._core.by_node(calls.get_clients_count(route)))

    async def aclose(self) -> None:
        """Close the clients this cluster created."""
        for name in self._own:
            await self._clients[name].aclose()

    async def _run(self, op: Operation[T]) -> T:
        if self._discovery is not None and self._discovery.due():
            try:
                await self.refresh()
            except FrankenWSError as exc:
                log.warning("keeping the known nodes: %s", exc)
        if isinstance(op, Call):
            return await self._drive(self._core.plan(op))
        steps = op.start()
        try:
            step = next(steps)
            while True:
                try:
                    result = await self._run(step)
                except FrankenWSError as exc:
                    step = steps.throw(exc)
                else:
                    step = steps.send(result)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        finally:
            steps.close()

    async def _drive(self, plan: Plan[T]) -> T:
        try:
            ask = next(plan)
            while True:
                ask = plan.send(await self._ask(ask))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def _ask(self, ask: Ask) -> Answers:
        call = ask.call
        return await self._each(ask.nodes, lambda client: client._run(call))

    async def _each(
        self,
        names: Iterable[str] | None,
        fn: Callable[[AsyncClient], Awaitable[T]],
        *,
        probe: bool = False,
    ) -> tuple[dict[str, T], dict[str, FrankenWSError]]:
        # Imported here: `import frankenws` must not load asyncio (CLI start-up time).
        import asyncio

        ask, errors = self._core.split(names, probe=probe)
        timeout = self.timeout

        async def one(name: str) -> T:
            return await asyncio.wait_for(fn(self._clients[name]), timeout)

        outcomes = await asyncio.gather(*(one(name) for name in ask), return_exceptions=True)
        results: dict[str, T] = {}
        for name, outcome in zip(ask, outcomes, strict=True):
            if isinstance(outcome, asyncio.TimeoutError):
                outcome = timed_out(self._core.health[name], timeout)
            if isinstance(outcome, FrankenWSError):
                errors[name] = outcome
                self._core.record(name, outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                results[name] = outcome
                self._core.record(name, None)
        return results, errors
