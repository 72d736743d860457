"""Helpers shared by test modules in several folders (tests/ is on sys.path).

Also the Hypothesis profile in force, which ``tests/conftest.py`` loads: ``dev`` (the
default) for a quick inner loop, ``ci`` (``FRANKENWS_HYPOTHESIS_PROFILE=ci``, set by
``.ci/run``) for every property test's full example count.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

HYPOTHESIS_PROFILE = os.environ.get("FRANKENWS_HYPOTHESIS_PROFILE", "dev")
DEV_MAX_EXAMPLES = 50


def max_examples(ci: int) -> int:
    """``ci`` examples under the ``ci`` profile, at most the ``dev`` count otherwise.

    A test's own ``@settings(max_examples=...)`` wins over any profile, so tests that ask
    for many examples pass their count through this to stay quick in the inner loop.
    """
    return ci if HYPOTHESIS_PROFILE == "ci" else min(ci, DEV_MAX_EXAMPLES)


def wait_for(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll until ``predicate()`` is truthy; return its value (the server is asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@contextlib.contextmanager
def loopback_server(handle: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A raw TCP server on loopback running ``handle(conn, stop)`` per connection, each in
    its own thread; yields ``http://127.0.0.1:PORT``. The client hanging up is expected."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def guarded(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            handle(conn, stop)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            thread = threading.Thread(target=guarded, args=(conn,), daemon=True)
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=serve, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        acceptor.join()
        for thread in threads:
            thread.join()
        listener.close()


def read_request_head(conn: socket.socket) -> None:
    """Consume a request's head (a body, if any, is left unread)."""
    with conn.makefile("rb") as request:
        for line in request:
            if line in (b"\r\n", b""):
                return


def raw_answer(body: bytes, *, declared: bool = True) -> bytes:
    """A raw HTTP/1.1 answer; without a Content-Length the body ends when the server closes."""
    length = f"Content-Length: {len(body)}\r\n" if declared else ""
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{length}Connection: close\r\n"
    return head.encode() + b"\r\n" + body


# A valid getClients answer, long enough that dripping it outlasts any timeout in the tests.
DRIPPED_ANSWER = raw_answer(b'{"clients":null}' + b" " * 400)


def drip(conn: socket.socket, stop: threading.Event) -> None:
    """Answer correctly, one byte every 0.1 s (about 50 s for the whole answer)."""
    read_request_head(conn)
    for byte in DRIPPED_ANSWER:
        if stop.wait(0.1):
            return
        conn.sendall(bytes([byte]))
