"""Plans as data: printed, stored as JSON, read back and run later, by another client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import frankenws
from frankenws import bulk
from frankenws.testing import FakeFrankenPHP

NOW = 1_700_000_000


@pytest.fixture
def fake() -> FakeFrankenPHP:
    """Four connections of two users, with activity, violations and an admin."""
    fake = FakeFrankenPHP()
    rows = [
        ("a1", "/chat", "ann", NOW - 7200, "4"),
        ("a2", "/news", "ann", NOW - 10, "0"),
        ("b1", "/chat", "bob", NOW - 10, "1"),
        ("root", "/admin", "root", NOW, "0"),
    ]
    for conn, route, user, seen, strikes in rows:
        fake.connect(route, id=conn)
        fake.set_stored_information(conn, "username", user)
        fake.set_stored_information(conn, "lastActivity", str(seen))
        fake.set_stored_information(conn, "strikes", strikes)
    fake.tag_client("root", "admin")
    return fake


PLANNERS: dict[str, Callable[[frankenws.Client], bulk.Plan]] = {
    "disconnect_user": lambda ws: bulk.plan_disconnect_user(ws, "ann"),
    "cleanup_inactive": lambda ws: bulk.plan_cleanup_inactive(ws, 3600, now=NOW),
    "disconnect_matching": lambda ws: bulk.plan_disconnect_matching(
        ws, "strikes", "in", ["4", "1"], notify_tag="admin"
    ),
    "maintenance": lambda ws: bulk.plan_maintenance(ws, "bye", grace=0, route="/chat"),
    "enforce_connection_limit": lambda ws: bulk.plan_enforce_connection_limit(ws, 1),
    "disconnect_route": lambda ws: bulk.plan_disconnect_route(ws, "/chat"),
}


@pytest.mark.parametrize("scenario", PLANNERS)
def test_a_plan_survives_json_and_runs_later_elsewhere(fake, scenario):
    """to_dict -> JSON -> from_dict gives an equal plan, which another client then runs."""
    with fake.client() as ws:
        plan = PLANNERS[scenario](ws)
    assert plan.scenario == scenario
    assert plan.targets  # every scenario has something to do on this fake

    stored = json.dumps(plan.to_dict())
    loaded = bulk.Plan.from_dict(json.loads(stored))

    assert loaded == plan
    assert type(loaded.params) is type(plan.params)
    assert json.dumps(loaded.to_dict()) == stored
    with fake.serve() as server, server.client() as other:
        report = bulk.run(other, loaded)
    assert report.ok
    assert sorted(report.by_status("done", "kill")) == sorted(plan.target_ids)
    assert not set(plan.target_ids) & set(fake.get_clients())


def test_the_json_of_a_plan(fake):
    """Scenario, summary, typed params as plain JSON values, targets and left_alone."""
    with fake.client() as ws:
        plan = bulk.plan_disconnect_matching(ws, "strikes", "in", ["4", "1"], notify_tag="admin")
    assert plan.to_dict() == {
        "scenario": "disconnect_matching",
        "summary": ("disconnect 2 connection(s) where strikes in ['4', '1'], alerting tag 'admin'"),
        "params": {
            "key": "strikes",
            "op": "in",
            "value": ["4", "1"],
            "notify_tag": "admin",
            "who": {"a1": "ann", "b1": "bob"},
        },
        "targets": [
            {"id": "a1", "reason": "strikes = '4' (in ['4', '1'])"},
            {"id": "b1", "reason": "strikes = '1' (in ['4', '1'])"},
        ],
        "left_alone": [],
    }
    assert plan.params == bulk.DisconnectMatching(
        "strikes", "in", ("4", "1"), "admin", {"a1": "ann", "b1": "bob"}
    )


def test_a_custom_alert_is_given_to_run(fake):
    """notify= goes to run (a function cannot be stored); the stored plan stays data."""
    with fake.client() as ws:
        plan = bulk.plan_disconnect_matching(ws, "strikes", "gte", 1, notify_tag="admin")
        loaded = bulk.Plan.from_dict(json.loads(json.dumps(plan.to_dict())))
        report = bulk.run(ws, loaded, notify=lambda conn, who: f"{who} ({conn}) is out")
    assert report.ok
    assert sorted(fake.received("root")) == [b"ann (a1) is out", b"bob (b1) is out"]


def test_notify_only_for_plans_that_alert(fake):
    """notify= with a plan that sends no alert is refused before anything is sent."""
    with fake.client() as ws:
        for plan in (
            bulk.plan_disconnect_route(ws, "/chat"),
            bulk.plan_disconnect_matching(ws, "strikes", "gte", 1),
        ):
            with pytest.raises(frankenws.InvalidArgument, match="notify= is only for"):
                bulk.run(ws, plan, notify=lambda conn, who: "x")
        with pytest.raises(frankenws.InvalidArgument, match=r"must be a frankenws\.bulk\.Plan"):
            bulk.run(ws, {"scenario": "disconnect_route"})  # type: ignore[call-overload]
    assert len(fake.get_clients()) == 4


def good_plan() -> dict[str, Any]:
    return {
        "scenario": "maintenance",
        "summary": "warn 1 connection(s) on every route, wait 0 s, then disconnect ...",
        "params": {"message": "bye", "grace": 0, "route": None},
        "targets": [{"id": "a1", "reason": "connected on every route"}],
        "left_alone": [],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(scenario="explode"), "unknown scenario 'explode'"),
        (lambda d: d.pop("targets"), "a plan has the keys"),
        (lambda d: d.update(client="http://x"), "a plan has the keys"),
        (lambda d: d["params"].pop("grace"), "params of a maintenance plan are"),
        (lambda d: d["params"].update(grace=-1), "grace must be a number of seconds >= 0"),
        (lambda d: d["params"].update(message=""), "message must be a non-empty string"),
        (lambda d: d["params"].update(route=""), "route must not be empty"),
        (lambda d: d.update(targets="a1"), "must be a list of items"),
        (lambda d: d["targets"].append({"id": ""}), "a plan item is"),
        (lambda d: d["targets"].append({"id": "", "reason": ""}), "id must not be empty"),
        (lambda d: d.update(summary=None), "summary must be a string"),
    ],
)
def test_from_dict_refuses_what_is_not_a_plan(change, message):
    """A malformed stored plan is refused when read, not half-way through a run."""
    data = good_plan()
    assert bulk.Plan.from_dict(data).params == bulk.Maintenance("bye", 0.0)
    change(data)
    with pytest.raises(frankenws.InvalidArgument, match=message):
        bulk.Plan.from_dict(data)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: bulk.CleanupInactive(0, "lastActivity", NOW), "max_idle must be a positive"),
        (lambda: bulk.CleanupInactive(60, "lastActivity", float("nan")), "now must be"),
        (lambda: bulk.DisconnectMatching("k", "eq", True), "value must be a string"),
        (lambda: bulk.DisconnectMatching("k", "eq", "v", who={"a": 1}), "who must map"),
        (lambda: bulk.DisconnectMatching("k", "eq", "v", notify_tag=""), "notify_tag must not"),
        (lambda: bulk.EnforceConnectionLimit(0), "max_per_user must be a positive integer"),
        (lambda: bulk.EnforceConnectionLimit(True), "max_per_user must be a positive integer"),
        (lambda: bulk.DisconnectRoute(""), "route must not be empty"),
        (lambda: bulk.DisconnectUser(None), "username must be a string"),  # type: ignore[arg-type]
    ],
)
def test_parameter_records_check_themselves(make, message):
    """Each scenario's record refuses values run could not use."""
    with pytest.raises(frankenws.InvalidArgument, match=message):
        make()


def test_planning_checks_its_arguments_before_reading(fake):
    """Bad arguments raise InvalidArgument and nothing is sent to the server."""
    with fake.client() as ws:
        before = len(fake.calls)
        for attempt, message in [
            (lambda: bulk.plan_disconnect_matching(ws, "k", "resembles", "x"), "operator"),
            (lambda: bulk.plan_disconnect_matching(ws, "k", "eq", "x", who_key=""), "who_key"),
            (lambda: bulk.plan_maintenance(ws, "bye", grace=-1), "grace"),
            (lambda: bulk.plan_cleanup_inactive(ws, 0), "max_idle"),
            (lambda: bulk.plan_enforce_connection_limit(ws, 0), "max_per_user"),
            (lambda: bulk.plan_disconnect_route(ws, ""), "route"),
            (lambda: bulk.plan_disconnect_user(ws, "ann", key=""), "key"),
        ]:
            with pytest.raises(frankenws.InvalidArgument, match=message):
                attempt()
        assert len(fake.calls) == before
