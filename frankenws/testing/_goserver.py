"""Go's ``net/http`` server framing: the loopback fake's admin port.

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

``_goconn.AdminConnection`` answers the requests that arrive whole with the parsing and
encoding here; :func:`serve_connection`, the coroutine path over a ``StreamReader``,
serves a connection once a request needs waiting for (a chunked body, a body to discard
within the read timeout). Strictly private; ``_server.LoopbackServer`` runs them.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import re
import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import Protocol

from . import _msgs
from ._http import RawRequest, RawResponse

__all__ = [
    "CHUNKING_THRESHOLD",
    "CONTINUE",
    "MAX_DRAIN",
    "MAX_HEADER_BYTES",
    "TOO_LARGE",
    "AdminApp",
    "Output",
    "Refused",
    "encode",
    "expects_continue",
    "parse_head",
    "serve_connection",
    "wants_keep_alive",
]

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
TOO_LARGE = _go_error(_msgs.HEADERS_TOO_LARGE)
_BAD_REQUEST = _go_error(_msgs.BAD_REQUEST)
_UNSUPPORTED_TE = b"HTTP/1.1 501 Not Implemented" + _ERROR_HEADERS
_UNSUPPORTED_TE += _msgs.UNSUPPORTED_TRANSFER_ENCODING.encode()
_UNSUPPORTED_VERSION = _go_error(_msgs.VERSION_NOT_SUPPORTED)
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_HTTP_VERSION = re.compile(rb"HTTP/[0-9]\.[0-9]")
MAX_DRAIN = 256 * 1024
"""Go discards at most this much of an unread body to keep the connection."""


class AdminApp(Protocol):
    """What the admin port serves: the fake's handler, split where the body is read."""

    def route(self, raw: RawRequest) -> object:
        """Where a request (without its body) goes; no side effects."""

    def route_reads_body(self, routed: object) -> bool:
        """Whether that route reads the body before it answers."""

    def respond(self, raw: RawRequest, routed: object) -> RawResponse:
        """The answer to the request, its body read if the route reads it."""


class Output(Protocol):
    """Where the coroutine path writes: the connection's transport, with flow control."""

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def abort(self) -> None: ...

    def close(self) -> None: ...


class Refused(Exception):
    """The request cannot be read; ``answer`` is written and the connection closed."""

    def __init__(self, answer: bytes) -> None:
        super().__init__(answer)
        self.answer = answer


async def serve_connection(reader: asyncio.StreamReader, writer: Output, app: AdminApp) -> None:
    """Answer requests on one connection until either side closes it.

    The general path, for whatever ``_goconn`` does not answer from one read: it awaits
    every byte it needs (chunked bodies, bodies to discard within the read timeout).
    """
    try:
        while await _exchange(reader, writer, app):
            pass
    except Refused as refused:
        writer.write(refused.answer)
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    except Exception:
        # A failure inside the handler (a hook's exception, kept in the fake's
        # hook_errors) looks like a Go handler panic: the connection drops unanswered.
        writer.abort()
    finally:
        writer.close()


