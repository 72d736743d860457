"""The bulk engine: bounded concurrency, one outcome per target, journal and resume.

``_Runner`` sends the requests of one job (single reads through the client's own sender,
bulk requests through the HTTP/1.1 lane when it can), ``_Context`` applies one step to many
targets and records each outcome, ``_job`` sets up the journal and the report, and
``_run_in_colour`` gives every public function its two colours (a ``Client`` runs to
completion, an ``AsyncClient`` gets a coroutine). Strictly private.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import (
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Mapping,
    Sequence,
)
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar, overload

from frankenws._calls import Call, Flow, calls
from frankenws._client import AsyncClient, BaseClient, Client
from frankenws._cluster import Cluster
from frankenws._cluster_async import AsyncCluster
from frankenws._exceptions import FrankenWSError, InvalidArgument

from ._context import OutcomeCallback, ProgressCallback, _Context
from ._http1 import Http1Lane, lane_available
from ._journal import Journal, load_journal
from ._report import BulkReport
from ._steps import _check_keep, _kill_step, _send_step, _Targets
from ._targets import AsyncTarget, SyncTarget, Target, run_one, server_of

__all__ = [
    "OutcomeCallback",
    "PathArg",
    "ProgressCallback",
    "kill_connections",
    "send_messages",
]

T = TypeVar("T")
PathArg = str | os.PathLike[str]


class _Runner:
    """Sends calls for one client: single calls through the client, bulk through a lane."""

    def __init__(self, client: Target, concurrency: int) -> None:
        self.client = client
        self.concurrency = concurrency
        self._lane: Http1Lane | None = None
        self._pool: ThreadPoolExecutor | None = None
        self.sender = "httpx-async"
        """What carries the bulk requests (reported as ``BulkReport.sender``)."""

    async def __aenter__(self) -> _Runner:
        assert isinstance(self.client, BaseClient), "a fleet job runs through bulk._fleet"
        if lane_available(self.client):
            self._lane = await Http1Lane(self.client, self.concurrency).__aenter__()
            self.sender = "http1"
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
    keep_outcomes: int | None = None,
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
    report = BulkReport(job, keep=keep_outcomes)
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
    context: _Context | None = None
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
        try:
            if context is not None:  # the last turn's lines, also when interrupted
                context.flush()
        finally:
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
        return asyncio.run(_boxed(make())).value
    # Called from inside an event loop (e.g. a notebook): run in a private thread.
    results: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            results.append(asyncio.run(_boxed(make())).value)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target, name="frankenws-bulk")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


class _Box(Generic[T]):
    """A job's result on its way out of ``asyncio.run``.

    On its way out, ``asyncio.run`` (3.11 at least) formats its main task's repr, result
    included, while restoring the SIGINT handler; for a report that is the repr of every
    outcome, formatted twice and thrown away (seconds and hundreds of MB for a million
    targets). A box has the plain object repr.
    """

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value


async def _boxed(job: Coroutine[Any, Any, T]) -> _Box[T]:
    return _Box(await job)


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
    keep_outcomes: int | None = ...,
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
    keep_outcomes: int | None = ...,
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
    keep_outcomes: int | None = None,
) -> BulkReport | Coroutine[Any, Any, BulkReport]:
    """Kill many connections.

    Args:
        client: A ``Client`` (runs now) or ``AsyncClient`` (returns a coroutine).
        ids: Connection ids; duplicates are killed once. Any iterable: a list is checked
            whole first; a generator or an open file is read as the job goes, not ahead
            of it (then an invalid id stops the job where it is read, and ``progress``
            counts the ids read so far as the total).
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
        keep_outcomes: Keep at most this many outcomes per step and status in
            ``report.outcomes`` (the rest are counted: ``report.counts()`` and
            ``report.ok`` stay exact, see :attr:`BulkReport.omitted`). ``None`` keeps
            all; for jobs of millions of targets, where the journal and ``on_outcome``
            have the full record, a bound keeps the report's memory bounded too.

    Returns:
        A :class:`BulkReport` with one ``kill`` outcome per id.
    """
    targets = _Targets(ids)
    _check_keep(keep_outcomes)

    async def body(ctx: _Context) -> None:
        done: list[str] | None = [] if wait_closed else None
        await ctx.apply(_kill_step(), targets.stream(ctx), done=done)
        if done is not None:
            await _wait_closed(ctx, done, timeout)

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
            keep_outcomes=keep_outcomes,
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
    keep_outcomes: int | None = ...,
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
    keep_outcomes: int | None = ...,
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
    keep_outcomes: int | None = None,
) -> BulkReport | Coroutine[Any, Any, BulkReport]:
    """Send the same message to many connections, one ``send`` per id.

    The server gives no delivery feedback for ``send``, so ``done`` means the request was
    accepted. On resume, an id whose send was in flight when the earlier run stopped is
    reported ``uncertain`` and not sent again (no duplicate messages). ``ids``,
    ``keep_outcomes`` and the other arguments are as for :func:`kill_connections`.
    """
    targets = _Targets(ids)
    _check_keep(keep_outcomes)
    step = _send_step("send", data, route)

    async def body(ctx: _Context) -> None:
        await ctx.apply(step, targets.stream(ctx))

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
            keep_outcomes=keep_outcomes,
        ),
    )
