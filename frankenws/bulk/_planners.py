"""The six ``plan_...`` functions: read the server, return a :class:`Plan`. No writes.

Each one checks its arguments by building its parameter record and the read requests
before anything is sent, then reads through the client's own sender.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar, overload

from frankenws._calls import Call, Flow, calls
from frankenws._client import AsyncClient, BaseClient
from frankenws._cluster_async import AsyncCluster
from frankenws._validate import check_text

from ._engine import _run_in_colour, _Runner
from ._fleet import located
from ._plans import (
    CleanupInactive,
    DisconnectMatching,
    DisconnectRoute,
    DisconnectUser,
    EnforceConnectionLimit,
    Maintenance,
    Plan,
    PlanItem,
)
from ._reads import read_pipelined, stored_value_reads
from ._targets import AsyncTarget, SyncTarget

__all__ = [
    "plan_cleanup_inactive",
    "plan_disconnect_matching",
    "plan_disconnect_route",
    "plan_disconnect_user",
    "plan_enforce_connection_limit",
    "plan_maintenance",
    "planning_progress",
]

T = TypeVar("T")
Planned = Plan | Coroutine[Any, Any, Plan]

_READS_IN_FLIGHT = 32
"""Concurrent per-connection reads while planning (one stored value per connection)."""

_progress: ContextVar[Callable[[int], object] | None] = ContextVar(
    "frankenws_planning_progress", default=None
)


@contextmanager
def planning_progress(callback: Callable[[int], object]) -> Iterator[None]:
    """Within this block, the ``plan_...`` functions call ``callback(values_read)`` as
    they read stored values one connection at a time (for a counter while planning)."""
    token = _progress.set(callback)
    try:
        yield
    finally:
        _progress.reset(token)


class _Done:
    """A finished plan, boxed so that its repr costs nothing.

    When ``asyncio.run`` puts the SIGINT handler back, CPython 3.11's ``signal`` module
    formats the repr of the old handler, which names the main task and so its result:
    twice the repr of every item of the plan, about 0.3 s each for 100,000 items.
    """

    __slots__ = ("plan",)

    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def __repr__(self) -> str:
        return "<finished plan>"


def _planned(
    client: SyncTarget | AsyncTarget, make: Callable[[], Coroutine[Any, Any, Plan]]
) -> Planned:
    """Run ``make`` as the client's colour wants (to completion, or as a coroutine)."""
    whole = located(client, make)
    if isinstance(client, (AsyncClient, AsyncCluster)):
        return _run_in_colour(client, whole)

    async def boxed() -> _Done:
        return _Done(await whole())

    done = _run_in_colour(client, boxed)
    assert isinstance(done, _Done)
    return done.plan


