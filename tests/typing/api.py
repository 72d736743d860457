"""The public types of frankenws.bulk, pinned for the type checker (mypy reads this file).

Never run: ``mypy`` checks it as part of the project's files, so a change that makes a
bulk function return ``Any``, or the wrong colour for a client, fails the type check.
"""

from __future__ import annotations

import json
from collections.abc import Coroutine
from typing import Any

from typing_extensions import assert_type

import frankenws
from frankenws import bulk


def sync_client(ws: frankenws.Client) -> None:
    assert_type(bulk.kill_connections(ws, ["a"]), bulk.BulkReport)
    assert_type(bulk.send_messages(ws, ["a"], b"hi", route="/chat"), bulk.BulkReport)
    assert_type(bulk.plan_disconnect_user(ws, "ann"), bulk.Plan)
    assert_type(bulk.plan_cleanup_inactive(ws, 60, key="seen", now=0), bulk.Plan)
    assert_type(bulk.plan_disconnect_matching(ws, "k", "gte", 3, notify_tag="admin"), bulk.Plan)
    assert_type(bulk.plan_maintenance(ws, "bye", grace=1, route="/chat"), bulk.Plan)
    assert_type(bulk.plan_enforce_connection_limit(ws, 2, order_key="at"), bulk.Plan)
    plan = bulk.plan_disconnect_route(ws, "/chat")
    assert_type(plan, bulk.Plan)
    report = bulk.run(ws, plan, notify=lambda conn, who: f"{who} left", wait_closed=True)
    assert_type(report, bulk.BulkReport)


async def async_client(ws: frankenws.AsyncClient) -> None:
    killing = assert_type(bulk.kill_connections(ws, ["a"]), Coroutine[Any, Any, bulk.BulkReport])
    assert_type(await killing, bulk.BulkReport)
    assert_type(await bulk.send_messages(ws, ["a"], "hi"), bulk.BulkReport)
    planning = assert_type(bulk.plan_disconnect_user(ws, "ann"), Coroutine[Any, Any, bulk.Plan])
    assert_type(await planning, bulk.Plan)
    assert_type(await bulk.plan_cleanup_inactive(ws, 60), bulk.Plan)
    assert_type(await bulk.plan_disconnect_matching(ws, "k", "eq", "v"), bulk.Plan)
    assert_type(await bulk.plan_maintenance(ws, "bye"), bulk.Plan)
    assert_type(await bulk.plan_enforce_connection_limit(ws), bulk.Plan)
    plan = await bulk.plan_disconnect_route(ws, "/chat")
    running = assert_type(bulk.run(ws, plan), Coroutine[Any, Any, bulk.BulkReport])
    assert_type(await running, bulk.BulkReport)


def plans_are_data(plan: bulk.Plan) -> None:
    assert_type(plan.scenario, str)
    assert_type(plan.target_ids, list[str])
    assert_type(plan.params, bulk.Scenario)
    if isinstance(plan.params, bulk.Maintenance):
        assert_type(plan.params.grace, float)
        assert_type(plan.params.route, str | None)
    if isinstance(plan.params, bulk.DisconnectMatching):
        assert_type(plan.params.notify_tag, str | None)
    stored = json.dumps(plan.to_dict())
    assert_type(bulk.Plan.from_dict(json.loads(stored)), bulk.Plan)


def reports(report: bulk.BulkReport, outcome: bulk.Outcome) -> None:
    assert_type(report.ok, bool)
    assert_type(report.done, list[str])
    assert_type(report.counts("kill"), dict[str, int])
    assert_type(report.summary(), str)
    assert_type(report.to_dict(), dict[str, Any])
    assert_type(report.sender, str | None)
    assert_type(outcome.error, str | None)
