"""Act on one connection: kill, send, broadcast, tag, untag, rename."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

import frankenws
from frankenws_cli._context import context_of, server_label
from frankenws_cli._errors import NotDone, UsageProblem
from frankenws_cli._kill import kill_ids
from frankenws_cli._output import Lines, Result, confirm
from frankenws_cli._parse import non_empty, read_payload

from ._common import check_offline, dry_run, server_name

if TYPE_CHECKING:
    from frankenws_cli._context import Server

__all__ = ["register"]

PANEL = "Act on connections"

MessageArg = Annotated[
    str | None,
    typer.Argument(
        metavar="MESSAGE",
        help="The message (sent as UTF-8); '-' reads it from stdin.",
        show_default=False,
    ),
]
FileOpt = Annotated[
    Path | None,
    typer.Option(
        "--file",
        "-f",
        help="Send the exact bytes of this file instead ('-' for stdin).",
        show_default=False,
        dir_okay=False,
    ),
]
RouteOpt = Annotated[
    str | None,
    typer.Option("--route", "-r", help="Only if the connection is on this route."),
]


def kill(
    ctx: typer.Context,
    ids: Annotated[
        list[str] | None,
        typer.Argument(
            help="Connection ids; '-' reads them from stdin, one per line (the first "
            "tab-separated field, as list commands print into a pipe).",
            show_default=False,
            metavar="ID",
        ),
    ] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Read ids from this file, one per line.",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
) -> Any:
    """Close connections at once (the client sees its TCP connection drop).

    JSON: {"job": "kill", "ok", "counts": {"done", "not_found", "failed", "skipped",
    "uncertain"}, "started", "finished", "notes", "outcomes": [{"target", "action",
    "status", "error"?}]}. Exit 1 when any id was not found or failed.
    """
    return kill_ids(context_of(ctx), ids or [], from_file)


def send(
    ctx: typer.Context,
    id: Annotated[str, typer.Argument(metavar="ID", help="The connection id.", show_default=False)],
    message: MessageArg = None,
    file: FileOpt = None,
    route: RouteOpt = None,
) -> Result:
    """Send one message to a connection (a binary WebSocket frame).

    The server says nothing about delivery, so the id is checked first: exit 1 when it
    is not connected (or not on --route). JSON: {"id", "bytes", "route"}.
    """
    obj = context_of(ctx)
    payload = read_payload(message, file)
    client = obj.client()
    non_empty(id=id)
    if not payload:
        raise frankenws.InvalidArgument(
            "the message is empty; the server's send handler crashes on an empty body"
        )
    obj.require_connected(id, doing="sent")
    if route is not None and id not in client.get_clients(route):
        raise NotDone(f"{id!r} is not on route {route!r}; nothing was sent")
    if obj.dry_run:
        check_offline(lambda to: to.send(id, payload, route))
        return dry_run("send", id, f"send {len(payload)} byte(s) to {id}", bytes=len(payload))
    obj.act(
        "send",
        id,
        lambda: client.send(id, payload, route),
        detail={"bytes": len(payload), **({"route": route} if route else {})},
    )
    return Result(
        {"id": id, "bytes": len(payload), "route": route},
        Lines([f"sent {len(payload)} byte(s) to {id}"]),
    )


def broadcast(
    ctx: typer.Context,
    message: MessageArg = None,
    file: FileOpt = None,
    route: Annotated[
        str | None, typer.Option("--route", "-r", help="Only connections on this route.")
    ] = None,
    tag: Annotated[
        str | None, typer.Option("--tag", "-t", help="Only connections with this tag.")
    ] = None,
    expr: Annotated[
        str | None,
        typer.Option("--expr", "-e", help="Only connections whose tags match this expression."),
    ] = None,
) -> Result:
    """Send one message to every connection, or those on --route, with --tag or --expr.

    Without --route, --tag or --expr the message goes to everyone: like the bulk jobs,
    it asks first (unless --yes). An empty message is refused, as by send; --dry-run
    applies the same checks as a real run.
    JSON: {"sent", "scope": "all"|"tag"|"expression", "tag", "expression", "route",
    "bytes"}; "sent" is how many writes succeeded.
    """
    obj = context_of(ctx)
    if tag is not None and expr is not None:
        raise UsageProblem("give --tag or --expr, not both")
    payload = read_payload(message, file)
    if not payload:
        raise frankenws.InvalidArgument("the message is empty; nothing was sent")
    client = obj.client()
    scope = "tag" if tag is not None else "expression" if expr is not None else "all"
    target = tag if tag is not None else expr if expr is not None else "all"
    data: dict[str, Any] = {
        "sent": 0,
        "scope": scope,
        "tag": tag,
        "expression": expr,
        "route": route,
        "bytes": len(payload),
    }

    def send(to: Server) -> int:
        if tag is not None:
            return to.send_to_tag(tag, payload, route)
        if expr is not None:
            return to.send_to_tag_expression(expr, payload, route)
        return to.send_all(payload, route)

    check_offline(send)
    if obj.dry_run:
        if tag is not None:
            reach = set(client.get_clients_by_tag(tag)) & set(client.get_clients(route))
        elif expr is not None:
            reach = set(client.get_clients_by_tag_expression(expr)) & set(client.get_clients(route))
        else:
            reach = set(client.get_clients(route))
        return dry_run(
            "broadcast",
            target,
            f"send {len(payload)} byte(s) to {len(reach)} connection(s)",
            recipients=len(reach),
            **{k: v for k, v in data.items() if k != "sent"},
        )
    if scope == "all" and route is None and not obj.yes:
        _confirm_broadcast(client, len(payload), reads_stdin=message == "-" or str(file) == "-")
    detail = {"scope": scope, "bytes": len(payload), **({"route": route} if route else {})}
    sent = obj.act("broadcast", target, lambda: send(client), detail=detail)
    data["sent"] = sent
    result = Result(data, Lines([f"sent to {sent} connection(s)"]))
    if not sent:
        result.warnings.append("no connection matched; nobody received the message")
    return result


def _confirm_broadcast(client: Server, size: int, *, reads_stdin: bool) -> None:
    """Everyone is about to receive a message: ask first, as the bulk jobs do."""
    if reads_stdin:
        raise UsageProblem(
            "the message comes from stdin, so there is no way to confirm a broadcast to "
            "every connection; nothing was sent",
            "pass --yes to send it to everyone, or narrow it with --route, --tag or --expr",
        )
    count = client.get_clients_count()
    where = server_name(server_label(client))
    question = f"Send {size:,} byte(s) to all {count:,} connection(s) on {where}?"
    if not confirm(question):
        raise NotDone("cancelled; nothing was sent")


def tag(
    ctx: typer.Context,
    id: Annotated[str, typer.Argument(metavar="ID", help="The connection id.", show_default=False)],
    tags: Annotated[
        list[str], typer.Argument(metavar="TAG...", help="Tags to add.", show_default=False)
    ],
) -> Result:
    """Add tags to a connection.

    JSON: {"id", "tags"} with every tag the connection has afterwards.
    """
    obj = context_of(ctx)
    client = obj.client()
    non_empty(id=id)
    for name in tags:
        non_empty(tag=name)
    obj.require_connected(id, doing="tagged")
    if obj.dry_run:
        return dry_run("tag", id, f"tag {id} with {', '.join(tags)}", tags=tags)
    for name in tags:
        obj.act("tag", id, lambda name=name: client.tag_client(id, name), detail={"tag": name})  # type: ignore[misc]
    now = sorted(client.get_client_tags(id))
    return Result({"id": id, "tags": now}, Lines([f"{id}: {', '.join(now)}"]))


def untag(
    ctx: typer.Context,
    id: Annotated[str, typer.Argument(metavar="ID", help="The connection id.", show_default=False)],
    tags: Annotated[
        list[str] | None,
        typer.Argument(metavar="TAG...", help="Tags to remove.", show_default=False),
    ] = None,
    all_tags: Annotated[bool, typer.Option("--all", help="Remove every tag.")] = False,
) -> Result:
    """Remove tags from a connection (or all of them with --all).

    JSON: {"id", "tags"} with the tags left.
    """
    obj = context_of(ctx)
    client = obj.client()
    if all_tags == bool(tags):
        raise UsageProblem("give the tags to remove, or --all (not both)")
    non_empty(id=id)
    for name in tags or []:
        non_empty(tag=name)
    obj.require_connected(id, doing="untagged")
    if obj.dry_run:
        what = "every tag" if all_tags else ", ".join(tags or [])
        return dry_run("untag", id, f"remove {what} from {id}", tags=tags or [], all=all_tags)
    if all_tags:
        obj.act("untag", id, lambda: client.clear_tag_client(id), detail={"all": True})
    for name in tags or []:
        obj.act(
            "untag",
            id,
            lambda name=name: client.untag_client(id, name),  # type: ignore[misc]
            detail={"tag": name},
        )
    left = sorted(client.get_client_tags(id))
    return Result(
        {"id": id, "tags": left}, Lines([f"{id}: {', '.join(left) if left else 'no tags'}"])
    )


def rename(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(metavar="OLD", help="Current id.", show_default=False)],
    new: Annotated[str, typer.Argument(metavar="NEW", help="New id.", show_default=False)],
) -> Result:
    """Re-register a connection under a new id (route, tags and stored data move).

    JSON: {"old_id", "new_id", "renamed"}. Exit 1 when OLD is not connected or NEW
    is taken.
    """
    obj = context_of(ctx)
    client = obj.client()
    non_empty(current_id=old, new_id=new)
    if obj.dry_run:
        registered = obj.registered()
        if old not in registered:
            raise NotDone(f"no connection {old!r}; nothing would be renamed")
        if new in registered:
            raise NotDone(f"{new!r} is already taken; nothing would be renamed")
        return dry_run("rename", old, f"rename {old} to {new}", new_id=new)
    renamed = obj.act(
        "rename",
        old,
        lambda: client.rename_connection(old, new),
        detail={"new_id": new},
        outcome=lambda ok: "done" if ok else "not_done",
    )
    data = {"old_id": old, "new_id": new, "renamed": renamed}
    if not renamed:
        return Result(
            data,
            Lines([f"not renamed {old}"]),
            exit_code=1,
            notes=[f"{old!r} is not connected, or {new!r} is already taken"],
        )
    return Result(data, Lines([f"renamed {old} to {new}"]))


def register(app: typer.Typer) -> None:
    for fn in (kill, send, broadcast, tag, untag, rename):
        app.command(rich_help_panel=PANEL)(fn)
