"""Running plans: :func:`run` and the execution of each scenario.

Most scenarios are one kill per target. Two have more steps: a maintenance warns, waits
and then kills (late arrivals too), and a ``disconnect_matching`` plan with a
``notify_tag`` alerts that tag after each kill. Which one applies is read from the type
of ``plan.params``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timezone
from typing import Any, overload

from frankenws._calls import calls
from frankenws._exceptions import FrankenWSError, InvalidArgument

from ._context import OutcomeCallback, ProgressCallback, _Context
from ._engine import PathArg, _job, _run_in_colour, _wait_closed
from ._plans import DisconnectMatching, Maintenance, Plan
from ._report import BulkReport, Outcome
from ._steps import _check_keep, _kill_step, _send_step, _Step
from ._targets import AsyncTarget, SyncTarget

__all__ = ["run"]

Sleep = Callable[[float], Awaitable[None]]
Notify = Callable[[str, str | None], str | bytes]


@overload
def run(
    client: SyncTarget,
    plan: Plan,
    *,
    concurrency: int = ...,
    progress: ProgressCallback | None = ...,
    journal: PathArg | None = ...,
    resume: PathArg | None = ...,
    wait_closed: bool = ...,
    timeout: float = ...,
    notify: Notify | None = ...,
    on_outcome: OutcomeCallback | None = ...,
    sleep: Sleep | None = ...,
    keep_outcomes: int | None = ...,
) -> BulkReport: ...
@overload
def run(
    client: AsyncTarget,
    plan: Plan,
    *,
    concurrency: int = ...,
    progress: ProgressCallback | None = ...,
    journal: PathArg | None = ...,
    resume: PathArg | None = ...,
    wait_closed: bool = ...,
    timeout: float = ...,
    notify: Notify | None = ...,
    on_outcome: OutcomeCallback | None = ...,
    sleep: Sleep | None = ...,
    keep_outcomes: int | None = ...,
) -> Coroutine[Any, Any, BulkReport]: ...
def run(
    client: SyncTarget | AsyncTarget,
    plan: Plan,
    *,
    concurrency: int = 32,
    progress: ProgressCallback | None = None,
    journal: PathArg | None = None,
    resume: PathArg | None = None,
    wait_closed: bool = False,
    timeout: float = 30.0,
    notify: Notify | None = None,
    on_outcome: OutcomeCallback | None = None,
    sleep: Sleep | None = None,
    keep_outcomes: int | None = None,
) -> BulkReport | Coroutine[Any, Any, BulkReport]:
    """Execute a plan with this client. Returns a :class:`BulkReport` (a coroutine for
    an ``AsyncClient``).

    The plan need not come from the same client, nor from the same process: any
    :class:`Plan`, e.g. one read back with :meth:`Plan.from_dict`, runs against the
    server this client talks to.

    Args:
        client: A ``Client`` (runs now) or ``AsyncClient`` (returns a coroutine).
        plan: From one of the ``plan_...`` functions, or :meth:`Plan.from_dict`.
        concurrency, progress, journal, resume, wait_closed, timeout, on_outcome,
            keep_outcomes: As for :func:`kill_connections`.
        notify: For a ``disconnect_matching`` plan with a ``notify_tag``: the alert to
            send, ``notify(connection_id, who) -> str | bytes``, instead of the default
            JSON object. A function cannot be stored in a plan, so it is given here.
        sleep: How to wait out a maintenance grace period (tests pass a fake).
    """
    if not isinstance(plan, Plan):
        raise InvalidArgument(f"plan must be a frankenws.bulk.Plan, got {type(plan).__name__}")
    params = plan.params
    alerting = isinstance(params, DisconnectMatching) and params.notify_tag is not None
    if notify is not None and not alerting:
        raise InvalidArgument(
            "notify= is only for disconnect_matching plans with a notify_tag, "
            f"not for this {plan.scenario} plan"
        )
    _check_keep(keep_outcomes)
    wait = sleep or asyncio.sleep

    async def body(ctx: _Context) -> None:
        targets = plan.target_ids
        killed: list[str] | None = [] if wait_closed else None
        if isinstance(params, Maintenance):
            await _run_maintenance(ctx, params, targets, wait, killed)
        elif isinstance(params, DisconnectMatching) and params.notify_tag is not None:
            await _run_matching(ctx, params, params.notify_tag, targets, notify, killed)
        else:
            ctx.total = len(targets)
            await ctx.apply(_kill_step(), targets, done=killed)
        if killed is not None:
            await _wait_closed(ctx, killed, timeout)

    return _run_in_colour(
        client,
        lambda: _job(
            client,
            plan.scenario,
            body,
            concurrency=concurrency,
            progress=progress,
            journal=journal,
            resume=resume,
            on_outcome=on_outcome,
            keep_outcomes=keep_outcomes,
            placed={item.id: item.node for item in plan.targets if item.node is not None},
        ),
    )


async def _run_maintenance(
    ctx: _Context, params: Maintenance, warned: list[str], wait: Sleep, killed: list[str] | None
) -> None:
    warning = json.dumps(
        {
            "type": "maintenance_warning",
            "message": params.message,
            "timestamp": int(time.time()),
            "grace_seconds": params.grace,
        },
        separators=(",", ":"),
    )
    ctx.total = len(warned)
    await ctx.apply(_send_step("warn", warning, params.route), warned)
    if ctx.breaker.reason is not None:  # the server is gone: no grace, the kills wait too
        ctx.total += len(warned)
        await ctx.apply(_kill_step(), warned, done=killed)
        return
    await wait(_grace_left(ctx, params.grace))
    # Connections that arrived during the grace period go too: it is a maintenance.
    try:
        now = set(await ctx.runner.one(calls.get_clients(params.route)))
    except FrankenWSError as exc:
        # Still kill (or fail, per target) everyone warned, and return a report.
        ctx.report.notes.append(
            f"could not list the connections that arrived during the grace period: {exc}"
        )
        now = set()
    victims = sorted(set(warned) | now)
    ctx.total += len(victims)
    await ctx.apply(_kill_step(), victims, done=killed)


def _grace_left(ctx: _Context, grace: float) -> float:
    """The grace still owed: a resumed maintenance counts from the last warning sent."""
    warned_at = ctx.resume.latest.get("warn") if ctx.resume is not None else None
    if warned_at is None:
        return grace
    elapsed = (datetime.now(timezone.utc) - warned_at).total_seconds()
    return min(grace, max(0.0, grace - elapsed))


def _default_alert(params: DisconnectMatching, conn: str, who: str | None) -> bytes:
    value = ",".join(params.value) if isinstance(params.value, tuple) else params.value
    message = {
        "type": "user_disconnected",
        "who": who,
        "connection": conn,
        "reason": f"{params.key} {params.op} {value}",
    }
    return json.dumps(message, separators=(",", ":")).encode()


async def _run_matching(
    ctx: _Context,
    params: DisconnectMatching,
    tag: str,
    targets: list[str],
    notify: Notify | None,
    done: list[str] | None,
) -> None:
    if ctx.resume is not None:
        # A plan made again for the resume no longer lists the connections the
        # interrupted run killed; the alerts owed for them come from its journal.
        planned = set(targets)
        targets = targets + sorted(
            target
            for (action, target), status in ctx.resume.last.items()
            if action == "kill" and status in ("done", "uncertain") and target not in planned
        )
    ctx.total = len(targets) * 2

    def killed(outcome: Outcome) -> bool:
        if outcome.status == "done":
            return True
        if ctx.resume is None:
            return False
        before = ctx.resume.last.get(("kill", outcome.target))
        # Resumed: the kill was done by the interrupted run, which may have stopped
        # before sending its alert. The notify step below skips it if it was sent.
        # A kill interrupted in flight that now finds the connection gone most likely
        # did it: the alert is owed as well.
        return (outcome.status == "skipped" and before == "done") or (
            outcome.status == "not_found" and before == "uncertain"
        )

    async def alert(outcome: Outcome) -> None:
        if not killed(outcome):
            ctx.total -= 1
            if ctx.progress is not None:
                ctx.progress(ctx.completed, ctx.total)
            return
        conn = outcome.target
        name = params.who.get(conn)
        payload = notify(conn, name) if notify else _default_alert(params, conn, name)
        step = _Step(
            "notify",
            lambda _id: calls.send_to_tag(tag, payload),
            lambda count: "done" if count else "not_found",
            False,
        )
        await ctx.apply(step, [conn])

    await ctx.apply(_kill_step(), targets, after=alert, done=done)
