"""``kill``, the command users type most: importable and runnable without typer.

``frankenws kill ID`` is the path whose start-up time matters (see ``_fast``), so its
logic lives here, free of typer, and the typer command only forwards to it.
Strictly private.
"""

from __future__ import annotations

import json
import sys
import tempfile
import weakref
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import IO, Any

from frankenws import Client

from ._context import AppContext
from ._errors import UsageProblem
from ._output import Lines, Result
from ._parse import non_empty

__all__ = ["SEQUENTIAL_KILLS", "kill_ids"]

# Up to this many ids are killed one request after the other with the already imported
# SDK client; more go through the bulk engine (concurrent requests, journal, progress).
# Importing and starting the engine costs more than it saves for a handful of ids.
SEQUENTIAL_KILLS = 20


def kill_ids(app: AppContext, ids: list[str], from_file: Path | None) -> Any:
    """Kill the given ids (``-`` reads stdin); a :class:`Result` or a ``BulkJob``.

    The ids are read to the end first, as a pipe may be slow and the job must not wait
    on it between two kills, but into an unnamed temporary file, not a list: a million
    piped ids are never held (the engine drops duplicates in a compact table). Only
    the first few are then read back first, to choose between one request after the
    other and the bulk engine.
    """
    given = ids or []
    stream = _spooled(given, from_file)
    first: dict[str, None] = {}
    for value in stream:
        first[value] = None
        if len(first) > SEQUENTIAL_KILLS:
            break
    targets = list(first)
    if not targets and ("-" in given or from_file is not None):
        # An empty pipeline (``clients --where ... | kill -`` matching nobody) is a
        # normal outcome in a script: there is nothing to kill.
        return Result(_empty_report(), Lines([]), notes=["no id given on input; nothing to kill"])
    if not targets:
        raise UsageProblem(
            "give at least one connection id",
            "frankenws kill ID..., or '-' to read ids from stdin, or --from FILE",
        )
    for target in given:
        if target != "-":  # ids read from stdin or a file are never empty
            non_empty(id=target)
    if app.dry_run:
        return _kill_dry_run(app.registered(), list(dict.fromkeys(stream.rewound())))
    if len(targets) > SEQUENTIAL_KILLS:
        return _kill_many(app, stream.rewound())
    client = app.begin_changes()
    # frankenws.bulk loads only its report types here; the engine stays unimported.
    from frankenws.bulk import BulkReport, Outcome

    report = BulkReport("kill")
    for target in targets:
        killed = app.act(
            "kill",
            target,
            lambda target=target: client.kill_connection(target),  # type: ignore[misc]
            outcome=lambda ok: "done" if ok else "not_found",
        )
        report.outcomes.append(Outcome(target, "kill", "done" if killed else "not_found"))
    report.finished = datetime.now(timezone.utc)
    result = Result(report.to_dict(), kill_view(report), exit_code=1 if report.not_found else 0)
    result.notes.extend(kill_notes(report))
    return result


_SAID = {"done": "killed", "not_found": "not found"}


def kill_view(report: Any, outcomes: Iterable[Any] | None = None) -> Lines:
    """One line per id, the same for 3 ids (sent one by one) and for 30 (bulk engine);
    ``outcomes`` (default ``report.outcomes``) is read as the lines are written."""
    return Lines(_Said(report.outcomes if outcomes is None else outcomes))


class _Said:
    def __init__(self, outcomes: Iterable[Any]) -> None:
        self._outcomes = outcomes

    def __iter__(self) -> Iterator[str]:
        for o in self._outcomes:
            said = _SAID.get(o.status, o.status.replace("_", " "))
            yield f"{said} {o.target}" + (f": {o.error}" if o.error else "")


def kill_notes(report: Any) -> list[str]:
    missing = report.counts()["not_found"]
    if not missing:
        return []
    return [
        f"{missing} id(s) not found: not connected, or already closed "
        "('frankenws clients' lists the connected ids)"
    ]


