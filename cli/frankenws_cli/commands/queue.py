"""``queue``: record the messages sent to a connection."""

from __future__ import annotations

import base64
from typing import Annotated, Any

import typer

from frankenws_cli._context import context_of
from frankenws_cli._output import Lines, Result, Stack, Table
from frankenws_cli._parse import non_empty

from ._common import CommandGroup, dry_run

__all__ = ["register"]

queue_app = typer.Typer(
    help="Message queue counter: record what is sent to a connection.",
    no_args_is_help=True,
    cls=CommandGroup,
)

IdArg = Annotated[str, typer.Argument(metavar="ID", help="The connection id.", show_default=False)]


@queue_app.command("enable")
def enable(
    ctx: typer.Context,
    id: IdArg,
    max_messages: Annotated[int, typer.Option(help="Keep at most this many.", min=1)] = 100,
    max_age: Annotated[
        int, typer.Option(help="Drop messages older than this many seconds.", min=1)
    ] = 3600,
) -> Result:
    """Start recording the messages sent to a connection.

    JSON: {"id", "enabled", "max_messages", "max_age"}. Exit 1 when the id is not
    connected.
    """
    obj = context_of(ctx)
    client = obj.client()
    non_empty(id=id)
    obj.require_connected(id, doing="changed")
    detail = {"max_messages": max_messages, "max_age": max_age}
    if obj.dry_run:
        return dry_run("queue.enable", id, f"enable the queue counter of {id}", **detail)
    obj.act(
        "queue.enable",
        id,
        lambda: client.enable_queue_counter(id, max_messages, max_age),
        detail=detail,
    )
    return Result({"id": id, "enabled": True, **detail}, Lines([f"queue counter enabled on {id}"]))


@queue_app.command("disable")
def disable(ctx: typer.Context, id: IdArg) -> Result:
    """Stop recording (the counter and the messages are kept).

    JSON: {"id", "enabled"}. Exit 1 when it was never enabled.
    """
    obj = context_of(ctx)
    client = obj.client()
    non_empty(id=id)
    if obj.dry_run:
        return dry_run("queue.disable", id, f"disable the queue counter of {id}")
    was = obj.act(
        "queue.disable",
        id,
        lambda: client.disable_queue_counter(id),
        outcome=lambda ok: "done" if ok else "not_found",
    )
    if not was:
        return Result(
            {"id": id, "enabled": False},
            Lines([]),
            exit_code=1,
            notes=[f"the queue counter of {id!r} was never enabled"],
        )
    return Result({"id": id, "enabled": False}, Lines([f"queue counter disabled on {id}"]))


def _text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


@queue_app.command("show")
def show(ctx: typer.Context, id: IdArg) -> Result:
    """The recorded messages, oldest first, and the message counter.

    JSON: {"id", "counter", "messages": [{"id", "timestamp", "send_type",
    "send_target", "route", "text", "data_base64"}]} ("text" is null for non-UTF-8).
    """
    client = context_of(ctx).client()
    counter = client.get_client_message_counter(id)
    messages = client.get_client_message_queue(id)
    items: list[dict[str, Any]] = [
        {
            "id": m.id,
            "timestamp": m.timestamp.isoformat(),
            "send_type": m.send_type,
            "send_target": m.send_target,
            "route": m.route,
            "text": _text(m.data),
            "data_base64": base64.b64encode(m.data).decode("ascii"),
        }
        for m in messages
    ]
    rows = [
        (
            i["id"],
            i["timestamp"],
            i["send_type"],
            i["send_target"],
            i["route"] or "-",
            i["text"]
            if i["text"] is not None
            else f"<{len(base64.b64decode(i['data_base64']))} bytes>",
        )
        for i in items
    ]
    view = Stack(
        [
            Lines([f"counter: {counter}"]),
            *([Table(["#", "TIME", "TYPE", "TARGET", "ROUTE", "DATA"], rows)] if rows else []),
        ]
    )
    return Result({"id": id, "counter": counter, "messages": items}, view)


@queue_app.command("clear")
def clear(ctx: typer.Context, id: IdArg) -> Result:
    """Empty the recorded messages (the counter is kept).

    JSON: {"id", "cleared"}. Exit 1 when the queue counter was never enabled.
    """
    obj = context_of(ctx)
    client = obj.client()
    non_empty(id=id)
    if obj.dry_run:
        return dry_run("queue.clear", id, f"clear the queue of {id}")
    cleared = obj.act(
        "queue.clear",
        id,
        lambda: client.clear_client_message_queue(id),
        outcome=lambda ok: "done" if ok else "not_found",
    )
    if not cleared:
        return Result(
            {"id": id, "cleared": False},
            Lines([]),
            exit_code=1,
            notes=[f"the queue counter of {id!r} was never enabled"],
        )
    return Result({"id": id, "cleared": True}, Lines([f"queue of {id} cleared"]))


def register(app: typer.Typer) -> None:
    app.add_typer(queue_app, name="queue", rich_help_panel="Act on connections")
