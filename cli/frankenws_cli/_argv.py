"""Where global options may be written; shared by the typer app and the fast path.

Strictly private; nothing here imports typer.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["FLAGS_ANYWHERE", "ROOT_VALUED", "VALUED_ANYWHERE", "hoist_global_options"]

# Flags that may also be written after the command (`frankenws clients --json`), as
# users do; they are moved in front of it before parsing. Options sharing a name with
# a command option (`--key`) are deliberately not in these sets.
FLAGS_ANYWHERE = frozenset({"--json", "--yes", "-y", "--dry-run", "--debug", "--no-audit"})
VALUED_ANYWHERE = frozenset(
    {
        "--url",
        "-u",
        "--profile",
        "--host-header",
        "--timeout",
        "--concurrency",
        "--audit-log",
        "--actor",
    }
)
ROOT_VALUED = VALUED_ANYWHERE | {"--cert", "--key", "--ca"}


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
