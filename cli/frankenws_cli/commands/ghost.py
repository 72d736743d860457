"""``ghost``: keep a connection's registration and state when its socket closes."""

from __future__ import annotations

from typing import Annotated

import typer

from frankenws_cli._context import context_of
from frankenws_cli._output import Lines, Result
from frankenws_cli._parse import non_empty

from ._common import CommandGroup, dry_run

__all__ = ["register"]

ghost_app = typer.Typer(
    help="Ghost connections: registered and kept with all their state after the socket closes.",
    no_args_is_help=True,
    cls=CommandGroup,
)

IdArg = Annotated[str, typer.Argument(metavar="ID", help="The connection id.", show_default=False)]


@ghost_app.command("on")
def on(ctx: typer.Context, id: IdArg) -> Result:
    """Make a connection a ghost.

    JSON: {"id", "ghost"}. Exit 1 when the id is not registered.
    """
    obj = context_of(ctx)
    client = obj.client()
    non_empty(id=id)
    if obj.dry_run:
        obj.require_connected(id, doing="changed")
        return dry_run("ghost.on", id, f"make {id} a ghost")
    done = obj.act(
        "ghost.on",
        id,
        lambda: client.activate_ghost(id),
        outcome=lambda ok: "done" if ok else "not_found",
    )
    if not done:
        return Result(
            {"id": id, "ghost": False},
            Lines([]),
            exit_code=1,
            notes=[f"no connection {id!r}; nothing was changed"],
        )
    return Result({"id": id, "ghost": True}, Lines([f"{id} is a ghost"]))


@ghost_app.command("off")
def off(ctx: typer.Context, id: IdArg) -> Result:
    """Release a ghost: unregister it and clean up its state.

    JSON: {"id", "ghost"}. Exit 1 when the id was not a ghost.
    """
    obj = context_of(ctx)
    client = obj.client()
    non_empty(id=id)
    if obj.dry_run:
        return dry_run("ghost.off", id, f"release ghost {id}", ghost=client.is_ghost(id))
    released = obj.act(
        "ghost.off",
        id,
        lambda: client.release_ghost(id),
        outcome=lambda ok: "done" if ok else "not_found",
    )
    if not released:
        return Result(
            {"id": id, "ghost": client.is_ghost(id)},
            Lines([]),
            exit_code=1,
            notes=[f"{id!r} is not a registered ghost; nothing was changed"],
        )
    return Result({"id": id, "ghost": False}, Lines([f"released ghost {id}"]))


@ghost_app.command("status")
def status(ctx: typer.Context, id: IdArg) -> Result:
    """Whether the ghost flag is set.

    JSON: {"id", "ghost"}.
    """
    ghost = context_of(ctx).client().is_ghost(id)
    return Result({"id": id, "ghost": ghost}, Lines(["ghost" if ghost else "not a ghost"]))


def register(app: typer.Typer) -> None:
    app.add_typer(ghost_app, name="ghost", rich_help_panel="Act on connections")