def _spooled(given: list[str], from_file: Path | None) -> _Spooled:
    """The ids of ``_parse.read_ids``, in the same order, read now into a temporary file
    (one JSON string per line: any id comes back as it was) and read back lazily."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the _Spooled goes
    count = 0
    try:
        for value in given:
            if value == "-":
                count += _spool(spool, _firsts(sys.stdin))
            else:
                count += _spool(spool, [value])
        if from_file is not None:
            try:
                with from_file.open(encoding="utf-8") as file:
                    # str.splitlines, as read_ids splits the file (U+2028 and the like).
                    parts = (part for line in file for part in line.splitlines())
                    count += _spool(spool, _firsts(parts))
            except OSError as exc:
                message = f"cannot read ids from {from_file}: {exc.strerror or exc}"
                raise UsageProblem(message) from None
            except UnicodeDecodeError:
                message = f"{from_file} is not UTF-8 text; expected one id per line"
                raise UsageProblem(message) from None
    except BaseException:
        spool.close()
        raise
    return _Spooled(spool, count).rewound()


def _spool(spool: IO[bytes], ids: Iterable[str]) -> int:
    written = 0
    for value in ids:
        spool.write(encode_basestring_ascii(value).encode() + b"\n")
        written += 1
    return written


class _Spooled:
    """The spooled ids, read back one at a time; ``rewound()`` starts again from the
    first. Its length hint (how many ids were read, duplicates included) lets the
    engine size its duplicate table once instead of growing it."""

    def __init__(self, spool: IO[bytes], count: int) -> None:
        self._spool = spool
        self._count = count
        weakref.finalize(self, spool.close)  # also when a job stops half-way

    def rewound(self) -> _Spooled:
        self._spool.seek(0)
        return self

    def __iter__(self) -> _Spooled:
        return self

    def __next__(self) -> str:
        line = self._spool.readline()
        if not line:
            raise StopIteration
        return unquoted(line[:-1].decode("ascii"))

    def __length_hint__(self) -> int:
        return self._count


def unquoted(field: str) -> str:
    """A string written by ``encode_basestring_ascii`` (the JSON string as ``json``
    writes it, ASCII only: no line end or tab inside, any id back as it was)."""
    return field[1:-1] if "\\" not in field else str(json.loads(field))


def _firsts(lines: Iterable[str]) -> Iterator[str]:
    # The first field of each record: list commands print "ID<tab>more" into pipes.
    for line in lines:
        first = line.partition("\t")[0].strip()
        if first:
            yield first


def _empty_report() -> dict[str, Any]:
    from frankenws.bulk import BulkReport

    report = BulkReport("kill")
    report.finished = report.started
    return report.to_dict()


def _kill_dry_run(registered: set[str], targets: list[str]) -> Result:
    live = [t for t in targets if t in registered]
    gone = [t for t in targets if t not in registered]
    plan = {
        "scenario": "kill",
        "summary": f"kill {len(live)} connection(s)",
        "params": {},
        "targets": [{"id": t, "reason": "connected"} for t in live],
        "left_alone": [{"id": t, "reason": "not connected"} for t in gone],
    }
    lines = [f"would kill {t}" for t in live] + [f"not connected {t}" for t in gone]
    return Result(
        {"plan": plan, "report": None, "dry_run": True},
        Lines(lines),
        notes=["dry run: nothing was changed"],
    )


def _count(node: Client) -> int:
    return node.get_clients_count()


def _kill_many(app: AppContext, targets: Iterable[str]) -> Any:
    from frankenws import bulk

    from ._jobs import KEEP_OUTCOMES, BulkJob

    client = app.client()
    # Unreachable server: exit 3 now, not N failed targets. A fleet goes on while some
    # node answers: the job reports the others per node.
    if isinstance(client, Client) or not client.map(_count).results:
        client.get_clients_count()

    def run(progress: Any, journal: Path | None, resume: Path | None, on_outcome: Any) -> Any:
        return bulk.kill_connections(
            client,
            targets,
            concurrency=app.concurrency,
            progress=progress,
            journal=journal,
            resume=resume,
            on_outcome=on_outcome,
            keep_outcomes=KEEP_OUTCOMES,
        )

    return BulkJob(None, run, confirm=False, strict=True, view=kill_view, notes=kill_notes)
