"""What every command's ``--help`` ends with (examples, the global options), and completion.

Kept in one table so the examples read as a set (same ids, same users) and a test can
check that no command lacks them. Strictly private.
"""

from __future__ import annotations

import inspect
from typing import Any

from frankenws_cli._argv import GLOBAL_OPTIONS

from ._complete import COMPLETERS

__all__ = ["EXAMPLES", "decorate"]

EXAMPLES: dict[str, tuple[str, ...]] = {
    "clients": (
        "frankenws clients",
        "frankenws clients --route /chat --tag admin",
        "frankenws clients --where username eq alice | frankenws kill -",
        "frankenws clients --expr 'premium&!muted' --count",
    ),
    "show": ("frankenws show 9f2c1e0d", "frankenws show 9f2c1e0d --json | jq .stored"),
    "search": (
        "frankenws search username eq alice",
        "frankenws search violationCount gte -1 -o ids",
        "frankenws search email regex '@example\\.com$' --route /chat",
    ),
    "routes": ("frankenws routes", "frankenws routes --json"),
    "tags": ("frankenws tags", "frankenws tags 9f2c1e0d"),
    "watch": ("frankenws watch", "frankenws watch --interval 5 --top 3"),
    "kill": (
        "frankenws kill 9f2c1e0d",
        "frankenws kill 9f2c1e0d 41aa07b2 --dry-run",
        "frankenws clients --tag spam | frankenws kill -",
        "frankenws kill --from ids.txt --yes",
    ),
    "send": (
        "frankenws send 9f2c1e0d 'hello'",
        "frankenws send 9f2c1e0d --file payload.bin",
        'echo \'{"type":"ping"}\' | frankenws send 9f2c1e0d -',
    ),
    "broadcast": (
        "frankenws broadcast 'Deploy in 5 minutes' --route /chat",
        "frankenws broadcast 'Welcome' --tag premium",
        "frankenws broadcast 'Server restarting' --yes",
    ),
    "tag": ("frankenws tag 9f2c1e0d premium beta",),
    "untag": ("frankenws untag 9f2c1e0d beta", "frankenws untag 9f2c1e0d --all"),
    "rename": ("frankenws rename 9f2c1e0d user-42",),
    "disconnect-user": (
        "frankenws disconnect-user alice --dry-run",
        "frankenws disconnect-user alice --key login --yes",
    ),
    "maintenance": (
        "frankenws maintenance --route /chat --grace 1m",
        "frankenws maintenance --message 'Back at 14:00' --grace 30s --yes",
    ),
    "cleanup-inactive": (
        "frankenws cleanup-inactive --max-idle 2h --dry-run",
        "frankenws cleanup-inactive --resume ~/.local/state/frankenws/journals/run.jsonl",
    ),
    "enforce-limit": (
        "frankenws enforce-limit --max 3",
        "frankenws enforce-limit --max 1 --order-key connectedAt --yes",
    ),
    "disconnect-route": ("frankenws disconnect-route /legacy --dry-run",),
    "sweep": (
        "frankenws sweep violationCount gte 3 --notify-tag admin --dry-run",
        "frankenws sweep country in 'XX,YY' --yes",
    ),
    "doctor": ("frankenws doctor", "frankenws --profile prod doctor --json"),
    "fake-server": (
        "frankenws fake-server --clients 50",
        "frankenws fake-server --admin-port 2019 --duration 60",
    ),
    "demo": ("frankenws demo", "frankenws demo --clients 20 --grace 2s"),
    "openapi": ("frankenws openapi > openapi.yaml", "frankenws openapi -o json | jq .paths"),
    "store": ("frankenws store list 9f2c1e0d", "frankenws store set 9f2c1e0d plan gold"),
    "store get": ("frankenws store get 9f2c1e0d username",),
    "store set": ("frankenws store set 9f2c1e0d plan gold",),
    "store delete": ("frankenws store delete 9f2c1e0d plan",),
    "store clear": ("frankenws store clear 9f2c1e0d --dry-run",),
    "store list": ("frankenws store list 9f2c1e0d", "frankenws store list 9f2c1e0d --json"),
    "global": ("frankenws global set motd 'Hello'", "frankenws global get motd"),
    "global get": ("frankenws global get motd",),
    "global set": (
        "frankenws global set motd 'Hello'",
        "frankenws global set banner 'Sale!' --expire 3600",
    ),
    "global has": ("frankenws global has motd && echo present",),
    "global delete": ("frankenws global delete motd",),
    "ghost": ("frankenws ghost on 9f2c1e0d", "frankenws ghost status 9f2c1e0d"),
    "ghost on": ("frankenws ghost on 9f2c1e0d",),
    "ghost off": ("frankenws ghost off 9f2c1e0d",),
    "ghost status": ("frankenws ghost status 9f2c1e0d",),
    "ping": ("frankenws ping enable 9f2c1e0d --interval 5000", "frankenws ping time 9f2c1e0d"),
    "ping enable": (
        "frankenws ping enable 9f2c1e0d",
        "frankenws ping enable 9f2c1e0d --interval 5000",
    ),
    "ping disable": ("frankenws ping disable 9f2c1e0d",),
    "ping time": ("frankenws ping time 9f2c1e0d",),
    "queue": ("frankenws queue enable 9f2c1e0d", "frankenws queue show 9f2c1e0d"),
    "queue enable": ("frankenws queue enable 9f2c1e0d --max-messages 50 --max-age 600",),
    "queue disable": ("frankenws queue disable 9f2c1e0d",),
    "queue show": ("frankenws queue show 9f2c1e0d", "frankenws queue show 9f2c1e0d --json"),
    "queue clear": ("frankenws queue clear 9f2c1e0d",),
}


def _global_options() -> str:
    anywhere = [o for o in GLOBAL_OPTIONS if o.anywhere]
    before = [o for o in GLOBAL_OPTIONS if not o.anywhere]
    return (
        "Global options, before or after the command: "
        + ", ".join("/".join(sorted(o.flags, key=len)) for o in anywhere)
        + "; before it only: "
        + ", ".join(o.flags[0] for o in before)
        + ". 'frankenws --help' explains them."
    )


GLOBAL_OPTIONS_TEXT = _global_options()


def _no_type(ctx: Any) -> None:
    return None


def _completion(completer: Any) -> Any:
    def complete(ctx: Any, param: Any, incomplete: str) -> list[str]:
        return list(completer(ctx, incomplete))

    return complete


def decorate(command: Any, path: str) -> None:
    """Give ``command`` its help epilog and tidy what typer shows of its parameters."""
    if command.help:
        # typer joins the lines of the first paragraph; a docstring extended at import
        # (bulk jobs add their JSON shape) keeps its indentation, which would show.
        first, sep, rest = inspect.cleandoc(command.help).partition("\n\n")
        command.help = " ".join(line.strip() for line in first.splitlines()) + sep + rest
    examples = EXAMPLES.get(path, ())
    parts = ["Examples:\n" + "\n".join(f"  {line}" for line in examples)] if examples else []
    if not hasattr(command, "commands"):
        parts.append(GLOBAL_OPTIONS_TEXT)
    command.epilog = "\n\n".join(parts) or None
    for param in command.params:
        completer = COMPLETERS.get(param.name)
        if completer is not None:
            param._custom_shell_complete = _completion(completer)
        # typer prints a type next to each parameter: for flags (<bool>) and for
        # variadic arguments (<list[str]>) it says nothing the name does not say.
        if getattr(param, "is_flag", False) or (
            param.param_type_name == "argument" and param.nargs != 1
        ):
            param.display_type_rich = _no_type
