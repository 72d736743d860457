"""``ping``: round-trip measurement with WebSocket pings."""

from __future__ import annotations

from typing import Annotated

import typer

from frankenws_cli._context import context_of
from frankenws_cli._output import Lines, Result
from frankenws_cli._parse import non_empty

from ._common import CommandGroup, dry_run, ms

__all__ = ["register"]

# What the server records for a pong that arrived without a pending ping.
PLACEHOLDER_NS = 5_000_000

ping_app = typer.Typer(
    help="Ping measurement of a connection.", no_args_is_help=True, cls=CommandGroup
)

IdArg = Annotated[str, typer.Argument(metavar="ID", help="The connection id.", show_default=False)]


@ping_app.command("enable")
def enable(
    ctx: typer.Context,
    id: IdArg,
    interval: Annotated[
        int,
        typer.Option(
            "--interval",
            help="0 pings once now; more pings periodically (the server waits 2x this).",
            min=0,
            metavar="MS",
        ),
    ] = 0,
) -> Result:
    """Start measuring the ping time of a connection.

    JSON: {"id", "enabled", "interval_ms"}. Exit 1 when the id is not connected.
    """
    obj = context_of(ctx)
    client = obj.client()
    non_empty(id=id)
    obj.require_connected(id, doing="changed")
    if obj.dry_run:
        return dry_run("ping.enable", id, f"enable ping on {id}", interval_ms=interval)
    obj.act(
        "ping.enable",
        id,
        lambda: client.enable_ping(id, interval),
        detail={"interval_ms": interval},
    )
    return Result(
        {"id": id, "enabled": True, "interval_ms": interval}, Lines([f"ping enabled on {id}"])
    )


@ping_app.command("disable")
def disable(ctx: typer.Context, id: IdArg) -> Result:
    """Stop measuring and forget the measurements.

    JSON: {"id", "enabled"}. Exit 1 when the id is not connected.
    """
    obj = context_of(ctx)
    client = obj.client()
    non_empty(id=id)
    obj.require_connected(id, doing="changed")
    if obj.dry_run:
        return dry_run("ping.disable", id, f"disable ping on {id}")
    obj.act("ping.disable", id, lambda: client.disable_ping(id))
    return Result({"id": id, "enabled": False}, Lines([f"ping disabled on {id}"]))


@ping_app.command("time")
def time_(ctx: typer.Context, id: IdArg) -> Result:
    """The last measured round trip.

    JSON: {"id", "ping_time_ns", "ping_time_ms", "measured"}.
    """
    ns = context_of(ctx).client().get_client_ping_time(id)
    data = {"id": id, "ping_time_ns": ns, "ping_time_ms": ms(ns), "measured": ns > 0}
    if not ns:
        return Result(
            data, Lines(["not measured"]), notes=["enable it with: frankenws ping enable ID"]
        )
    notes = []
    if ns == PLACEHOLDER_NS:
        notes.append("5 ms exactly is the server's placeholder for a pong without a ping")
    return Result(data, Lines([f"{ms(ns)} ms"]), notes=notes)


def register(app: typer.Typer) -> None:
    app.add_typer(ping_app, name="ping", rich_help_panel="Act on connections")
