"""frankenws: operate FrankenPHP WebSocket servers from Python.

``frankenws.Client`` / ``frankenws.AsyncClient`` speak the extension's admin API (one
method per route, named after the PHP functions); ``frankenws.testing`` holds a faithful
fake server for tests. This module is the only public import path.
"""

from __future__ import annotations

from .__version__ import __version__
from ._client import AsyncClient, Client, Response
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
    NotFound,
    ProtocolError,
    RequestTimeout,
    ServerDisconnected,
    ServerError,
    TransportError,
)
from ._models import QueuedMessage
from ._validate import SEARCH_OPERATORS

__all__ = [
    "APIError",
    "AsyncClient",
    "BadRequest",
    "Client",
    "ConnectError",
    "Forbidden",
    "FrankenWSError",
    "HostNotAllowed",
    "InvalidArgument",
    "MethodNotAllowed",
    "ModuleNotLoaded",
    "NotFound",
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
