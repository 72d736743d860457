"""The ``frankenws`` command line. The only package that imports typer and rich."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Console entry point."""
    try:
        import rich  # noqa: F401
        import typer  # noqa: F401
    except ImportError:
        print(
            "The frankenws command needs the CLI extra: pip install 'frankenws[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    from ._app import run

    run()
