"""``clients``, importable and runnable without typer (like ``_kill``).

``frankenws clients --json > file`` is how a very long list of ids leaves the server,
so this path is timed against ``curl`` + ``json.loads`` (docs/performance.md,
"1,000,000 ids"): the typer command and the fast path (``_fast``) both call
:func:`list_clients`. Strictly private.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import frankenws

from ._context import AppContext
from ._output import Lines, Result, Table

if TYPE_CHECKING:
    from ._context import Server

__all__ = ["list_clients", "nodes_of", "routes_of"]


def routes_of(client: Server, ids: set[str] | None = None) -> dict[str, str]:
    """Connection id -> route (the API has no per-connection route lookup)."""
    found: dict[str, str] = {}
    for route in client.list_routes():
        for conn in client.get_clients_by_route(route):
            if ids is None or conn in ids:
                found[conn] = route
    return found


def nodes_of(client: Server, route: str | None = None) -> dict[str, str] | None:
    """Connection id -> node for a fleet (one ``getClients`` per node), else ``None``."""
    # Client first: naming frankenws.Cluster would import the fleet modules.
    if isinstance(client, frankenws.Client):
        return None
    by_node = client.get_clients_by_node(route)
    return {conn: node for node, ids in by_node.items() for conn in ids}


def list_clients(
    obj: AppContext,
    route: str | None = None,
    tag: str | None = None,
    expr: str | None = None,
    where: tuple[str, str, str] | None = None,
    count: bool = False,
) -> Result:
    """The ``clients`` command: live ids, filtered, in the shape ``obj.mode`` asks for."""
    client = obj.client()
    if tag is None and expr is None and where is None:
        if count:
            total = client.get_clients_count(route)
            return Result({"count": total}, Lines([str(total)]))
        live = client.get_clients(route)
        keep: set[str] | None = None
    else:
        # The SDK validates each filter before sending it, so the most error-prone one
        # (a bad operator or regex) goes first: it fails before any request is made.
        sets: list[set[str]] = []
        if where is not None:
            key, op, value = where
            sets.append(set(client.search_stored_information(key, op, value, route)))
        if tag is not None:
            sets.append(set(client.get_clients_by_tag(tag)))
        if expr is not None:
            sets.append(set(client.get_clients_by_tag_expression(expr)))
        # Tags and stored data outlive connections on the server: keep live ids only.
        live = client.get_clients(route)
        keep = set.intersection(*sets)
    if keep is not None:
        live = [i for i in live if i in keep]
    single = isinstance(client, frankenws.Client)
    if single and obj.mode in ("json", "ids"):
        # Neither shows routes: spare the requests that look them up. One server lists
        # each id once, in its own order; sorting a million ids would take longer than
        # fetching them, so machine output keeps that order.
        if count:
            return Result({"count": len(live)}, Lines([str(len(live))]))
        return Result(live, Lines(live), notes=[_counted(len(live))])
    # A fleet may list an id on two nodes (a node answering twice after a restart).
    ordered = sorted(set(live))
    if count:
        return Result({"count": len(ordered)}, Lines([str(len(ordered))]))
    notes = [_counted(len(ordered))]
    node_of = nodes_of(client, route)
    if node_of is not None:
        return _fleet_clients(obj, client, ordered, node_of, route, notes)
    where_route = dict.fromkeys(ordered, route) if route else routes_of(client, set(ordered))
    rows = sorted((where_route.get(i, "-"), i) for i in ordered)
    if obj.mode == "wide":
        wide = [(i, r, sorted(client.get_client_tags(i))) for r, i in rows]
        return Result(ordered, Table(["ID", "ROUTE", "TAGS"], wide), notes=notes)
    return Result(ordered, Table(["ID", "ROUTE"], [(i, r) for r, i in rows]), notes=notes)


def _counted(total: int) -> str:
    return f"{total} connection(s)" if total else "no matching connection"


def _fleet_clients(
    obj: AppContext,
    client: Server,
    ordered: list[str],
    node_of: dict[str, str],
    route: str | None,
    notes: list[str],
) -> Result:
    # On a fleet every JSON item names its node, and the tables gain a NODE column.
    data = [{"id": i, "node": node_of.get(i)} for i in ordered]
    if obj.mode in ("json", "ids"):
        return Result(data, Lines(ordered), notes=notes)
    where_route = dict.fromkeys(ordered, route) if route else routes_of(client, set(ordered))
    rows = sorted((where_route.get(i, "-"), i) for i in ordered)
    if obj.mode == "wide":
        wide = [(i, r, node_of.get(i, "-"), sorted(client.get_client_tags(i))) for r, i in rows]
        return Result(data, Table(["ID", "ROUTE", "NODE", "TAGS"], wide), notes=notes)
    table = Table(["ID", "ROUTE", "NODE"], [(i, r, node_of.get(i, "-")) for r, i in rows])
    return Result(data, table, notes=notes)
