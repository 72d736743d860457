"""Running bulk work: show the plan, confirm, run with progress and a journal, audit, report.

A bulk command returns a :class:`BulkJob` instead of a finished result; the app hands
it to :func:`execute`, which owns the interactive part (so commands still never print).

Every run writes a journal (``--journal PATH``, or a file under
``$XDG_STATE_HOME/frankenws/journals/`` that is deleted after a clean run), so an
interrupted or partly failed run can always be continued with ``--resume``.

Memory stays flat however many targets a job has: the engine keeps no outcome
(``keep_outcomes=KEEP_OUTCOMES``, counts only), and the report's per-target rows, lines
and JSON outcomes are read back, as they are printed, from an unnamed file the job's
outcomes were written to as they came (:class:`Spill`), in the same order. Strictly
private.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import TYPE_CHECKING, Any

import frankenws

from . import _output
from ._audit import guard_existing, private_directory, state_home
from ._context import AppContext
from ._errors import (
    NOT_DONE,
    UNREACHABLE,
    Interrupted,
    NotDone,
    Terminated,
    UsageProblem,
    interruption,
)
from ._kill import unquoted
from ._output import Lines, Result, Stack, Streamed, Table, View
from ._progress import JobProgress, job_progress

if TYPE_CHECKING:
    from frankenws.bulk import BulkReport, Outcome, Plan

__all__ = [
    "KEEP_OUTCOMES",
    "BulkJob",
    "Spill",
    "execute",
    "remember_argv",
    "report_view",
    "resume_command",
]

KEEP_OUTCOMES = 0
"""What a job's runner passes as ``keep_outcomes``: the report only counts, the
:class:`Spill` has every outcome."""

_invoked: list[str] | None = None
"""The command line as the parser saw it; ``sys.argv`` is not it under ``CliRunner``."""

Progress = Callable[[int, int], None] | None
Runner = Callable[[Progress, Path | None, Path | None, Callable[["Outcome"], None]], "BulkReport"]


@dataclass
class BulkJob:
    """Work for :func:`execute`.

    Args:
        plan: What will be done (shown, confirmed); ``None`` for ``kill`` of given ids.
        run: ``run(progress, journal, resume, on_outcome) -> BulkReport``.
        resume: ``--resume`` journal.
        journal: ``--journal`` path.
        confirm: Ask before running (unless ``--yes``).
        strict: ``not_found`` targets also make the exit code 1 (``kill`` of given ids;
            in a planned job they only mean the connection left in the meantime).
        view: How to show the report, ``view(report, outcomes)`` (default: the targets
            not done, then a summary); ``outcomes`` is every outcome in the order
            recorded, to be read (more than once if need be), not held.
        notes: Extra notes about the report.
        advice: Warnings shown with the plan (a tag nobody holds, a likely typo).
        doubtful: An empty plan is more likely a mistake than "nothing to do" (a name
            close to an existing one): exit 1, not 0.
    """

    plan: Plan | None
    run: Runner
    resume: Path | None = None
    journal: Path | None = None
    confirm: bool = True
    strict: bool = False
    view: Callable[[BulkReport, Iterable[Outcome]], View] | None = None
    notes: Callable[[BulkReport], list[str]] | None = None
    advice: list[str] = field(default_factory=list)
    doubtful: bool = False


PREVIEW_ROWS = 10
"""Targets shown before the prompt: enough to check the plan, few enough that the
prompt does not scroll away."""


def plan_view(plan: Plan, *, limit: int | None = None) -> Stack:
    """The plan's summary and targets; with ``limit``, the first rows and a count."""
    rows = sorted((item.id, item.reason) for item in plan.targets)
    views: list[Any] = [Lines([plan.summary])]
    shown = rows if limit is None else rows[:limit]
    if shown and any(item.node for item in plan.targets):
        # A fleet's plan: which node holds each target.
        node_of = {item.id: item.node or "-" for item in plan.targets}
        views.append(
            Table(["ID", "REASON", "NODE"], [(i, r, node_of.get(i, "-")) for i, r in shown])
        )
    elif shown:
        views.append(Table(["ID", "REASON"], shown))
    if len(shown) < len(rows):
        views.append(Lines([f"… {len(rows) - len(shown):,} more; --json for all"]))
    return Stack(views)


