"""The root ``frankenws`` app: global options, command registration, errors to exit codes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from frankenws import __version__

from ._argv import BY_ATTRIBUTE, OutputFormat, hoist_global_options
from ._context import DEFAULT_CONCURRENCY, AppContext, configure
from ._jobs import remember_argv
from ._present import fail, finish, interrupted
from .commands import (
    bulk,
    connection,
    demo,
    doctor,
    fake_server,
    ghost,
    global_store,
    inspection,
    openapi,
    ping,
    queue,
    store,
)
from .commands._common import CommandGroup
from .commands._complete import COMPLETERS

__all__ = ["app", "run"]


# Usage errors, Exit and Abort belong to click's main loop, which reports them its own
# way (exit 2 for usage errors). Newer typer vendors click, older typer re-exports it:
# reach ClickException through a class typer exports in both cases.
_CLICK_SIGNALS: tuple[type[BaseException], ...] = (
    typer.Exit,
    typer.Abort,
    *(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"),
)


class FrankenwsGroup(CommandGroup):
    """The root group: hoists global options, then shows results and maps errors.

    Showing and mapping are ``_present.finish``/``fail`` (shared with the fast path of
    ``kill``); calling them inside click's ``invoke`` means ``CliRunner`` sees the same
    exit codes as a shell.
    """

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        remember_argv(args)  # as typed, for the exact resume command
        return super().parse_args(ctx, hoist_global_options(args))

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            value = super().invoke(ctx)
            code = finish(ctx.obj, value)
        except _CLICK_SIGNALS:
            raise
        except KeyboardInterrupt as exc:
            raise typer.Exit(interrupted(exc)) from None
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
cannot be reached; 4 the server rejected the request; 130 Ctrl-C; 143 SIGTERM.

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


def _option(attribute: str) -> Any:
    """The typer option of a global option, built from its ``GLOBAL_OPTIONS`` entry."""
    spec = BY_ATTRIBUTE[attribute]
    extra: dict[str, Any] = {}
    if spec.minimum is not None:
        extra["min"] = spec.minimum
    if spec.kind == "file":
        extra["dir_okay"] = False
    if spec.multiple:
        extra["metavar"] = spec.attribute.upper()  # not click's "<list[str]>"
    if attribute in COMPLETERS:
        extra["autocompletion"] = COMPLETERS[attribute]
    return typer.Option(
        *spec.flags,
        help=spec.help_text,
        rich_help_panel=spec.panel,
        show_default=spec.default is not None,
        **extra,
    )


# typer needs a real signature; each option's spelling, help, checks and panel come
# from GLOBAL_OPTIONS, and a test checks that the two agree.
@app.callback()
def main(
    ctx: typer.Context,
    url: Annotated[list[str] | None, _option("url")] = None,
    discover: Annotated[str | None, _option("discover")] = None,
    profile: Annotated[str | None, _option("profile")] = None,
    host_header: Annotated[str | None, _option("host_header")] = None,
    cert: Annotated[str | None, _option("cert")] = None,
    key: Annotated[str | None, _option("key")] = None,
    ca: Annotated[str | None, _option("ca")] = None,
    url_path_ok: Annotated[bool, _option("url_path_ok")] = False,
    timeout: Annotated[float | None, _option("timeout")] = None,
    max_response_bytes: Annotated[int | None, _option("max_response_bytes")] = None,
    output: Annotated[OutputFormat | None, _option("output")] = None,
    json: Annotated[bool, _option("json")] = False,
    yes: Annotated[bool, _option("yes")] = False,
    dry_run: Annotated[bool, _option("dry_run")] = False,
    concurrency: Annotated[int, _option("concurrency")] = DEFAULT_CONCURRENCY,
    audit_log: Annotated[Path | None, _option("audit_log")] = None,
    no_audit: Annotated[bool, _option("no_audit")] = False,
    actor: Annotated[str | None, _option("actor")] = None,
    debug: Annotated[bool, _option("debug")] = False,
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
    given = dict(locals())
    obj = configure(
        ctx.obj if isinstance(ctx.obj, AppContext) else AppContext(),
        **{name: given[name] for name in BY_ATTRIBUTE},
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
    openapi,
):
    _family.register(app)


def run() -> None:
    """Run the app as the ``frankenws`` program."""
    app(prog_name="frankenws")
