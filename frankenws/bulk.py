"""Bulk operations: many targets, bounded concurrency, a per-target report, resumable.

Every function takes a :class:`frankenws.Client` or a :class:`frankenws.AsyncClient`.
With a ``Client`` it runs to completion and returns a :class:`BulkReport`; with an
``AsyncClient`` it returns a coroutine to await. The names are the same either way.

The engine never stops at the first failure: each target gets its own outcome
(``done``, ``not_found``, ``failed``; on resume also ``skipped`` and ``uncertain``).
With ``journal=path`` every target's outcome is appended to a JSON-lines file as it
happens, and ``resume=path`` continues an interrupted run from that file without acting
twice on any target.

Scenarios are split in two: ``plan_...(client, ...)`` reads the server and returns a
:class:`Plan` (who would be affected and why, no writes); :func:`run` executes it. A dry
run is simply a plan that is printed and not run.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar, overload

from ._calls import Call, Flow, calls
from ._client import AsyncClient, BaseClient, Client
from ._exceptions import ConnectError, FrankenWSError, InvalidArgument, TransportError
from ._journal import Journal, JournalState, load_journal
from ._lane import AiohttpLane, lane_available

__all__ = [
    "BulkReport",
    "Outcome",
    "Plan",
    "PlanItem",
    "kill_connections",
    "plan_cleanup_inactive",
    "plan_disconnect_matching",
    "plan_disconnect_route",
    "plan_disconnect_user",
    "plan_enforce_connection_limit",
    "plan_maintenance",
    "run",
    "send_messages",
]

T = TypeVar("T")
ProgressCallback = Callable[[int, int], object]
PathArg = str | os.PathLike[str]


# --- results ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one target in one step of a bulk job.

    Args:
        target: The connection id.
        action: The step: ``"kill"``, ``"send"``, ``"warn"``, ``"notify"``.
        status: ``"done"``; ``"not_found"`` (the server did not know the id, e.g. it was
            already gone); ``"failed"`` (an error, see ``error``); ``"skipped"`` (already
            handled by the run recorded in the resumed journal); ``"uncertain"`` (a send
            left but its answer never came — a timeout, a dropped connection, or an
            interrupted run — so it may have been delivered; never sent again).
        error: The error message for ``failed`` and ``uncertain``.
    """

    target: str
    action: str
    status: str
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"target": self.target, "action": self.action, "status": self.status}
        if self.error is not None:
            data["error"] = self.error
        return data


@dataclass(slots=True)
class BulkReport:
    """The result of every bulk call: one :class:`Outcome` per target and step."""

    job: str
    outcomes: list[Outcome] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    finished: datetime | None = None
    notes: list[str] = field(default_factory=list)
    """Facts worth telling the operator (ids still listed after waiting, ...)."""

    def by_status(self, status: str, action: str | None = None) -> list[str]:
        """Targets with this status (optionally only for one step)."""
        return [
            o.target
            for o in self.outcomes
            if o.status == status and (action is None or o.action == action)
        ]

    @property
    def done(self) -> list[str]:
        return self.by_status("done")

    @property
    def not_found(self) -> list[str]:
        return self.by_status("not_found")

    @property
    def failed(self) -> list[str]:
        return self.by_status("failed")

    @property
    def skipped(self) -> list[str]:
        return self.by_status("skipped")

    @property
    def uncertain(self) -> list[str]:
        return self.by_status("uncertain")

    @property
    def ok(self) -> bool:
        """True when nothing failed and nothing is uncertain."""
        return not any(o.status in ("failed", "uncertain") for o in self.outcomes)

    def counts(self, action: str | None = None) -> dict[str, int]:
        result = dict.fromkeys(("done", "not_found", "failed", "skipped", "uncertain"), 0)
        for o in self.outcomes:
            if action is None or o.action == action:
                result[o.status] += 1
        return result

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "ok": self.ok,
            "counts": self.counts(),
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "notes": list(self.notes),
            "outcomes": [o.to_dict() for o in self.outcomes],
        }

    def __str__(self) -> str:
        def line(c: dict[str, int]) -> str:
            parts = [f"{c['done']} done", f"{c['not_found']} not found", f"{c['failed']} failed"]
            parts += [f"{c[k]} {k}" for k in ("skipped", "uncertain") if c[k]]
            return ", ".join(parts)

        actions = list(dict.fromkeys(o.action for o in self.outcomes))
        if len(actions) <= 1:
            return f"{self.job}: {line(self.counts())}"
        # Several steps (warn + kill, kill + notify): one total over all of them would
        # count each connection twice, so each step gets its own counts.
        return f"{self.job}: " + "; ".join(f"{a} {line(self.counts(a))}" for a in actions)