def _where(app: AppContext) -> str:
    """The server as the prompt names it: ``host:port``, or the nodes of a fleet."""
    client = app.client()
    if isinstance(client, frankenws.Client):
        return client.url
    names = [node.name.partition("://")[2] or node.name for node in client.nodes]
    return f"{len(names)} nodes ({', '.join(names)})"


def question(plan: Plan, server: str) -> str:
    """The prompt: what will happen, to how many connections, on which server."""
    count = f"{len(plan.targets):,} connection(s)"
    where = server.partition("://")[2] or server
    if plan.scenario == "maintenance":
        return f"Warn and then disconnect {count} on {where}?"
    return f"Disconnect {count} on {where}?"


def report_view(
    report: BulkReport,
    outcomes: Iterable[Outcome] | None = None,
    *,
    each: bool = False,
    name: str | None = None,
) -> Stack:
    """The targets that were not ``done`` (or all, with ``each``), then the summary line.

    ``outcomes`` (default ``report.outcomes``) is read as the view is drawn.
    """
    every = report.outcomes if outcomes is None else outcomes
    views: list[Any] = []
    fleet = (
        every.placed if isinstance(every, Spill) else any(o.node for o in every)
    ) or report.node_errors
    shown = _Rows(every, each=each, fleet=bool(fleet))
    if shown and fleet:
        views.append(Table(["ID", "NODE", "ACTION", "STATUS", "ERROR"], shown))
    elif shown:
        views.append(Table(["ID", "ACTION", "STATUS", "ERROR"], shown))
    if fleet:
        views.append(_per_node(report))
    views.append(Lines([report.summary(name)]))
    return Stack(views)


class _Rows:
    """The report's rows, made from the outcomes each time they are read."""

    def __init__(self, outcomes: Iterable[Outcome], *, each: bool, fleet: bool) -> None:
        self._outcomes = outcomes
        self._each = each
        self._fleet = fleet

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        outcomes = self._outcomes
        if isinstance(outcomes, Spill):
            outcomes = outcomes.read(skip_done=not self._each)
        for o in outcomes:
            if self._each or o.status != "done":
                said = (o.action, o.status.replace("_", " "), o.error or "")
                yield (o.target, o.node or "-", *said) if self._fleet else (o.target, *said)

    def __bool__(self) -> bool:
        outcomes = self._outcomes
        if isinstance(outcomes, Spill):  # counted as written: no need to read it back
            return bool(outcomes.recorded if self._each else outcomes.not_done)
        return next(iter(self), None) is not None


class Spill:
    """Every outcome of a job, in the order recorded, in an unnamed temporary file.

    What the CLI prints per target comes from here, read back as it is printed, so a
    job of a million targets holds none of them (about 60 bytes each on disk, for as
    long as the process runs). Iterating reads the file from the start each time.
    """

    def __init__(self) -> None:
        fd, path = tempfile.mkstemp(prefix="frankenws-outcomes-", suffix=".jsonl")
        self._file = os.fdopen(fd, "wb")
        self._path = path
        self._finalizer = weakref.finalize(self, _discard, self._file, path)
        self.placed = False
        """Some outcome names a node (a fleet job)."""
        self.recorded = 0
        self.uncertain = 0
        self.not_done = 0

    def add(self, outcome: Outcome) -> None:
        # One line of tab-separated ASCII JSON strings (empty for None): any id, even
        # one holding lone surrogates, comes back as it was; faster than json.dumps.
        quoted = encode_basestring_ascii
        error, node = outcome.error, outcome.node
        line = (
            f"{quoted(outcome.target)}\t{quoted(outcome.action)}\t{quoted(outcome.status)}\t"
            f"{'' if error is None else quoted(error)}\t{'' if node is None else quoted(node)}\n"
        )
        self._file.write(line.encode())
        self.placed = self.placed or outcome.node is not None
        self.recorded += 1
        self.uncertain += outcome.status == "uncertain"
        self.not_done += outcome.status != "done"

    def __iter__(self) -> Iterator[Outcome]:
        return self.read()

    def read(self, *, skip_done: bool = False) -> Iterator[Outcome]:
        """The outcomes in the order recorded; ``skip_done`` leaves out the ``done`` ones
        before decoding them (a report lists only the others, usually few)."""
        from frankenws.bulk import Outcome

        self._file.flush()
        with open(self._path, "rb") as file:
            for line in file:
                if skip_done and line.split(b"\t", 3)[2] == b'"done"':
                    continue
                target, action, status, error, node = line[:-1].decode("ascii").split("\t")
                yield Outcome(
                    unquoted(target),
                    unquoted(action),
                    unquoted(status),
                    unquoted(error) if error else None,
                    unquoted(node) if node else None,
                )

    def dicts(self) -> Iterator[dict[str, Any]]:
        return (o.to_dict() for o in self)


