"""Planning reads over HTTP/1.1 pipelining: many GETs per round trip. Strictly private.

Planning ``enforce-limit`` reads one stored value per connection, 100,000 of them on a
big server. One request at a time per connection (the bulk lane) spends most of its
time, on both sides, waiting for and framing single exchanges. GETs are safe to repeat,
and HTTP/1.1 servers answer pipelined requests in order (Go's ``net/http``, Caddy's
admin, does; so does the loopback fake), so a few keep-alive connections each write a
batch of requests at once and read the answers back in order.

The requests are the clients' own (the :class:`~frankenws._connection.Connection`'s URL
prefix and headers, ``Host`` and credentials included; its TLS context, unix socket,
timeout and size cap) and every answer goes through the SDK's decoding and error
mapping, so a value, or an error, is the one a single call would give.

When a connection closes before every answer came, the unanswered requests are sent
again on a new one. After repeated losses with no answer in between, a timeout, or an
answer this reader cannot frame, it stops and returns what it did not read, for the
caller to read another way: nothing is lost or invented.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from frankenws._calls import Call, calls
from frankenws._connection import Connection, check_request
from frankenws._deadline import collect_async, too_large
from frankenws._decode import decode_response, stored_value
from frankenws._models import Response

__all__ = ["PIPES", "read_pipelined", "stored_value_reads"]

T = TypeVar("T")

PIPES = 4
"""Keep-alive connections used at once: enough to keep a Go server's cores busy while
each waits for its batch, few enough not to crowd a server other operators use."""

BATCH = 128
"""Requests written at once on one connection (about 12 KB of request heads)."""

_ATTEMPTS = 3
"""Connection losses in a row, without an answer in between, before giving up."""

_HEAD_LIMIT = 64 * 1024 + 4096


_PLAIN = re.compile(r"[A-Za-z0-9_.~-]+")
"""Values percent-encoding leaves as they are (once or twice), and valid ids or keys."""


def stored_value_reads(ids: Sequence[str], key: str) -> list[Call[str | None]]:
    """``calls.get_stored_information(id, key)`` for each id, built faster.

    A plan reads one key for up to 100,000 ids: the key is checked and encoded once, and
    an id made of unreserved characters (every id the server gives out) is its own
    encoding. Any other id takes the ordinary path, with its checks and errors.
    """
    if not ids:
        return []
    first = calls.get_stored_information(ids[0], key)  # checks the key (and the first id)
    head = first.path.rsplit("/", 2)[0] + "/"
    tail = "/" + first.path.rsplit("/", 1)[1]
    endpoint, expected, plain = first.endpoint, first.expected, _PLAIN.fullmatch
    built = [first]
    for conn in ids[1:]:
        if type(conn) is str and plain(conn) and conn != "." and conn != "..":
            built.append(Call(endpoint, "GET", head + conn + tail, b"", stored_value, expected))
        else:
            built.append(calls.get_stored_information(conn, key))
    return built


class _Lost(Exception):
    """The connection ended (or can carry no more requests) before every answer came."""

    def __init__(self, answered: int) -> None:
        super().__init__(answered)
        self.answered = answered
        """Answers the connection gave before it ended."""


class _Unusable(Exception):
    """Pipelining cannot be trusted here (an answer could not be framed, or none came
    in time): hand what is left to the caller."""


async def read_pipelined(
    conn: Connection,
    calls: Sequence[Call[T]],
    done: Callable[[int, T], object],
    *,
    pipes: int = PIPES,
    batch: int = BATCH,
) -> list[int]:
    """Send ``calls`` (GETs) pipelined and call ``done(index, value)`` for each answer.

    Returns the indices left unread when pipelining had to stop (empty when every call
    was answered). An answer that decodes to an error (a 404 from a server without the
    extension, a 403 for a refused Host, ...) raises that error, as a single call would.
    """
    for call in calls:
        if not call.idempotent:
            raise ValueError(f"{call.name} is not a GET: only reads may be pipelined")
        check_request(conn, call)
    state = _Shared(list(range(len(calls) - 1, -1, -1)))
    workers = [
        asyncio.ensure_future(_pipe(conn, calls, done, state, batch))
        for _ in range(max(1, min(pipes, -(-len(calls) // batch))))
    ]
    try:
        finished, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
        for task in finished:
            task.result()  # re-raise an answer's error
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    return sorted(state.waiting)


class _Shared:
    """The work of all pipes: indices still to read (next one last), and the verdict."""

    __slots__ = ("failures", "gave_up", "waiting")

    def __init__(self, waiting: list[int]) -> None:
        self.waiting = waiting
        self.failures = 0
        self.gave_up = False

    def take(self, count: int) -> list[int]:
        taken = self.waiting[-count:]
        del self.waiting[-count:]
        taken.reverse()
        return taken

    def give_back(self, indices: list[int]) -> None:
        self.waiting.extend(reversed(indices))


async def _pipe(
    conn: Connection,
    calls: Sequence[Call[T]],
    done: Callable[[int, T], object],
    state: _Shared,
    batch: int,
) -> None:
    while state.waiting and not state.gave_up:
        try:
            reader, writer = await asyncio.wait_for(_open(conn), conn.timeout)
        except (OSError, asyncio.TimeoutError):
            # The caller's own path will report a server that cannot be reached.
            state.gave_up = True
            return
        try:
            await _exchange(conn, calls, done, state, batch, reader, writer)
        except _Lost as lost:
            if lost.answered:
                # A server (or proxy) that ends connections after N requests: send no
                # more than N at once, rather than resending most of every batch.
                batch = min(batch, lost.answered)
            else:
                state.failures += 1
                state.gave_up = state.failures >= _ATTEMPTS
        except _Unusable:
            state.gave_up = True
        finally:
            writer.transport.abort()


async def _exchange(
    conn: Connection,
    calls: Sequence[Call[T]],
    done: Callable[[int, T], object],
    state: _Shared,
    batch: int,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    """Batches on one connection until the work is done or the connection ends."""
    head = _request_head(conn)
    watch = _Watchdog(conn.timeout, writer)
    total = 0
    try:
        while state.waiting and not state.gave_up:
            taken = state.take(batch)
            answered = 0
            try:
                writer.write(
                    b"".join(
                        b"GET %s HTTP/1.1\r\n%s" % (_target(conn, calls[i]), head) for i in taken
                    )
                )
                for index in taken:
                    call = calls[index]
                    try:
                        response, keep = await _read_answer(conn, call, reader)
                    except (asyncio.IncompleteReadError, ConnectionError) as exc:
                        if watch.late:
                            raise _Unusable from exc  # no answer in time: do not wait again
                        raise _Lost(total) from exc
                    except (asyncio.LimitOverrunError, ValueError) as exc:
                        raise _Unusable from exc
                    answered += 1
                    total += 1
                    watch.answers = total
                    state.failures = 0
                    done(index, decode_response(call, response))
                    if not keep:
                        raise _Lost(total)
            finally:
                state.give_back(taken[answered:])
    finally:
        watch.stop()


class _Watchdog:
    """Aborts a connection on which no answer came for ``timeout`` seconds.

    One timer per connection, re-armed when it fires, rather than ``asyncio.wait_for``
    (a task per answer) or a timer per answer: an answer may take up to twice the
    timeout when it is the first after a quick one.
    """

    __slots__ = ("_handle", "_loop", "_seen", "_timeout", "_writer", "answers", "late")

    def __init__(self, timeout: float, writer: asyncio.StreamWriter) -> None:
        self._loop = asyncio.get_running_loop()
        self._timeout, self._writer = timeout, writer
        self.answers, self._seen, self.late = 0, 0, False
        self._handle = self._loop.call_later(timeout, self._check)

    def _check(self) -> None:
        if self.answers == self._seen:
            self.late = True
            self._writer.transport.abort()  # the pending read ends with a connection error
            return
        self._seen = self.answers
        self._handle = self._loop.call_later(self._timeout, self._check)

    def stop(self) -> None:
        self._handle.cancel()


def _target(conn: Connection, call: Call[Any]) -> bytes:
    # The path is already percent-encoded ASCII, exactly as the other senders send it.
    return (conn.prefix + call.path).encode("ascii")


def header_lines(conn: Connection) -> bytes:
    """The client's header lines, as every request of the bulk senders carries them."""
    return "".join(f"{name}: {value}\r\n" for name, value in conn.headers).encode("latin-1")


