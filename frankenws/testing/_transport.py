"""An httpx transport that answers from the fake's handler, in process.

It plays the part of the socket: the request is flattened into a :class:`RawRequest`
(target exactly as httpx would put it on the wire, lower-cased header names), the
handler answers, and the :class:`RawResponse` becomes an ``httpx.Response``. A
``drop`` response raises the same error httpx raises when a real server closes the
connection without answering.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from ._goserver import CHUNKING_THRESHOLD
from ._http import RawRequest, RawResponse

__all__ = ["FakeTransport", "framing_headers"]


def framing_headers(response: RawResponse) -> tuple[tuple[str, str], ...]:
    """The framing headers Go's server adds to ``response``.

    ``Content-Length`` for bodies up to Go's 2 KiB buffer, ``Transfer-Encoding:
    chunked`` beyond; nothing for the server's own 400, which is delimited by closing
    the connection, nor when the handler announced the length (HEAD).
    """
    if response.close and response.status == 400 and response.body:
        return ()
    if any(name == "Content-Length" for name, _ in response.headers):
        return ()
    if len(response.body) > CHUNKING_THRESHOLD:
        return (("Transfer-Encoding", "chunked"),)
    return (("Content-Length", str(len(response.body))),)


class FakeTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Sync and async httpx transport over a raw-request handler.

    Attributes:
        calls: every ``(RawRequest, RawResponse)`` pair handled, in order.
    """

    def __init__(self, handler: Callable[[RawRequest], RawResponse]) -> None:
        self._handler = handler
        self.calls: list[tuple[RawRequest, RawResponse]] = []

    def _raw(self, request: httpx.Request) -> RawRequest:
        headers: dict[str, str] = {}
        for name, value in request.headers.raw:
            # Go's Header.Get returns the first value of a repeated header.
            headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
        return RawRequest(
            method=request.method,
            target=request.url.raw_path.decode("ascii"),
            headers=headers,
            body=request.content,
        )

    def _respond(self, request: httpx.Request) -> httpx.Response:
        raw = self._raw(request)
        response = self._handler(raw)
        self.calls.append((raw, response))
        if response.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return httpx.Response(
            status_code=response.status,
            headers=[*response.headers, *framing_headers(response)],
            # A stream, not ``content=``: httpx would add its own Content-Length.
            stream=httpx.ByteStream(response.body),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self._respond(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return self._respond(request)

    def __repr__(self) -> str:
        return f"<FakeTransport calls={len(self.calls)}>"