def _discard(file: Any, path: str) -> None:
    file.close()
    with suppress(OSError):
        os.unlink(path)


def _per_node(report: BulkReport) -> Table:
    """The per-node report of a fleet job: counts, and the nodes that failed."""
    counts = report.counts_by_node()
    rows: list[tuple[str, int | str, int | str, int | str, str]] = [
        (node or "-", c["done"], c["not_found"], c["failed"] + c["uncertain"], "")
        for node, c in sorted(counts.items(), key=lambda item: item[0] or "")
    ]
    rows += [(node, "-", "-", "-", error) for node, error in sorted(report.node_errors.items())]
    return Table(["NODE", "DONE", "NOT FOUND", "FAILED", "ERROR"], rows)


def _auto_journal(app: AppContext) -> Path:
    directory = app.journal_dir
    if directory is None:
        directory = state_home() / "frankenws" / "journals"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return directory / f"{app.command.replace(' ', '-')}-{stamp}-{os.getpid()}.jsonl"


def execute(app: AppContext, job: BulkJob) -> Result:
    """Show, confirm and run a bulk job; returns the final result (exit 1 if not ok)."""
    plan = job.plan
    planned = _plan_data(plan) if plan is not None else None
    if plan is not None:
        base: dict[str, Any] = {"plan": planned, "report": None, "dry_run": app.dry_run}
        notes = []
        if plan.left_alone:
            notes.append(
                f"{len(plan.left_alone)} connection(s) looked at and left alone "
                "(--json lists them with the reason)"
            )
        if app.dry_run:
            return Result(
                base,
                plan_view(plan),
                notes=[*notes, "dry run: nothing was changed"],
                warnings=list(job.advice),
            )
        if not plan.targets:
            return Result(
                base,
                plan_view(plan),
                exit_code=NOT_DONE if job.doubtful else 0,
                notes=[*notes, "nothing to do"],
                warnings=list(job.advice),
            )
        for text in job.advice:
            _output.warning(text)
        # The preview is for the operator, not the data stream: stderr, bounded, so the
        # prompt stays on screen and stdout (maybe a file) gets only the report.
        if job.confirm and not app.yes:
            _output.note_view(plan_view(plan, limit=PREVIEW_ROWS))
        else:
            _output.note(plan.summary)
        for text in notes:
            _output.note(text)
        if job.confirm and not app.yes and not _output.confirm(question(plan, _where(app))):
            raise NotDone("cancelled; nothing was changed")

    app.begin_changes()
    auto = job.journal is None and job.resume is None
    journal = _auto_journal(app) if auto else job.journal
    if journal is not None:
        try:
            private_directory(journal.parent)
        except OSError as exc:
            raise UsageProblem(
                f"cannot create the journal directory {journal.parent}: {exc.strerror or exc}; "
                "nothing was changed",
                "choose a journal file with --journal PATH",
            ) from None
    for existing in (journal, job.resume):
        if existing is not None:
            guard_existing(existing, "journal")
    watched = journal or job.resume
    total = len(plan.targets) if plan is not None else None
    spill = Spill()

    def audit(outcome: Outcome) -> None:
        # As each target finishes, not after the job: a run that is killed (SIGTERM,
        # SIGKILL) still leaves every finished target in the audit log. Targets the job
        # never tried changed nothing: the journal has them, the audit log need not.
        if outcome.status != "not_attempted":
            app.audit.record(outcome.action, outcome.target, outcome.status, error=outcome.error)
        spill.add(outcome)
        if bar is not None:
            bar.target(outcome.action)

    started = time.monotonic()
    bar: JobProgress | None = None
    sigterm = threading.Event()
    try:
        with job_progress(app.command, total) as bar, terminate_as_interrupt(sigterm):
            report = job.run(bar, journal, job.resume, audit)
    except KeyboardInterrupt as exc:
        hints = [f"continue with: {resume_command(watched)}"] if watched is not None else []
        cut = spill.uncertain
        word, code = interruption(Terminated() if sigterm.is_set() else exc)
        stopped = Interrupted(
            f"{word} after {spill.recorded} target(s), {cut} of them in flight and "
            "recorded as uncertain; the journal and the audit log have each of them",
            *hints,
        )
        stopped.exit_code = code
        raise stopped from None
    data = report.to_dict()
    # Every outcome, as the report would list them all: read back as they are written.
    data.pop("omitted", None)
    data["outcomes"] = Streamed(spill.dicts)
    counts = report.counts()
    if auto and journal is not None and report.ok:
        journal.unlink(missing_ok=True)
        kept: Path | None = None
    else:
        kept = journal or job.resume
    code = 0 if report.ok and not (job.strict and counts["not_found"]) else NOT_DONE
    unheard = report.counts("notify")["not_found"]
    if unheard:  # the kills are done, but nobody was told: not "all went well"
        code = NOT_DONE
    result = Result(
        {"plan": planned, "report": data, "dry_run": False} if plan is not None else data,
        job.view(report, spill) if job.view else report_view(report, spill, name=app.command),
        exit_code=UNREACHABLE if report.stopped else code,
        warnings=list(report.notes),
        notes=job.notes(report) if job.notes else [],
    )
    if unheard:
        result.warnings.append(
            f"{unheard:,} alert(s) reached nobody: no connection held the tag when they were sent"
        )
    if report.stopped:
        result.warnings.append(
            f"stopped: {report.stopped}; {counts['not_attempted']:,} target(s) not attempted"
        )
    elapsed = time.monotonic() - started
    if elapsed >= 1:
        result.notes.append(f"finished in {elapsed:.1f} s")
    if not report.ok and kept is not None:
        result.warnings.append(
            f"the journal is {kept}; to retry only what is not done, run: {resume_command(kept)}"
        )
    return result


