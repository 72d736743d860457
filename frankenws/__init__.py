"""frankenws: operate FrankenPHP WebSocket servers from Python.

``frankenws.Client`` / ``frankenws.AsyncClient`` speak the extension's admin API (one
method per route, named after the PHP functions); ``frankenws.testing`` holds a faithful
fake server for tests. This module is the only public import path.
"""

from __future__ import annotations

import sys as _sys
import types as _types


def _defer_httpx_cli() -> None:
    # httpx imports its optional command line (click, rich, pygments) at import time
    # whenever those happen to be installed - and the frankenws CLI installs them. That
    # costs start-up time and drags rich into every SDK user's process. A placeholder
    # for httpx._main loads the real module only if someone actually calls httpx.main().
    if "httpx" in _sys.modules or "httpx._main" in _sys.modules:
        return
    placeholder = _types.ModuleType("httpx._main")

    def main(*args: object, **kwargs: object) -> object:
        del _sys.modules["httpx._main"]
        import httpx._main as real

        return real.main(*args, **kwargs)

    placeholder.main = main  # type: ignore[attr-defined]
    _sys.modules["httpx._main"] = placeholder


_defer_httpx_cli()

from .__version__ import __version__
from ._client import AsyncClient, Client, Response
from ._cluster import Cluster
from ._cluster_async import AsyncCluster
from ._cluster_core import NodeResults
from ._exceptions import (
    APIError,
    BadRequest,
    ConnectError,
    Forbidden,
    FrankenWSError,
    HostNotAllowed,
    InvalidArgument,
    MethodNotAllowed,
    ModuleNotLoaded,
    NodesDisagree,
    NotFound,
    PartialFailure,
    ProtocolError,
    RequestTimeout,
    ServerDisconnected,
    ServerError,
    TransportError,
)
from ._fanout import Node
from ._models import QueuedMessage
from ._validate import SEARCH_OPERATORS

__all__ = [
    "APIError",
    "AsyncClient",
    "AsyncCluster",
    "BadRequest",
    "Client",
    "Cluster",
    "ConnectError",
    "Forbidden",
    "FrankenWSError",
    "HostNotAllowed",
    "InvalidArgument",
    "MethodNotAllowed",
    "ModuleNotLoaded",
    "Node",
    "NodeResults",
    "NodesDisagree",
    "NotFound",
    "PartialFailure",
    "ProtocolError",
    "QueuedMessage",
    "RequestTimeout",
    "Response",
    "SEARCH_OPERATORS",
    "ServerDisconnected",
    "ServerError",
    "TransportError",
    "__version__",
]

# Reprs, tracebacks and docs show frankenws.Client rather than frankenws._client.Client.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = "frankenws"
del _name, _obj
