"""The fast path for ``kill``, ``clients`` and ``disconnect-route``: same behaviour, no typer.

``kill`` is the command typed most, often in loops and pipelines, so its start-up time
is a target (within 1.25x of a bare ``httpx.post``, see docs/performance.md); ``clients
--json`` is how a very long list of ids leaves the server, timed against ``curl`` +
``json.loads``. typer 0.29 imports pydantic to coerce every parameter value and builds
all ~40 commands on each run; for ``kill`` that is a third of the total time. This
parser understands exactly the global options, ``kill`` with its ids, ``-`` and
``--from FILE``, ``clients`` with its filters and ``--count``, and ``disconnect-route
ROUTE`` with ``--resume``/``--journal`` (typer's parsing costs it about 0.4 s of CPU,
a twentieth of a 10,000-target job), and hands the parsed values to the very functions
the typer commands use (``configure``, ``kill_ids``, ``list_clients``, ``route_job``,
``finish``, ``fail``). Anything else - help, an unknown option, a
value typer would refuse, unusual spellings such as ``-uURL`` or a repeated option -
returns ``None`` and the full typer app parses the command line with its usual
messages. Tests run the same command lines through both parsers and compare the
results. Strictly private.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._argv import BY_FLAG, file_path, hoist_global_options
from ._context import AppContext, configure
from ._present import fail, finish, interrupted

__all__ = ["parse_clients", "parse_disconnect_route", "parse_kill", "run_fast"]


def _value(args: Sequence[str], index: int) -> tuple[str, int] | None:
    """The value of the option at ``args[index]`` (``--opt=VALUE`` or ``--opt VALUE``)
    and the index after it; ``None`` when the value is missing."""
    _, equals, attached = args[index].partition("=")
    if equals:
        return attached, index + 1
    if index + 1 < len(args):
        return args[index + 1], index + 2
    return None


def _file(args: Sequence[str], index: int) -> tuple[Path, int] | None:
    """A file option's value, as typer checks it, and the index after it."""
    valued = _value(args, index)
    path = file_path(valued[0]) if valued is not None else None
    return None if path is None or valued is None else (path, valued[1])


def _split(argv: Sequence[str]) -> tuple[dict[str, Any], str, list[str]] | None:
    """The global options, the command name and the command's own arguments."""
    args = hoist_global_options(argv)
    options: dict[str, Any] = {}
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] != "-":
        name, equals, _ = args[index].partition("=")
        spec = BY_FLAG.get(name)
        if spec is None:
            return None
        if not spec.valued:
            if equals:
                return None
            options[spec.attribute] = True
            index += 1
            continue
        valued = _value(args, index)
        if valued is None:
            return None
        raw, index = valued
        converted = spec.convert(raw)
        if converted is None:
            return None
        if spec.multiple:
            options.setdefault(spec.attribute, []).append(converted)
        else:
            options[spec.attribute] = converted
    if index >= len(args):
        return None
    return options, args[index], args[index + 1 :]


def parse_kill(argv: Sequence[str]) -> tuple[dict[str, Any], list[str], Path | None] | None:
    """Global options, ids and ``--from`` of a plain ``kill`` command line, else ``None``."""
    split = _split(argv)
    if split is None or split[1] != "kill":
        return None
    options, _, rest = split
    ids: list[str] = []
    from_file: Path | None = None
    position = 0
    while position < len(rest):
        token = rest[position]
        if token == "--from" or token.startswith("--from="):
            found = _file(rest, position)
            if found is None:
                return None
            from_file, position = found
            continue
        if token.startswith("-") and token != "-":
            return None
        ids.append(token)
        position += 1
    return options, ids, from_file


# The options of ``clients``: (attribute, how many values); a flag takes none.
_CLIENTS_OPTIONS = {
    "--route": ("route", 1),
    "-r": ("route", 1),
    "--tag": ("tag", 1),
    "-t": ("tag", 1),
    "--expr": ("expr", 1),
    "-e": ("expr", 1),
    "--where": ("where", 3),
    "-w": ("where", 3),
    "--count": ("count", 0),
    "-c": ("count", 0),
}


def parse_clients(argv: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Global options and ``clients``'s own options of a ``clients`` command line."""
    split = _split(argv)
    if split is None or split[1] != "clients":
        return None
    options, _, rest = split
    own: dict[str, Any] = {}
    position = 0
    while position < len(rest):
        known = _CLIENTS_OPTIONS.get(rest[position])
        if known is None or known[0] in own:
            return None  # a positional, --help, --route=X, a repeated option: typer's
        name, arity = known
        values = rest[position + 1 : position + 1 + arity]
        # A value that looks like an option is left to typer, which knows its rules.
        if len(values) < arity or any(v.startswith("-") for v in values):
            return None
        own[name] = True if arity == 0 else values[0] if arity == 1 else tuple(values)
        position += 1 + arity
    return options, own


def parse_disconnect_route(
    argv: Sequence[str],
) -> tuple[dict[str, Any], str, dict[str, Path]] | None:
    """Global options, the route and ``--resume``/``--journal`` of ``disconnect-route``."""
    split = _split(argv)
    if split is None or split[1] != "disconnect-route":
        return None
    options, _, rest = split
    routes: list[str] = []
    files: dict[str, Path] = {}
    position = 0
    while position < len(rest):
        token = rest[position]
        name = token.partition("=")[0]
        if name in ("--resume", "--journal") and name[2:] not in files:
            found = _file(rest, position)
            if found is None:
                return None
            files[name[2:]], position = found
            continue
        if token.startswith("-"):
            return None
        routes.append(token)
        position += 1
    if len(routes) != 1:
        return None
    return options, routes[0], files


def run_fast(argv: Sequence[str], obj: AppContext | None = None) -> int | None:
    """Run a plain ``kill``, ``clients`` or ``disconnect-route`` command line; ``None``
    when the full parser must handle it."""
    command: str
    work: Callable[[AppContext], Any]
    killing = parse_kill(argv)
    listing = parse_clients(argv) if killing is None else None
    emptying = parse_disconnect_route(argv) if killing is None and listing is None else None
    if killing is not None:
        from ._kill import kill_ids

        options, ids, from_file = killing
        command, work = "kill", lambda app: kill_ids(app, ids, from_file)
    elif listing is not None:
        from ._clients import list_clients

        options, own = listing
        command, work = "clients", lambda app: list_clients(app, **own)
    elif emptying is not None:
        # Imports typer's module, but runs none of typer: parsing the command line
        # through typer costs about 0.4 s of CPU (pydantic, every command's signature).
        from ._jobs import remember_argv
        from .commands.bulk import route_job

        remember_argv(argv)  # as typed, for the exact resume command
        options, route, files = emptying
        command, work = "disconnect-route", lambda app: route_job(app, route, **files)
    else:
        return None
    obj = obj if obj is not None else AppContext()
    obj.command = command
    try:
        try:
            configure(obj, **options)
            return finish(obj, work(obj))
        except KeyboardInterrupt as exc:
            return interrupted(exc)
        except Exception as exc:
            return fail(obj, exc)
    finally:
        obj.close()
