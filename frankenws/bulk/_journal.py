"""The bulk engine's journal: one JSON line per event, flushed as it happens.

Format (JSON lines; the first line is a header)::

    {"journal": "frankenws-bulk", "version": 1, "job": "...", "server": "...", "created": "..."}
    {"time": "...", "action": "kill", "target": "<id>", "status": "started"}
    {"time": "...", "action": "kill", "target": "<id>", "status": "done"}
    {"time": "...", "action": "kill", "target": "<id>", "status": "failed", "error": "..."}
    {"time": "...", "action": "kill", "target": "<id>", "status": "done", "carried": true}

On a fleet (a ``Cluster``), outcome lines also carry ``"node"``: the node that held the
target, where a resume sends it when the nodes' fresh listings no longer show it.

A ``carried`` line copies a status from another journal that this run resumed (with
``resume=old, journal=new``), so the new journal alone says what is already handled.

For steps that must not be repeated (sends), a ``started`` line is written before the
request leaves; the outcome line follows when it returns. An interrupted run thus leaves
behind exactly what it knows: a target with an outcome was handled, a target with only
``started`` may or may not have been. Kills need no ``started`` line: killing again is
harmless, so an unrecorded kill is simply retried on resume. Strictly
private; the public knobs are ``journal=`` and ``resume=`` of the bulk functions.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, Any

from frankenws._exceptions import InvalidArgument

__all__ = ["Journal", "JournalState", "load_journal"]

MAGIC = "frankenws-bulk"
HANDLED = frozenset({"done", "not_found"})


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class JournalState:
    """What an earlier run recorded, per (action, target)."""

    job: str | None = None
    server: str | None = None
    last: dict[tuple[str, str], str] = field(default_factory=dict)
    """The last status seen for each (action, target)."""
    nodes: dict[str, str] = field(default_factory=dict)
    """Target -> the node that held it (jobs on a ``Cluster``), so a resume goes there."""
    latest: dict[str, datetime] = field(default_factory=dict)
    """When each action last finished a target (e.g. when the last warning went out)."""

    def handled(self, action: str, target: str) -> bool:
        return self.last.get((action, target)) in HANDLED

    def in_flight(self, action: str, target: str) -> bool:
        """Started but never finished: the request may have reached the server."""
        return self.last.get((action, target)) in ("started", "uncertain")


def load_journal(path: str | os.PathLike[str]) -> JournalState:
    """Read a journal; a torn last line (the process died mid-write) is ignored."""
    state = JournalState()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidArgument(
            f"journal {os.fspath(path)!r} does not exist; nothing to resume"
        ) from None
    except OSError as exc:
        raise InvalidArgument(f"cannot read journal {os.fspath(path)!r}: {exc}") from None
    except UnicodeDecodeError:
        text = ""  # refused below, as any other file that does not start with the header
    lines = text.splitlines()
    _check_header(path, lines)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):
                break
            raise InvalidArgument(
                f"journal {os.fspath(path)!r} line {number} is not JSON; is it a frankenws journal?"
            ) from None
        if not isinstance(record, dict):
            raise InvalidArgument(f"journal {os.fspath(path)!r} line {number} is not an object")
        if number == 1 or "journal" in record:
            if record.get("journal") != MAGIC:
                raise InvalidArgument(f"{os.fspath(path)!r} is not a frankenws bulk journal")
            state.job = record.get("job")
            state.server = record.get("server")
            continue
        action, target, status = record.get("action"), record.get("target"), record.get("status")
        if isinstance(action, str) and isinstance(target, str) and isinstance(status, str):
            state.last[(action, target)] = status
            if isinstance(record.get("node"), str):
                state.nodes[target] = record["node"]
            _note_time(state, action, status, record.get("time"))
    return state


def _check_header(path: str | os.PathLike[str], lines: list[str]) -> None:
    """Refuse a file that does not start with a complete journal header.

    The header is written and flushed when the journal is created, before any request,
    so even a run killed at once leaves it whole; without this check any one-line or
    empty file would be "resumed" and then appended to.
    """
    first = next((line for line in lines if line.strip()), "")
    try:
        header = json.loads(first)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("journal") != MAGIC:
        raise InvalidArgument(
            f"{os.fspath(path)!r} is not a frankenws bulk journal (it does not start with "
            "the journal header); nothing was changed"
        )


def _note_time(state: JournalState, action: str, status: str, stamp: object) -> None:
    if status != "done" or not isinstance(stamp, str):
        return
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:  # a hand-edited time: the resume simply waits in full
        return
    if when.tzinfo is not None and (action not in state.latest or when > state.latest[action]):
        state.latest[action] = when


def _line(
    stamp: str, action: str, target: str, status: str, error: str | None, node: str | None
) -> str:
    """One outcome line, as ``json.dumps`` of its record would write it, several times
    cheaper (one line per target is a large share of a bulk kill's work)."""
    line = (
        f'{{"time":"{stamp}","action":{encode_basestring(action)},'
        f'"target":{encode_basestring(target)},"status":{encode_basestring(status)}'
    )
    if error:
        line += ',"error":' + encode_basestring(error)
    if node is not None:
        line += ',"node":' + encode_basestring(node)
    return line + "}\n"


class Journal:
    """Append-only journal file; every line is flushed before the next request goes out."""

    def __init__(self, path: str | os.PathLike[str], *, job: str, server: str) -> None:
        self.path = Path(path)
        self._stamped_at = 0.0
        self._stamp_text = ""
        try:
            exists = self.path.exists() and self.path.stat().st_size > 0
            # 0600: the lines name servers and connections, and a resume trusts them.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._file: IO[str] = os.fdopen(fd, "a", encoding="utf-8")
        except OSError as exc:
            raise InvalidArgument(f"cannot open journal {os.fspath(path)!r}: {exc}") from None
        if not exists:
            self._write(
                {"journal": MAGIC, "version": 1, "job": job, "server": server, "created": _now()}
            )

    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._file.flush()

    def started(self, action: str, target: str) -> None:
        self._write({"time": _now(), "action": action, "target": target, "status": "started"})

    def finished(
        self,
        action: str,
        target: str,
        status: str,
        error: str | None,
        node: str | None = None,
        *,
        flush: bool = True,
    ) -> None:
        """An outcome line; with ``flush=False`` it waits in the buffer for :meth:`flush`
        (the engine flushes once per turn of its event loop)."""
        self._file.write(_line(self._stamp(), action, target, status, error, node))
        if flush:
            self._file.flush()

    def flush(self) -> None:
        self._file.flush()

    def _stamp(self) -> str:
        # The time at millisecond precision, formatted once per millisecond: a bulk job
        # finishes several targets within one.
        now = time.time()
        if now - self._stamped_at >= 0.001 or now < self._stamped_at:
            self._stamped_at = now
            self._stamp_text = _now()
        return self._stamp_text

    def carried(self, action: str, target: str, status: str) -> None:
        """Copy a status from the journal being resumed (when writing to another file)."""
        record = {"time": _now(), "action": action, "target": target, "status": status}
        self._write({**record, "carried": True})

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
