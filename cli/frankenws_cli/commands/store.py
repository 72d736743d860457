"""``store``: the key/value information stored on each connection."""

from __future__ import annotations

from typing import Annotated

import typer

from frankenws_cli._context import context_of
from frankenws_cli._errors import NotDone
from frankenws_cli._output import Lines, Raw, Result, Table
from frankenws_cli._parse import non_empty

from ._common import CommandGroup, dry_run

__all__ = ["register"]

store_app = typer.Typer(
    help="Per-connection stored information (what the PHP worker keeps on a connection).",
    no_args_is_help=True,
    cls=CommandGroup,
)

IdArg = Annotated[str, typer.Argument(metavar="ID", help="The connection id.", show_default=False)]
KeyArg = Annotated[str, typer.Argument(metavar="KEY", help="The key.", show_default=False)]


def _raw(value: str) -> bytes:
    return value.encode("utf-8", "surrogateescape")


@store_app.command("get")
def get(ctx: typer.Context, id: IdArg, key: KeyArg) -> Result:
    """Print the value stored under KEY (exactly, plus a newline).

    JSON: {"id", "key", "value"} (value null when missing). Exit 1 when missing.
    """
    client = context_of(ctx).client()
    value = client.get_stored_information(id, key)
    data = {"id": id, "key": key, "value": value}
    if value is None:
        return Result(data, Lines([]), exit_code=1, notes=[f"{id!r} has no {key!r} stored"])
    return Result(data, Raw(_raw(value)))


@store_app.command("set")
def set_(
    ctx: typer.Context,
    id: IdArg,
    key: KeyArg,
    value: Annotated[
        str, typer.Argument(metavar="VALUE", help="The value (not empty).", show_default=False)
    ],
) -> Result:
    """Store KEY = VALUE on a connection.

    JSON: {"id", "key", "value"}. Exit 1 when the id is not connected.
    """
    obj = context_of(ctx)
    client = obj.client()
    non_empty(id=id, key=key, value=value)
    obj.require_connected(id, doing="stored")
    if obj.dry_run:
        return dry_run("store.set", id, f"store {key!r} on {id}", key=key)
    obj.act(
        "store.set", id, lambda: client.set_stored_information(id, key, value), detail={"key": key}
    )
    return Result({"id": id, "key": key, "value": value}, Lines([f"stored {key!r} on {id}"]))


@store_app.command("delete")
def delete(ctx: typer.Context, id: IdArg, key: KeyArg) -> Result:
    """Delete KEY from a connection.

    JSON: {"id", "key", "deleted"}. Exit 1 when there was no such key.
    """
    obj = context_of(ctx)
    client = obj.client()
    if not client.has_stored_information(id, key):
        raise NotDone(f"{id!r} has no {key!r} stored; nothing was deleted")
    if obj.dry_run:
        return dry_run("store.delete", id, f"delete {key!r} from {id}", key=key)
    obj.act(
        "store.delete", id, lambda: client.delete_stored_information(id, key), detail={"key": key}
    )
    return Result({"id": id, "key": key, "deleted": True}, Lines([f"deleted {key!r} from {id}"]))


@store_app.command("clear")
def clear(ctx: typer.Context, id: IdArg) -> Result:
    """Delete everything stored on a connection.

    JSON: {"id", "deleted_keys"}.
    """
    obj = context_of(ctx)
    client = obj.client()
    keys = sorted(client.list_stored_information_keys(id))
    if obj.dry_run:
        return dry_run("store.clear", id, f"delete {len(keys)} key(s) from {id}", keys=keys)
    obj.act("store.clear", id, lambda: client.clear_stored_information(id), detail={"keys": keys})
    return Result(
        {"id": id, "deleted_keys": keys}, Lines([f"deleted {len(keys)} key(s) from {id}"])
    )


@store_app.command("list")
def list_(ctx: typer.Context, id: IdArg) -> Result:
    """Everything stored on a connection.

    JSON: an object of key to value, sorted by key. Exit 1 when the id is neither
    connected nor has anything stored.
    """
    obj = context_of(ctx)
    client = obj.client()
    stored = dict(sorted(client.get_all_stored_information(id).items()))
    if not stored:
        obj.require_connected(id, doing="listed")
        return Result(stored, Lines([]), notes=[f"nothing stored on {id!r}"])
    return Result(stored, Table(["KEY", "VALUE"], list(stored.items())))


def register(app: typer.Typer) -> None:
    app.add_typer(store_app, name="store", rich_help_panel="Act on connections")
