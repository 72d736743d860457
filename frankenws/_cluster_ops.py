"""Temporary: the 41 route methods for the clusters, derived from ENDPOINTS.

Replaced by the shared ``SyncOperations``/``AsyncOperations`` mixins once they land.
"""

from __future__ import annotations

import inspect
from typing import Any

from ._calls import calls
from ._client import AsyncClient, Client
from ._endpoints import ENDPOINTS

__all__ = ["AsyncOperations", "SyncOperations"]


def _sync(name: str) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return self._run(getattr(calls, name)(*args, **kwargs))

    return method


def _async(name: str) -> Any:
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await self._run(getattr(calls, name)(*args, **kwargs))

    return method


def _derive(template: type, make: Any) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    for endpoint in ENDPOINTS:
        original = getattr(template, endpoint.name)
        method = make(endpoint.name)
        method.__name__ = method.__qualname__ = endpoint.name
        method.__doc__ = original.__doc__
        method.__signature__ = inspect.signature(original)
        namespace[endpoint.name] = method
    return namespace


SyncOperations: type = type("SyncOperations", (), _derive(Client, _sync))
AsyncOperations: type = type("AsyncOperations", (), _derive(AsyncClient, _async))
