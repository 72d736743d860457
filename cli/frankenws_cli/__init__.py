"""The ``frankenws`` command line. The only package that imports typer and rich."""

from __future__ import annotations

import sys

__all__ = ["main"]


def _defer_httpx_cli() -> None:
    # httpx imports its own command line (click, rich, pygments) with itself whenever
    # click is installed (schemathesis in the dev extra brings it, so may a user's
    # environment), which would load rich on the fast path of every command. A stand-in
    # for httpx._main imports the real one only if httpx.main() is ever called.
    import types

    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return
    stand_in = types.ModuleType("httpx._main")

    def httpx_main(*args: object, **kwargs: object) -> object:
        del sys.modules["httpx._main"]
        import httpx._main as real

        return real.main(*args, **kwargs)

    stand_in.main = httpx_main  # type: ignore[attr-defined]
    sys.modules["httpx._main"] = stand_in


_defer_httpx_cli()


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
    from ._fast import run_fast

    code = run_fast(sys.argv[1:])
    if code is not None:
        raise SystemExit(code)
    from ._app import run

    run()
