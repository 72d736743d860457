"""Every error the SDK raises.

The tree::

    FrankenWSError
    ├── InvalidArgument (also a ValueError)   refused before anything was sent
    │   └── ExpressionSyntaxError             a malformed tag expression (with its position)
    ├── TransportError                        no usable HTTP answer
    │   ├── ConnectError                      nothing listens / TLS failed / DNS failed
    │   ├── RequestTimeout                    the server did not answer in time
    │   └── ServerDisconnected                the server closed without answering
    ├── APIError                              the server answered with an error status
    │   ├── BadRequest                        400
    │   ├── HostNotAllowed                    403 "host not allowed: ..." (Caddy's Host check)
    │   ├── Forbidden                         other 401/403 (origin check, remote-admin ACL)
    │   ├── NotFound                          404 not from Caddy's router (or a raw path typo)
    │   ├── MethodNotAllowed                  405
    │   └── ServerError                       5xx
    ├── ModuleNotLoaded                       Caddy answers, but without the WebSocket extension
    ├── ProtocolError                         the answer is not what the protocol says
    │   └── ResponseTooLarge                  the answer is over max_response_bytes
    ├── PartialFailure                        some Cluster nodes failed; carries the others' answers
    └── NodesDisagree                         a Cluster's nodes hold different global values

Every exception carries ``url``, ``status_code`` and ``body`` where known, and its
message names the URL and says what to do next.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIError",
    "BadRequest",
    "ConnectError",
    "ExpressionSyntaxError",
    "Forbidden",
    "FrankenWSError",
    "HostNotAllowed",
    "InsecureConnectionWarning",
    "InvalidArgument",
    "MethodNotAllowed",
    "ModuleNotLoaded",
    "NodesDisagree",
    "NotFound",
    "PartialFailure",
    "ProtocolError",
    "RequestTimeout",
    "ResponseTooLarge",
    "ServerDisconnected",
    "ServerError",
    "TransportError",
]


class FrankenWSError(Exception):
    """Base class of every error raised by frankenws."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status_code: int | None = None,
        body: bytes | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.status_code = status_code
        self.body = body

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"


class InvalidArgument(FrankenWSError, ValueError):
    """An argument was refused client-side; no request was sent.

    Raised for values the server would silently mishandle or crash on: empty ids, tags
    or keys, an empty ``send`` payload, payloads over 16 MiB, unknown search operators,
    invalid RE2 patterns, out-of-range expiries and non-positive limits.
    """


class TransportError(FrankenWSError):
    """The request did not produce a usable HTTP response."""


class ConnectError(TransportError):
    """Could not connect: nothing listens there, DNS failed, or the TLS handshake failed."""


class RequestTimeout(TransportError):
    """The server accepted the connection but did not answer within the timeout."""


class ServerDisconnected(TransportError):
    """The server closed the connection without sending a response."""


class APIError(FrankenWSError):
    """The admin API answered with an error status (the message quotes its error text)."""


class BadRequest(APIError):
    """400: the server refused the request (bad escape, missing value, failed rename...)."""


class HostNotAllowed(APIError):
    """403 ``host not allowed``: Caddy only accepts the ``Host`` values of its listener.

    Pass ``host_header="localhost:2019"`` (the admin listener's own address) when you go
    through an SSH tunnel or a proxy. On a unix socket only Caddy before 2.7 checks Host:
    it accepts the empty one sent by default, or one of its configured ``origins``.
    """


class Forbidden(APIError):
    """401/403 other than the Host check: origin enforcement or remote-admin permissions."""


class NotFound(APIError):
    """404 from something that is not Caddy's router (a proxy, the wrong port...)."""


class MethodNotAllowed(APIError):
    """405: the route exists but not for this HTTP method."""


class ServerError(APIError):
    """5xx from the admin server."""


class ModuleNotLoaded(FrankenWSError):
    """Caddy answered ``404 page not found`` on a ``/frankenphp_ws/`` route.

    The server is a Caddy (or FrankenPHP) without the WebSocket extension, or the URL
    points at another Caddy instance.
    """


class ProtocolError(FrankenWSError):
    """The response does not have the shape the admin protocol defines."""


class ResponseTooLarge(ProtocolError):
    """The answer is larger than the client's ``max_response_bytes``; ``limit`` names it.

    The client stops reading at the limit, so an oversized answer costs no more memory
    than the limit itself.
    """

    def __init__(self, message: str, *, url: str | None = None, limit: int) -> None:
        super().__init__(message, url=url)
        self.limit = limit


class ExpressionSyntaxError(InvalidArgument):
    """A malformed tag expression; ``position`` is the 0-based index of the error."""

    def __init__(self, message: str, *, expression: str, position: int) -> None:
        super().__init__(message)
        self.expression = expression
        self.position = position


class PartialFailure(FrankenWSError):
    """Some nodes of a :class:`~frankenws.Cluster` failed; nothing is silently dropped.

    Attributes:
        operation: The SDK method that was fanned out (``"get_clients_count"``...).
        errors: Node name -> the error that node raised.
        results: Node name -> what each node that answered returned.
        partial: The answers of the nodes that did answer, combined by the method's rule
            (``None`` when the rule could not combine them, e.g. nobody answered).
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        errors: dict[str, FrankenWSError],
        results: dict[str, Any],
        partial: Any = None,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.errors = errors
        self.results = results
        self.partial = partial

    @property
    def failed_nodes(self) -> list[str]:
        return sorted(self.errors)


class NodesDisagree(FrankenWSError):
    """The nodes of a cluster answered a global-store read differently.

    The global store is per node; a value written while a node was down, or with
    another client, differs between nodes. ``values`` maps node name -> its answer.
    """

    def __init__(self, message: str, *, operation: str, values: dict[str, Any]) -> None:
        super().__init__(message)
        self.operation = operation
        self.values = values


class InsecureConnectionWarning(UserWarning):
    """The client reaches the admin API in a way others could too.

    Issued once per URL for ``verify=False`` and for plain HTTP to a host that is not
    loopback: the admin API has no authentication, so whoever can reach or intercept it
    can kill every connection. See docs/security.md.
    """
