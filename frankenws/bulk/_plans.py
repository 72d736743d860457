"""Plans as plain data: what a scenario would do, to print, store and run later.

A :class:`Plan` holds no client and nothing callable: a summary, the targets and the
connections left alone (each with its reason), and the scenario's parameters as one of six
typed records (:class:`DisconnectUser`, :class:`CleanupInactive`,
:class:`DisconnectMatching`, :class:`Maintenance`, :class:`EnforceConnectionLimit`,
:class:`DisconnectRoute`). ``plan.to_dict()`` is JSON-ready and ``Plan.from_dict`` reads
it back into an equal plan, so a plan made now can be reviewed, saved and run by
``bulk.run(client, plan)`` later, or against another client.

The records check what :func:`frankenws.bulk.run` relies on when they are made, so a
plan read from a file is refused at once if it is malformed, not half-way through a run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeAlias

from frankenws._exceptions import InvalidArgument
from frankenws._validate import check_text

__all__ = [
    "CleanupInactive",
    "DisconnectMatching",
    "DisconnectRoute",
    "DisconnectUser",
    "EnforceConnectionLimit",
    "Maintenance",
    "Plan",
    "PlanItem",
    "Scenario",
]


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidArgument(f"{what} must be a number of seconds, got {value!r}")
    return float(value)


def _optional_text(value: Any, what: str) -> None:
    if value is not None:
        check_text(value, what)


def _set(record: object, name: str, value: object) -> None:
    # Normalising a field of a frozen record in __post_init__ (e.g. 5 -> 5.0), so that
    # a plan read back from JSON compares equal to the one that was written.
    object.__setattr__(record, name, value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


@dataclass(frozen=True)
class DisconnectUser:
    """The parameters of :func:`~frankenws.bulk.plan_disconnect_user`."""

    scenario: ClassVar[str] = "disconnect_user"
    username: str
    key: str = "username"

    def __post_init__(self) -> None:
        if not isinstance(self.username, str):
            raise InvalidArgument(f"username must be a string, got {self.username!r}")
        check_text(self.key, "key")


@dataclass(frozen=True)
class CleanupInactive:
    """The parameters of :func:`~frankenws.bulk.plan_cleanup_inactive` (``now``: unix time)."""

    scenario: ClassVar[str] = "cleanup_inactive"
    max_idle: float
    key: str
    now: float

    def __post_init__(self) -> None:
        if _number(self.max_idle, "max_idle") <= 0:
            raise InvalidArgument(
                f"max_idle must be a positive number of seconds, got {self.max_idle!r}"
            )
        _set(self, "max_idle", float(self.max_idle))
        check_text(self.key, "key")
        _set(self, "now", _number(self.now, "now"))


@dataclass(frozen=True)
class DisconnectMatching:
    """The parameters of :func:`~frankenws.bulk.plan_disconnect_matching`.

    ``who`` maps each target to its stored ``who_key`` value at planning time, for the
    alerts sent to ``notify_tag`` after each kill.
    """

    scenario: ClassVar[str] = "disconnect_matching"
    key: str
    op: str
    value: str | int | float | tuple[str, ...]
    notify_tag: str | None = None
    who: Mapping[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_text(self.key, "key")
        check_text(self.op, "op")
        if isinstance(self.value, (list, tuple)):
            _set(self, "value", tuple(self.value))
        elif isinstance(self.value, bool) or not isinstance(self.value, (str, int, float)):
            raise InvalidArgument(f"value must be a string, a number or a list, got {self.value!r}")
        _optional_text(self.notify_tag, "notify_tag")
        if not isinstance(self.who, Mapping) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in self.who.items()
        ):
            raise InvalidArgument(f"who must map connection ids to names or None, got {self.who!r}")
        _set(self, "who", dict(self.who))


@dataclass(frozen=True)
class Maintenance:
    """The parameters of :func:`~frankenws.bulk.plan_maintenance` (``grace`` in seconds)."""

    scenario: ClassVar[str] = "maintenance"
    message: str
    grace: float = 5.0
    route: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.message, str) or not self.message:
            raise InvalidArgument("message must be a non-empty string")
        grace = self.grace
        if isinstance(grace, bool) or not isinstance(grace, (int, float)) or not grace >= 0:
            raise InvalidArgument(f"grace must be a number of seconds >= 0, got {grace!r}")
        _set(self, "grace", float(grace))
        _optional_text(self.route, "route")


@dataclass(frozen=True)
class EnforceConnectionLimit:
    """The parameters of :func:`~frankenws.bulk.plan_enforce_connection_limit`."""

    scenario: ClassVar[str] = "enforce_connection_limit"
    max_per_user: int
    key: str = "username"
    order_key: str | None = None

    def __post_init__(self) -> None:
        limit = self.max_per_user
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise InvalidArgument(f"max_per_user must be a positive integer, got {limit!r}")
        check_text(self.key, "key")
        _optional_text(self.order_key, "order_key")


@dataclass(frozen=True)
class DisconnectRoute:
    """The parameters of :func:`~frankenws.bulk.plan_disconnect_route`."""

    scenario: ClassVar[str] = "disconnect_route"
    route: str

    def __post_init__(self) -> None:
        check_text(self.route, "route")


Scenario: TypeAlias = (
    DisconnectUser
    | CleanupInactive
    | DisconnectMatching
    | Maintenance
    | EnforceConnectionLimit
    | DisconnectRoute
)
"""The parameters of one of the six scenarios; ``plan.params`` is one of these."""

_SCENARIOS: dict[str, type[Scenario]] = {
    "disconnect_user": DisconnectUser,
    "cleanup_inactive": CleanupInactive,
    "disconnect_matching": DisconnectMatching,
    "maintenance": Maintenance,
    "enforce_connection_limit": EnforceConnectionLimit,
    "disconnect_route": DisconnectRoute,
}


def _params_dict(params: Scenario) -> dict[str, Any]:
    return {f.name: _jsonable(getattr(params, f.name)) for f in fields(params)}


def _params_from(kind: type[Scenario], data: Any) -> Scenario:
    names = [f.name for f in fields(kind)]
    if not isinstance(data, Mapping) or set(data) != set(names):
        raise InvalidArgument(
            f"the params of a {kind.scenario} plan are {', '.join(names)}; got {data!r}"
        )
    return kind(**{name: data[name] for name in names})


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One connection in a plan and the reason it is there (and, on a ``Cluster``, the
    node that held it when the plan was made)."""

    id: str
    reason: str
    node: str | None = None

    def __post_init__(self) -> None:
        check_text(self.id, "id")
        if not isinstance(self.reason, str):
            raise InvalidArgument(f"reason must be a string, got {self.reason!r}")
        _optional_text(self.node, "node")

    def to_dict(self) -> dict[str, str]:
        data = {"id": self.id, "reason": self.reason}
        if self.node is not None:
            data["node"] = self.node
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlanItem:
        if not isinstance(data, Mapping) or set(data) - {"node"} != {"id", "reason"}:
            raise InvalidArgument(
                f"a plan item is {{'id': ..., 'reason': ...}} (and 'node'), got {data!r}"
            )
        return cls(data["id"], data["reason"], data.get("node"))


