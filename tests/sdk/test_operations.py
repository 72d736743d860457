"""The operation mixins: every operation names the SDK method it was built for.

A sender other than the two clients (a cluster fanning out to several servers) only
implements ``_run`` and looks up per-route metadata by ``op.name``; these tests hold
the mixins to that contract through a minimal recording sender.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

import pytest

from frankenws._api import AsyncOperations, SyncOperations
from frankenws._calls import Call, Flow, Operation
from frankenws._endpoints import ENDPOINTS, by_name
from frankenws.testing import FakeFrankenPHP

T = TypeVar("T")


class Recorder(SyncOperations):
    """The smallest possible sender: keeps what it is given."""

    def __init__(self) -> None:
        self.ops: list[Operation[Any]] = []

    def _run(self, op: Operation[T]) -> T:
        self.ops.append(op)
        return None  # type: ignore[return-value]

    def close(self) -> None:
        pass


class AsyncRecorder(AsyncOperations):
    def __init__(self) -> None:
        self.ops: list[Operation[Any]] = []

    async def _run(self, op: Operation[T]) -> T:
        self.ops.append(op)
        return None  # type: ignore[return-value]

    async def aclose(self) -> None:
        pass


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_every_operation_carries_its_method_name(sample_args, endpoint):
    """Sync and async mixins hand _run an operation named after the method called."""
    sync, asynchronous = Recorder(), AsyncRecorder()
    getattr(sync, endpoint.name)(**sample_args(endpoint.name))
    asyncio.run(getattr(asynchronous, endpoint.name)(**sample_args(endpoint.name)))
    for (op,) in (sync.ops, asynchronous.ops):
        assert op.name == endpoint.name
        assert by_name(op.name) is endpoint


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("send_to_tag_expression", ("x&y&z", b"")),
        ("get_clients_by_tag_expression", ("a|b",)),
        ("search_stored_information", ("k", "gt", "1" * 150)),
    ],
)
def test_multi_request_operations_are_named_flows(method, args):
    """Operations evaluated locally are Flows that keep the method's name."""
    recorder = Recorder()
    getattr(recorder, method)(*args)
    (op,) = recorder.ops
    assert isinstance(op, Flow)
    assert op.name == method


def test_raw_request_is_named_request():
    """The escape hatch has no endpoint; its operation is still named."""
    from frankenws._calls import calls

    op = calls.raw("GET", "/frankenphp_ws/getClients", None, b"")
    assert isinstance(op, Call)
    assert op.name == "request"


def test_a_flow_can_run_once_per_server():
    """start() gives a fresh generator, so one flow object serves several servers."""
    fakes = [FakeFrankenPHP(), FakeFrankenPHP()]
    for n, fake in enumerate(fakes):
        for i in range(n + 1):
            fake.tag_client(fake.connect(f"/r{i}"), "a")
    recorder = Recorder()
    recorder.get_clients_by_tag_expression("a|b")
    (op,) = recorder.ops
    counts = []
    for fake in fakes:
        with fake.client() as client:
            counts.append(len(client._run(op)))
    assert counts == [1, 2]