class _Reader:
    """The reads of one plan: single requests through the client's own sender, the
    per-connection values pipelined (``_reads``) or, where that cannot be used (a custom
    transport, a fleet, a server that breaks pipelining), through the bulk lane."""

    def __init__(self, client: SyncTarget | AsyncTarget) -> None:
        self._client = client
        self._runner = _Runner(client, _READS_IN_FLIGHT)  # single calls need no lane
        self._read = 0
        self._tell = _progress.get()

    async def __call__(self, call: Call[T] | Flow[T]) -> T:
        return await self._runner.one(call)

    async def values(self, ids: Sequence[str], key: str) -> dict[str, str | None]:
        """The stored value of ``key`` for each id, in the order of ``ids``."""
        if not ids:
            return {}
        waiting = list(reversed(ids))
        found: dict[str, str | None] = {}

        async def worker(read: Callable[[Call[str | None]], Awaitable[str | None]]) -> None:
            while waiting:
                conn = waiting.pop()
                found[conn] = await read(calls.get_stored_information(conn, key))
                self._read += 1
                if self._tell is not None:
                    self._tell(self._read)

        if not isinstance(self._client, BaseClient):
            # A fleet: each read goes through the cluster to the node that holds the id.
            workers = min(_READS_IN_FLIGHT, len(ids))
            await asyncio.gather(*(worker(self._runner.one) for _ in range(workers)))
            return found
        if not self._client._connection.custom_transport:
            # Pipelined first; whatever it could not read goes through the lane below.
            waiting[:] = reversed(await self._pipelined(ids, key, found))
        workers = min(_READS_IN_FLIGHT, len(waiting))
        if workers:
            async with _Runner(self._client, _READS_IN_FLIGHT) as lane:
                await asyncio.gather(*(worker(lane.bulk) for _ in range(workers)))
        # In the ids' order whichever way each was read (the alerts' "who" is journalled).
        return {conn: found[conn] for conn in ids}

    async def _pipelined(
        self, ids: Sequence[str], key: str, found: dict[str, str | None]
    ) -> list[str]:
        """Read over HTTP/1.1 pipelining into ``found``; the ids it could not read."""
        assert isinstance(self._client, BaseClient)

        def done(index: int, value: str | None) -> None:
            found[ids[index]] = value
            self._read += 1
            if self._tell is not None:
                self._tell(self._read)

        reads = stored_value_reads(ids, key)
        unread = await read_pipelined(self._client._connection, reads, done)
        return [ids[i] for i in unread]

    async def registered(self) -> set[str]:
        """The connected ids (ids found only in a search may be orphans)."""
        return set(await self(calls.get_clients()))


@overload
def plan_disconnect_user(client: SyncTarget, username: str, *, key: str = ...) -> Plan: ...
@overload
def plan_disconnect_user(
    client: AsyncTarget, username: str, *, key: str = ...
) -> Coroutine[Any, Any, Plan]: ...
def plan_disconnect_user(
    client: SyncTarget | AsyncTarget, username: str, *, key: str = "username"
) -> Planned:
    """Plan to disconnect every connection whose stored ``key`` equals ``username``."""
    params = DisconnectUser(username, key)
    search = calls.search_stored_information(key, "eq", username)

    async def make() -> Plan:
        read = _Reader(client)
        found, registered = await read(search), await read.registered()
        targets = tuple(
            PlanItem(i, f"{key} = {username!r}") for i in sorted(found) if i in registered
        )
        summary = f"disconnect {len(targets)} connection(s) of user {username!r} ({key})"
        return Plan(summary, targets, (), params)

    return _planned(client, make)


@overload
def plan_cleanup_inactive(
    client: SyncTarget,
    max_idle: float | timedelta,
    *,
    key: str = ...,
    now: float | datetime | None = ...,
) -> Plan: ...
@overload
def plan_cleanup_inactive(
    client: AsyncTarget,
    max_idle: float | timedelta,
    *,
    key: str = ...,
    now: float | datetime | None = ...,
) -> Coroutine[Any, Any, Plan]: ...
def plan_cleanup_inactive(
    client: SyncTarget | AsyncTarget,
    max_idle: float | timedelta,
    *,
    key: str = "lastActivity",
    now: float | datetime | None = None,
) -> Planned:
    """Plan to disconnect connections whose stored unix time ``key`` is older than ``max_idle``.

    Connections without the key, or whose value is not a number, are left alone and
    listed in ``left_alone``.
    """
    seconds = max_idle.total_seconds() if isinstance(max_idle, timedelta) else max_idle
    # The reference time is fixed when the plan is made (the record checks it again).
    reference = now.timestamp() if isinstance(now, datetime) else now
    params = CleanupInactive(seconds, key, time.time() if reference is None else reference)

    async def make() -> Plan:
        read = _Reader(client)
        cutoff = params.now - params.max_idle
        registered = sorted(await read.registered())
        # Numeric range searches sort every connection in three requests; only the
        # values they do not take for numbers ("1e9", " 5", "nan") are read one by
        # one, and float() decides for those, as it always did.
        stale = set(await read(calls.search_stored_information(key, "lt", cutoff)))
        fresh = set(await read(calls.search_stored_information(key, "gte", cutoff)))
        having = set(await read(calls.search_stored_information(key, "exists")))
        odd = having - fresh - stale
        values = await read.values([c for c in registered if c in odd], key)
        since = f"{key} < {cutoff:.0f}, idle more than {params.max_idle:g} s"
        targets, spared = [], []
        for conn in registered:
            if conn in stale:
                targets.append(PlanItem(conn, since))
                continue
            if conn in fresh:
                continue
            raw = values.get(conn)
            if raw is None:
                spared.append(PlanItem(conn, f"no {key} stored"))
                continue
            try:
                stamp = float(raw)
            except ValueError:
                stamp = math.nan
            if not math.isfinite(stamp):  # "nan"/"inf" would silently match nothing
                spared.append(PlanItem(conn, f"{key} = {raw!r} is not a unix time"))
            elif stamp < cutoff:
                idle = params.now - stamp
                targets.append(PlanItem(conn, f"idle {idle:.0f} s (> {params.max_idle:g} s)"))
        summary = (
            f"disconnect {len(targets)} connection(s) idle for more than "
            f"{params.max_idle:g} s ({key})"
        )
        return Plan(summary, tuple(targets), tuple(spared), params)

    return _planned(client, make)


