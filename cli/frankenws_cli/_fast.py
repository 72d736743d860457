"""The fast path for ``frankenws [global options] kill ID...``: same behaviour, no typer.

``kill`` is the command typed most, often in loops and pipelines, so its start-up time
is a target (within 1.25x of a bare ``httpx.post``, see docs/performance.md). typer
0.29 imports pydantic to coerce every parameter value and builds all ~40 commands on
each run; for ``kill`` that is a third of the total time. This parser understands
exactly the global options, ``kill``, its ids, ``-`` and ``--from FILE``, and hands
the parsed values to the very functions the typer command uses (``configure``,
``kill_ids``, ``finish``, ``fail``). Anything else - help, an unknown option, a value
typer would refuse, unusual spellings such as ``-uURL`` - returns ``None`` and the
full typer app parses the command line with its usual messages. A test runs the same
command lines through both parsers and compares the results. Strictly private.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._argv import hoist_global_options
from ._context import DEFAULT_CONCURRENCY, AppContext, configure
from ._dispatch import fail, finish, interrupted
from ._kill import kill_ids

__all__ = ["parse_kill", "run_fast"]

_FLAGS = {
    "--json": "json",
    "--yes": "yes",
    "-y": "yes",
    "--dry-run": "dry_run",
    "--debug": "debug",
    "--no-audit": "no_audit",
}
_VALUED = {
    "--url": "url",
    "-u": "url",
    "--profile": "profile",
    "--host-header": "host_header",
    "--timeout": "timeout",
    "--concurrency": "concurrency",
    "--audit-log": "audit_log",
    "--actor": "actor",
    "--cert": "cert",
    "--key": "key",
    "--ca": "ca",
}
_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_INTEGER = re.compile(r"^[0-9]+$")


def _file(value: str) -> Path | None:
    """A file option as typer checks it (``dir_okay=False``); ``None`` if it would refuse."""
    if not value or Path(value).is_dir():
        return None
    return Path(value)


def _convert(attribute: str, value: str) -> Any:
    """The typed value, or ``None`` when typer would refuse it (it then reports why)."""
    if attribute == "timeout":
        if not _DECIMAL.match(value) or float(value) < 0.001:
            return None
        return float(value)
    if attribute == "concurrency":
        if not _INTEGER.match(value) or int(value) < 1:
            return None
        return int(value)
    if attribute == "audit_log":
        return _file(value)
    return value


def parse_kill(argv: Sequence[str]) -> tuple[dict[str, Any], list[str], Path | None] | None:
    """Global options, ids and ``--from`` of a plain ``kill`` command line, else ``None``."""
    args = hoist_global_options(argv)
    options: dict[str, Any] = {}
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] != "-":
        name, equals, attached = args[index].partition("=")
        if name in _FLAGS and not equals:
            options[_FLAGS[name]] = True
            index += 1
            continue
        if name not in _VALUED:
            return None
        if equals:
            raw, index = attached, index + 1
        elif index + 1 < len(args):
            raw, index = args[index + 1], index + 2
        else:
            return None
        converted = _convert(_VALUED[name], raw)
        if converted is None:
            return None
        options[_VALUED[name]] = converted
    if index >= len(args) or args[index] != "kill":
        return None
    ids: list[str] = []
    from_file: Path | None = None
    rest = args[index + 1 :]
    position = 0
    while position < len(rest):
        token = rest[position]
        if token == "--from" or token.startswith("--from="):
            if token == "--from":
                if position + 1 >= len(rest):
                    return None
                raw, position = rest[position + 1], position + 2
            else:
                raw, position = token[len("--from=") :], position + 1
            from_file = _file(raw)
            if from_file is None:
                return None
            continue
        if token.startswith("-") and token != "-":
            return None
        ids.append(token)
        position += 1
    return options, ids, from_file


def run_fast(argv: Sequence[str], obj: AppContext | None = None) -> int | None:
    """Run a plain ``kill`` command line; ``None`` when the full parser must handle it."""
    parsed = parse_kill(argv)
    if parsed is None:
        return None
    options, ids, from_file = parsed
    options.setdefault("concurrency", DEFAULT_CONCURRENCY)
    app = configure(obj if obj is not None else AppContext(), **options)
    app.command = "kill"
    try:
        try:
            return finish(app, kill_ids(app, ids, from_file))
        except KeyboardInterrupt:
            return interrupted()
        except Exception as exc:
            return fail(app, exc)
    finally:
        app.close()
