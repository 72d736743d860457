"""The bulk engine: bounded concurrency, one outcome per target, journal and resume.

``_Runner`` sends the requests of one job (single reads through the client's own sender,
bulk requests through the aiohttp lane when it can), ``_Context`` applies one step to many
targets and records each outcome, ``_job`` sets up the journal and the report, and
``_run_in_colour`` gives every public function its two colours (a ``Client`` runs to
completion, an ``AsyncClient`` gets a coroutine). Strictly private.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar, overload

from frankenws._calls import Call, Flow, calls
from frankenws._client import AsyncClient, BaseClient, Client
from frankenws._cluster import Cluster
from frankenws._cluster_async import AsyncCluster
from frankenws._exceptions import ConnectError, FrankenWSError, InvalidArgument, TransportError
from frankenws._validate import payload_bytes, route_filter

from ._breaker import INTERRUPTED, NOT_ATTEMPTED, Breaker
from ._journal import Journal, JournalState, load_journal
from ._lane import AiohttpLane, lane_available
from ._report import BulkReport, Outcome
from ._targets import AsyncTarget, SyncTarget, Target, run_one, server_of

__all__ = ["kill_connections", "send_messages"]

T = TypeVar("T")
ProgressCallback = Callable[[int, int], object]
OutcomeCallback = Callable[[Outcome], object]
PathArg = str | os.PathLike[str]


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
    payload = _checked_message(data, route)
    return _Step(action, lambda id: calls.send(id, payload, route), lambda _: "done", False)


def _checked_message(data: str | bytes, route: str | None) -> bytes:
    """A bulk message's payload, checked once before any target is touched."""
    if route is not None and "\x00" in route_filter(route):
        raise InvalidArgument("route must not contain NUL: the server cuts it there")
    return payload_bytes(data, allow_empty=False)


class _Runner:
    """Sends calls for one client: single calls through the client, bulk through a lane."""

    def __init__(self, client: Target, concurrency: int) -> None:
        self.client = client
        self.concurrency = concurrency
        self._lane: AiohttpLane | None = None
        self._pool: ThreadPoolExecutor | None = None
        self.sender = "httpx-async"
        """What carries the bulk requests (reported as ``BulkReport.sender``)."""

    async def __aenter__(self) -> _Runner:
        assert isinstance(self.client, BaseClient), "a fleet job runs through bulk._fleet"
        if lane_available(self.client):
            self._lane = await AiohttpLane(self.client, self.concurrency).__aenter__()
            self.sender = "aiohttp"
        elif isinstance(self.client, Client):
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="frankenws")
            self.sender = "httpx-threads"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._lane is not None:
            await self._lane.__aexit__(*exc)
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def context(self, report: BulkReport, *args: Any, **kwargs: Any) -> _Context:
        """The job's context over this runner (a fleet runner makes a fleet context)."""
        return _Context(self, report, *args, **kwargs)

    async def one(self, call: Call[T] | Flow[T]) -> T:
        """A single request through the client's own sender."""
        return await run_one(self.client, call)

    async def bulk(self, call: Call[T], target: str | None = None) -> T:
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
        on_outcome: OutcomeCallback | None = None,
        *,
        journal_skips: bool = False,
    ) -> None:
        self.runner = runner
        self.report = report
        self.journal = journal
        self.resume = resume
        self.progress = progress
        self.on_outcome = on_outcome
        self.journal_skips = journal_skips
        """The journal is not the resumed file: carry skipped targets over into it."""
        self.completed = 0
        self.total = 0
        self.breaker = Breaker()

    def _tick(self) -> None:
        self.completed += 1
        if self.progress is not None:
            self.progress(self.completed, self.total)

    def record(self, outcome: Outcome, *, journal: bool = True) -> None:
        self.report.outcomes.append(outcome)
        if journal and self.journal is not None:
            self.journal.finished(
                outcome.action, outcome.target, outcome.status, outcome.error, outcome.node
            )
        if self.on_outcome is not None:
            self.on_outcome(outcome)
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
            while self.breaker.reason is None:
                try:
                    target = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                # Repeatable steps (kills) need no "started" line: a kill that may have
                # been sent is simply sent again on resume.
                if self.journal is not None and not step.repeatable:
                    self.journal.started(step.action, target)
                unreachable = False
                try:
                    result = await self.runner.bulk(step.make_call(target), target)
                    outcome = Outcome(target, step.action, step.classify(result))
                except asyncio.CancelledError:
                    # Ctrl-C or SIGTERM with this request in flight: the server may have
                    # acted on it, so it goes into the journal and the audit log too.
                    self.record(Outcome(target, step.action, "uncertain", INTERRUPTED))
                    raise
                except ConnectError as exc:  # never reached the server: safe to retry
                    outcome = Outcome(target, step.action, "failed", str(exc))
                    unreachable = True
                except TransportError as exc:
                    # A timeout or a dropped connection after the request left: it may
                    # have been acted on. A send must not be repeated on resume.
                    status = "failed" if step.repeatable else "uncertain"
                    outcome = Outcome(target, step.action, status, str(exc))
                    unreachable = True
                except FrankenWSError as exc:
                    outcome = Outcome(target, step.action, "failed", str(exc))
                self.breaker.saw(outcome, unreachable)
                outcomes[target] = outcome
                self.record(outcome)
                if after is not None:
                    await after(outcome)

        workers = min(self.runner.concurrency, len(pending))
        await asyncio.gather(*(worker() for _ in range(workers)))
        while not queue.empty():  # the job stopped: what is left waits for a resume
            outcome = Outcome(queue.get_nowait(), step.action, "not_attempted", NOT_ATTEMPTED)
            outcomes[outcome.target] = outcome
            self.record(outcome)
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
    client: Target,
    job: str,
    body: Callable[[_Context], Awaitable[None]],
    *,
    concurrency: int,
    progress: ProgressCallback | None,
    journal: PathArg | None,
    resume: PathArg | None,
    on_outcome: OutcomeCallback | None = None,
    placed: Mapping[str, str] | None = None,
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
    server = server_of(client)
    if state is not None and state.server not in (None, server):
        report.notes.append(
            f"the resumed journal was recorded against {state.server}; this run talks to {server}"
        )
    path = journal if journal is not None else resume
    writer = Journal(path, job=job, server=server) if path is not None else None
    # Resuming into another journal: that journal must record the skipped targets too.
    separate = (
        journal is not None
        and resume is not None
        and os.path.abspath(journal) != os.path.abspath(resume)
    )
    try:
        from ._fleet import runner_for  # loaded with the engine: _fleet imports it

        async with runner_for(client, concurrency, placed, state) as runner:
            report.sender = runner.sender
            context = runner.context(
                report, writer, state, progress, on_outcome, journal_skips=separate
            )
            await body(context)
            report.stopped = context.breaker.reason
    finally:
        report.finished = datetime.now(timezone.utc)
        if writer is not None:
            writer.close()
    return report