@overload
def plan_disconnect_matching(
    client: SyncTarget,
    key: str,
    op: str,
    value: str | int | float | Sequence[str] = ...,
    *,
    notify_tag: str | None = ...,
    who_key: str = ...,
) -> Plan: ...
@overload
def plan_disconnect_matching(
    client: AsyncTarget,
    key: str,
    op: str,
    value: str | int | float | Sequence[str] = ...,
    *,
    notify_tag: str | None = ...,
    who_key: str = ...,
) -> Coroutine[Any, Any, Plan]: ...
def plan_disconnect_matching(
    client: SyncTarget | AsyncTarget,
    key: str,
    op: str,
    value: str | int | float | Sequence[str] = "",  # as search_stored_information
    *,
    notify_tag: str | None = None,
    who_key: str = "username",
) -> Planned:
    """Plan to disconnect connections whose stored ``key`` matches ``op value``.

    When ``notify_tag`` is given, :func:`run` alerts every connection holding that tag
    after each kill: a JSON object ``{"type": "user_disconnected", "who": ...,
    "connection": ..., "reason": ...}`` where ``who`` is the connection's stored
    ``who_key`` (``None`` if unset), or the message of ``run``'s ``notify=``.
    """
    search = calls.search_stored_information(key, op, value)
    checked = DisconnectMatching(key, op, _plain(value), notify_tag)
    check_text(who_key, "who_key")

    async def make() -> Plan:
        read = _Reader(client)
        found, registered = await read(search), await read.registered()
        ids = sorted(i for i in found if i in registered)
        current = await read.values(ids, key)
        # Who a victim was only matters for the alerts.
        who = await read.values(ids, who_key) if notify_tag is not None else {}
        targets = tuple(PlanItem(i, f"{key} = {current[i]!r} ({op} {value!r})") for i in ids)
        summary = f"disconnect {len(targets)} connection(s) where {key} {op} {value!r}" + (
            f", alerting tag {notify_tag!r}" if notify_tag else ""
        )
        return Plan(summary, targets, (), replace(checked, who=who))

    return _planned(client, make)


def _plain(value: str | int | float | Sequence[str]) -> str | int | float | tuple[str, ...]:
    return value if isinstance(value, (str, int, float)) else tuple(value)