def _request_head(conn: Connection) -> bytes:
    return header_lines(conn) + b"\r\n"


async def _open(conn: Connection) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    if conn.uds is not None:
        return await asyncio.open_unix_connection(conn.uds, limit=_HEAD_LIMIT)
    url = urlsplit(conn.origin)
    host = url.hostname or "localhost"
    if url.scheme == "https":
        return await asyncio.open_connection(
            host, url.port or 443, ssl=_ssl_context(conn.tls), limit=_HEAD_LIMIT
        )
    return await asyncio.open_connection(host, url.port or 80, limit=_HEAD_LIMIT)


def _ssl_context(tls: ssl.SSLContext | bool) -> ssl.SSLContext:
    if isinstance(tls, ssl.SSLContext):
        return tls
    if tls is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    import certifi  # the CA bundle httpx, the clients' own sender, trusts

    return ssl.create_default_context(cafile=certifi.where())


async def _read_answer(
    conn: Connection, call: Call[Any], reader: asyncio.StreamReader
) -> tuple[Response, bool]:
    """The next answer on ``reader`` and whether the connection may carry another."""
    while True:
        status, version, headers = _parse_head(await reader.readuntil(b"\r\n\r\n"))
        if not 100 <= status < 200:
            break  # interim answers (100 Continue) precede the real one
    connection = headers.get("connection", "").lower()
    keep = "keep-alive" in connection if version == "HTTP/1.0" else "close" not in connection
    url = conn.shown_url(call)
    if status in (204, 304):
        chunks: AsyncIterator[bytes] = _nothing()
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        chunks = _chunks(reader)
    elif "content-length" in headers:
        length = headers["content-length"]
        if not length.isdigit():
            raise ValueError(f"bad Content-Length {length!r}")
        size = int(length)
        if size > conn.max_response_bytes:
            raise too_large(conn.max_response_bytes, url, size)
        # The common answer, read at once (no stream of chunks to collect).
        body = await reader.readexactly(size) if size else b""
        return Response(status, headers, body, url), keep
    else:
        # Framed by the end of the connection (Go's own 400s): nothing can follow it.
        chunks, keep = _until_eof(reader), False
    body = await collect_async(headers, chunks, conn.max_response_bytes, url)
    return Response(status, headers, body, url), keep


def _parse_head(head: bytes) -> tuple[int, str, dict[str, str]]:
    lines = head[:-4].decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x answer: {lines[0]!r}")
    status = int(rest[:3])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise ValueError(f"bad header line {line!r}")
        headers[name.strip().lower()] = value.strip()
    return status, version, headers


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield  # pragma: no cover - makes this an async generator


async def _until_eof(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    while chunk := await reader.read(65536):
        yield chunk


async def _chunks(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass  # trailers
            return
        yield await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise ValueError("bad chunk framing")
