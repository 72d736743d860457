"""Go's ``net/http`` server framing on an asyncio stream: the loopback fake's admin port.

The admin handler answers one :class:`RawRequest`; this module is what stands between
it and the socket, written to read and write bytes the way Go's server does rather
than the way a Python web framework would:

* the request line and header block may take ``MAX_HEADER_BYTES`` (Caddy's admin
  server sets 64 KiB) plus Go's 4,096 bytes of slack; beyond that the answer is
  ``431`` and the connection closes;
* any token is a method (``get`` reaches the mux and gets its 405), and raw non-ASCII
  bytes in the target are passed on (Go accepts them);
* the body is read only when the route reads it; an unread one is discarded before
  the answer (as Go does, within the 10 s read timeout), except on a connection the
  client closes, so a GET announcing a chunked body that never comes is answered at
  once when it says ``Connection: close``;
* responses get ``Date``, then ``Content-Length``, or ``Transfer-Encoding: chunked`` for
  bodies over Go's 2,048-byte buffer; HTTP/1.0 clients get an HTTP/1.0 status line.

Strictly private; ``_server.LoopbackServer`` runs it.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
from collections.abc import Callable, Mapping
from http import HTTPStatus

from . import _msgs
from ._http import RawRequest, RawResponse

__all__ = ["CHUNKING_THRESHOLD", "MAX_HEADER_BYTES", "serve_connection"]

MAX_HEADER_BYTES = 64 * 1024
"""Caddy's ``MaxHeaderBytes`` for the admin server."""

READ_LIMIT = MAX_HEADER_BYTES + 4096
"""Go reads this much (its fixed slack added) before it gives up on the headers."""

READ_TIMEOUT = 10.0
"""Caddy's ``ReadTimeout`` for the admin server: the whole request, body included."""

CHUNKING_THRESHOLD = 2048
"""Go's response buffer: a larger body goes out chunked."""


def _go_error(status_text: str) -> bytes:
    # Go's own error answers (server.go): no Date, no Content-Length, then hang up.
    return b"HTTP/1.1 %s%s%s" % (status_text.encode(), _ERROR_HEADERS, status_text.encode())


_ERROR_HEADERS = b"\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
_TOO_LARGE = _go_error(_msgs.HEADERS_TOO_LARGE)
_BAD_REQUEST = _go_error(_msgs.BAD_REQUEST)
_UNSUPPORTED_TE = b"HTTP/1.1 501 Not Implemented" + _ERROR_HEADERS
_UNSUPPORTED_TE += _msgs.UNSUPPORTED_TRANSFER_ENCODING.encode()
_UNSUPPORTED_VERSION = _go_error(_msgs.VERSION_NOT_SUPPORTED)
_HTTP_VERSION = re.compile(rb"HTTP/[0-9]\.[0-9]")
_MAX_DRAIN = 256 * 1024
"""Go discards at most this much of an unread body to keep the connection."""

Handler = Callable[[RawRequest], RawResponse]


class _Refused(Exception):
    """The request cannot be read; ``answer`` is written and the connection closed."""

    def __init__(self, answer: bytes) -> None:
        super().__init__(answer)
        self.answer = answer