@overload
def plan_maintenance(
    client: SyncTarget, message: str, *, grace: float = ..., route: str | None = ...
) -> Plan: ...
@overload
def plan_maintenance(
    client: AsyncTarget, message: str, *, grace: float = ..., route: str | None = ...
) -> Coroutine[Any, Any, Plan]: ...
def plan_maintenance(
    client: SyncTarget | AsyncTarget, message: str, *, grace: float = 5.0, route: str | None = None
) -> Planned:
    """Plan a maintenance: warn every connection (on ``route``), wait ``grace``, kill them."""
    params = Maintenance(message, grace, route)
    listing = calls.get_clients(route)

    async def make() -> Plan:
        ids = sorted(await _Reader(client)(listing))
        where = f"on {route}" if route else "on every route"
        targets = tuple(PlanItem(i, f"connected {where}") for i in ids)
        summary = (
            f"warn {len(targets)} connection(s) {where}, wait {params.grace:g} s, then "
            "disconnect everyone still connected"
        )
        return Plan(summary, targets, (), params)

    return _planned(client, make)


@overload
def plan_enforce_connection_limit(
    client: SyncTarget, max_per_user: int = ..., *, key: str = ..., order_key: str | None = ...
) -> Plan: ...
@overload
def plan_enforce_connection_limit(
    client: AsyncTarget, max_per_user: int = ..., *, key: str = ..., order_key: str | None = ...
) -> Coroutine[Any, Any, Plan]: ...
def plan_enforce_connection_limit(
    client: SyncTarget | AsyncTarget,
    max_per_user: int = 3,
    *,
    key: str = "username",
    order_key: str | None = None,
) -> Planned:
    """Plan to keep at most ``max_per_user`` connections per user (stored ``key``).

    Survivors are the oldest by the numeric stored ``order_key`` (e.g. a connection
    timestamp; connections without it count as newest) when given, else the smallest ids.
    """
    params = EnforceConnectionLimit(max_per_user, key, order_key)
    having = calls.search_stored_information(key, "prefix", "")

    async def make() -> Plan:
        read = _Reader(client)
        found, registered = await read(having), await read.registered()
        ids = sorted(i for i in found if i in registered)
        users = await read.values(ids, key)
        order = await read.values(ids, order_key) if order_key else {}
        groups: dict[str, list[str]] = {}
        for conn in ids:
            user = users[conn]
            if user is not None:
                groups.setdefault(user, []).append(conn)

        def rank(conn: str) -> tuple[float, str]:
            raw = order.get(conn)
            try:
                value = float(raw) if raw is not None else math.inf
            except ValueError:
                value = math.inf
            # NaN would make the sort order arbitrary: treat it like a missing value.
            return (value if not math.isnan(value) else math.inf, conn)

        targets, kept = [], []
        for user in sorted(groups):
            members = sorted(groups[user], key=rank if order_key else (lambda c: (0.0, c)))
            for position, conn in enumerate(members, 1):
                why = f"{key} = {user!r}, #{position} of {len(members)}"
                if order_key:
                    why += f" by {order_key}"
                if position <= max_per_user:
                    kept.append(PlanItem(conn, f"kept: {why}"))
                else:
                    targets.append(PlanItem(conn, f"over the limit of {max_per_user}: {why}"))
        summary = (
            f"disconnect {len(targets)} connection(s) so that no {key} has more than {max_per_user}"
        )
        return Plan(summary, tuple(targets), tuple(kept), params)

    return _planned(client, make)


@overload
def plan_disconnect_route(client: SyncTarget, route: str) -> Plan: ...
@overload
def plan_disconnect_route(client: AsyncTarget, route: str) -> Coroutine[Any, Any, Plan]: ...
def plan_disconnect_route(client: SyncTarget | AsyncTarget, route: str) -> Planned:
    """Plan to disconnect every connection opened on ``route``."""
    params = DisconnectRoute(route)
    listing = calls.get_clients_by_route(route)

    async def make() -> Plan:
        ids = sorted(await _Reader(client)(listing))
        targets = tuple(PlanItem(i, f"route = {route!r}") for i in ids)
        return Plan(
            f"disconnect {len(targets)} connection(s) on route {route!r}", targets, (), params
        )

    return _planned(client, make)
