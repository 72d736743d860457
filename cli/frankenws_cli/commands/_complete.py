"""Dynamic shell completion: profiles, search operators, routes and tags.

Routes and tags are asked of the server named by the global options already typed
(or the environment and profiles), with a short timeout; any failure completes
nothing rather than printing an error into the shell. Strictly private.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

import frankenws
from frankenws_cli._argv import BY_ATTRIBUTE
from frankenws_cli._context import AppContext, configure
from frankenws_cli._settings import profile_names

if TYPE_CHECKING:
    from frankenws_cli._context import Server

__all__ = ["COMPLETERS", "OPERATORS", "complete_profiles"]

OPERATORS = frankenws.SEARCH_OPERATORS

# A shell waits for completion: never long.
COMPLETION_TIMEOUT = 2.0


def _matching(names: Any, incomplete: str) -> list[str]:
    return sorted(n for n in names if n.startswith(incomplete))


def complete_profiles(ctx: typer.Context, incomplete: str) -> list[str]:
    try:
        return _matching(profile_names(), incomplete)
    except Exception:
        return []


def complete_operators(ctx: typer.Context, incomplete: str) -> list[str]:
    return [op for op in OPERATORS if op.startswith(incomplete)]


def _ask_server(ctx: typer.Context, ask: Callable[[Server], Any]) -> list[str]:
    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, AppContext) else AppContext()
    try:
        given = {k: v for k, v in root.params.items() if k in BY_ATTRIBUTE}
        configure(obj, **given)
        if obj.timeout is None:
            obj.timeout = COMPLETION_TIMEOUT
        with obj.make_client(retries=0) as client:
            return list(ask(client))
    except Exception:
        return []


def complete_routes(ctx: typer.Context, incomplete: str) -> list[str]:
    return _matching(_ask_server(ctx, lambda c: c.list_routes()), incomplete)


def complete_tags(ctx: typer.Context, incomplete: str) -> list[str]:
    return _matching(_ask_server(ctx, lambda c: c.get_tags()), incomplete)


# Parameter name -> completer, for every command (see ``_help.decorate``).
COMPLETERS: dict[str, Callable[[typer.Context, str], list[str]]] = {
    "profile": complete_profiles,
    "op": complete_operators,
    "route": complete_routes,
    "tag": complete_tags,
    "tags": complete_tags,
    "notify_tag": complete_tags,
}
