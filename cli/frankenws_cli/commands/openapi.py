"""``openapi``: the admin API as an OpenAPI 3.1 document (the one in docs/openapi.yaml)."""

from __future__ import annotations

import typer

from frankenws_cli._output import Lines, Result

__all__ = ["register"]


def openapi() -> Result:
    """Print the OpenAPI 3.1 description of the admin API: YAML, or JSON with -o json.

    The 41 routes as the real server answers them (null lists, plain-text 404s, the
    statuses of errors), generated from frankenws' route table; docs/openapi.yaml is
    this output. Feed it to a client generator for another language. Needs no server.
    """
    # Imported here: every command's start-up would otherwise pay for the route schemas.
    from frankenws._openapi import build_document, to_yaml

    document = build_document()
    # With --json/-o json the document itself is printed; otherwise its YAML form.
    return Result(document, Lines(to_yaml(document).splitlines()))


def register(app: typer.Typer) -> None:
    app.command("openapi", rich_help_panel="Tooling")(openapi)
