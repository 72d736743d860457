"""Inspect: clients, show, search, routes, tags, watch. Nothing here changes the server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any

import typer

import frankenws
from frankenws_cli._clients import list_clients, nodes_of, routes_of
from frankenws_cli._context import AppContext, context_of, server_label
from frankenws_cli._errors import NotDone
from frankenws_cli._output import Fields, Lines, Result, Stack, Stream, Table

from ._common import ms

if TYPE_CHECKING:
    from frankenws_cli._context import Server

__all__ = ["register"]

PANEL = "Inspect"

RouteOpt = Annotated[
    str | None,
    typer.Option("--route", "-r", help="Only connections opened on this path, e.g. /chat."),
]


def clients(
    ctx: typer.Context,
    route: RouteOpt = None,
    tag: Annotated[
        str | None, typer.Option("--tag", "-t", help="Only connections with this tag.")
    ] = None,
    expr: Annotated[
        str | None,
        typer.Option(
            "--expr",
            "-e",
            help="Only connections whose tags match this expression, e.g. 'admin&!muted' "
            "(evaluated by the server).",
        ),
    ] = None,
    where: Annotated[
        tuple[str, str, str] | None,
        typer.Option(
            "--where",
            "-w",
            metavar="KEY OP VALUE",
            help="Only connections whose stored KEY matches, e.g. --where username eq alice. "
            "OP is one of the search operators (see 'search').",
        ),
    ] = None,
    count: Annotated[bool, typer.Option("--count", "-c", help="Print only how many.")] = False,
) -> Result:
    """List connected ids (filters combine with AND).

    On a terminal: a table of ids and routes (-o wide adds the tags). Piped: one
    "ID<tab>ROUTE" line per connection. Both are sorted. JSON: the list of ids, or
    {"count": N} with --count; JSON and -o ids keep the server's order, which changes
    from call to call (sort with jq 'sort' or sort(1) if you need a stable one); on a
    fleet, a sorted list of {"id", "node"} objects.
    """
    return list_clients(context_of(ctx), route, tag, expr, where, count)


def show(
    ctx: typer.Context,
    id: Annotated[str, typer.Argument(metavar="ID", help="The connection id.", show_default=False)],
) -> Result:
    """Everything known about one connection: route, tags, stored information, ghost
    flag, ping time, message counter.

    JSON: {"id", "connected", "route", "ghost", "tags", "stored", "ping_time_ns",
    "ping_time_ms", "message_counter", "queued_messages"}. Exit 1 when the id is not
    connected.
    """
    obj = context_of(ctx)
    client = obj.client()
    tags = sorted(client.get_client_tags(id))
    stored = dict(sorted(client.get_all_stored_information(id).items()))
    connected = id in obj.registered()
    route = routes_of(client, {id}).get(id) if connected else None
    ghost = client.is_ghost(id)
    ping_ns = client.get_client_ping_time(id)
    counter = client.get_client_message_counter(id)
    queued = len(client.get_client_message_queue(id))
    data: dict[str, Any] = {
        "id": id,
        "connected": connected,
        "route": route,
        "ghost": ghost,
        "tags": tags,
        "stored": stored,
        "ping_time_ns": ping_ns,
        "ping_time_ms": ms(ping_ns),
        "message_counter": counter,
        "queued_messages": queued,
    }
    if not connected and not (tags or stored or ghost or counter or queued):
        raise NotDone(
            f"no connection {id!r} on {server_label(client)}, and nothing stored under that id",
            "'frankenws clients' lists the connected ids",
        )
    view = Stack(
        [
            Fields(
                [
                    ("id", id),
                    ("connected", connected),
                    ("route", route),
                    ("ghost", ghost),
                    ("tags", tags),
                    ("ping", f"{ms(ping_ns)} ms" if ping_ns else "not measured"),
                    ("messages counted", counter),
                    ("messages queued", queued),
                ]
            ),
            Lines(["", "stored information:" if stored else "nothing stored"]),
            Table(["KEY", "VALUE"], list(stored.items())),
        ]
    )
    result = Result(data, view)
    if not connected:
        result.exit_code = 1
        result.warnings.append(
            f"{id!r} is not connected; this is what the server still keeps under that id"
        )
    return result


def search(
    ctx: typer.Context,
    key: Annotated[
        str, typer.Argument(metavar="KEY", help="Stored key, e.g. username.", show_default=False)
    ],
    op: Annotated[
        str,
        typer.Argument(
            metavar="OP",
            help="eq neq prefix suffix contains ieq iprefix isuffix icontains regex, "
            "or the numeric and set filters gt gte lt lte in exists.",
            show_default=False,
        ),
    ],
    value: Annotated[
        str, typer.Argument(metavar="VALUE", help="The operand (RE2 pattern for regex).")
    ] = "",
    route: RouteOpt = None,
) -> Result:
    """Find connections by stored information, e.g. search username eq alice.

    JSON: the sorted list of matching connected ids; on a fleet, a list of
    {"id", "node"} objects.
    """
    obj = context_of(ctx)
    client = obj.client()
    found = client.search_stored_information(key, op, value, route)
    ids = sorted(set(found) & obj.registered())
    node_of = nodes_of(client)
    data: list[Any] = ids if node_of is None else [{"id": i, "node": node_of.get(i)} for i in ids]
    if obj.mode in ("json", "ids"):
        return Result(data, Lines(ids))
    rows: list[tuple[Any, ...]] = [(i, client.get_stored_information(i, key)) for i in ids]
    columns = ["ID", key.upper()]
    if node_of is not None:
        rows = [(*row, node_of.get(row[0], "-")) for row in rows]
        columns.append("NODE")
    return Result(
        data,
        Table(columns, rows),
        notes=[f"{len(ids)} connection(s) where {key} {op} {value!r}" if ids else "no match"],
    )


def routes(ctx: typer.Context) -> Result:
    """Routes with their number of connections.

    JSON: [{"route", "connections"}] sorted by route.
    """
    client = context_of(ctx).client()
    rows: list[dict[str, Any]] = [
        {"route": r, "connections": client.get_clients_count(r)}
        for r in sorted(client.list_routes())
    ]
    total = sum(r["connections"] for r in rows)
    return Result(
        rows,
        Table(["ROUTE", "CONNECTIONS"], [(r["route"], r["connections"]) for r in rows]),
        notes=[f"{total} connection(s) on {len(rows)} route(s)"],
    )


def tags(
    ctx: typer.Context,
    id: Annotated[
        str | None,
        typer.Argument(metavar="ID", help="Show only this connection's tags.", show_default=False),
    ] = None,
) -> Result:
    """All tags with how many ids hold them, or the tags of one connection.

    JSON: [{"tag", "count"}] sorted by tag; with ID, the sorted list of its tags.
    Counts come from the server and include ids that are no longer connected.
    """
    obj = context_of(ctx)
    client = obj.client()
    if id is not None:
        obj.require_connected(id, doing="looked up")
        own = sorted(client.get_client_tags(id))
        return Result(own, Lines(own), notes=[] if own else [f"{id!r} has no tags"])
    rows = [{"tag": t, "count": client.get_tag_count(t)} for t in sorted(client.get_tags())]
    return Result(
        rows,
        Table(["TAG", "COUNT"], [(r["tag"], r["count"]) for r in rows]),
        notes=[] if rows else ["no tags"],
    )


def _node_counts(client: Server) -> list[dict[str, Any]] | None:
    """Each node's count (or why it failed) for a fleet; ``None`` for one server."""
    if not isinstance(client, frankenws.Cluster):
        return None
    answers = client.map(lambda node: node.get_clients_count())
    if not answers.results:  # nothing answered: as unreachable as a single server
        raise next(iter(answers.errors.values()))
    errors = answers.errors
    return [
        {
            "node": node.name,
            "connections": answers.results.get(node.name),
            "error": errors[node.name].message if node.name in errors else None,
        }
        for node in client.nodes
    ]


