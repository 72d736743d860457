"""Running plans: the per-scenario execution behind :func:`frankenws.bulk.run`."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from frankenws._calls import calls
from frankenws._exceptions import FrankenWSError

from ._engine import (
    PathArg,
    ProgressCallback,
    _Context,
    _dispatch,
    _job,
    _kill_step,
    _send_step,
    _Step,
    _wait_closed,
)
from ._plans import Plan
from ._report import Outcome

__all__ = ["run"]


def _default_alert(plan: Plan, conn: str, who: str | None) -> bytes:
    params = plan.params
    message = {
        "type": "user_disconnected",
        "who": who,
        "connection": conn,
        "reason": f"{params['key']} {params['op']} {params['value']}",
    }
    return json.dumps(message, separators=(",", ":")).encode()


def run(
    plan: Plan,
    *,
    concurrency: int = 32,
    progress: ProgressCallback | None = None,
    journal: PathArg | None = None,
    resume: PathArg | None = None,
    wait_closed: bool = False,
    timeout: float = 30.0,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> Any:
    """Execute a plan. Returns a :class:`BulkReport` (or a coroutine for async clients).

    Args:
        plan: From one of the ``plan_...`` functions.
        concurrency, progress, journal, resume, wait_closed, timeout: As for
            :func:`kill_connections`.
        sleep: How to wait out a maintenance grace period (tests pass a fake).
    """
    client = plan.client
    wait = sleep or asyncio.sleep

    async def body(ctx: _Context) -> None:
        targets = plan.target_ids
        if plan.scenario == "maintenance":
            outcomes = await _run_maintenance(ctx, plan, wait)
        elif plan.scenario == "disconnect_matching" and plan.params.get("notify_tag"):
            outcomes = await _run_matching(ctx, plan)
        else:
            ctx.total = len(targets)
            outcomes = await ctx.apply(_kill_step(), targets)
        # wait_closed applies to every scenario (it used to be ignored for maintenance
        # and for disconnect_matching with notify_tag).
        if wait_closed:
            killed = [o.target for o in outcomes if o.status == "done"]
            await _wait_closed(ctx, killed, timeout)

    return _dispatch(
        client,
        lambda: _job(
            client,
            plan.scenario,
            body,
            concurrency=concurrency,
            progress=progress,
            journal=journal,
            resume=resume,
        ),
    )


async def _run_maintenance(
    ctx: _Context, plan: Plan, wait: Callable[[float], Awaitable[None]]
) -> list[Outcome]:
    params = plan.params
    route = params["route"]
    warning = json.dumps(
        {
            "type": "maintenance_warning",
            "message": params["message"],
            "timestamp": int(time.time()),
            "grace_seconds": params["grace"],
        },
        separators=(",", ":"),
    )
    warned = plan.target_ids
    ctx.total = len(warned)
    await ctx.apply(_send_step("warn", warning, route), warned)
    await wait(params["grace"])
    # Connections that arrived during the grace period go too: it is a maintenance.
    try:
        now = set(await ctx.runner.one(calls.get_clients(route)))
    except FrankenWSError as exc:
        # Still kill (or fail, per target) everyone warned, and return a report.
        ctx.report.notes.append(
            f"could not list the connections that arrived during the grace period: {exc}"
        )
        now = set()
    victims = sorted(set(warned) | now)
    ctx.total += len(victims)
    return await ctx.apply(_kill_step(), victims)


async def _run_matching(ctx: _Context, plan: Plan) -> list[Outcome]:
    params = plan.params
    tag = params["notify_tag"]
    notify = params.get("notify")
    who: Mapping[str, str | None] = params.get("who") or {}
    targets = plan.target_ids
    ctx.total = len(targets) * 2

    def killed(outcome: Outcome) -> bool:
        if outcome.status == "done":
            return True
        # Resumed: the kill was done by the interrupted run, which may have stopped
        # before sending its alert. The notify step below skips it if it was sent.
        return (
            outcome.status == "skipped"
            and ctx.resume is not None
            and ctx.resume.last.get(("kill", outcome.target)) == "done"
        )

    async def alert(outcome: Outcome) -> None:
        if not killed(outcome):
            ctx.total -= 1
            if ctx.progress is not None:
                ctx.progress(ctx.completed, ctx.total)
            return
        conn = outcome.target
        name = who.get(conn)
        payload = notify(conn, name) if notify else _default_alert(plan, conn, name)
        step = _Step(
            "notify",
            lambda _id: calls.send_to_tag(tag, payload),
            lambda count: "done" if count else "not_found",
            False,
        )
        await ctx.apply(step, [conn])

    return await ctx.apply(_kill_step(), targets, after=alert)
