"""Over the HTTP/1.1 lane, a timeout is classified by how far the request got.

A send whose request left may have been delivered: ``uncertain``, never sent again. A
request that timed out before it could leave (the connection never completed) reached
nobody: a connect failure, ``failed``, which a resume retries.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

import frankenws
from frankenws import bulk


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts connections and reads nothing back: every request leaves, none is answered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()
    for conn in held:
        conn.close()


@pytest.fixture
def full_port() -> Iterator[int]:
    """A listener whose accept queue is full and never drained: connecting hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(listener.getsockname())
        fillers.append(filler)
    time.sleep(0.1)
    yield listener.getsockname()[1]
    for filler in fillers:
        filler.close()
    listener.close()


def test_a_send_that_left_and_timed_out_is_uncertain(silent_port):
    with frankenws.Client(f"http://127.0.0.1:{silent_port}", timeout=0.5) as ws:
        report = bulk.send_messages(ws, ["a"], "hi", concurrency=1)
    assert report.sender == "http1"
    assert report.uncertain == ["a"]
    assert "did not answer within" in (report.outcomes[0].error or "")


def test_a_send_that_could_not_leave_is_a_connect_failure(full_port):
    with frankenws.Client(f"http://127.0.0.1:{full_port}", timeout=0.5) as ws:
        report = bulk.send_messages(ws, ["a"], "hi", concurrency=1)
    assert report.sender == "http1"
    assert report.failed == ["a"]
    assert report.uncertain == []
    assert "cannot connect" in (report.outcomes[0].error or "")
