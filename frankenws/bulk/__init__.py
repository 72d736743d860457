"""Bulk operations: many targets, bounded concurrency, a per-target report, resumable.

Every function takes a :class:`frankenws.Client` or a :class:`frankenws.AsyncClient`.
With a ``Client`` it runs to completion and returns its result; with an ``AsyncClient``
it returns a coroutine to await. The names are the same either way.

The engine never stops at the first failure: each target gets its own outcome
(``done``, ``not_found``, ``failed``; on resume also ``skipped`` and ``uncertain``).
With ``journal=path`` every target's outcome is appended to a JSON-lines file as it
happens, and ``resume=path`` continues an interrupted run from that file without acting
twice on any target.

Scenarios are split in two: ``plan_...(client, ...)`` reads the server and returns a
:class:`Plan` (who would be affected and why, no writes); ``run(client, plan)`` executes
it. A plan is plain data: a dry run is a plan that is printed and not run, and
``plan.to_dict()`` / ``Plan.from_dict()`` store it to run later.

Importing this package loads only the report types; everything else is imported the
first time it is used, so a program that only builds or reads a :class:`BulkReport`
(such as the CLI's quick ``kill`` of a few ids) stays quick to start, and one that only
reads a stored :class:`Plan` does not load the engine (asyncio, the HTTP/1.1 lane).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._report import BulkReport, Outcome

if TYPE_CHECKING:
    from ._engine import kill_connections, send_messages
    from ._planners import (
        plan_cleanup_inactive,
        plan_disconnect_matching,
        plan_disconnect_route,
        plan_disconnect_user,
        plan_enforce_connection_limit,
        plan_maintenance,
        planning_progress,
    )
    from ._plans import (
        CleanupInactive,
        DisconnectMatching,
        DisconnectRoute,
        DisconnectUser,
        EnforceConnectionLimit,
        Maintenance,
        Plan,
        PlanItem,
        Scenario,
    )
    from ._scenarios import run

__all__ = [
    "BulkReport",
    "CleanupInactive",
    "DisconnectMatching",
    "DisconnectRoute",
    "DisconnectUser",
    "EnforceConnectionLimit",
    "Maintenance",
    "Outcome",
    "Plan",
    "PlanItem",
    "Scenario",
    "kill_connections",
    "plan_cleanup_inactive",
    "plan_disconnect_matching",
    "plan_disconnect_route",
    "plan_disconnect_user",
    "plan_enforce_connection_limit",
    "plan_maintenance",
    "planning_progress",
    "run",
    "send_messages",
]

# Where each name other than the report types lives; loaded on first use (see the docstring).
_LAZY = {
    "CleanupInactive": "._plans",
    "DisconnectMatching": "._plans",
    "DisconnectRoute": "._plans",
    "DisconnectUser": "._plans",
    "EnforceConnectionLimit": "._plans",
    "Maintenance": "._plans",
    "Plan": "._plans",
    "PlanItem": "._plans",
    "Scenario": "._plans",
    "kill_connections": "._engine",
    "send_messages": "._engine",
    "plan_cleanup_inactive": "._planners",
    "plan_disconnect_matching": "._planners",
    "plan_disconnect_route": "._planners",
    "plan_disconnect_user": "._planners",
    "plan_enforce_connection_limit": "._planners",
    "plan_maintenance": "._planners",
    "planning_progress": "._planners",
    "run": "._scenarios",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