# --- the engine -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Step:
    """One kind of per-target request."""

    action: str
    make_call: Callable[[str], Call[Any]]
    classify: Callable[[Any], str]
    repeatable: bool
    """Safe to send again when an interrupted run may already have sent it (kills are)."""


def _kill_step() -> _Step:
    return _Step("kill", calls.kill_connection, lambda ok: "done" if ok else "not_found", True)


def _send_step(action: str, data: str | bytes, route: str | None) -> _Step:
    calls.send("x", data, route)  # validate the payload once, before any target is touched
    return _Step(action, lambda id: calls.send(id, data, route), lambda _: "done", False)


class _Runner:
    """Sends calls for one client: single calls through the client, bulk through a lane."""

    def __init__(self, client: BaseClient, concurrency: int) -> None:
        self.client = client
        self.concurrency = concurrency
        self._lane: AiohttpLane | None = None
        self._pool: ThreadPoolExecutor | None = None

    async def __aenter__(self) -> _Runner:
        if lane_available(self.client):
            self._lane = await AiohttpLane(self.client, self.concurrency).__aenter__()
        elif isinstance(self.client, Client):
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="frankenws")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._lane is not None:
            await self._lane.__aexit__(*exc)
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    async def one(self, call: Call[T] | Flow[T]) -> T:
        """A single request through the client's own sender."""
        if isinstance(self.client, AsyncClient):
            return await self.client._run(call)
        assert isinstance(self.client, Client)
        return await asyncio.to_thread(self.client._run, call)

    async def bulk(self, call: Call[T]) -> T:
        """A request of a bulk job, through the fastest sender available."""
        if self._lane is not None:
            return await self._lane.run(call)
        if self._pool is not None:
            assert isinstance(self.client, Client)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, self.client._run, call)
        assert isinstance(self.client, AsyncClient)
        return await self.client._run(call)


class _Context:
    """Shared state of one bulk job: runner, journal, resume state, progress, report."""

    def __init__(
        self,
        runner: _Runner,
        report: BulkReport,
        journal: Journal | None,
        resume: JournalState | None,
        progress: ProgressCallback | None,
        *,
        journal_skips: bool = False,
    ) -> None:
        self.runner = runner
        self.report = report
        self.journal = journal
        self.resume = resume
        self.progress = progress
        self.journal_skips = journal_skips
        """The journal is not the resumed file: carry skipped targets over into it."""
        self.completed = 0
        self.total = 0

    def _tick(self) -> None:
        self.completed += 1
        if self.progress is not None:
            self.progress(self.completed, self.total)

    def record(self, outcome: Outcome, *, journal: bool = True) -> None:
        self.report.outcomes.append(outcome)
        if journal and self.journal is not None:
            self.journal.finished(outcome.action, outcome.target, outcome.status, outcome.error)
        self._tick()

    async def apply(
        self,
        step: _Step,
        targets: Sequence[str],
        after: Callable[[Outcome], Awaitable[None]] | None = None,
    ) -> list[Outcome]:
        """Apply one step to every target with bounded concurrency; never raises per target."""
        outcomes: dict[str, Outcome] = {}
        early: list[Outcome] = []
        pending: list[str] = []
        for target in targets:
            key = (step.action, target)
            if self.resume is not None and self.resume.handled(step.action, target):
                outcome = Outcome(target, step.action, "skipped")
                outcomes[target] = outcome
                self.record(outcome, journal=False)
                if self.journal_skips and self.journal is not None:
                    # Carry the earlier status over, so this journal alone is enough to
                    # resume from (without it, a resume would act on the target again).
                    self.journal.carried(step.action, target, self.resume.last[key])
                early.append(outcome)
            elif (
                self.resume is not None
                and self.resume.in_flight(step.action, target)
                and not step.repeatable
            ):
                outcome = Outcome(
                    target,
                    step.action,
                    "uncertain",
                    "the interrupted run sent this request but recorded no answer; "
                    "not sent again to avoid a duplicate",
                )
                outcomes[target] = outcome
                self.record(outcome)
                early.append(outcome)
            else:
                pending.append(target)

        # Outcomes settled by the resumed journal still get their follow-up (e.g. the
        # alert owed for a kill the interrupted run did but could not announce).
        if after is not None:
            for outcome in early:
                await after(outcome)

        queue: asyncio.Queue[str] = asyncio.Queue()
        for target in pending:
            queue.put_nowait(target)

        async def worker() -> None:
            while True:
                try:
                    target = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                # Repeatable steps (kills) need no "started" line: a kill that may have
                # been sent is simply sent again on resume.
                if self.journal is not None and not step.repeatable:
                    self.journal.started(step.action, target)
                try:
                    result = await self.runner.bulk(step.make_call(target))
                    outcome = Outcome(target, step.action, step.classify(result))
                except ConnectError as exc:  # never reached the server: safe to retry
                    outcome = Outcome(target, step.action, "failed", str(exc))
                except TransportError as exc:
                    # A timeout or a dropped connection after the request left: it may
                    # have been acted on. A send must not be repeated on resume.
                    status = "failed" if step.repeatable else "uncertain"
                    outcome = Outcome(target, step.action, status, str(exc))
                except FrankenWSError as exc:
                    outcome = Outcome(target, step.action, "failed", str(exc))
                outcomes[target] = outcome
                self.record(outcome)
                if after is not None:
                    await after(outcome)

        workers = min(self.runner.concurrency, len(pending))
        await asyncio.gather(*(worker() for _ in range(workers)))
        return [outcomes[t] for t in targets if t in outcomes]