def _run_in_colour(
    client: SyncTarget | AsyncTarget, make: Callable[[], Coroutine[Any, Any, T]]
) -> T | Coroutine[Any, Any, T]:
    """Await-able for an AsyncClient/AsyncCluster, run to completion for a Client/Cluster."""
    if isinstance(client, (AsyncClient, AsyncCluster)):
        return make()
    if not isinstance(client, (Client, Cluster)):
        raise InvalidArgument(
            "expected a frankenws.Client, AsyncClient, Cluster or AsyncCluster, got "
            f"{type(client).__name__}"
        )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    # Called from inside an event loop (e.g. a notebook): run in a private thread.
    results: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(asyncio.run(make()))
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target, name="frankenws-bulk")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


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
    client: SyncTarget,
    ids: Iterable[str],
    *,
    concurrency: int = ...,
    wait_closed: bool = ...,
    timeout: float = ...,
    progress: ProgressCallback | None = ...,
    journal: PathArg | None = ...,
    resume: PathArg | None = ...,
    on_outcome: OutcomeCallback | None = ...,
) -> BulkReport: ...
@overload
def kill_connections(
    client: AsyncTarget,
    ids: Iterable[str],
    *,
    concurrency: int = ...,
    wait_closed: bool = ...,
    timeout: float = ...,
    progress: ProgressCallback | None = ...,
    journal: PathArg | None = ...,
    resume: PathArg | None = ...,
    on_outcome: OutcomeCallback | None = ...,
) -> Coroutine[Any, Any, BulkReport]: ...
def kill_connections(
    client: SyncTarget | AsyncTarget,
    ids: Iterable[str],
    *,
    concurrency: int = 32,
    wait_closed: bool = False,
    timeout: float = 30.0,
    progress: ProgressCallback | None = None,
    journal: PathArg | None = None,
    resume: PathArg | None = None,
    on_outcome: OutcomeCallback | None = None,
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
        on_outcome: Called with each :class:`Outcome` as soon as it is recorded (after
            the journal line), e.g. to write an audit log that survives a killed process.

    Returns:
        A :class:`BulkReport` with one ``kill`` outcome per id.
    """
    targets = _unique(ids)

    async def body(ctx: _Context) -> None:
        ctx.total = len(targets)
        outcomes = await ctx.apply(_kill_step(), targets)
        if wait_closed:
            await _wait_closed(ctx, [o.target for o in outcomes if o.status == "done"], timeout)

    return _run_in_colour(
        client,
        lambda: _job(
            client,
            "kill",
            body,
            concurrency=concurrency,
            progress=progress,
            journal=journal,
            resume=resume,
            on_outcome=on_outcome,
        ),
    )


@overload
def send_messages(
    client: SyncTarget,
    ids: Iterable[str],
    data: str | bytes,
    *,
    route: str | None = ...,
    concurrency: int = ...,
    progress: ProgressCallback | None = ...,
    journal: PathArg | None = ...,
    resume: PathArg | None = ...,
    on_outcome: OutcomeCallback | None = ...,
) -> BulkReport: ...
@overload
def send_messages(
    client: AsyncTarget,
    ids: Iterable[str],
    data: str | bytes,
    *,
    route: str | None = ...,
    concurrency: int = ...,
    progress: ProgressCallback | None = ...,
    journal: PathArg | None = ...,
    resume: PathArg | None = ...,
    on_outcome: OutcomeCallback | None = ...,
) -> Coroutine[Any, Any, BulkReport]: ...
def send_messages(
    client: SyncTarget | AsyncTarget,
    ids: Iterable[str],
    data: str | bytes,
    *,
    route: str | None = None,
    concurrency: int = 32,
    progress: ProgressCallback | None = None,
    journal: PathArg | None = None,
    resume: PathArg | None = None,
    on_outcome: OutcomeCallback | None = None,
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

    return _run_in_colour(
        client,
        lambda: _job(
            client,
            "send",
            body,
            concurrency=concurrency,
            progress=progress,
            journal=journal,
            resume=resume,
            on_outcome=on_outcome,
        ),
    )
