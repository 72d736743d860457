"""One deadline per request, and a cap on the answer's size. Strictly private.

httpx's timeouts apply to each socket operation, so a server that drips its answer one
byte at a time never trips them. The clients therefore set a deadline for the request
they are sending (:func:`deadline`), and the network backend below gives every connect,
read and write only the time left until it. A context variable carries the deadline, so
one client can be shared between threads or tasks, each with its own request.

:func:`collect` and :func:`collect_async` read an answer as a stream and stop at the
size cap, so a huge (or endless) answer costs at most the cap in memory.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import httpcore

from ._exceptions import ResponseTooLarge

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "AsyncDeadlineBackend",
    "DeadlineBackend",
    "collect",
    "collect_async",
    "deadline",
    "time_left",
    "too_large",
]

DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024
"""256 MiB. The largest answers are id lists: 1,000,000 connection ids of 40 characters
are about 42 MB of JSON; a queue of messages near the 16 MiB payload limit is the other
big case. The cap is six times the first and still bounds what one call can cost."""

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "frankenws_deadline", default=None
)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every network operation inside must finish ``seconds`` from now."""
    token = _DEADLINE.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def time_left() -> float | None:
    """Seconds until the current request's deadline (``None``: no deadline is set)."""
    end = _DEADLINE.get()
    return None if end is None else end - time.monotonic()


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """The time an operation may take: its own timeout, but never past the deadline."""
    end = _DEADLINE.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise error("the request's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        wait = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, wait))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's blocking backend, bounded by the current request's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        wait = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, wait, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        wait = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, wait, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        wait = _left(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, wait))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class AsyncDeadlineBackend(httpcore.AsyncNetworkBackend):
    """httpcore's asyncio backend, bounded by the current request's deadline."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        wait = _left(timeout, httpcore.ConnectTimeout)
        stream = await self._inner.connect_tcp(host, port, wait, local_address, socket_options)
        return _AsyncStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        wait = _left(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_unix_socket(path, wait, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def too_large(limit: int, url: str, declared: int | None = None) -> ResponseTooLarge:
    """The error for an answer over ``limit`` (``declared``: its Content-Length)."""
    size = "more" if declared is None else f"{declared:,} bytes"
    return ResponseTooLarge(
        f"{url} answered with {size}, over the max_response_bytes limit of {limit:,} bytes, "
        "so the answer was dropped unread. Raise max_response_bytes= if such an answer is "
        "expected",
        url=url,
        limit=limit,
    )


class _Body:
    """An answer's chunks so far, refused as soon as they (or the declared length) pass
    ``limit``."""

    __slots__ = ("_limit", "_parts", "_size", "_url")

    def __init__(self, headers: Any, limit: int, url: str) -> None:
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise too_large(limit, url, int(length))
        self._limit, self._url = limit, url
        self._parts: list[bytes] = []
        self._size = 0

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._limit:
            raise too_large(self._limit, self._url)
        self._parts.append(chunk)

    def value(self) -> bytes:
        return b"".join(self._parts)


def collect(headers: Any, chunks: Iterable[bytes], limit: int, url: str) -> bytes:
    """The whole body, read chunk by chunk up to ``limit``."""
    body = _Body(headers, limit, url)
    for chunk in chunks:
        body.add(chunk)
    return body.value()


async def collect_async(headers: Any, chunks: AsyncIterator[bytes], limit: int, url: str) -> bytes:
    """The async twin of :func:`collect`."""
    body = _Body(headers, limit, url)
    async for chunk in chunks:
        body.add(chunk)
    return body.value()
