"""One admin connection: Go's framing (``_goserver``) served from an asyncio Protocol.

Nearly every request a client sends arrives whole: a head and no body, or a body whose
``Content-Length`` bytes follow in the same read or the next. Those are answered right
in ``data_received``, with no task, no ``StreamReader`` and no awaits, and the answers
to all the (pipelined) requests one read completed go out in one write, in order. The
bytes written are the ones ``_goserver`` defines; only fewer system calls carry them.

Whatever needs waiting with a deadline or reading in pieces (a chunked body, a body the
route does not read and that has not all arrived, one larger than Go discards) hands the
rest of the connection to the coroutine path, ``_goserver.serve_connection``, fed
through a ``StreamReader`` from the first byte of that request on. Strictly private.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import cast

from ._goserver import (
    CONTINUE,
    MAX_DRAIN,
    READ_LIMIT,
    TOO_LARGE,
    AdminApp,
    Refused,
    encode,
    expects_continue,
    parse_head,
    serve_connection,
    wants_keep_alive,
)
from ._http import RawRequest

__all__ = ["AdminConnection"]

# What to do once the buffered bytes are served as far as they go.
_NEXT, _WAIT, _CLOSE, _ABORT, _HAND_OVER = range(5)

_BATCH = 16
"""Answers gathered before one write (a 256 KiB read can hold thousands of requests)."""


@dataclass(slots=True)
class _Head:
    """A parsed request head whose body (``length`` bytes) is still arriving."""

    end: int
    version: str
    request: RawRequest
    routed: object
    reads_body: bool
    length: int


class AdminConnection(asyncio.Protocol):
    """The admin port's protocol: one instance per accepted connection.

    ``live`` is the server's set of open connections (for shutdown).
    """

    def __init__(self, app: AdminApp, live: set[AdminConnection]) -> None:
        self._app = app
        self._live = live
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._start = 0  # where the next unanswered request begins in _buffer
        self._searched = 0  # no end of head before this offset
        self._head: _Head | None = None
        self._eof = False
        self._done = False
        self._write_paused = False
        self._read_paused = False
        self._drained: asyncio.Future[None] | None = None
        # Set once the coroutine path owns the connection.
        self._reader: asyncio.StreamReader | None = None
        self._task: asyncio.Task[None] | None = None

    # --- asyncio.Protocol ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._live.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._live.discard(self)
        self._done = True
        if self._reader is not None:
            if exc is None:
                self._reader.feed_eof()
            else:
                self._reader.set_exception(exc)
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_exception(ConnectionResetError("connection lost"))

    def data_received(self, data: bytes) -> None:
        if self._reader is not None:
            self._reader.feed_data(data)
        elif not self._done:
            self._buffer += data
            self._serve()

    def eof_received(self) -> bool:
        self._eof = True
        if self._reader is not None:
            self._reader.feed_eof()
        elif not self._done:
            self._serve()
        # Kept open to write the answers (closed by us then), except over TLS, where
        # asyncio cannot half-close: what StreamReaderProtocol does too.
        assert self._transport is not None
        return self._transport.get_extra_info("sslcontext") is None

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)
        if self._reader is None and not self._done:
            # Not from inside the transport's write path: closing there makes asyncio
            # report the connection lost twice.
            asyncio.get_running_loop().call_soon(self._resume)

    def _resume(self) -> None:
        if self._done or self._write_paused:
            return
        if self._read_paused:
            self._read_paused = False
            assert self._transport is not None
            self._transport.resume_reading()
        self._serve()

    # --- the coroutine path's output (``_goserver.Output``) ---------------------

    def write(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.write(data)

    async def drain(self) -> None:
        if self._done:
            raise ConnectionResetError("connection lost")
        if self._write_paused:
            self._drained = asyncio.get_running_loop().create_future()
            await self._drained

    def abort(self) -> None:
        self._done = True
        if self._transport is not None:
            self._transport.abort()

    def close(self) -> None:
        self._done = True
        if self._transport is not None:
            self._transport.close()

    # --- serving from the buffer --------------------------------------------------

    def _serve(self) -> None:
        """Answer every request the buffer completes; write the answers at once."""
        out: list[bytes] = []
        step = _NEXT
        while step == _NEXT:
            if len(out) >= _BATCH:
                # Written now, so that a client reading slowly pauses us (below)
                # before a whole read's worth of answers is held in memory.
                self.write(b"".join(out))
                out.clear()
            if self._write_paused:
                # The client is not reading its answers: stop reading its requests,
                # as Go's server blocked in a write does.
                assert self._transport is not None
                self._transport.pause_reading()
                self._read_paused = True
                step = _WAIT
                break
            step = self._answer_next(out)
        if out:
            self.write(b"".join(out))
        if step == _WAIT and self._eof and not self._write_paused:
            step = _CLOSE  # the client stopped sending; Go closes, answering nothing more
        if step == _CLOSE:
            self.close()
        elif step == _ABORT:
            self.abort()
        elif step == _HAND_OVER:
            self._hand_over()
        if self._start:
            del self._buffer[: self._start]
            if self._head is not None:
                self._head.end -= self._start
            self._searched = max(0, self._searched - self._start)
            self._start = 0

    def _answer_next(self, out: list[bytes]) -> int:
        """Answer the next buffered request if it is complete; what to do next."""
        buffer, start = self._buffer, self._start
        head = self._head
        if head is None:
            end = buffer.find(b"\r\n\r\n", max(start, self._searched))
            if end < 0:
                # A head arriving in small pieces is not searched again from its start.
                self._searched = max(start, len(buffer) - 3)
                # StreamReader.readuntil's limit, as the coroutine path applies it.
                if len(buffer) - start - 3 > READ_LIMIT:
                    out.append(TOO_LARGE)
                    return _CLOSE
                return _WAIT
            if end + 4 - start > READ_LIMIT:
                out.append(TOO_LARGE)
                return _CLOSE
            try:
                version, request, (kind, length) = parse_head(bytes(buffer[start : end + 4]))
            except Refused as refused:
                out.append(refused.answer)
                return _CLOSE
            routed = self._app.route(request)
            reads_body = self._app.route_reads_body(routed)
            if kind == "chunked":
                return _HAND_OVER
            if not reads_body and (length > MAX_DRAIN or end + 4 + length > len(buffer)):
                # Go waits for an unread body within its read timeout, or gives up on
                # a big one: the coroutine path keeps those rules.
                return _HAND_OVER
            if reads_body and expects_continue(request):
                out.append(CONTINUE)
            head = _Head(end + 4, version, request, routed, reads_body, length)
            self._head = head
        body_end = head.end + head.length
        if body_end > len(buffer):
            return _WAIT
        self._head = None
        self._start = body_end
        request = head.request
        if head.reads_body:
            body = bytes(buffer[head.end : body_end])
            request = RawRequest(
                request.method, request.target, request.headers, body, head.version
            )
        try:
            answer = self._app.respond(request, head.routed)
        except Exception:
            # A hook's exception (kept in the fake's hook_errors) looks like a Go
            # handler panic: the connection drops unanswered.
            return _ABORT
        if answer.drop:
            return _ABORT
        keep_alive = not answer.close and wants_keep_alive(head.version, request.headers)
        out.append(encode(answer, request.method, head.version, keep_alive))
        return _NEXT if keep_alive else _CLOSE

    def _hand_over(self) -> None:
        """Let the coroutine path serve this connection from the current request on."""
        assert self._transport is not None
        reader = asyncio.StreamReader(limit=READ_LIMIT)
        reader.set_transport(self._transport)
        reader.feed_data(bytes(self._buffer[self._start :]))
        if self._eof:
            reader.feed_eof()
        self._buffer.clear()
        self._start = self._searched = 0
        self._head = None
        self._reader = reader
        self._task = asyncio.get_running_loop().create_task(
            serve_connection(reader, self, self._app)
        )