async def _exchange(reader: asyncio.StreamReader, writer: Output, app: AdminApp) -> bool:
    """One request and its answer; whether the connection stays open."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        started = asyncio.get_running_loop().time()
    except asyncio.IncompleteReadError:
        return False  # the client hung up (mid-request too): Go writes nothing
    except asyncio.LimitOverrunError:
        raise Refused(TOO_LARGE) from None
    if len(head) > READ_LIMIT:
        raise Refused(TOO_LARGE)
    version, request, framing = parse_head(head)
    routed = app.route(request)
    body_read = app.route_reads_body(routed)
    if body_read:
        if expects_continue(request):
            writer.write(CONTINUE)
        body = await _read_body(reader, framing)
        request = RawRequest(request.method, request.target, request.headers, body, version)
    answer = app.respond(request, routed)
    if answer.drop:
        # What a Go handler panic looks like from outside: no response at all.
        writer.abort()
        return False
    keep_alive = not answer.close and wants_keep_alive(version, request.headers)
    if keep_alive and not body_read and framing != (None, 0):
        # Before it writes the headers, Go discards a body the handler left unread
        # (up to 256 KiB), so that clients sending the whole request first cannot
        # deadlock; a body that does not come in time, or a bigger one, closes the
        # connection instead. With "Connection: close" it answers at once.
        keep_alive = await _discard_body(reader, framing, started)
    writer.write(encode(answer, request.method, version, keep_alive))
    await writer.drain()
    return keep_alive


def expects_continue(request: RawRequest) -> bool:
    return request.headers.get("expect", "").lower() == "100-continue"


async def _discard_body(
    reader: asyncio.StreamReader, framing: tuple[str | None, int], started: float
) -> bool:
    """Read and drop an unread body; whether the connection can be kept."""
    kind, length = framing
    if kind == "length" and length > MAX_DRAIN:
        return False
    remaining = READ_TIMEOUT - (asyncio.get_running_loop().time() - started)
    try:
        await asyncio.wait_for(_read_body(reader, framing, limit=MAX_DRAIN), max(0, remaining))
    except (TimeoutError, Refused):
        return False
    return True


_HEADER_LINES: dict[bytes, tuple[str, str]] = {}
"""Valid header lines already parsed: a client repeats the same ones in every request."""


def parse_head(head: bytes) -> tuple[str, RawRequest, tuple[str | None, int]]:
    """The HTTP version, the request without its body, and how its body is framed."""
    lines = head[:-4].split(b"\r\n")
    method, space, rest = lines[0].partition(b" ")
    target, space2, proto = rest.partition(b" ")
    if not space or not space2 or not _HTTP_VERSION.fullmatch(proto):
        raise Refused(_BAD_REQUEST)
    if not proto.startswith(b"HTTP/1."):
        raise Refused(_UNSUPPORTED_VERSION)
    if proto != b"HTTP/1.0":
        proto = b"HTTP/1.1"
    headers: dict[str, str] = {}
    known = _HEADER_LINES
    for line in lines[1:]:
        pair = known.get(line)
        if pair is None:
            name, colon, value = line.partition(b":")
            if not colon or not name or name != name.strip():
                raise Refused(_BAD_REQUEST)
            pair = (name.decode("latin-1").lower(), value.strip(b" \t").decode("latin-1"))
            if len(known) >= 1024:
                known.clear()  # clients whose lines all differ: keep memory bounded
            known[line] = pair
        # Go's Header.Get returns the first value of a repeated header.
        headers.setdefault(*pair)
    framing: tuple[str | None, int] = (None, 0)
    if "transfer-encoding" in headers:
        if headers["transfer-encoding"].lower() != "chunked":
            raise Refused(_UNSUPPORTED_TE)
        framing = ("chunked", 0)
    elif "content-length" in headers:
        length = headers["content-length"]
        if not length.isdigit():
            raise Refused(_BAD_REQUEST)
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
            raise Refused(b"")
        return await reader.readexactly(length)
    if kind != "chunked":
        return b""
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise Refused(_BAD_REQUEST) from None
        if size == 0:
            # Trailers, if any, end with an empty line.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)
        if limit is not None and len(body) > limit:
            raise Refused(b"")


def wants_keep_alive(version: str, headers: Mapping[str, str]) -> bool:
    connection = headers.get("connection", "").lower()
    if version == "HTTP/1.0":
        return "keep-alive" in connection
    return "close" not in connection


_date_second = -1
_date_line = b""


def _date() -> bytes:
    """The ``Date`` header line; Go formats it per response, but it changes once a second."""
    global _date_second, _date_line
    now = time.time()
    if int(now) != _date_second:
        _date_second = int(now)
        _date_line = b"Date: %s\r\n" % email.utils.formatdate(now, usegmt=True).encode()
    return _date_line


@functools.lru_cache(maxsize=256)
def _status_line(version: str, status: int) -> bytes:
    return f"{version} {status} {HTTPStatus(status).phrase}\r\n".encode("latin-1")


@functools.lru_cache(maxsize=256)
def _header_lines(headers: tuple[tuple[str, str], ...]) -> tuple[bytes, bytes | None]:
    """The header lines (without ``Content-Length``) and a preset length, if any.

    Routes answer with a few constant header sets; a ``Location`` varies, hence the
    bounded cache.
    """
    lines = "".join(f"{n}: {v}\r\n" for n, v in headers if n != "Content-Length")
    preset = [v for n, v in headers if n == "Content-Length"]
    return lines.encode("latin-1"), (preset[0].encode("latin-1") if preset else None)


def encode(answer: RawResponse, method: str, version: str, keep_alive: bool) -> bytes:
    if answer.close:
        # Go's own 400 for an unparsable request: written verbatim, no framing.
        head = f"HTTP/1.1 {answer.status} {HTTPStatus(answer.status).phrase}\r\n"
        head += "".join(f"{n}: {v}\r\n" for n, v in answer.headers)
        return head.encode("latin-1") + b"\r\n" + answer.body
    header_lines, preset = _header_lines(answer.headers)
    lines = [_status_line(version, answer.status), header_lines, _date()]
    body = b"" if method == "HEAD" else answer.body
    chunked = False
    if preset is not None:
        lines.append(b"Content-Length: %s\r\n" % preset)
    elif method != "HEAD":
        chunked = len(body) > CHUNKING_THRESHOLD
        if not chunked:
            lines.append(b"Content-Length: %d\r\n" % len(body))
    if not keep_alive and version == "HTTP/1.1":
        lines.append(b"Connection: close\r\n")
    elif keep_alive and version == "HTTP/1.0":
        lines.append(b"Connection: keep-alive\r\n")
    if chunked:
        lines.append(b"Transfer-Encoding: chunked\r\n")
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    lines.append(b"\r\n")
    lines.append(body)
    return b"".join(lines)
