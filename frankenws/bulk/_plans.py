"""Plans: what a scenario would do, read from the server, with no writes.

Each ``plan_...`` function reads the server and returns a :class:`Plan` (who would be
affected and why); :func:`frankenws.bulk.run` executes it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from frankenws._calls import Call, Flow, calls
from frankenws._client import AsyncClient, BaseClient, Client
from frankenws._exceptions import InvalidArgument

from ._engine import _dispatch

__all__ = [
    "Plan",
    "PlanItem",
    "plan_cleanup_inactive",
    "plan_disconnect_matching",
    "plan_disconnect_route",
    "plan_disconnect_user",
    "plan_enforce_connection_limit",
    "plan_maintenance",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One connection in a plan and the reason it is there."""

    id: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "reason": self.reason}


@dataclass(frozen=True)
class Plan:
    """What a scenario would do, computed from the server's current state. No writes.

    Attributes:
        scenario: ``disconnect_user``, ``cleanup_inactive``, ``disconnect_matching``,
            ``maintenance``, ``enforce_connection_limit`` or ``disconnect_route``.
        summary: One sentence for humans.
        targets: The connections that would be killed, each with its reason.
        left_alone: Connections looked at and deliberately spared, with the reason.
        params: The scenario's parameters (for display and for :func:`run`).
    """

    scenario: str
    summary: str
    targets: tuple[PlanItem, ...]
    left_alone: tuple[PlanItem, ...]
    params: Mapping[str, Any]
    client: Client | AsyncClient = field(repr=False, compare=False)

    @property
    def target_ids(self) -> list[str]:
        return [item.id for item in self.targets]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "summary": self.summary,
            "params": {k: _jsonable(v) for k, v in self.params.items()},
            "targets": [t.to_dict() for t in self.targets],
            "left_alone": [t.to_dict() for t in self.left_alone],
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if callable(value):  # e.g. disconnect_matching's notify: its name, not its repr
        return getattr(value, "__qualname__", type(value).__name__)
    return str(value)


async def _one(client: BaseClient, call: Call[T] | Flow[T]) -> T:
    if isinstance(client, AsyncClient):
        return await client._run(call)
    assert isinstance(client, Client)
    return await asyncio.to_thread(client._run, call)


async def _values(client: BaseClient, ids: Sequence[str], key: str) -> dict[str, str | None]:
    """The stored value of ``key`` for each id (concurrently, bounded)."""
    limit = asyncio.Semaphore(16)

    async def get(id: str) -> tuple[str, str | None]:
        async with limit:
            return id, await _one(client, calls.get_stored_information(id, key))

    return dict(await asyncio.gather(*(get(i) for i in ids)))


async def _with_key(client: BaseClient, key: str, route: str | None = None) -> list[str]:
    """Registered ids that have ``key`` stored (orphan ids are not connections)."""
    having = await _one(client, calls.search_stored_information(key, "prefix", "", route=route))
    registered = set(await _one(client, calls.get_clients(route)))
    return sorted(i for i in having if i in registered)


def _plan_dispatch(client: Any, make: Callable[[], Coroutine[Any, Any, Plan]]) -> Any:
    return _dispatch(client, make)


def plan_disconnect_user(client: Any, username: str, *, key: str = "username") -> Any:
    """Plan to disconnect every connection whose stored ``key`` equals ``username``."""
    calls.search_stored_information(key, "eq", username)  # validate now

    async def make() -> Plan:
        found = await _one(client, calls.search_stored_information(key, "eq", username))
        registered = set(await _one(client, calls.get_clients()))
        targets = tuple(
            PlanItem(i, f"{key} = {username!r}") for i in sorted(found) if i in registered
        )
        return Plan(
            "disconnect_user",
            f"disconnect {len(targets)} connection(s) of user {username!r} ({key})",
            targets,
            (),
            {"username": username, "key": key},
            client,
        )

    return _plan_dispatch(client, make)


def _idle_seconds(max_idle: float | int | timedelta) -> float:
    seconds = max_idle.total_seconds() if isinstance(max_idle, timedelta) else max_idle
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise InvalidArgument(f"max_idle must be a positive number of seconds, got {max_idle!r}")
    return float(seconds)


def plan_cleanup_inactive(
    client: Any,
    max_idle: float | int | timedelta,
    *,
    key: str = "lastActivity",
    now: float | datetime | None = None,
) -> Any:
    """Plan to disconnect connections whose stored unix time ``key`` is older than ``max_idle``.

    Connections without the key, or whose value is not a number, are left alone and
    listed in ``left_alone``.
    """
    seconds = _idle_seconds(max_idle)
    calls.search_stored_information(key, "prefix", "")

    async def make() -> Plan:
        reference = (
            now.timestamp()
            if isinstance(now, datetime)
            else (time.time() if now is None else float(now))
        )
        cutoff = reference - seconds
        registered = sorted(await _one(client, calls.get_clients()))
        values = await _values(client, registered, key)
        targets, spared = [], []
        for conn in registered:
            raw = values[conn]
            if raw is None:
                spared.append(PlanItem(conn, f"no {key} stored"))
                continue
            try:
                stamp = float(raw)
            except ValueError:
                stamp = math.nan
            if not math.isfinite(stamp):  # "nan"/"inf" would silently match nothing
                spared.append(PlanItem(conn, f"{key} = {raw!r} is not a unix time"))
                continue
            idle = reference - stamp
            if stamp < cutoff:
                targets.append(PlanItem(conn, f"idle {idle:.0f} s (> {seconds:g} s)"))
        return Plan(
            "cleanup_inactive",
            f"disconnect {len(targets)} connection(s) idle for more than {seconds:g} s ({key})",
            tuple(targets),
            tuple(spared),
            {"max_idle": seconds, "key": key, "now": reference},
            client,
        )

    return _plan_dispatch(client, make)


