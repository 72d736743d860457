"""Parsing and checking of command-line values that typer cannot type for us.

Strictly private.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path

import frankenws

from ._errors import UsageProblem

__all__ = [
    "MAX_DURATION_DAYS",
    "MAX_GRACE_HOURS",
    "duration",
    "masked_url",
    "non_empty",
    "read_ids",
    "read_payload",
]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


MAX_DURATION_DAYS = 366
"""The longest duration any option accepts: a year. Longer ones are typos (a missing
unit, an extra digit) and, as a wait, would never end."""
MAX_GRACE_HOURS = 24
"""The longest ``--grace``: the command waits that long in the foreground."""


def duration(
    text: str, option: str, *, allow_zero: bool = False, max_days: float = MAX_DURATION_DAYS
) -> float:
    """``500ms``, ``5s``, ``30m``, ``2h``, ``1d`` or plain seconds, as seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise UsageProblem(
            f"{option} {text!r} is not a duration; write e.g. 500ms, 5s, 30m, 2h or 1d"
        )
    seconds = float(match[1]) * _UNITS[match[2]]
    if seconds <= 0 and not allow_zero:
        raise UsageProblem(f"{option} must be longer than zero, got {text!r}")
    if not seconds <= max_days * 86400:  # also refuses inf, from a few hundred digits
        limit = f"{max_days:g}d" if max_days > 2 else f"{max_days * 24:g}h"
        raise UsageProblem(
            f"{option} {text!r} is longer than the {limit} this option accepts",
            f"give at most {limit}",
        )
    return seconds


def masked_url(url: str) -> str:
    """``url`` as the CLI may print it: the password of ``user:password@`` masked.

    Everything up to the last ``@`` is taken as credentials, so a password holding ``@``
    or ``/`` is masked whole (the SDK's messages mask it the same way).
    """
    head, at, host = url.rpartition("@")
    scheme, sep, userinfo = head.rpartition("://")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}{sep}{userinfo.partition(':')[0]}:***@{host}"


def non_empty(**values: str) -> None:
    """Refuse empty ids, keys, tags before any request (the SDK would, but later)."""
    for what, value in values.items():
        if not value:
            raise frankenws.InvalidArgument(f"{what.replace('_', ' ')} must not be empty")


def _lines(source: Iterable[str]) -> list[str]:
    # The first field of each record: list commands print "ID<tab>more" into pipes.
    firsts = (line.partition("\t")[0].strip() for line in source)
    return [first for first in firsts if first]


def read_ids(given: list[str], from_file: Path | None) -> list[str]:
    """Ids from the arguments, ``-`` (stdin, one per line) and ``--from FILE``.

    Each line's first tab-separated field is the id, so the records that
    ``frankenws clients`` prints into a pipe can be piped in as they are; blank lines
    are skipped and surrounding whitespace removed, so ``jq -r '.[]'`` output works
    too. An empty argument stays empty: the SDK refuses it with a clear message.
    """
    ids: list[str] = []
    for value in given:
        if value == "-":
            ids.extend(_lines(sys.stdin))
        else:
            ids.append(value)
    if from_file is not None:
        try:
            text = from_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageProblem(f"cannot read ids from {from_file}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise UsageProblem(f"{from_file} is not UTF-8 text; expected one id per line") from None
        ids.extend(_lines(text.splitlines()))
    return ids


def read_payload(message: str | None, file: Path | None) -> bytes:
    """The message argument (``-`` reads stdin) or the exact bytes of ``--file``."""
    if file is not None and message is not None:
        raise UsageProblem("give either MESSAGE or --file, not both")
    if file is not None:
        if str(file) == "-":
            return sys.stdin.buffer.read()
        try:
            return file.read_bytes()
        except OSError as exc:
            raise UsageProblem(f"cannot read {file}: {exc.strerror or exc}") from None
    if message is None:
        raise UsageProblem("give the MESSAGE to send, or --file PATH for a binary payload")
    if message == "-":
        return sys.stdin.buffer.read()
    return message.encode("utf-8", "surrogateescape")
