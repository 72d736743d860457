"""The global options, declared once, and where on the command line they may be written.

:data:`GLOBAL_OPTIONS` is the one description of ``frankenws [OPTIONS] COMMAND``'s
options. The typer signature in ``_app.main`` builds each option from it (typer needs
a real signature), ``_context.configure`` applies them by iterating over it, the fast
``kill`` parser (``_fast``) converts values with it, and :func:`hoist_global_options`
knows from it which tokens to move. A test checks that the typer command's parameters
match the table. Strictly private; nothing here imports typer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

__all__ = [
    "BY_ATTRIBUTE",
    "BY_FLAG",
    "FLAGS_ANYWHERE",
    "GLOBAL_OPTIONS",
    "ROOT_VALUED",
    "VALUED_ANYWHERE",
    "GlobalOption",
    "OutputFormat",
    "file_path",
    "hoist_global_options",
]

CONNECTION_PANEL = "Connection (also from env vars and profiles)"
BEHAVIOUR_PANEL = "Behaviour"

Kind = Literal["flag", "str", "float", "int", "file", "choice"]
OutputFormat = Literal["table", "json", "ids", "wide"]


@dataclass(frozen=True, slots=True)
class GlobalOption:
    """One global option.

    Args:
        attribute: The ``AppContext`` field it sets (also the typer parameter name).
        flags: Its spellings, long first.
        kind: ``flag`` (no value), or how the value is typed and checked.
        help: The help text (:attr:`help_text` adds the env vars).
        panel: The ``--help`` panel it is listed under.
        env: The environment variables that supply it when the option is absent,
            first found wins.
        default: The value when neither the option nor the env var is given.
        minimum: Smallest accepted number (typer's ``min=``).
        choices: Accepted values of a ``choice``.
        anywhere: May also be written after the command (``frankenws clients --json``).
            Options sharing a name with a command option (``--key``) may not.
        setting: A connection setting, resolved with profiles and env by ``_settings``
            (``configure`` then only records what the command line said).
        multiple: May be repeated; the value is the list of every occurrence.
    """

    attribute: str
    flags: tuple[str, ...]
    kind: Kind
    help: str
    panel: str
    env: tuple[str, ...] = ()
    default: Any = None
    minimum: float | None = None
    choices: tuple[str, ...] = ()
    anywhere: bool = True
    setting: bool = False
    multiple: bool = False

    @property
    def valued(self) -> bool:
        return self.kind != "flag"

    @property
    def help_text(self) -> str:
        text = self.help
        if self.env:
            text += f" Env: {', then '.join(self.env)}."
        return text

    def convert(self, raw: str) -> Any:
        """The typed value of ``raw``, or ``None`` when typer would refuse it.

        Deliberately stricter than typer (no exponents, no signs): a value this
        refuses is parsed again by typer, which then explains what is wrong.
        """
        if self.kind == "float":
            if not _DECIMAL.match(raw):
                return None
            value: Any = float(raw)
        elif self.kind == "int":
            if not _INTEGER.match(raw):
                return None
            value = int(raw)
        elif self.kind == "file":
            return file_path(raw)
        elif self.kind == "choice":
            return raw if raw in self.choices else None
        else:
            return raw
        if self.minimum is not None and value < self.minimum:
            return None
        return value


def file_path(raw: str) -> Path | None:
    """A file option's value as typer checks it (``dir_okay=False``), else ``None``."""
    return Path(raw) if raw and not Path(raw).is_dir() else None


_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_INTEGER = re.compile(r"^[0-9]+$")

_C, _B = CONNECTION_PANEL, BEHAVIOUR_PANEL

GLOBAL_OPTIONS: tuple[GlobalOption, ...] = (
    GlobalOption(
        "url",
        ("--url", "-u"),
        "str",
        "Admin endpoint: http(s)://host:port, host:port, unix//path.sock. "
        "Default http://localhost:2019. Repeat it to operate several nodes as one fleet.",
        _C,
        env=("FRANKENWS_ADMIN_URL", "CADDY_ADMIN"),
        setting=True,
        multiple=True,
    ),
    GlobalOption(
        "discover",
        ("--discover",),
        "str",
        "Operate the fleet whose nodes DNS lists: dns+a://name:port (every A/AAAA record) "
        "or dns+srv://_service._proto.name. Needs frankenws[cluster].",
        _C,
        env=("FRANKENWS_DISCOVER",),
        setting=True,
    ),
    GlobalOption(
        "profile",
        ("--profile",),
        "str",
        "Named profile from $XDG_CONFIG_HOME/frankenws/config.toml.",
        _C,
        env=("FRANKENWS_PROFILE",),
    ),
    GlobalOption(
        "host_header",
        ("--host-header",),
        "str",
        "Host header to send (Caddy only accepts its own listen address).",
        _C,
        env=("FRANKENWS_HOST_HEADER",),
        setting=True,
    ),
    GlobalOption(
        "cert",
        ("--cert",),
        "str",
        "Client certificate (PEM) for mTLS.",
        _C,
        env=("FRANKENWS_CERT",),
        anywhere=False,
        setting=True,
    ),
    GlobalOption(
        "key",
        ("--key",),
        "str",
        "Private key of --cert.",
        _C,
        env=("FRANKENWS_KEY",),
        anywhere=False,
        setting=True,
    ),
    GlobalOption(
        "ca",
        ("--ca",),
        "str",
        "CA bundle (PEM) to verify the server.",
        _C,
        env=("FRANKENWS_CA",),
        anywhere=False,
        setting=True,
    ),
    GlobalOption(
        "url_path_ok",
        ("--url-path-ok",),
        "flag",
        "Accept a path in --url: the admin API is behind a reverse proxy under that path. "
        "Without it such a URL is refused (http://host:2019/config would reach Caddy's "
        "own config API).",
        _C,
    ),
    GlobalOption(
        "timeout",
        ("--timeout",),
        "float",
        "Deadline per request in seconds, from connecting to the last byte of the answer, "
        "however slowly the server sends. A GET that cannot connect is retried twice, each "
        "attempt with its own deadline, so it can take 3x this. Default 10.",
        _C,
        env=("FRANKENWS_TIMEOUT",),
        minimum=0.001,
        setting=True,
    ),
    GlobalOption(
        "max_response_bytes",
        ("--max-response-bytes",),
        "int",
        "Refuse answers larger than this many bytes. Default 268435456 (256 MiB).",
        _C,
        minimum=1,
    ),
    GlobalOption(
        "output",
        ("--output", "-o"),
        "choice",
        "table (on a terminal), json, ids (one per line) or wide. Piped or redirected, "
        "tables become plain records: one line per row, ids first, tab-separated.",
        _B,
        choices=get_args(OutputFormat),
    ),
    GlobalOption("json", ("--json",), "flag", "Print one JSON document (-o json).", _B),
    GlobalOption("yes", ("--yes", "-y"), "flag", "Do not ask for confirmation.", _B),
    GlobalOption("dry_run", ("--dry-run",), "flag", "Show what would change; change nothing.", _B),
    GlobalOption(
        "concurrency",
        ("--concurrency",),
        "int",
        "Requests in flight in bulk jobs.",
        _B,
        default=32,
        minimum=1,
    ),
    GlobalOption(
        "audit_log",
        ("--audit-log",),
        "file",
        "Audit file. Default $XDG_STATE_HOME/frankenws/audit.jsonl.",
        _B,
        env=("FRANKENWS_AUDIT_LOG",),
    ),
    GlobalOption("no_audit", ("--no-audit",), "flag", "Do not write the audit log.", _B),
    GlobalOption(
        "actor", ("--actor",), "str", "Who is acting, for the audit log. Default: the OS user.", _B
    ),
    GlobalOption("debug", ("--debug",), "flag", "Show the traceback of unexpected errors.", _B),
)

BY_ATTRIBUTE = {option.attribute: option for option in GLOBAL_OPTIONS}
BY_FLAG = {flag: option for option in GLOBAL_OPTIONS for flag in option.flags}

FLAGS_ANYWHERE = frozenset(
    flag for o in GLOBAL_OPTIONS if o.anywhere and not o.valued for flag in o.flags
)
VALUED_ANYWHERE = frozenset(
    flag for o in GLOBAL_OPTIONS if o.anywhere and o.valued for flag in o.flags
)
ROOT_VALUED = frozenset(flag for o in GLOBAL_OPTIONS if o.valued for flag in o.flags)


def hoist_global_options(args: Sequence[str]) -> list[str]:
    """Move global options written after the command name in front of it.

    Everything after ``--`` is left alone, so a message that looks like an option can
    still be sent: ``frankenws send ID -- --json``.
    """
    args = list(args)
    position = 0
    while position < len(args):
        token = args[position]
        if token == "--" or not token.startswith("-"):
            break
        name = token.split("=", 1)[0]
        position += 2 if name in ROOT_VALUED and "=" not in token else 1
    head, tail = args[: position + 1], args[position + 1 :]
    moved: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(tail):
        token = tail[index]
        name = token.split("=", 1)[0]
        if token == "--":
            rest.extend(tail[index:])
            break
        if name in FLAGS_ANYWHERE and "=" not in token:
            moved.append(token)
        elif name in VALUED_ANYWHERE:
            if "=" in token:
                moved.append(token)
            elif index + 1 < len(tail):
                moved.extend(tail[index : index + 2])
                index += 1
            else:
                rest.append(token)
        else:
            rest.append(token)
        index += 1
    return moved + head + rest
