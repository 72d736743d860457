"""What a bulk function may act on: one server (``Client``) or a fleet (``Cluster``).

Kept apart from the engine so that the engine and the fleet runner (``_fleet``) share
these without importing each other at load time. Strictly private.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

from frankenws._calls import Call, Flow
from frankenws._client import AsyncClient, BaseClient, Client
from frankenws._cluster import Cluster
from frankenws._cluster_async import AsyncCluster

__all__ = ["AsyncTarget", "SyncTarget", "Target", "run_one", "server_of"]

T = TypeVar("T")

SyncTarget = Client | Cluster
"""Runs a bulk function to completion."""
AsyncTarget = AsyncClient | AsyncCluster
"""Makes a bulk function return a coroutine."""
Target = BaseClient | Cluster | AsyncCluster


async def run_one(client: Target, call: Call[T] | Flow[T]) -> T:
    """One operation through the client's (or the cluster's) own sender."""
    if isinstance(client, (AsyncClient, AsyncCluster)):
        return await client._run(call)
    assert isinstance(client, (Client, Cluster))
    return await asyncio.to_thread(client._run, call)


def server_of(client: Target) -> str:
    """How journals and notes name what a job talks to."""
    if isinstance(client, (Cluster, AsyncCluster)):
        return "fleet: " + ", ".join(node.name for node in client.nodes)
    return client.url
