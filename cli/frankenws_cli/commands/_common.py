"""Small helpers shared by the command modules. Strictly private."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

import httpx
import typer
from typer.core import TyperGroup

import frankenws
from frankenws_cli._output import Lines, Result

from ._help import decorate

__all__ = ["CommandGroup", "check_offline", "dry_run", "ms", "server_name"]

_NEGATIVE_NUMBER = re.compile(r"^-([0-9]+(\.[0-9]*)?|\.[0-9]+)$")


class CommandGroup(TyperGroup):
    """The groups of the app: help with examples, negative numbers as operands.

    Each command's help ends with its examples and the global options (``_help``).
    click reads ``-1`` as an unknown option. No option of ours is spelled with a
    digit, so such a token can only be a value: when one is present, the command
    takes unknown option-like tokens as arguments (``search count gte -1``).
    """

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:  # type: ignore[override]
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            parent = ctx.command_path.partition(" ")[2]
            decorate(command, f"{parent} {cmd_name}".strip())
        return command

    def resolve_command(  # type: ignore[override]
        self, ctx: typer.Context, args: list[str]
    ) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            command.ignore_unknown_options = any(_NEGATIVE_NUMBER.match(a) for a in rest)
        return name, command, rest


def dry_run(action: str, target: str, description: str, **detail: Any) -> Result:
    """What ``--dry-run`` returns for a single action: what would happen, nothing done."""
    return Result(
        {"dry_run": True, "action": action, "target": target, **detail},
        Lines([f"would {description}"]),
        notes=["dry run: nothing was changed"],
    )


class _NothingSent(Exception):
    pass


class _Offline(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise _NothingSent


def check_offline(request: Callable[[frankenws.Client], object]) -> None:
    """Apply the SDK's checks of a request without sending it (``--dry-run``).

    The SDK validates arguments (payload size, expiry range...) before anything goes
    out; running the real method against a transport that refuses to send gives a
    dry run exactly the refusals of a real run.
    """
    offline = frankenws.Client("http://dry-run.invalid", transport=_Offline(), retries=0)
    with offline, contextlib.suppress(_NothingSent):
        request(offline)


def server_name(url: str) -> str:
    """``127.0.0.1:2019`` for ``http://127.0.0.1:2019``: how prompts name the server."""
    return url.partition("://")[2] or url


def ms(nanoseconds: int) -> float:
    """Nanoseconds as milliseconds, rounded for display and JSON."""
    return round(nanoseconds / 1_000_000, 3)