def _snapshot(client: Server, top: int) -> dict[str, Any]:
    nodes = _node_counts(client)
    if nodes is not None and any(n["error"] for n in nodes):
        # The fleet-wide reads would fail on the missing node: show what answered.
        down = [n["node"] for n in nodes if n["error"]]
        return {
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "server": server_label(client),
            "connections": sum(n["connections"] or 0 for n in nodes),
            "nodes": nodes,
            "routes": [],
            "top_tags": [],
            "error": f"{len(down)} node(s) not answering: {', '.join(down)}",
        }
    per_route = [
        {"route": r, "connections": client.get_clients_count(r)}
        for r in sorted(client.list_routes())
    ]
    counted: list[dict[str, Any]] = [
        {"tag": t, "count": client.get_tag_count(t)} for t in client.get_tags()
    ]
    counted.sort(key=lambda item: (-item["count"], item["tag"]))
    return {
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "server": server_label(client),
        "connections": client.get_clients_count(),
        "routes": per_route,
        "top_tags": counted[:top],
        **({"nodes": nodes} if nodes is not None else {}),
    }


def _frame(snapshot: dict[str, Any]) -> Result:
    error = snapshot.get("error")
    head = f"{snapshot['time']}  {snapshot['server']}"
    nodes = snapshot.get("nodes")
    per_node = (
        [
            Table(
                ["NODE", "CONNECTIONS"],
                [
                    (n["node"], n["connections"] if n["error"] is None else f"DOWN: {n['error']}")
                    for n in nodes
                ]
                + [("total", snapshot["connections"])],
            )
        ]
        if nodes is not None
        else []
    )
    if error:
        return Result(snapshot, Stack([Lines([head, f"unreachable: {error}"]), *per_node]))
    return Result(
        snapshot,
        Stack(
            [
                Lines([f"{head}  {snapshot['connections']} connection(s)"]),
                *per_node,
                Table(
                    ["ROUTE", "CONNECTIONS"],
                    [(r["route"], r["connections"]) for r in snapshot["routes"]],
                ),
                Table(["TAG", "COUNT"], [(t["tag"], t["count"]) for t in snapshot["top_tags"]]),
            ]
        ),
    )


