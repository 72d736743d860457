"""``global``: the server-wide key/value store (not tied to a connection)."""

from __future__ import annotations

from typing import Annotated

import typer

from frankenws_cli._context import context_of
from frankenws_cli._output import Lines, Raw, Result
from frankenws_cli._parse import non_empty

from ._common import CommandGroup, check_offline, dry_run

__all__ = ["register"]

global_app = typer.Typer(
    help="The global key/value store shared by all connections.",
    no_args_is_help=True,
    cls=CommandGroup,
)

KeyArg = Annotated[str, typer.Argument(metavar="KEY", help="The key.", show_default=False)]


@global_app.command("get")
def get(ctx: typer.Context, key: KeyArg) -> Result:
    """Print the value of KEY (exactly, plus a newline).

    JSON: {"key", "value"} (value null when missing or expired). Exit 1 when missing.
    """
    value = context_of(ctx).client().global_get(key)
    data = {"key": key, "value": value}
    if value is None:
        return Result(data, Lines([]), exit_code=1, notes=[f"no global {key!r} (or it expired)"])
    return Result(data, Raw(value.encode("utf-8", "surrogateescape")))


@global_app.command("set")
def set_(
    ctx: typer.Context,
    key: KeyArg,
    value: Annotated[
        str, typer.Argument(metavar="VALUE", help="The value (may be empty).", show_default=False)
    ],
    expire: Annotated[
        int,
        typer.Option(
            "--expire", help="Lifetime in seconds; 0 never expires.", min=0, show_default=True
        ),
    ] = 0,
) -> Result:
    """Set KEY = VALUE, optionally expiring after --expire seconds.

    JSON: {"key", "value", "expire_seconds"}.
    """
    obj = context_of(ctx)
    client = obj.client()
    non_empty(key=key)
    if obj.dry_run:
        check_offline(lambda to: to.global_set(key, value, expire))
        return dry_run("global.set", key, f"set global {key!r}", expire_seconds=expire)
    obj.begin_changes()
    obj.act(
        "global.set",
        key,
        lambda: client.global_set(key, value, expire),
        detail={"expire_seconds": expire},
    )
    suffix = f" (expires in {expire} s)" if expire else ""
    return Result(
        {"key": key, "value": value, "expire_seconds": expire}, Lines([f"set {key!r}{suffix}"])
    )


@global_app.command("has")
def has(ctx: typer.Context, key: KeyArg) -> Result:
    """Whether KEY exists (exit 0) or not (exit 1), like test(1).

    JSON: {"key", "exists"}.
    """
    exists = context_of(ctx).client().global_has(key)
    return Result(
        {"key": key, "exists": exists},
        Lines(["yes" if exists else "no"]),
        exit_code=0 if exists else 1,
    )


@global_app.command("delete")
def delete(ctx: typer.Context, key: KeyArg) -> Result:
    """Delete KEY.

    JSON: {"key", "deleted"}. Exit 1 when there was no such key.
    """
    obj = context_of(ctx)
    client = obj.client()
    non_empty(key=key)
    if obj.dry_run:
        exists = client.global_has(key)
        return dry_run("global.delete", key, f"delete global {key!r}", exists=exists)
    deleted = obj.act(
        "global.delete",
        key,
        lambda: client.global_delete(key),
        outcome=lambda ok: "done" if ok else "not_found",
    )
    if not deleted:
        return Result(
            {"key": key, "deleted": False},
            Lines([]),
            exit_code=1,
            notes=[f"no global {key!r}; nothing was deleted"],
        )
    return Result({"key": key, "deleted": True}, Lines([f"deleted {key!r}"]))


def register(app: typer.Typer) -> None:
    app.add_typer(global_app, name="global", rich_help_panel="Act on connections")
