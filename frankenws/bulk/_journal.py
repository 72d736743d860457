"""The bulk engine's journal: one JSON line per event, flushed as it happens.

Format (JSON lines; the first line is a header)::

    {"journal": "frankenws-bulk", "version": 1, "job": "...", "server": "...", "created": "..."}
    {"time": "...", "action": "kill", "target": "<id>", "status": "started"}
    {"time": "...", "action": "kill", "target": "<id>", "status": "done"}
    {"time": "...", "action": "kill", "target": "<id>", "status": "failed", "error": "..."}
    {"time": "...", "action": "kill", "target": "<id>", "status": "done", "carried": true}

On a fleet (a ``Cluster``), outcome lines also carry ``"node"``: the node that held the
target, where a resume sends it when the nodes' fresh listings no longer show it.

A torn last line (the process died mid-write) is ignored by a resume, and cut off
before the resume appends its own lines. Lines end at ``\n`` only.

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

import itertools
import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, Any

from frankenws._exceptions import InvalidArgument

from ._digests import DigestTable, digest

__all__ = ["Journal", "JournalState", "load_journal"]

MAGIC = "frankenws-bulk"
HANDLED = frozenset({"done", "not_found"})
IN_FLIGHT = frozenset({"started", "uncertain"})
"""Started but never finished: the request may have reached the server."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class JournalState:
    """What an earlier run recorded, per (action, target), in compact tables.

    A resume of a job of millions of targets must not cost a dict entry and a string
    per target: the last status of each (action, target) is kept as a one-byte code in
    a :class:`DigestTable` per action, keyed by the target's 128-bit digest, and the node
    of each target (jobs on a ``Cluster``) as a two-byte code in another, about 35 bytes
    per target each. :attr:`last` and :attr:`nodes` read like the dicts they replace;
    listing them (rare: the alerts owed by a resumed ``disconnect_matching``) reads the
    targets back from the journal, up to where it ended when it was loaded.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.job: str | None = None
        self.server: str | None = None
        self.latest: dict[str, datetime] = {}
        """When each action last finished a target (e.g. when the last warning went out)."""
        self.path = path
        self.end = 0
        """The journal's size when it was loaded: later lines are this run's own."""
        self._statuses: dict[str, DigestTable] = {}
        self._codes: dict[str, int] = {}
        self._names: list[str] = [""]
        self._owners = DigestTable(wide=True)
        self._node_codes: dict[str, int] = {}
        self._node_names: list[str] = [""]
        self.last: Mapping[tuple[str, str], str] = _Statuses(self)
        """The last status seen for each (action, target)."""
        self.nodes: Mapping[str, str] = _Nodes(self)
        """Target -> the node that held it (jobs on a ``Cluster``), so a resume goes there."""

    def status(self, action: str, target: str) -> str | None:
        """The last status recorded for ``target`` in ``action`` (``None``: none)."""
        table = self._statuses.get(action)
        code = table.get(digest(target)) if table is not None else 0
        return self._names[code] if code else None

    def handled(self, action: str, target: str) -> bool:
        return self.status(action, target) in HANDLED

    def in_flight(self, action: str, target: str) -> bool:
        """Started but never finished: the request may have reached the server."""
        return self.status(action, target) in IN_FLIGHT

    def node_of(self, target: str) -> str | None:
        code = self._owners.get(digest(target))
        return self._node_names[code] if code else None

    def _note(self, action: str, target: str, status: str, node: object) -> None:
        key = digest(target)
        table = self._statuses.get(action)
        if table is None:
            table = self._statuses[action] = DigestTable()
        table.put(key, _code(self._codes, self._names, status, 255, "statuses"))
        if isinstance(node, str):
            self._owners.put(key, _code(self._node_codes, self._node_names, node, 65535, "nodes"))

    def _records(self) -> Iterator[tuple[str, str, str, object]]:
        """(action, target, status, node) of each outcome line, read again from the file."""
        if self.path is None:
            return
        with open(self.path, "rb") as file:
            for _, record in _records(self.path, _lines(file, self.end)):
                yield record


def _code(codes: dict[str, int], names: list[str], name: str, most: int, what: str) -> int:
    code = codes.get(name)
    if code is None:
        if len(names) > most:
            raise InvalidArgument(f"the journal names more than {most} distinct {what}")
        code = codes[name] = len(names)
        names.append(name)
    return code


class _Statuses(Mapping[tuple[str, str], str]):
    """``JournalState.last``: (action, target) -> last status, as a read-only mapping."""

    def __init__(self, state: JournalState) -> None:
        self._state = state

    def __getitem__(self, key: tuple[str, str]) -> str:
        status = self._state.status(*key)
        if status is None:
            raise KeyError(key)
        return status

    def __len__(self) -> int:
        return sum(len(table) for table in self._state._statuses.values())

    def __iter__(self) -> Iterator[tuple[str, str]]:
        listed: dict[str, DigestTable] = {}
        for action, target, _, _ in self._state._records():
            table = listed.setdefault(action, DigestTable())
            if table.add(digest(target)):
                yield action, target


class _Nodes(Mapping[str, str]):
    """``JournalState.nodes``: target -> the node that held it, as a read-only mapping."""

    def __init__(self, state: JournalState) -> None:
        self._state = state

    def __getitem__(self, target: str) -> str:
        node = self._state.node_of(target)
        if node is None:
            raise KeyError(target)
        return node

    def __len__(self) -> int:
        return len(self._state._owners)

    def __iter__(self) -> Iterator[str]:
        listed = DigestTable()
        for _, target, _, node in self._state._records():
            if isinstance(node, str) and listed.add(digest(target)):
                yield target


def load_journal(path: str | os.PathLike[str]) -> JournalState:
    """Read a journal; a torn last line (the process died mid-write) is ignored.

    Read line by line, never whole: only the compact :class:`JournalState` grows with it.
    Lines end at ``\n`` only: an id may hold U+2028 or U+0085, which the journal writes
    as they are and which ``str.splitlines`` would take for line ends.
    """
    state = JournalState(path)
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed below, after the header check
    except FileNotFoundError:
        raise InvalidArgument(
            f"journal {os.fspath(path)!r} does not exist; nothing to resume"
        ) from None
    except OSError as exc:
        raise InvalidArgument(f"cannot read journal {os.fspath(path)!r}: {exc}") from None
    with file:
        try:
            lines = _lines(file)
            first = _check_header(path, lines)
            for record in _records(path, itertools.chain(first, lines), state):
                action, target, status, node = record[1]
                state._note(action, target, status, node)
                _note_time(state, action, status, record[0])
            # A torn last line is cut off before this run appends: what follows it then
            # is this run's own.
            state.end = _whole_lines_end(file)
        except OSError as exc:
            raise InvalidArgument(f"cannot read journal {os.fspath(path)!r}: {exc}") from None
    return state


def _lines(file: IO[bytes], end: int | None = None) -> Iterator[tuple[int, str | None]]:
    """(line number, text) of each line (up to byte ``end``, when given; a line that
    goes past it was not there then); ``None`` for a line that is not UTF-8."""
    read = 0
    for number, raw in enumerate(file, 1):
        read += len(raw)
        if end is not None and read > end:
            return
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None


def _check_header(
    path: str | os.PathLike[str], lines: Iterator[tuple[int, str | None]]
) -> list[tuple[int, str | None]]:
    """Refuse a file that does not start with a complete journal header; returns the
    lines read up to and including it.

    The header is written and flushed when the journal is created, before any request,
    so even a run killed at once leaves it whole; without this check any one-line or
    empty file would be "resumed" and then appended to.
    """
    read: list[tuple[int, str | None]] = []
    header: object = None
    for number, text in lines:
        read.append((number, text))
        if text is None or text.strip():
            try:
                header = json.loads(text) if text is not None else None
            except ValueError:
                header = None
            break
    if not isinstance(header, dict) or header.get("journal") != MAGIC:
        raise InvalidArgument(
            f"{os.fspath(path)!r} is not a frankenws bulk journal (it does not start with "
            "the journal header); nothing was changed"
        )
    return read


def _records(
    path: str | os.PathLike[str],
    lines: Iterable[tuple[int, str | None]],
    state: JournalState | None = None,
) -> Iterator[tuple[object, tuple[str, str, str, object]]]:
    """(time, (action, target, status, node)) of each outcome line; headers go to
    ``state``. A line that is not JSON is refused unless it is the last (torn) one."""
    bad: int | None = None
    for number, text in lines:
        if bad is not None:
            raise InvalidArgument(
                f"journal {os.fspath(path)!r} line {bad} is not JSON; is it a frankenws journal?"
            )
        if text is not None and not text.strip():
            continue
        try:
            record = json.loads(text) if text is not None else None
        except ValueError:
            record = None
        if record is None:
            bad = number
            continue
        if not isinstance(record, dict):
            raise InvalidArgument(f"journal {os.fspath(path)!r} line {number} is not an object")
        if number == 1 or "journal" in record:
            if record.get("journal") != MAGIC:
                raise InvalidArgument(f"{os.fspath(path)!r} is not a frankenws bulk journal")
            if state is not None:
                state.job = record.get("job")
                state.server = record.get("server")
            continue
        action, target, status = record.get("action"), record.get("target"), record.get("status")
        if isinstance(action, str) and isinstance(target, str) and isinstance(status, str):
            yield record.get("time"), (action, target, status, record.get("node"))


def _note_time(state: JournalState, action: str, status: str, stamp: object) -> None:
    if status != "done" or not isinstance(stamp, str):
        return
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:  # a hand-edited time: the resume simply waits in full
        return
    if when.tzinfo is not None and (action not in state.latest or when > state.latest[action]):
        state.latest[action] = when


def _drop_torn_line(path: Path) -> None:
    """Cut a torn last line (the process died mid-write) off before appending.

    Resuming ignores it as the last line; once this run's lines follow it, it would be a
    line in the middle that is not JSON, and the next resume would refuse the journal.
    """
    with open(path, "r+b") as file:
        end = _whole_lines_end(file)
        if end != file.seek(0, os.SEEK_END):
            file.truncate(end)


def _whole_lines_end(file: IO[bytes]) -> int:
    """Where the last line that ends with ``\n`` ends: the size, but for a torn line
    (one longer than 64 KiB is taken as whole)."""
    size = file.seek(0, os.SEEK_END)
    start = max(0, size - 65536)
    file.seek(start)
    tail = file.read()
    if tail.endswith(b"\n"):
        return size
    cut = tail.rfind(b"\n")
    return start + cut + 1 if cut >= 0 else size


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
            if exists:
                _drop_torn_line(self.path)
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