def watch(
    ctx: typer.Context,
    interval: Annotated[
        float, typer.Option("--interval", "-i", help="Seconds between refreshes.", min=0.1)
    ] = 2.0,
    top: Annotated[int, typer.Option(help="How many tags to show.", min=1)] = 10,
    iterations: Annotated[
        int | None,
        typer.Option(
            "--iterations", "-n", help="Stop after N refreshes (default: until Ctrl-C).", min=1
        ),
    ] = None,
) -> Stream:
    """A live view of connections per route and the top tags, pulled from the server.

    Ctrl-C exits cleanly. JSON: one snapshot document per line, per refresh:
    {"time", "server", "connections", "routes": [{"route", "connections"}],
    "top_tags": [{"tag", "count"}]}; on a fleet also "nodes": [{"node", "connections",
    "error"}] and a NODE table with the total.
    """
    obj: AppContext = context_of(ctx)
    client = obj.client()
    first = _snapshot(client, top)  # fail fast (exit 3) when the server is unreachable

    def frames() -> Iterator[Result]:
        snapshot, shown = first, 0
        while True:
            yield _frame(snapshot)
            shown += 1
            if iterations is not None and shown >= iterations:
                return
            time.sleep(interval)
            try:
                snapshot = _snapshot(client, top)
            except (frankenws.TransportError, frankenws.PartialFailure) as exc:
                # Keep watching through a restart of the server (or of a node that
                # failed between two reads); say so in the frame.
                snapshot = {
                    "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "server": server_label(client),
                    "error": exc.message,
                }

    return Stream(frames(), live=True)


def register(app: typer.Typer) -> None:
    for fn in (clients, show, search, routes, tags, watch):
        app.command(rich_help_panel=PANEL)(fn)