async def serve_connection(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    handler: Handler,
    reads_body: Callable[[RawRequest], bool],
) -> None:
    """Answer requests on one connection until either side closes it.

    ``reads_body(request)`` (the request without its body) says whether the route
    would read the body before answering.
    """
    try:
        while await _exchange(reader, writer, handler, reads_body):
            pass
    except _Refused as refused:
        writer.write(refused.answer)
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    except Exception:
        # A failure inside the handler (a hook's exception, kept in the fake's
        # hook_errors) looks like a Go handler panic: the connection drops unanswered.
        writer.transport.abort()
    finally:
        writer.close()


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    handler: Handler,
    reads_body: Callable[[RawRequest], bool],
) -> bool:
    """One request and its answer; whether the connection stays open."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        started = asyncio.get_running_loop().time()
    except asyncio.IncompleteReadError:
        return False  # the client hung up (mid-request too): Go writes nothing
    except asyncio.LimitOverrunError:
        raise _Refused(_TOO_LARGE) from None
    if len(head) > READ_LIMIT:
        raise _Refused(_TOO_LARGE)
    version, request, framing = _parse_head(head)
    body_read = reads_body(request)
    if body_read:
        if request.headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await _read_body(reader, framing)
        request = RawRequest(request.method, request.target, request.headers, body, version)
    answer = handler(request)
    if answer.drop:
        # What a Go handler panic looks like from outside: no response at all.
        writer.transport.abort()
        return False
    keep_alive = not answer.close and _wants_keep_alive(version, request.headers)
    if keep_alive and not body_read and framing != (None, 0):
        # Before it writes the headers, Go discards a body the handler left unread
        # (up to 256 KiB), so that clients sending the whole request first cannot
        # deadlock; a body that does not come in time, or a bigger one, closes the
        # connection instead. With "Connection: close" it answers at once.
        keep_alive = await _discard_body(reader, framing, started)
    writer.write(_encode(answer, request.method, version, keep_alive))
    await writer.drain()
    return keep_alive


async def _discard_body(
    reader: asyncio.StreamReader, framing: tuple[str | None, int], started: float
) -> bool:
    """Read and drop an unread body; whether the connection can be kept."""
    kind, length = framing
    if kind == "length" and length > _MAX_DRAIN:
        return False
    remaining = READ_TIMEOUT - (asyncio.get_running_loop().time() - started)
    try:
        await asyncio.wait_for(_read_body(reader, framing, limit=_MAX_DRAIN), max(0, remaining))
    except (TimeoutError, _Refused):
        return False
    return True


def _parse_head(head: bytes) -> tuple[str, RawRequest, tuple[str | None, int]]:
    """The HTTP version, the request without its body, and how its body is framed."""
    lines = head[:-4].split(b"\r\n")
    method, space, rest = lines[0].partition(b" ")
    target, space2, proto = rest.partition(b" ")
    if not space or not space2 or not _HTTP_VERSION.fullmatch(proto):
        raise _Refused(_BAD_REQUEST)
    if not proto.startswith(b"HTTP/1."):
        raise _Refused(_UNSUPPORTED_VERSION)
    if proto != b"HTTP/1.0":
        proto = b"HTTP/1.1"
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise _Refused(_BAD_REQUEST)
        # Go's Header.Get returns the first value of a repeated header.
        headers.setdefault(name.decode("latin-1").lower(), value.strip(b" \t").decode("latin-1"))
    framing: tuple[str | None, int] = (None, 0)
    if "transfer-encoding" in headers:
        if headers["transfer-encoding"].lower() != "chunked":
            raise _Refused(_UNSUPPORTED_TE)
        framing = ("chunked", 0)
    elif "content-length" in headers:
        length = headers["content-length"]
        if not length.isdigit():
            raise _Refused(_BAD_REQUEST)
        framing = ("length", int(length))
    request = RawRequest(
        method.decode("latin-1"),
        target.decode("utf-8", "surrogateescape"),
        headers,
        version=proto.decode("ascii"),
    )
    return request.version, request, framing


async def _read_body(
    reader: asyncio.StreamReader, framing: tuple[str | None, int], limit: int | None = None
) -> bytes:
    kind, length = framing
    if kind == "length":
        if limit is not None and length > limit:
            raise _Refused(b"")
        return await reader.readexactly(length)
    if kind != "chunked":
        return b""
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _Refused(_BAD_REQUEST) from None
        if size == 0:
            # Trailers, if any, end with an empty line.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)
        if limit is not None and len(body) > limit:
            raise _Refused(b"")


def _wants_keep_alive(version: str, headers: Mapping[str, str]) -> bool:
    connection = headers.get("connection", "").lower()
    if version == "HTTP/1.0":
        return "keep-alive" in connection
    return "close" not in connection


def _encode(answer: RawResponse, method: str, version: str, keep_alive: bool) -> bytes:
    status_line = f"{version} {answer.status} {HTTPStatus(answer.status).phrase}\r\n"
    if answer.close:
        # Go's own 400 for an unparsable request: written verbatim, no framing.
        head = f"HTTP/1.1 {answer.status} {HTTPStatus(answer.status).phrase}\r\n"
        head += "".join(f"{n}: {v}\r\n" for n, v in answer.headers)
        return head.encode("latin-1") + b"\r\n" + answer.body
    lines = [status_line]
    lines += [f"{n}: {v}\r\n" for n, v in answer.headers if n != "Content-Length"]
    lines.append(f"Date: {email.utils.formatdate(usegmt=True)}\r\n")
    body = b"" if method == "HEAD" else answer.body
    chunked = False
    preset = [v for n, v in answer.headers if n == "Content-Length"]
    if preset:
        lines.append(f"Content-Length: {preset[0]}\r\n")
    elif method != "HEAD":
        chunked = len(body) > CHUNKING_THRESHOLD
        if not chunked:
            lines.append(f"Content-Length: {len(body)}\r\n")
    if not keep_alive and version == "HTTP/1.1":
        lines.append("Connection: close\r\n")
    elif keep_alive and version == "HTTP/1.0":
        lines.append("Connection: keep-alive\r\n")
    if chunked:
        lines.append("Transfer-Encoding: chunked\r\n")
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    return "".join(lines).encode("latin-1") + b"\r\n" + body
