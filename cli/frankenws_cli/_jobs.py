"""Running bulk work: show the plan, confirm, run with progress and a journal, audit, report.

A bulk command returns a :class:`BulkJob` instead of a finished result; the app hands
it to :func:`execute`, which owns the interactive part (so commands still never print).

Every run writes a journal (``--journal PATH``, or a file under
``$XDG_STATE_HOME/frankenws/journals/`` that is deleted after a clean run), so an
interrupted or partly failed run can always be continued with ``--resume``. Strictly
private.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _output
from ._audit import private_directory, state_home
from ._context import AppContext
from ._errors import Interrupted, NotDone, UsageProblem, interruption
from ._output import Lines, Result, Stack, Table

if TYPE_CHECKING:
    from frankenws.bulk import BulkReport, Outcome, Plan

__all__ = ["BulkJob", "execute", "report_view"]

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
    """

    plan: Plan | None
    run: Runner
    resume: Path | None = None
    journal: Path | None = None
    confirm: bool = True
    strict: bool = False


def plan_view(plan: Plan) -> Stack:
    rows = sorted((item.id, item.reason) for item in plan.targets)
    views: list[Any] = [Lines([plan.summary])]
    if rows and any(item.node for item in plan.targets):
        # A fleet's plan: which node holds each target.
        placed = sorted((item.id, item.reason, item.node or "-") for item in plan.targets)
        views.append(Table(["ID", "REASON", "NODE"], placed))
    elif rows:
        views.append(Table(["ID", "REASON"], rows))
    return Stack(views)


def report_view(report: BulkReport, *, each: bool = False, name: str | None = None) -> Stack:
    """The targets that were not ``done`` (or all, with ``each``), then the summary line."""
    views: list[Any] = []
    rows = [
        (o.target, o.action, o.status.replace("_", " "), o.error or "")
        for o in report.outcomes
        if each or o.status != "done"
    ]
    fleet = any(o.node for o in report.outcomes) or report.node_errors
    if rows and fleet:
        placed = [
            (o.target, o.node or "-", o.action, o.status.replace("_", " "), o.error or "")
            for o in report.outcomes
            if each or o.status != "done"
        ]
        views.append(Table(["ID", "NODE", "ACTION", "STATUS", "ERROR"], placed))
    elif rows:
        views.append(Table(["ID", "ACTION", "STATUS", "ERROR"], rows))
    if fleet:
        views.append(_per_node(report))
    views.append(Lines([report.summary(name)]))
    return Stack(views)


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
    planned = plan.to_dict() if plan is not None else None
    if plan is not None:
        base: dict[str, Any] = {"plan": planned, "report": None, "dry_run": app.dry_run}
        notes = []
        if plan.left_alone:
            notes.append(
                f"{len(plan.left_alone)} connection(s) looked at and left alone "
                "(--json lists them with the reason)"
            )
        if app.dry_run:
            return Result(base, plan_view(plan), notes=[*notes, "dry run: nothing was changed"])
        if not plan.targets:
            return Result(base, plan_view(plan), notes=[*notes, "nothing to do"])
        if not app.json:
            plan_view(plan).render(sys.stdout)
        for text in notes:
            _output.note(text)
        if job.confirm and not app.yes:
            if app.json:
                _output.note(plan.summary)
            if not _output.confirm("Proceed?"):
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
    watched = journal or job.resume
    description = plan.summary if plan is not None else app.command
    audited: list[Outcome] = []

    def audit(outcome: Outcome) -> None:
        # As each target finishes, not after the job: a run that is killed (SIGTERM,
        # SIGKILL) still leaves every finished target in the audit log.
        app.audit.record(outcome.action, outcome.target, outcome.status, error=outcome.error)
        audited.append(outcome)

    started = time.monotonic()
    try:
        with _output.progress(description) as callback:
            report = job.run(callback, journal, job.resume, audit)
    except KeyboardInterrupt as exc:
        hints = []
        if watched is not None:
            hints.append(f"continue with: frankenws {app.command} ... --resume {watched}")
        word, code = interruption(exc)
        stopped = Interrupted(
            f"{word} after {len(audited)} target(s); the audit log has each of them",
            *hints,
        )
        stopped.exit_code = code
        raise stopped from None
    data = report.to_dict()
    if auto and journal is not None and report.ok:
        journal.unlink(missing_ok=True)
        kept: Path | None = None
    else:
        kept = journal or job.resume
    result = Result(
        {"plan": planned, "report": data, "dry_run": False} if plan is not None else data,
        report_view(report, name=app.command),
        exit_code=0 if report.ok and not (job.strict and report.not_found) else 1,
        warnings=list(report.notes),
    )
    elapsed = time.monotonic() - started
    if elapsed >= 1:
        result.notes.append(f"finished in {elapsed:.1f} s")
    if not report.ok and kept is not None:
        result.warnings.append(
            f"the journal is {kept}; run the same command with --resume {kept} to retry "
            "the failed targets only"
        )
    return result
