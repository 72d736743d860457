"""One bulk job's shared state: applying a step to many targets, recording outcomes.

Strictly private; ``_engine`` sets a context up for each job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Iterable
from typing import TYPE_CHECKING

from frankenws._exceptions import ConnectError, FrankenWSError, TransportError

from ._breaker import INTERRUPTED, NOT_ATTEMPTED, Breaker
from ._journal import HANDLED, IN_FLIGHT, Journal, JournalState
from ._report import BulkReport, Outcome
from ._steps import _Step

if TYPE_CHECKING:
    from ._engine import _Runner

__all__ = ["OutcomeCallback", "ProgressCallback", "_Context"]

ProgressCallback = Callable[[int, int], object]
SETTLED_PER_FLUSH = 1024
"""Outcomes the resumed journal settles that may wait for one flush."""
OutcomeCallback = Callable[[Outcome], object]


class _Context:
    """Shared state of one bulk job: runner, journal, resume state, progress, report.

    Journal lines are flushed once per turn of the event loop: the lines of the outcomes
    recorded during one turn reach the file in one write, at the end of that turn, and
    only then are those outcomes passed to ``on_outcome`` (so an audit log written there
    is never ahead of the journal). A process killed before that flush loses at most the
    lines of that turn, and those are kills, which a resume repeats harmlessly: a step
    that must not be repeated flushes its ``started`` line, and every line before it,
    before its request leaves. An interrupted job (Ctrl-C, SIGTERM) flushes as it ends.
    """

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
        self._unflushed: list[Outcome] = []
        """Outcomes whose journal lines wait for the end of this turn (for on_outcome)."""
        self._flush_due = False
        self._failure: BaseException | None = None
        """What stopped the job from inside (a journal that cannot be written, a callback
        that raised, an invalid id read from a stream); raised once in-flight work ends."""

    def record(self, outcome: Outcome, *, journal: bool = True) -> None:
        self.report.add(outcome)
        if self.journal is None:
            if self.on_outcome is not None:
                self.on_outcome(outcome)
        else:
            if journal:
                self.journal.finished(
                    outcome.action,
                    outcome.target,
                    outcome.status,
                    outcome.error,
                    outcome.node,
                    flush=False,
                )
            self._unflushed.append(outcome)
            if not self._flush_due:
                self._flush_due = True
                asyncio.get_running_loop().call_soon(self._flush_soon)
        self.completed += 1
        if self.progress is not None:
            self.progress(self.completed, self.total)

    def _flush_soon(self) -> None:
        self._flush_due = False
        try:
            self.flush()
        except Exception as exc:  # raised in the workers, which stop taking targets
            if self._failure is None:
                self._failure = exc

    def flush(self) -> None:
        """Flush the journal, then pass the outcomes it now holds to ``on_outcome``."""
        if self.journal is not None:
            self.journal.flush()
        self._announce()

    def _announce(self) -> None:
        outcomes, self._unflushed = self._unflushed, []
        if self.on_outcome is not None:
            for outcome in outcomes:
                self.on_outcome(outcome)

    def started(self, action: str, target: str) -> None:
        """Journal a step's request before it leaves (flushed, with every line before it)."""
        if self.journal is not None:
            self.journal.started(action, target)
            self._announce()

    def _settled(self, step: _Step, target: str) -> Outcome | None:
        """The outcome the resumed journal already decides for ``target`` (else ``None``)."""
        resume = self.resume
        if resume is None:
            return None
        if len(self._unflushed) >= SETTLED_PER_FLUSH:
            # Targets the journal settles take no request, so a worker goes through
            # them without ever yielding to the loop (whose turn ends with the flush):
            # without this, a resume of a million done targets would hold them all.
            self.flush()
        before = resume.status(step.action, target)
        if before in HANDLED:
            outcome = Outcome(target, step.action, "skipped")
            self.record(outcome, journal=False)
            if self.journal_skips and self.journal is not None:
                # Carry the earlier status over, so this journal alone is enough to
                # resume from (without it, a resume would act on the target again).
                self.journal.carried(step.action, target, before)
            return outcome
        if not step.repeatable and before in IN_FLIGHT:
            outcome = Outcome(
                target,
                step.action,
                "uncertain",
                "the interrupted run sent this request but recorded no answer; "
                "not sent again to avoid a duplicate",
            )
            self.record(outcome)
            return outcome
        return None

    async def apply(
        self,
        step: _Step,
        targets: Iterable[str],
        after: Callable[[Outcome], Awaitable[None]] | None = None,
        *,
        done: list[str] | None = None,
    ) -> None:
        """Apply one step to every target with bounded concurrency; never raises per target.

        ``targets`` is read as the work goes, so a stream is never held whole; the
        targets found ``done`` are appended to ``done`` when it is given.
        """
        stream = iter(targets)
        breaker = self.breaker
        runner = self.runner
        action = step.action

        async def worker() -> None:
            try:
                await work()
            except Exception as exc:  # the others finish what they sent, then it is raised
                if self._failure is None:
                    self._failure = exc

        async def work() -> None:
            while self._failure is None:
                try:
                    target = next(stream)  # a bad id in a one-shot stream raises here
                except StopIteration:
                    return
                outcome = self._settled(step, target)
                if outcome is None and breaker.reason is not None:
                    # The job stopped: what is left waits for a resume.
                    outcome = Outcome(target, action, "not_attempted", NOT_ATTEMPTED)
                    self.record(outcome)
                    continue
                if outcome is None:
                    # Repeatable steps (kills) need no "started" line: a kill that may
                    # have been sent is simply sent again on resume.
                    if not step.repeatable:
                        self.started(action, target)
                    unreachable = False
                    try:
                        result = await runner.bulk(step.make_call(target), target)
                        outcome = Outcome(target, action, step.classify(result))
                    except asyncio.CancelledError:
                        # Ctrl-C or SIGTERM with this request in flight: the server may
                        # have acted on it, so it goes into the journal and the audit log.
                        self.record(Outcome(target, action, "uncertain", INTERRUPTED))
                        raise
                    except ConnectError as exc:  # never reached the server: safe to retry
                        outcome = Outcome(target, action, "failed", str(exc))
                        unreachable = True
                    except TransportError as exc:
                        # A timeout or a dropped connection after the request left: it
                        # may have been acted on. A send must not be repeated on resume.
                        status = "failed" if step.repeatable else "uncertain"
                        outcome = Outcome(target, action, status, str(exc))
                        unreachable = True
                    except FrankenWSError as exc:
                        outcome = Outcome(target, action, "failed", str(exc))
                    breaker.saw(outcome, unreachable)
                    self.record(outcome)
                    if done is not None and outcome.status == "done":
                        done.append(target)
                # Outcomes settled by the resumed journal still get their follow-up (e.g.
                # the alert owed for a kill the interrupted run did but could not announce).
                if after is not None:
                    await after(outcome)

        size = len(targets) if isinstance(targets, Collection) else runner.concurrency
        await asyncio.gather(*(worker() for _ in range(min(runner.concurrency, size))))
        if self._failure is not None:
            raise self._failure
