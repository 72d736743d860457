"""Keeps ``import httpx`` from importing httpx's own command line. Strictly private.

httpx imports its CLI (click, rich, pygments) together with itself whenever click is
installed, which many environments have (schemathesis in our dev extra brings it). That
costs every SDK user start-up time and loads rich into their process, and the frankenws
CLI's fast path exists to avoid exactly that. A stand-in for ``httpx._main`` imports the
real module only if ``httpx.main()`` is ever called. Imported first by ``frankenws``.
"""

from __future__ import annotations

import sys
import types


def _defer() -> None:
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return  # too late (or already done): leave httpx as it is
    stand_in = types.ModuleType("httpx._main")

    def main(*args: object, **kwargs: object) -> object:
        del sys.modules["httpx._main"]
        import httpx._main as real

        return real.main(*args, **kwargs)

    stand_in.main = main  # type: ignore[attr-defined]
    sys.modules["httpx._main"] = stand_in


_defer()