@dataclass(frozen=True)
class Plan:
    """What a scenario would do, computed from the server's state at one moment. No writes.

    Attributes:
        summary: One sentence for humans.
        targets: The connections that would be killed, each with its reason.
        left_alone: Connections looked at and deliberately spared, with the reason.
        params: The scenario and its parameters, e.g. :class:`Maintenance`.
    """

    summary: str
    targets: tuple[PlanItem, ...]
    left_alone: tuple[PlanItem, ...]
    params: Scenario

    @property
    def scenario(self) -> str:
        """``disconnect_user``, ``cleanup_inactive``, ``disconnect_matching``,
        ``maintenance``, ``enforce_connection_limit`` or ``disconnect_route``."""
        return self.params.scenario

    @property
    def target_ids(self) -> list[str]:
        return [item.id for item in self.targets]

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data; :meth:`from_dict` reads it back."""
        return {
            "scenario": self.scenario,
            "summary": self.summary,
            "params": _params_dict(self.params),
            "targets": [t.to_dict() for t in self.targets],
            "left_alone": [t.to_dict() for t in self.left_alone],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        """A plan from :meth:`to_dict`'s data (e.g. read back from a JSON file).

        Raises:
            InvalidArgument: The data is not a plan (unknown scenario, missing or
                malformed fields).
        """
        keys = {"scenario", "summary", "params", "targets", "left_alone"}
        if not isinstance(data, Mapping) or set(data) != keys:
            raise InvalidArgument(f"a plan has the keys {', '.join(sorted(keys))}")
        kind = _SCENARIOS.get(data["scenario"])
        if kind is None:
            raise InvalidArgument(
                f"unknown scenario {data['scenario']!r}; expected one of " + ", ".join(_SCENARIOS)
            )
        if not isinstance(data["summary"], str):
            raise InvalidArgument("a plan's summary must be a string")
        return cls(
            data["summary"],
            _items(data["targets"], "targets"),
            _items(data["left_alone"], "left_alone"),
            _params_from(kind, data["params"]),
        )


def _items(value: Any, what: str) -> tuple[PlanItem, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidArgument(f"a plan's {what} must be a list of items")
    return tuple(PlanItem.from_dict(item) for item in value)


# Reprs, tracebacks and docs show frankenws.bulk.X, the public path, not this module.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = "frankenws.bulk"
del _name, _obj