def _unique(ids: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in ids:
        if not isinstance(value, str) or not value:
            raise InvalidArgument(f"every target id must be a non-empty string, got {value!r}")
        seen.setdefault(value, None)
    return list(seen)


def _check_concurrency(concurrency: int) -> int:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidArgument(f"concurrency must be a positive integer, got {concurrency!r}")
    return concurrency


async def _job(
    client: BaseClient,
    job: str,
    body: Callable[[_Context], Awaitable[None]],
    *,
    concurrency: int,
    progress: ProgressCallback | None,
    journal: PathArg | None,
    resume: PathArg | None,
) -> BulkReport:
    _check_concurrency(concurrency)
    state = load_journal(resume) if resume is not None else None
    if state is not None and state.job not in (None, job):
        raise InvalidArgument(
            f"journal {os.fspath(resume)!r} belongs to job {state.job!r}, not {job!r}"  # type: ignore[arg-type]
        )
    if journal is not None and os.path.isfile(journal) and os.path.getsize(journal) > 0:
        existing = load_journal(journal)
        if existing.job not in (None, job):
            raise InvalidArgument(
                f"journal {os.fspath(journal)!r} already records a {existing.job!r} job; "
                f"use another file for this {job!r} job"
            )
    report = BulkReport(job)
    if state is not None and state.server not in (None, client.url):
        report.notes.append(
            f"the resumed journal was recorded against {state.server}; this run talks to "
            f"{client.url}"
        )
    path = journal if journal is not None else resume
    writer = Journal(path, job=job, server=client.url) if path is not None else None
    # Resuming into another journal: that journal must record the skipped targets too.
    separate = (
        journal is not None
        and resume is not None
        and os.path.abspath(journal) != os.path.abspath(resume)
    )
    try:
        async with _Runner(client, concurrency) as runner:
            await body(_Context(runner, report, writer, state, progress, journal_skips=separate))
    finally:
        report.finished = datetime.now(timezone.utc)
        if writer is not None:
            writer.close()
    return report


def _dispatch(client: Any, make: Callable[[], Coroutine[Any, Any, T]]) -> Any:
    """Await-able for an AsyncClient, run to completion for a Client."""
    if isinstance(client, AsyncClient):
        return make()
    if not isinstance(client, Client):
        raise InvalidArgument(
            f"expected a frankenws.Client or frankenws.AsyncClient, got {type(client).__name__}"
        )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    # Called from inside an event loop (e.g. a notebook): run in a private thread.
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(make())
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="frankenws-bulk")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


async def _wait_closed(ctx: _Context, killed: Sequence[str], timeout: float) -> None:
    """Poll until killed ids leave get_clients(); the server cleans up asynchronously."""
    if not killed:
        return
    deadline = time.monotonic() + timeout
    delay = 0.02
    remaining = set(killed)
    while True:
        try:
            remaining &= set(await ctx.runner.one(calls.get_clients()))
        except FrankenWSError as exc:  # the kills are done: report them, do not raise
            ctx.report.notes.append(f"could not check that the killed connections left: {exc}")
            return
        if not remaining or time.monotonic() >= deadline:
            break
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)
    if remaining:
        ctx.report.notes.append(
            f"{len(remaining)} killed connection(s) still listed after {timeout:g} s: "
            + ", ".join(sorted(remaining)[:10])
        )


