"""frankenws: operate FrankenPHP WebSocket servers from Python.

``frankenws.Client`` / ``frankenws.AsyncClient`` speak the extension's admin API (one
method per route, named after the PHP functions); ``frankenws.testing`` holds a faithful
fake server for tests. This module is the only public import path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any as _Any

from . import _httpx_cli  # noqa: F401  (first: before anything imports httpx)
from .__version__ import __version__
from ._client import AsyncClient, Client
from ._exceptions import (
    APIError,
    BadRequest,
    ConnectError,
    ExpressionSyntaxError,
    Forbidden,
    FrankenWSError,
    HostNotAllowed,
    InsecureConnectionWarning,
    InvalidArgument,
    MethodNotAllowed,
    ModuleNotLoaded,
    NodesDisagree,
    NotFound,
    PartialFailure,
    ProtocolError,
    RequestTimeout,
    ResponseTooLarge,
    ServerDisconnected,
    ServerError,
    TransportError,
)
from ._models import QueuedMessage, Response
from ._validate import EXTRA_OPERATORS as _EXTRA_OPERATORS
from ._validate import SERVER_SEARCH_OPERATORS

if TYPE_CHECKING:
    from ._cluster import Cluster
    from ._cluster_async import AsyncCluster
    from ._cluster_core import NodeResults
    from ._fanout import Node

# The fleet classes load on first use (PEP 562): they bring DNS discovery and the
# fan-out machinery, which a single-node client and every CLI start-up do without.
_LAZY = {
    "AsyncCluster": "._cluster_async",
    "Cluster": "._cluster",
    "Node": "._fanout",
    "NodeResults": "._cluster_core",
}


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'frankenws' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    value.__module__ = "frankenws"
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


SEARCH_OPERATORS: tuple[str, ...] = (*SERVER_SEARCH_OPERATORS, *_EXTRA_OPERATORS)
"""Every operator :meth:`Client.search_stored_information` accepts: the server's ten
(:data:`SERVER_SEARCH_OPERATORS`) and the ones frankenws adds."""

__all__ = [
    "APIError",
    "AsyncClient",
    "AsyncCluster",
    "BadRequest",
    "Client",
    "Cluster",
    "ConnectError",
    "ExpressionSyntaxError",
    "Forbidden",
    "FrankenWSError",
    "HostNotAllowed",
    "InsecureConnectionWarning",
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
    "ResponseTooLarge",
    "SEARCH_OPERATORS",
    "SERVER_SEARCH_OPERATORS",
    "ServerDisconnected",
    "ServerError",
    "TransportError",
    "__version__",
]

# Reprs, tracebacks and docs show frankenws.Client rather than frankenws._client.Client.
for _name in __all__:
    if _name in _LAZY:
        continue
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = "frankenws"
del _name, _obj
