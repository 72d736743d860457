"""The root ``frankenws`` app: global options, command registration, errors to exit codes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from frankenws import __version__

from ._argv import hoist_global_options
from ._context import AppContext, configure
from ._dispatch import fail, finish, interrupted
from .commands import (
    bulk,
    connection,
    demo,
    doctor,
    fake_server,
    ghost,
    global_store,
    inspection,
    ping,
    queue,
    store,
)

__all__ = ["app", "run"]


# Usage errors, Exit and Abort belong to click's main loop, which reports them its own
# way (exit 2 for usage errors). Newer typer vendors click, older typer re-exports it:
# reach ClickException through a class typer exports in both cases.
_CLICK_SIGNALS: tuple[type[BaseException], ...] = (
    typer.Exit,
    typer.Abort,
    *(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"),
)


class FrankenwsGroup(TyperGroup):
    """The root group: hoists global options, then shows results and maps errors.

    Showing and mapping are ``_dispatch.finish``/``fail`` (shared with the fast path of
    ``kill``); calling them inside click's ``invoke`` means ``CliRunner`` sees the same
    exit codes as a shell.
    """

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        return super().parse_args(ctx, hoist_global_options(args))

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            value = super().invoke(ctx)
            code = finish(ctx.obj, value)
        except _CLICK_SIGNALS:
            raise
        except KeyboardInterrupt:
            raise typer.Exit(interrupted()) from None
        except Exception as exc:
            raise typer.Exit(fail(ctx.obj, exc)) from None
        if code:
            raise typer.Exit(code)
        return value


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"frankenws {__version__}\n")
        raise typer.Exit()


HELP = """\
Operate FrankenPHP WebSocket servers through Caddy's admin API.

Data goes to stdout, messages to stderr. Exit codes: 0 ok; 1 the operation did not
happen (unknown id, refused, a bulk job with failures); 2 usage error; 3 the server
cannot be reached; 4 the server rejected the request.

Global options may be written before or after the command
(frankenws clients --json, frankenws --json clients).
"""

app = typer.Typer(
    name="frankenws",
    cls=FrankenwsGroup,
    help=HELP,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_show_locals=False,
    pretty_exceptions_short=True,
)

_CONNECTION = "Connection (also from env vars and profiles)"
_BEHAVIOUR = "Behaviour"


@app.callback()
def main(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            "-u",
            help="Admin endpoint: http(s)://host:port, host:port, unix//path.sock. "
            "Env: FRANKENWS_ADMIN_URL, then CADDY_ADMIN. Default http://localhost:2019.",
            rich_help_panel=_CONNECTION,
            show_default=False,
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            help="Named profile from $XDG_CONFIG_HOME/frankenws/config.toml. "
            "Env: FRANKENWS_PROFILE.",
            rich_help_panel=_CONNECTION,
            show_default=False,
        ),
    ] = None,
    host_header: Annotated[
        str | None,
        typer.Option(
            help="Host header to send (Caddy only accepts its own listen address). "
            "Env: FRANKENWS_HOST_HEADER.",
            rich_help_panel=_CONNECTION,
            show_default=False,
        ),
    ] = None,
    cert: Annotated[
        str | None,
        typer.Option(
            help="Client certificate (PEM) for mTLS. Env: FRANKENWS_CERT.",
            rich_help_panel=_CONNECTION,
            show_default=False,
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            help="Private key of --cert. Env: FRANKENWS_KEY.",
            rich_help_panel=_CONNECTION,
            show_default=False,
        ),
    ] = None,
    ca: Annotated[
        str | None,
        typer.Option(
            help="CA bundle (PEM) to verify the server. Env: FRANKENWS_CA.",
            rich_help_panel=_CONNECTION,
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            help="Seconds per request. Env: FRANKENWS_TIMEOUT. Default 10.",
            rich_help_panel=_CONNECTION,
            show_default=False,
            min=0.001,
        ),
    ] = None,
    json: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON document.", rich_help_panel=_BEHAVIOUR),
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", help="Do not ask for confirmation.", rich_help_panel=_BEHAVIOUR
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Show what would change; change nothing.",
            rich_help_panel=_BEHAVIOUR,
        ),
    ] = False,
    concurrency: Annotated[
        int,
        typer.Option(help="Requests in flight in bulk jobs.", min=1, rich_help_panel=_BEHAVIOUR),
    ] = 32,
    audit_log: Annotated[
        Path | None,
        typer.Option(
            help="Audit file. Default $XDG_STATE_HOME/frankenws/audit.jsonl. "
            "Env: FRANKENWS_AUDIT_LOG.",
            rich_help_panel=_BEHAVIOUR,
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    no_audit: Annotated[
        bool,
        typer.Option("--no-audit", help="Do not write the audit log.", rich_help_panel=_BEHAVIOUR),
    ] = False,
    actor: Annotated[
        str | None,
        typer.Option(
            help="Who is acting, for the audit log. Default: the OS user.",
            rich_help_panel=_BEHAVIOUR,
            show_default=False,
        ),
    ] = None,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help="Show the traceback of unexpected errors.",
            rich_help_panel=_BEHAVIOUR,
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Show the version and exit.",
            callback=_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """The global options (see the app help)."""
    obj = configure(
        ctx.obj if isinstance(ctx.obj, AppContext) else AppContext(),
        url=url,
        profile=profile,
        host_header=host_header,
        cert=cert,
        key=key,
        ca=ca,
        timeout=timeout,
        json=json,
        yes=yes,
        dry_run=dry_run,
        concurrency=concurrency,
        audit_log=audit_log,
        no_audit=no_audit,
        actor=actor,
        debug=debug,
    )
    ctx.obj = obj
    ctx.call_on_close(obj.close)


for _family in (
    inspection,
    connection,
    store,
    global_store,
    ghost,
    ping,
    queue,
    bulk,
    doctor,
    fake_server,
    demo,
):
    _family.register(app)


def run() -> None:
    """Run the app as the ``frankenws`` program."""
    app(prog_name="frankenws")