def _plan_data(plan: Plan) -> dict[str, Any]:
    """``plan.to_dict()`` with its targets made as ``--json`` writes them: the plan
    itself is the only per-target memory of a planned job."""
    data = replace(plan, targets=(), left_alone=()).to_dict()
    data["targets"] = Streamed(lambda: (item.to_dict() for item in plan.targets))
    data["left_alone"] = Streamed(lambda: (item.to_dict() for item in plan.left_alone))
    return data


def remember_argv(argv: Sequence[str]) -> None:
    """Keep the command line as typed (the parsers call this), for the resume command."""
    global _invoked
    _invoked = list(argv)


def invoked_argv() -> list[str]:
    """The arguments this command was started with (after the program name)."""
    return list(_invoked) if _invoked is not None else sys.argv[1:]


def resume_command(journal: Path, argv: list[str] | None = None) -> str:
    """The exact command line that continues this run: the same arguments, ``--resume``.

    An earlier ``--resume`` is replaced, so the hint of a resumed run that failed again
    names the journal to continue from, once.
    """
    words: list[str] = []
    skip = False
    for word in invoked_argv() if argv is None else argv:
        if skip:
            skip = False
        elif word == "--resume":
            skip = True
        elif not word.startswith("--resume="):
            words.append(word)
    return shlex.join(["frankenws", *words, "--resume", str(journal)])


@contextmanager
def terminate_as_interrupt(sigterm: threading.Event) -> Iterator[None]:
    """SIGTERM takes the Ctrl-C path while a job runs: in-flight targets get recorded.

    The process-wide SIGTERM handler raises where it lands, which inside asyncio's loop
    would skip the job's own clean-up; raising SIGINT instead lets asyncio cancel the
    job as for Ctrl-C. ``sigterm`` remembers which signal it was, for the exit code (143).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        sigterm.set()
        # Raised as SIGINT, so asyncio's own SIGINT handling cancels the job cleanly.
        signal.raise_signal(signal.SIGINT)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
