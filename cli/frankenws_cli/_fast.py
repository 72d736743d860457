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

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._argv import BY_FLAG, file_path, hoist_global_options
from ._context import AppContext, configure
from ._kill import kill_ids
from ._present import fail, finish, interrupted

__all__ = ["parse_kill", "run_fast"]


def parse_kill(argv: Sequence[str]) -> tuple[dict[str, Any], list[str], Path | None] | None:
    """Global options, ids and ``--from`` of a plain ``kill`` command line, else ``None``."""
    args = hoist_global_options(argv)
    options: dict[str, Any] = {}
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] != "-":
        name, equals, attached = args[index].partition("=")
        spec = BY_FLAG.get(name)
        if spec is None:
            return None
        if not spec.valued:
            if equals:
                return None
            options[spec.attribute] = True
            index += 1
            continue
        if equals:
            raw, index = attached, index + 1
        elif index + 1 < len(args):
            raw, index = args[index + 1], index + 2
        else:
            return None
        converted = spec.convert(raw)
        if converted is None:
            return None
        if spec.multiple:
            options.setdefault(spec.attribute, []).append(converted)
        else:
            options[spec.attribute] = converted
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
            from_file = file_path(raw)
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
    obj = obj if obj is not None else AppContext()
    obj.command = "kill"
    try:
        try:
            configure(obj, **options)
            return finish(obj, kill_ids(obj, ids, from_file))
        except KeyboardInterrupt as exc:
            return interrupted(exc)
        except Exception as exc:
            return fail(obj, exc)
    finally:
        obj.close()
