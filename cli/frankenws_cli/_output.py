"""Everything the CLI shows goes through here (live progress: ``_progress``); with
``_progress``, the only module that imports rich.

Commands return a :class:`Result` (or a :class:`Stream` of them): ``data`` is exactly
what ``--json`` prints, ``view`` says how to show it to a human. Data goes to stdout,
messages (notes, warnings, errors, prompts, progress) to stderr, so
``frankenws ... --json | jq`` always works.

``-o/--output`` picks the shape (:data:`Mode`). Without it, a terminal gets tables, and
a pipe or a file gets plain records, like gh: one line per row, ids first, fields
separated by tabs, no header, no colour, so ``frankenws clients | frankenws kill -``
and ``cut -f2`` work.

rich is imported lazily, only for tables, progress bars and live views: the most common
command (``kill ID``) prints one plain line, and importing rich would cost it a
noticeable share of its start-up time.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Literal, Protocol

from ._spliced import Streamed, holds_streamed, write_spliced

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

__all__ = [
    "Fields",
    "Lines",
    "Mode",
    "Raw",
    "Result",
    "Stack",
    "Stream",
    "Streamed",
    "Table",
    "View",
    "confirm",
    "emit",
    "emit_stream",
    "error",
    "note",
    "note_view",
    "printable",
    "warning",
]


# --- what commands return ------------------------------------------------------------

Mode = Literal["auto", "table", "wide", "ids", "json"]
"""How results are printed: ``auto`` is ``table`` on a terminal and records elsewhere."""

Style = Literal["table", "wide", "ids", "records"]
"""How a view draws itself (``Mode`` with ``auto`` resolved and ``json`` handled)."""


def resolve_style(mode: Mode, out: IO[str]) -> Style:
    if mode in ("table", "wide", "ids"):
        return mode
    return "table" if out.isatty() else "records"


class View(Protocol):
    """A human rendering of a result."""

    def render(self, out: IO[str], style: Style | None = None) -> None: ...


@dataclass
class Result:
    """The outcome of a command: its JSON document, its human view and its exit code.

    Args:
        data: Printed as one compact JSON document with ``--json``.
        view: How a human sees it; ``None`` derives a plain view from ``data``.
        exit_code: 0, or 1 when the operation did not happen (see ``_errors``).
        notes: Human messages for stderr (not shown with ``--json``).
        warnings: Shown on stderr in both modes.
    """

    data: Any
    view: View | None = None
    exit_code: int = 0
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Stream:
    """Results that arrive over time (``watch``, ``fake-server``).

    With ``live=True`` each result replaces the previous one on a terminal; otherwise
    they are printed one after another (with ``--json``: one JSON document per line).
    """

    items: Iterator[Result]
    live: bool = False


# --- views ---------------------------------------------------------------------------

_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F) if c not in (0x09,)}


def printable(value: object) -> str:
    """``value`` as terminal-safe text: control characters escaped, bad bytes replaced.

    Stored values come from WebSocket clients; an escape sequence in a username must
    not be able to rewrite the operator's terminal.
    """
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable():  # nearly every line: nothing to escape
        return text
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.translate(_CONTROL)


@dataclass
class Lines:
    """Plain lines on stdout (no rich import); ``lines`` is read once, as it is written
    (a bulk job's lines are read back from disk, not held)."""

    lines: Iterable[str]

    def render(self, out: IO[str], style: Style | None = None) -> None:
        batch: list[str] = []
        for line in self.lines:
            batch.append(printable(line))
            if len(batch) == 1024:  # a bulk job's lines: a few writes, never all held
                out.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            out.write("\n".join(batch) + "\n")


@dataclass
class Raw:
    """A stored value, byte for byte, followed by a newline.

    On a terminal the value is escaped like every other value: it comes from a client.
    """

    data: bytes

    def render(self, out: IO[str], style: Style | None = None) -> None:
        if out.isatty():
            out.write(printable(self.data.decode("utf-8", "surrogateescape")) + "\n")
            return
        out.flush()
        buffer = getattr(out, "buffer", None)
        if buffer is None:  # pragma: no cover - exotic stdout replacements
            out.write(self.data.decode("utf-8", "replace") + "\n")
        else:
            buffer.write(self.data + b"\n")
            buffer.flush()


@dataclass
class Table:
    """A table with a header row; rows are shown in the order given (commands sort).

    ``rows`` may be any iterable that can be read more than once and says whether it
    is empty (a bulk job's rows are read back from disk, not held)."""

    columns: Sequence[str]
    rows: Iterable[Sequence[object]]
    title: str | None = None

    def renderable(self, *, wide: bool = False) -> RenderableType:
        from rich import box
        from rich.table import Table as RichTable

        table = RichTable(
            title=self.title,
            title_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            show_edge=False,
        )
        for name in self.columns:
            # Ids must stay copy-pasteable: fold long cells, never cut them with an
            # ellipsis; wide output does not even fold them.
            table.add_column(name, overflow="fold", no_wrap=wide)
        for row in self.rows:
            table.add_row(*(_cell(v) for v in row))
        return table

    def render(self, out: IO[str], style: Style | None = None) -> None:
        style = style or resolve_style("auto", out)
        if style == "ids":
            out.writelines(_field(row[0]) + "\n" for row in self.rows)
        elif style == "records":
            out.writelines("\t".join(_field(v) for v in row) + "\n" for row in self.rows)
        # An empty table is just a header: show nothing (the command's note says why).
        elif self.rows:
            wide = style == "wide"
            _console(out, width=_UNLIMITED if wide else None).print(self.renderable(wide=wide))


@dataclass
class Fields:
    """Labelled values, one per line (``show``)."""

    pairs: Sequence[tuple[str, object]]
    title: str | None = None

    def renderable(self) -> RenderableType:
        from rich import box
        from rich.table import Table as RichTable

        table = RichTable(
            title=self.title,
            title_justify="left",
            box=box.SIMPLE,
            show_header=False,
            pad_edge=False,
            show_edge=False,
        )
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        for label, value in self.pairs:
            table.add_row(label, _cell(value))
        return table

    def render(self, out: IO[str], style: Style | None = None) -> None:
        _console(out).print(self.renderable())


@dataclass
class Stack:
    """Several views, one after another."""

    views: Sequence[View]

    def render(self, out: IO[str], style: Style | None = None) -> None:
        # Asked for ids, print the tables' ids only, not the summary lines around them.
        only_tables = style == "ids" and any(isinstance(v, Table) for v in self.views)
        for view in self.views:
            if not only_tables or isinstance(view, Table):
                view.render(out, style if style != "ids" or only_tables else "records")


# Wide enough that rich never wraps a row of a wide table.
_UNLIMITED = 100_000


def _field(value: object) -> str:
    """A cell of a plain record: tabs inside values must not split the record."""
    return _cell(value).replace("\t", "\\t")


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(printable(v) for v in value) or "-"
    return printable(value)


def _default_view(data: Any) -> View:
    if isinstance(data, list) and all(isinstance(v, str) for v in data):
        return Lines(data)
    if isinstance(data, dict):
        return Fields([(str(k), v) for k, v in data.items()])
    return Lines([_cell(data)])


# --- writing ---------------------------------------------------------------------------


def _console(out: IO[str], *, stderr: bool = False, width: int | None = None) -> Console:
    from rich.console import Console

    class QuietConsole(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit 1 here; a closed pipe is handled once, in _present.
            self.quiet = True
            raise BrokenPipeError

    # Built per call: CliRunner swaps sys.stdout between invocations.
    return QuietConsole(
        file=out,
        stderr=stderr,
        width=width,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )


# Characters json.dumps escapes in a string (besides '"'), as bytes for a fast scan.
_ESCAPED = bytes(range(0x20)) + b"\\"


def _plain_strings(items: list[Any]) -> bytes | None:
    """The inside of ``_dump(items)`` (without the outer ``["`` and ``"]``) as bytes, for
    a list of ASCII strings that need no escaping; else ``None``.

    Ids as the server makes them are such strings; for a million of them one join and
    two scans cost less CPU than json.dumps, and the result needs no encoding before it
    is written (docs/performance.md, "1,000,000 ids").
    """
    if not items:
        return None
    try:
        body = '","'.join(items)
    except TypeError:  # not all strings
        return None
    if not body.isascii():
        return None
    raw = body.encode("ascii")
    # The separators hold every quote there may be: any other one is inside an id.
    if raw.count(b'"') != 2 * (len(items) - 1) or len(raw.translate(None, _ESCAPED)) != len(raw):
        return None
    return raw


def _write_json(data: Any) -> None:
    """``data`` as one compact JSON document and a newline, on stdout."""
    if isinstance(data, dict) and holds_streamed(data):
        write_spliced(data, sys.stdout, _dump)
        return
    body = _plain_strings(data) if type(data) is list else None
    buffer = getattr(sys.stdout, "buffer", None)
    if body is None or buffer is None:
        sys.stdout.write(_dump(data) + "\n")
        return
    # In pieces, as bytes: no copy of the whole document to add the brackets, none to
    # encode it.
    sys.stdout.flush()
    buffer.write(b'["')
    buffer.write(body)
    buffer.write(b'"]\n')


def _dump(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Values that are not valid UTF-8 (kept as lone surrogates) must still give
        # valid JSON: escape everything non-ASCII instead of failing halfway.
        text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text


def emit(result: Result, *, mode: Mode = "auto") -> None:
    """Print one result: JSON or its view on stdout, notes and warnings on stderr."""
    for text in result.warnings:
        warning(text)
    if mode == "json":
        _write_json(result.data)
    else:
        view = result.view if result.view is not None else _default_view(result.data)
        view.render(sys.stdout, resolve_style(mode, sys.stdout))
        for text in result.notes:
            note(text)
    sys.stdout.flush()


def emit_stream(stream: Stream, *, mode: Mode = "auto") -> int:
    """Print results as they arrive; Ctrl-C ends a live stream cleanly (exit 0)."""
    code = 0
    items = stream.items
    as_json = mode == "json"
    try:
        if stream.live and mode in ("auto", "table", "wide") and sys.stdout.isatty():
            code = _emit_live(items)
        else:
            for index, result in enumerate(items):
                if index and not as_json and stream.live:
                    sys.stdout.write("\n")
                emit(result, mode=mode)
                code = result.exit_code
    except KeyboardInterrupt:
        note("stopped")
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()
    return code


def _emit_live(items: Iterator[Result]) -> int:
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    code = 0
    console = _console(sys.stdout)
    with Live(Text(""), console=console, auto_refresh=False, transient=False) as live:
        for result in items:
            view = result.view if result.view is not None else _default_view(result.data)
            parts: list[RenderableType] = []
            for part in view.views if isinstance(view, Stack) else [view]:
                renderable = getattr(part, "renderable", None)
                if renderable is not None:
                    parts.append(renderable())
                else:
                    buffer = io.StringIO()
                    part.render(buffer, "table")
                    parts.append(Text(buffer.getvalue().rstrip("\n")))
            live.update(Group(*parts), refresh=True)
            code = result.exit_code
    return code


def stdout_closed() -> None:
    """Stdout's reader went away: send whatever is still buffered, and all later
    output, to the null device, so Python's final flush does not fail either."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (CliRunner)
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


# --- messages (stderr) -------------------------------------------------------------------


def _styled(prefix: str, colour: str) -> str:
    if sys.stderr.isatty() and not os.environ.get("NO_COLOR"):
        return f"\x1b[{colour}m{prefix}\x1b[0m"
    return prefix


def note(text: str) -> None:
    """An informational message for humans."""
    sys.stderr.write(printable(text) + "\n")
    sys.stderr.flush()


def note_view(view: View) -> None:
    """A view shown to the operator on stderr (a plan before its prompt): drawn as a
    table, since stdout may be a file while the operator watches the terminal."""
    view.render(sys.stderr, "table")
    sys.stderr.flush()


def warning(text: str) -> None:
    sys.stderr.write(_styled("warning:", "33") + " " + printable(text) + "\n")
    sys.stderr.flush()


def error(message: str, hints: Sequence[str] = ()) -> None:
    sys.stderr.write(_styled("error:", "1;31") + " " + printable(message) + "\n")
    for hint in hints:
        sys.stderr.write(_styled("hint:", "36") + " " + printable(hint) + "\n")
    sys.stderr.flush()


def confirm(question: str) -> bool:
    """Ask on stderr, read one line from stdin; anything but yes (or end of input) is no."""
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        sys.stderr.write("\n")
    return line.strip().lower() in ("y", "yes")