# --- public engine functions --------------------------------------------------------


@overload
def kill_connections(
    client: Client,
    ids: Iterable[str],
    *,
    concurrency: int = ...,
    wait_closed: bool = ...,
    timeout: float = ...,
    progress: ProgressCallback | None = ...,
    journal: PathArg | None = ...,
    resume: PathArg | None = ...,
) -> BulkReport: ...
@overload
def kill_connections(
    client: AsyncClient,
    ids: Iterable[str],
    *,
    concurrency: int = ...,
    wait_closed: bool = ...,
    timeout: float = ...,
    progress: ProgressCallback | None = ...,
    journal: PathArg | None = ...,
    resume: PathArg | None = ...,
) -> Coroutine[Any, Any, BulkReport]: ...
def kill_connections(
    client: Client | AsyncClient,
    ids: Iterable[str],
    *,
    concurrency: int = 32,
    wait_closed: bool = False,
    timeout: float = 30.0,
    progress: ProgressCallback | None = None,
    journal: PathArg | None = None,
    resume: PathArg | None = None,
) -> BulkReport | Coroutine[Any, Any, BulkReport]:
    """Kill many connections.

    Args:
        client: A ``Client`` (runs now) or ``AsyncClient`` (returns a coroutine).
        ids: Connection ids; duplicates are killed once.
        concurrency: Requests in flight at once.
        wait_closed: After killing, poll ``get_clients()`` until the killed ids are gone
            (the server cleans up after answering); ids still listed after ``timeout``
            seconds are named in ``report.notes``.
        progress: Called as ``progress(completed, total)`` after each target.
        journal: Append every outcome to this JSON-lines file as it happens.
        resume: Continue the run recorded in this journal: targets already done are
            ``skipped``; new outcomes are appended to it (unless ``journal`` is given).

    Returns:
        A :class:`BulkReport` with one ``kill`` outcome per id.
    """
    targets = _unique(ids)

    async def body(ctx: _Context) -> None:
        ctx.total = len(targets)
        outcomes = await ctx.apply(_kill_step(), targets)
        if wait_closed:
            await _wait_closed(ctx, [o.target for o in outcomes if o.status == "done"], timeout)

    return _dispatch(  # type: ignore[no-any-return]
        client,
        lambda: _job(
            client,
            "kill",
            body,
            concurrency=concurrency,
            progress=progress,
            journal=journal,
            resume=resume,
        ),
    )


@overload
def send_messages(
    client: Client,
    ids: Iterable[str],
    data: str | bytes,
    *,
    route: str | None = ...,
    concurrency: int = ...,
    progress: ProgressCallback | None = ...,
    journal: PathArg | None = ...,
    resume: PathArg | None = ...,
) -> BulkReport: ...
@overload
def send_messages(
    client: AsyncClient,
    ids: Iterable[str],
    data: str | bytes,
    *,
    route: str | None = ...,
    concurrency: int = ...,
    progress: ProgressCallback | None = ...,
    journal: PathArg | None = ...,
    resume: PathArg | None = ...,
) -> Coroutine[Any, Any, BulkReport]: ...
def send_messages(
    client: Client | AsyncClient,
    ids: Iterable[str],
    data: str | bytes,
    *,
    route: str | None = None,
    concurrency: int = 32,
    progress: ProgressCallback | None = None,
    journal: PathArg | None = None,
    resume: PathArg | None = None,
) -> BulkReport | Coroutine[Any, Any, BulkReport]:
    """Send the same message to many connections, one ``send`` per id.

    The server gives no delivery feedback for ``send``, so ``done`` means the request was
    accepted. On resume, an id whose send was in flight when the earlier run stopped is
    reported ``uncertain`` and not sent again (no duplicate messages).
    """
    targets = _unique(ids)
    step = _send_step("send", data, route)

    async def body(ctx: _Context) -> None:
        ctx.total = len(targets)
        await ctx.apply(step, targets)

    return _dispatch(  # type: ignore[no-any-return]
        client,
        lambda: _job(
            client,
            "send",
            body,
            concurrency=concurrency,
            progress=progress,
            journal=journal,
            resume=resume,
        ),
    )


# --- plans --------------------------------------------------------------------------


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


# --- running plans --------------------------------------------------------------------


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
