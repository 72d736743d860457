"""Running bulk work: show the plan, confirm, run with progress and a journal, audit, report.

A bulk command returns a :class:`BulkJob` instead of a finished result; the app hands
it to :func:`execute`, which owns the interactive part (so commands still never print).

Every run writes a journal (``--journal PATH``, or a file under
``$XDG_STATE_HOME/frankenws/journals/`` that is deleted after a clean run), so an
interrupted or partly failed run can always be continued with ``--resume``. Strictly
private.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _output
from ._context import AppContext
from ._errors import Interrupted, NotDone, UsageProblem
from ._output import Lines, Result, Stack, Table

if TYPE_CHECKING:
    from frankenws.bulk import BulkReport, Plan

__all__ = ["BulkJob", "execute", "report_dict", "report_view"]

Progress = Callable[[int, int], None] | None
Runner = Callable[[Progress, Path | None, Path | None], "BulkReport"]


@dataclass
class BulkJob:
    """Work for :func:`execute`.

    Args:
        plan: What will be done (shown, confirmed); ``None`` for ``kill`` of given ids.
        run: ``run(progress, journal, resume) -> BulkReport``.
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
    if rows:
        views.append(Table(["ID", "REASON"], rows))
    return Stack(views)


def report_dict(
    job: str,
    outcomes: list[dict[str, Any]],
    started: datetime,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """The JSON of a report built without the bulk engine (same keys as ``BulkReport``).

    ``kill`` of a few ids does not import ``frankenws.bulk``: it is the most used
    command and that import alone costs about 5 % of its start-up time.
    """
    counts = dict.fromkeys(("done", "not_found", "failed", "skipped", "uncertain"), 0)
    for outcome in outcomes:
        counts[outcome["status"]] += 1
    return {
        "job": job,
        "ok": counts["failed"] == 0 and counts["uncertain"] == 0,
        "counts": counts,
        "started": started.isoformat(),
        "finished": datetime.now(timezone.utc).isoformat(),
        "notes": list(notes or []),
        "outcomes": outcomes,
    }


def summary_line(report: Mapping[str, Any], name: str | None = None) -> str:
    """``kill: 3 done, 1 not found, 0 failed``, one group per step (warn, kill, notify)."""
    per_action: dict[str, dict[str, int]] = {}
    for outcome in report["outcomes"]:
        counts = per_action.setdefault(
            outcome["action"],
            dict.fromkeys(("done", "not_found", "failed", "skipped", "uncertain"), 0),
        )
        counts[outcome["status"]] += 1
    groups = []
    for action, c in per_action.items():
        parts = [f"{c['done']} done", f"{c['not_found']} not found", f"{c['failed']} failed"]
        parts += [f"{c[k]} {k}" for k in ("skipped", "uncertain") if c[k]]
        groups.append(f"{action}: " + ", ".join(parts))
    return f"{name or report['job']}: " + ("; ".join(groups) or "nothing to do")


def report_view(report: Mapping[str, Any], *, each: bool = False, name: str | None = None) -> Stack:
    """The summary line, then the targets that were not ``done`` (or all, with ``each``)."""
    views: list[Any] = []
    rows = [
        (o["target"], o["action"], o["status"].replace("_", " "), o.get("error") or "")
        for o in report["outcomes"]
        if each or o["status"] != "done"
    ]
    if rows:
        views.append(Table(["ID", "ACTION", "STATUS", "ERROR"], rows))
    views.append(Lines([summary_line(report, name)]))
    return Stack(views)


def _auto_journal(app: AppContext) -> Path:
    directory = app.journal_dir
    if directory is None:
        base = os.environ.get("XDG_STATE_HOME") or os.path.join(
            os.path.expanduser("~"), ".local", "state"
        )
        directory = Path(base) / "frankenws" / "journals"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return directory / f"{app.command.replace(' ', '-')}-{stamp}-{os.getpid()}.jsonl"


def _journal_outcomes(path: Path, offset: int) -> list[dict[str, Any]]:
    """Final outcomes appended to a journal after ``offset`` (for the audit on Ctrl-C)."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            raw = handle.read().decode("utf-8", "replace")
    except OSError:
        return []
    found = []
    for line in raw.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line torn by the interruption
        if (
            isinstance(record, dict)
            and record.get("status") not in (None, "started")
            and not record.get("carried")  # copied from an earlier run, not done now
        ):
            found.append(record)
    return found


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
            journal.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageProblem(
                f"cannot create the journal directory {journal.parent}: {exc.strerror or exc}; "
                "nothing was changed",
                "choose a journal file with --journal PATH",
            ) from None
    watched = journal or job.resume
    offset = watched.stat().st_size if watched is not None and watched.exists() else 0
    description = plan.summary if plan is not None else app.command
    started = time.monotonic()
    try:
        with _output.progress(description) as callback:
            report = job.run(callback, journal, job.resume)
    except KeyboardInterrupt:
        recorded = _journal_outcomes(watched, offset) if watched is not None else []
        for record in recorded:
            app.audit.record(
                str(record.get("action")),
                str(record.get("target")),
                str(record.get("status")),
                error=record.get("error"),
            )
        hints = []
        if watched is not None:
            hints.append(f"continue with: frankenws {app.command} ... --resume {watched}")
        raise Interrupted(
            f"interrupted after {len(recorded)} target(s); the audit log has each of them",
            *hints,
        ) from None
    for outcome in report.outcomes:
        app.audit.record(outcome.action, outcome.target, outcome.status, error=outcome.error)
    data = report.to_dict()
    if auto and journal is not None and report.ok:
        journal.unlink(missing_ok=True)
        kept: Path | None = None
    else:
        kept = journal or job.resume
    result = Result(
        {"plan": planned, "report": data, "dry_run": False} if plan is not None else data,
        report_view(data, name=app.command),
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
