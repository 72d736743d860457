"""Time and memory are bounded: a deadline per request and a cap on the answer's size."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from support import drip, loopback_server, raw_answer, read_request_head

import frankenws
from frankenws import bulk
from frankenws._calls import calls
from frankenws.bulk._http1 import Http1Lane


@pytest.fixture
def dripping_server() -> Iterator[str]:
    with loopback_server(drip) as url:
        yield url


def test_dripped_answer_hits_the_deadline_sync(dripping_server):
    """Every byte arrives well within the timeout, yet the request as a whole does not."""
    with (
        frankenws.Client(dripping_server, timeout=1) as client,
        pytest.raises(frankenws.RequestTimeout, match="deadline"),
    ):
        client.get_clients()


async def test_dripped_answer_hits_the_deadline_async(dripping_server):
    async with frankenws.AsyncClient(dripping_server, timeout=1) as client:
        with pytest.raises(frankenws.RequestTimeout, match="deadline"):
            await client.get_clients()


async def test_dripped_answer_hits_the_deadline_in_the_lane(dripping_server):
    with frankenws.Client(dripping_server, timeout=1) as client:
        async with Http1Lane(client, 1) as lane:
            with pytest.raises(frankenws.RequestTimeout, match="deadline"):
                await lane.run(calls.get_clients())


def test_deadline_is_per_attempt_and_documented():
    assert "deadline" in (frankenws.Client.__doc__ or "")
    assert "(retries + 1) * timeout" in (frankenws.Client.__doc__ or "")


# --- the size cap -------------------------------------------------------------------


def _big_answer(size: int, *, declared: bool) -> bytes:
    return raw_answer(b'{"clients":["' + b"a" * size + b'"]}', declared=declared)


@pytest.fixture(params=[True, False], ids=["content-length", "until-close"])
def big_server(request) -> Iterator[str]:
    answer = _big_answer(3_000_000, declared=request.param)

    def serve(conn: socket.socket, stop: threading.Event) -> None:
        read_request_head(conn)
        conn.sendall(answer)

    with loopback_server(serve) as url:
        yield url


async def test_answer_over_the_cap_is_refused_on_every_sender(big_server):
    """Same typed error, naming the limit, from both clients and the bulk lane."""
    limit = 1_000_000
    errors: list[frankenws.ResponseTooLarge] = []
    with frankenws.Client(big_server, max_response_bytes=limit) as client:
        with pytest.raises(frankenws.ResponseTooLarge) as info:
            client.get_clients()
        errors.append(info.value)
        async with Http1Lane(client, 1) as lane:
            with pytest.raises(frankenws.ResponseTooLarge) as info:
                await lane.run(calls.get_clients())
            errors.append(info.value)
    async with frankenws.AsyncClient(big_server, max_response_bytes=limit) as aclient:
        with pytest.raises(frankenws.ResponseTooLarge) as info:
            await aclient.get_clients()
        errors.append(info.value)
    assert [str(e) for e in errors] == [str(errors[0])] * 3
    assert all(e.limit == limit for e in errors)
    assert "max_response_bytes limit of 1,000,000 bytes" in str(errors[0])
    assert isinstance(errors[0], frankenws.ProtocolError)


def test_answer_under_the_cap_is_read(big_server):
    with frankenws.Client(big_server, max_response_bytes=4_000_000) as client:
        assert [len(x) for x in client.get_clients()] == [3_000_000]


def test_default_cap_and_bad_values():
    assert frankenws.Client().max_response_bytes == 256 * 1024 * 1024
    for bad in (0, -1, 1.5, True, "10"):
        with pytest.raises(frankenws.InvalidArgument, match="max_response_bytes"):
            frankenws.Client(max_response_bytes=bad)  # type: ignore[arg-type]


# --- a connect timeout in the bulk lane ---------------------------------------------


@pytest.fixture
def syn_dropping_address() -> Iterator[str]:
    """A listener whose accept queue is full: the kernel drops further SYNs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    address = listener.getsockname()
    fillers = []
    # Fill the queue until a connect no longer completes at once.
    for _ in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(address)
        fillers.append(filler)
    time.sleep(0.2)  # let the handshakes that can complete do so
    try:
        yield f"http://{address[0]}:{address[1]}"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_lane_connect_timeout_is_failed_not_uncertain(syn_dropping_address, tmp_path):
    """Nothing left the machine, so the send is failed (retried on resume), not uncertain."""
    with frankenws.Client(syn_dropping_address, timeout=0.5, retries=0) as client:
        report = bulk.send_messages(
            client, ["a", "b"], "hi", journal=tmp_path / "j.jsonl", concurrency=2
        )
    assert report.sender == "http1"
    assert sorted(report.failed) == ["a", "b"]
    assert report.uncertain == []