def plan_disconnect_matching(
    client: Any,
    key: str,
    op: str,
    value: str | int | float | Sequence[str] = "",  # as search_stored_information
    *,
    notify_tag: str | None = None,
    notify: Callable[[str, str | None], str | bytes] | None = None,
    who_key: str = "username",
) -> Any:
    """Plan to disconnect connections whose stored ``key`` matches ``op value``.

    When ``notify_tag`` is given, :func:`run` alerts every connection holding that tag
    after each kill. The alert is ``notify(connection_id, who)`` if given, else a JSON
    object ``{"type": "user_disconnected", "who": ..., "connection": ..., "reason": ...}``
    where ``who`` is the connection's stored ``who_key`` (``None`` if unset).
    """
    calls.search_stored_information(key, op, value)
    if notify_tag is not None:
        calls.get_clients_by_tag(notify_tag)

    async def make() -> Plan:
        found = await _one(client, calls.search_stored_information(key, op, value))
        registered = set(await _one(client, calls.get_clients()))
        ids = sorted(i for i in found if i in registered)
        current = await _values(client, ids, key)
        who = await _values(client, ids, who_key)
        targets = tuple(PlanItem(i, f"{key} = {current[i]!r} ({op} {value!r})") for i in ids)
        return Plan(
            "disconnect_matching",
            f"disconnect {len(targets)} connection(s) where {key} {op} {value!r}"
            + (f", alerting tag {notify_tag!r}" if notify_tag else ""),
            targets,
            (),
            {
                "key": key,
                "op": op,
                "value": value,
                "notify_tag": notify_tag,
                "notify": notify,
                "who": who,
            },
            client,
        )

    return _plan_dispatch(client, make)


def plan_maintenance(
    client: Any, message: str, *, grace: float = 5.0, route: str | None = None
) -> Any:
    """Plan a maintenance: warn every connection (on ``route``), wait ``grace``, kill them."""
    if isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 0:
        raise InvalidArgument(f"grace must be a number of seconds >= 0, got {grace!r}")
    if not isinstance(message, str) or not message:
        raise InvalidArgument("message must be a non-empty string")
    calls.get_clients(route)

    async def make() -> Plan:
        ids = sorted(await _one(client, calls.get_clients(route)))
        where = f"on {route}" if route else "on every route"
        targets = tuple(PlanItem(i, f"connected {where}") for i in ids)
        return Plan(
            "maintenance",
            f"warn {len(targets)} connection(s) {where}, wait {grace:g} s, then disconnect "
            "everyone still connected",
            targets,
            (),
            {"message": message, "grace": float(grace), "route": route},
            client,
        )

    return _plan_dispatch(client, make)


def plan_enforce_connection_limit(
    client: Any,
    max_per_user: int = 3,
    *,
    key: str = "username",
    order_key: str | None = None,
) -> Any:
    """Plan to keep at most ``max_per_user`` connections per user (stored ``key``).

    Survivors are the oldest by the numeric stored ``order_key`` (e.g. a connection
    timestamp; connections without it count as newest) when given, else the smallest ids.
    """
    if isinstance(max_per_user, bool) or not isinstance(max_per_user, int) or max_per_user < 1:
        raise InvalidArgument(f"max_per_user must be a positive integer, got {max_per_user!r}")
    calls.search_stored_information(key, "prefix", "")

    async def make() -> Plan:
        ids = await _with_key(client, key)
        users = await _values(client, ids, key)
        order = await _values(client, ids, order_key) if order_key else {}
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
        return Plan(
            "enforce_connection_limit",
            f"disconnect {len(targets)} connection(s) so that no {key} has more than "
            f"{max_per_user}",
            tuple(targets),
            tuple(kept),
            {"max_per_user": max_per_user, "key": key, "order_key": order_key},
            client,
        )

    return _plan_dispatch(client, make)


def plan_disconnect_route(client: Any, route: str) -> Any:
    """Plan to disconnect every connection opened on ``route``."""
    calls.get_clients_by_route(route)

    async def make() -> Plan:
        ids = sorted(await _one(client, calls.get_clients_by_route(route)))
        targets = tuple(PlanItem(i, f"route = {route!r}") for i in ids)
        return Plan(
            "disconnect_route",
            f"disconnect {len(targets)} connection(s) on route {route!r}",
            targets,
            (),
            {"route": route},
            client,
        )

    return _plan_dispatch(client, make)
