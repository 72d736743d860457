"""``Cluster``: a fleet of FrankenPHP nodes operated as one server.

Each node is an ordinary :class:`Client` (one connection pool per node). The route
methods come from the same operations mixin as the clients (``_api``); ``_run`` here fans
each call out following the route's ``combine`` rule (``_endpoints``), with the decisions
written once in ``_cluster_core`` and shared with ``AsyncCluster`` (``_cluster_async``).
The sync cluster sends a fleet call from one private event loop thread with the bulk
engine's HTTP/1.1 lane per node (``_cluster_lane``) when every node can use it, a small
part of the client CPU of httpx; otherwise (custom transports, and ``map(fn)``, which runs
any code)
it waits for its nodes with a thread pool: httpx clients are thread-safe, and a thread per
node keeps a slow node from holding up the others. Neither asks the caller to run a loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ._api import SyncOperations
from ._calls import Call, Operation, Steps, calls
from ._client import AsyncClient, Client
from ._cluster_core import Answers, Ask, FleetCore, NodeResults, Plan, node_names
from ._discovery import Discovery
from ._exceptions import FrankenWSError, InvalidArgument
from ._fanout import Node, timed_out

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from ._cluster_lane import LoopLanes

__all__ = ["Cluster", "Fleet", "checked_id"]

T = TypeVar("T")

log = logging.getLogger("frankenws.cluster")


class Fleet:
    """Node bookkeeping shared by both clusters: names, clients, discovery."""

    _client_class: type[Client] | type[AsyncClient]

    def __init__(
        self,
        nodes: Sequence[Any] | Mapping[str, Any],
        *,
        strict: bool = True,
        node_timeout: float | None = None,
        owner_ttl: float = 2.0,
        retry_down_after: float = 15.0,
        **client_options: Any,
    ) -> None:
        self._options = client_options
        self._core = FleetCore(
            strict=strict, owner_ttl=owner_ttl, retry_down_after=retry_down_after
        )
        self._clients: dict[str, Any] = {}
        self._own: set[str] = set()
        self._discovery: Discovery | None = None
        self._node_timeout = node_timeout
        self._lock = threading.Lock()
        pairs = node_names(nodes)
        if not pairs:
            raise InvalidArgument("a cluster needs at least one node")
        for name, node in pairs:
            self._add(name, node)

    def _add(self, name: str, node: Any) -> None:
        if isinstance(node, str):
            client = self._client_class(node, **self._options)
            self._own.add(name)
        elif isinstance(node, self._client_class):
            client = node
        else:
            raise InvalidArgument(
                f"node {name!r} must be a URL or a {self._client_class.__name__}, got "
                f"{type(node).__name__}"
            )
        self._clients[name] = client
        self._core.add(name, client.url)

    def _drop(self, name: str) -> Any:
        self._core.remove(name)
        self._own.discard(name)
        return self._clients.pop(name)

    @property
    def strict(self) -> bool:
        """Whether a call that some node failed raises :class:`PartialFailure`."""
        return self._core.strict

    @property
    def nodes(self) -> list[Node]:
        """Every node with its state (``up``/``down``/``unknown``), in order."""
        return self._core.nodes()

    @property
    def timeout(self) -> float:
        """Seconds a node may take per request before it counts as failed."""
        if self._node_timeout is not None:
            return self._node_timeout
        return max(float(client.timeout) for client in self._clients.values())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} nodes={list(self._clients)!r}>"

    def _reconcile(self, urls: Iterable[str]) -> tuple[list[str], list[Any]]:
        """Make the node set equal to ``urls``; returns (added names, removed clients)."""
        wanted = list(urls)
        removed = [self._drop(name) for name in list(self._clients) if name not in wanted]
        added = [url for url in wanted if url not in self._clients]
        for url in added:
            self._add(url, url)
        if added or removed:
            log.info("cluster nodes changed: +%s -%d", added, len(removed))
        return added, removed


def _settle_future(
    core: FleetCore, name: str, future: Future[Any], results: dict[str, Any], errors: dict[str, Any]
) -> None:
    exc = future.exception()
    if exc is None:
        results[name] = future.result()
        core.record(name, None)
    elif isinstance(exc, FrankenWSError):
        errors[name] = exc
        core.record(name, exc)
    else:
        raise exc


class Cluster(Fleet, SyncOperations):
    """Several FrankenPHP nodes as one server: every :class:`Client` method, fanned out.

    Usage::

        with frankenws.Cluster(["http://10.0.0.5:2019", "http://10.0.0.6:2019"]) as fleet:
            print(fleet.get_clients_count())          # the sum over every node
            for id in fleet.search_stored_information("username", "eq", "alice"):
                fleet.kill_connection(id)              # sent to the node holding id

    How each method combines its nodes' answers is listed in docs/cluster.md.

    **Parameters:**

    * **nodes** - URLs or ready :class:`Client` objects (a node is named by its URL), or a
      mapping name -> URL/client.
    * **strict** - ``True`` (default): a call that some node failed raises
      :class:`PartialFailure` carrying the others' answers. ``False``: combine what
      answered and log the failures (``frankenws.cluster`` logger).
    * **node_timeout** - seconds one node may take (default: the clients' ``timeout``).
    * **owner_ttl** - seconds the id -> node map is trusted (default 2).
    * **retry_down_after** - a node whose connection failed is reported failed at once
      for this many seconds instead of being waited for again (default 15).
    * **client_options** - ``timeout``, ``host_header``, ``headers``, ``cert``,
      ``verify``, ``retries``: as for :class:`Client`, used for every URL node.
    """

    _client_class = Client

    _pool: ThreadPoolExecutor | None = None
    _lanes: LoopLanes | None = None

    @classmethod
    def discover(
        cls,
        url: str,
        *,
        nameservers: Sequence[str] | None = None,
        resolver: Any = None,
        refresh_interval: float | None = None,
        **options: Any,
    ) -> Cluster:
        """A cluster whose nodes come from DNS (``dns+a://name:port`` or
        ``dns+srv://_service._proto.name``); see :class:`Cluster` for ``options``.

        ``nameservers`` (``"host:port"`` entries) or a dnspython ``resolver`` replace the
        system's resolvers; ``refresh_interval`` re-resolves before a call once that many
        seconds (and the records' TTL) have passed."""
        discovery = Discovery(
            url, nameservers=nameservers, resolver=resolver, refresh_interval=refresh_interval
        )
        cluster = cls(discovery.resolve(), **options)
        cluster._discovery = discovery
        return cluster

    def refresh(self, *, force: bool = False) -> list[Node]:
        """Resolve the discovery URL again (once its TTL passed, or now with ``force``)
        and add/remove nodes; returns :attr:`nodes`. A no-op for a cluster of URLs."""
        if self._discovery is not None:
            urls = self._discovery.resolve(force=force)
            with self._lock:
                _, removed = self._reconcile(urls)
            for client in removed:
                client.close()
        return self.nodes

    def probe(self) -> list[Node]:
        """Ask every node (also those marked down) for its count; returns :attr:`nodes`."""
        self._each(None, lambda client: client.get_clients_count(), probe=True)
        return self.nodes

    def map(self, fn: Callable[[Client], T]) -> NodeResults[T]:
        """Run ``fn(node_client)`` on every node concurrently; never raises for a node."""
        results, errors = self._each(None, fn)
        return NodeResults(results, errors)

    def client(self, name: str) -> Client:
        """The :class:`Client` of one node (by the name used in results)."""
        client: Client = self._clients[name]
        return client

    def owner_of(self, id: str) -> str | None:
        """The name of the node that holds connection ``id``, or ``None``."""
        return self._drive(self._core.owner(checked_id(id)))

    def get_clients_by_node(self, route: str | None = None) -> dict[str, list[str]]:
        """Node name -> the ids registered there (see :meth:`Client.get_clients`)."""
        return self._drive(self._core.by_node(calls.get_clients(route)))

    def get_clients_count_by_node(self, route: str | None = None) -> dict[str, int]:
        """Node name -> its number of connections (see :meth:`Client.get_clients_count`)."""
        return self._drive(self._core.by_node(calls.get_clients_count(route)))

    def close(self) -> None:
        """Close the clients this cluster created and its threads.

        Waits for requests still running on nodes that timed out (at most their client
        timeout), so that no connection is left open behind the cluster's back."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._lanes is not None:
            self._lanes.close()
            self._lanes = None
        for name in self._own:
            self._clients[name].close()

    # --- fan-out --------------------------------------------------------------------

    def _run(self, op: Operation[T]) -> T:
        if self._discovery is not None and self._discovery.due():
            try:
                self.refresh()
            except FrankenWSError as exc:
                log.warning("keeping the known nodes: %s", exc)
        if isinstance(op, Call):
            return self._drive(self._core.plan(op))
        # A flow's steps are cluster calls themselves, each with its own rule.
        return _step_flow(op.start(), self._run)

    def _drive(self, plan: Plan[T]) -> T:
        try:
            ask = next(plan)
            while True:
                ask = plan.send(self._ask(ask))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    def _ask(self, ask: Ask) -> Answers:
        call = ask.call
        lanes = self._cheap_sender()
        if lanes is not None:
            return self._each_lane(lanes, ask.nodes, call)
        return self._each(ask.nodes, lambda client: client._run(call))

    def _cheap_sender(self) -> LoopLanes | None:
        """The event-loop sender when every node can use it (see ``_cluster_lane``)."""
        if self._lanes is None:
            from ._cluster_lane import LoopLanes

            if not LoopLanes.usable(self._clients.values()):
                return None
            self._lanes = LoopLanes()
        return self._lanes

    def _each_lane(self, lanes: LoopLanes, names: Iterable[str] | None, call: Call[Any]) -> Answers:
        import asyncio  # loaded already by the lanes; TimeoutError differs before 3.11

        with self._lock:
            ask, errors = self._core.split(names, probe=False)
            clients = {name: self._clients[name] for name in ask}
        timeout = self.timeout
        results: dict[str, Any] = {}
        outcomes = lanes.ask(clients, call, timeout) if clients else []
        for name, outcome in zip(clients, outcomes, strict=True):
            if isinstance(outcome, FrankenWSError):
                errors[name] = outcome
            elif isinstance(outcome, asyncio.TimeoutError):
                errors[name] = timed_out(self._core.health[name], timeout)
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                results[name] = outcome
            self._core.record(name, errors.get(name))
        return results, errors

    def _executor(self) -> ThreadPoolExecutor:
        # Imported here, like asyncio for the async clients: most processes that import
        # frankenws (the CLI's single calls) never fan out.
        from concurrent.futures import ThreadPoolExecutor

        # A thread per node: a node that hangs until its timeout holds only its own.
        workers = 2 * len(self._clients) + 4
        if self._pool is None or self._pool._max_workers < workers:
            if self._pool is not None:
                self._pool.shutdown(wait=False)
            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="frankenws-cluster")
        return self._pool

    def _each(
        self, names: Iterable[str] | None, fn: Callable[[Client], T], *, probe: bool = False
    ) -> tuple[dict[str, T], dict[str, FrankenWSError]]:
        with self._lock:
            ask, errors = self._core.split(names, probe=probe)
            # One node needs no thread unless the cluster's deadline is shorter than the
            # client's own timeout, which bounds an inline call.
            inline = not ask or (len(ask) == 1 and self._node_timeout is None)
            pool = None if inline else self._executor()
        results: dict[str, T] = {}
        if pool is None:
            for name in ask:
                try:
                    results[name] = fn(self._clients[name])
                except FrankenWSError as exc:
                    errors[name] = exc
                    self._core.record(name, exc)
                else:
                    self._core.record(name, None)
            return results, errors
        from concurrent.futures import wait

        futures = {name: pool.submit(fn, self._clients[name]) for name in ask}
        wait(futures.values(), timeout=self.timeout)
        for name, future in futures.items():
            if future.done():
                _settle_future(self._core, name, future, results, errors)
            else:
                future.cancel()
                errors[name] = timed_out(self._core.health[name], self.timeout)
                self._core.record(name, errors[name])
        return results, errors


def _step_flow(flow: Steps[T], run: Callable[[Call[Any]], Any]) -> T:
    """Drive a multi-request flow, throwing a failed step's error into it (so its
    ``finally`` clean-up requests still run) and closing it in the end."""
    try:
        step = next(flow)
        while True:
            try:
                result = run(step)
            except FrankenWSError as exc:
                step = flow.throw(exc)
            else:
                step = flow.send(result)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    finally:
        flow.close()


def checked_id(id: str) -> str:
    if not isinstance(id, str) or not id:
        raise InvalidArgument(f"id must be a non-empty string, got {id!r}")
    return id
