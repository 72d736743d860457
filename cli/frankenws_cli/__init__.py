"""The ``frankenws`` command line. The only package that imports typer and rich."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Console entry point."""
    from importlib.util import find_spec

    # find_spec only looks: importing typer and rich here would cost every command
    # their start-up time, including the ones that never need them.
    if find_spec("typer") is None or find_spec("rich") is None:
        print(
            "The frankenws command needs the CLI extra: pip install 'frankenws[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(1)
    import signal

    from ._errors import on_sigterm
    from ._fast import run_fast

    # A service manager's stop (or `kill`) ends a command the way Ctrl-C does: the
    # action in flight is audited, a bulk job keeps its journal and says how to resume.
    signal.signal(signal.SIGTERM, on_sigterm)

    code = run_fast(sys.argv[1:])
    if code is not None:
        raise SystemExit(code)
    from ._app import run

    run()
