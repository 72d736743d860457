"""Turning the admin server's answers into results, or into the SDK's errors.

Every answer goes through :func:`decode_response`: statuses the call does not expect
are mapped to the error tree by :func:`raise_for_status` (with messages that say what
to do next), the rest go to the call's decoder, built from the helpers below. Strictly
private.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ._exceptions import (
    APIError,
    BadRequest,
    Forbidden,
    HostNotAllowed,
    MethodNotAllowed,
    ModuleNotLoaded,
    NotFound,
    ProtocolError,
    ServerError,
)
from ._models import QueuedMessage, Response

if TYPE_CHECKING:
    from ._calls import Call

__all__ = [
    "GO_NOT_FOUND",
    "boolean",
    "decode_response",
    "found",
    "global_value",
    "information",
    "integer",
    "nothing",
    "queue_messages",
    "raise_for_status",
    "renamed",
    "stored_value",
    "string_list",
]

T = TypeVar("T")

GO_NOT_FOUND = b"404 page not found\n"


def decode_response(call: Call[T], response: Response) -> T:
    """Turn a response into the call's result, or raise the matching error."""
    # Caddy's router 404 can hit routes that expect a 404 of their own (the global
    # store), so it is recognised before the route's decoder sees it.
    if response.status not in call.expected or (
        response.status == 404 and response.body == GO_NOT_FOUND
    ):
        raise_for_status(response, known_route=call.endpoint is not None)
    return call.decode(response)


def raise_for_status(response: Response, *, known_route: bool = True) -> None:
    """Raise the :class:`APIError` (or other) that matches a non-expected status.

    Go's plain ``404 page not found`` on a route the SDK built itself can only mean the
    extension is missing; on a raw path (``request()``) it may just be a typo.
    """
    status, body, url = response.status, response.body, response.url
    kw: dict[str, Any] = {"url": url, "status_code": status, "body": body}
    if 300 <= status < 400:
        # Go redirects non-canonical paths (//, ., ..): 301 up to Go 1.25, 307 since.
        location = response.headers.get("location", "?")
        if known_route:
            # frankenws escapes every '/' and '.' in values, which Go 1.22+ routes as
            # sent; older routers (Caddy 2.6/2.7) decode the escapes first, then "clean"
            # the path and redirect to the cleaned one.
            raise ProtocolError(
                f"{url} answered {status} redirect to {location} instead of running the "
                "call: the server's router decoded the escaped value in the path and "
                "cleaned it, as Go 1.21 and older do (Caddy 2.7 and older), so an id, tag "
                "or key containing '/', '.' or '..' cannot be reached on this server. "
                "Upgrade FrankenPHP/Caddy; the redirect was not followed, nothing was done",
                **kw,
            )
        raise ProtocolError(
            f"{url} answered {status} redirect to {location}: the request path was not "
            "canonical. Pass a path without empty, '.' or '..' segments",
            **kw,
        )
    if status == 404 and body == GO_NOT_FOUND and not known_route:
        raise NotFound(
            f"{url} answered '404 page not found': the admin server has no such route. "
            "Check the path (routes are listed in docs/protocol-notes.md); if every "
            "/frankenphp_ws/ route answers this, the WebSocket extension is not loaded",
            **kw,
        )
    if status == 404 and body == GO_NOT_FOUND:
        raise ModuleNotLoaded(
            f"{url} answered '404 page not found': this Caddy has no FrankenPHP WebSocket "
            "extension (or the URL points at another Caddy). Check that FrankenPHP was built "
            "with the websocket module and that the URL is its admin endpoint",
            **kw,
        )
    error = _error_text(body)
    if status == 403 and error.startswith("host not allowed") and url.startswith("unix/"):
        # Only Caddy before 2.7 checks Host on a unix socket; a listener's address would
        # be refused there as well, so the advice is what that check accepts.
        raise HostNotAllowed(
            f"{url} answered 403 {error}: Caddy before 2.7 checks the Host header on a unix "
            "socket too, and accepts an empty Host (what frankenws sends by default) unless "
            "its admin 'origins' are configured, then only one of those. Leave host_header "
            "unset, or set it to one of the configured origins",
            **kw,
        )
    if status == 403 and error.startswith("host not allowed"):
        raise HostNotAllowed(
            f"{url} answered 403 {error}: Caddy only accepts its own listen address in the "
            "Host header. Through an SSH tunnel or a proxy, pass host_header='localhost:2019' "
            "(the admin listener's address)",
            **kw,
        )
    if status in (401, 403):
        raise Forbidden(
            f"{url} answered {status} {error}: the admin endpoint refused this client "
            "(origin enforcement or remote-admin permissions); check the client certificate "
            "and the access_control permissions",
            **kw,
        )
    if status == 400:
        raise BadRequest(f"{url} answered 400 {error}", **kw)
    if status == 404:
        raise NotFound(
            f"{url} answered 404 {error}, which is not Caddy's router: is the URL the Caddy "
            "admin endpoint (default http://localhost:2019) and not a proxy or the app port?",
            **kw,
        )
    if status == 405:
        raise MethodNotAllowed(f"{url} answered 405 {error}", **kw)
    if status >= 500:
        raise ServerError(f"{url} answered {status} {error}; check the Caddy logs", **kw)
    raise APIError(f"{url} answered unexpected status {status} {error}", **kw)


def _error_text(body: bytes) -> str:
    """The ``error`` field of a Caddy API error, else the body itself, shortened."""
    try:
        obj = json.loads(body)
    except ValueError:
        obj = None
    if isinstance(obj, dict) and isinstance(obj.get("error"), str):
        return str(obj["error"])
    text = body.decode("utf-8", "replace").strip()
    return text[:200] + ("..." if len(text) > 200 else "") if text else "(empty body)"


# --- decoding helpers -------------------------------------------------------------


def _bad(response: Response, what: str) -> ProtocolError:
    return ProtocolError(
        f"{response.url} answered {response.status} with {what}; this is not the FrankenPHP "
        f"WebSocket admin protocol (body: {response.body[:120]!r})",
        url=response.url,
        status_code=response.status,
        body=response.body,
    )


def _json(response: Response) -> dict[str, Any]:
    try:
        obj = json.loads(response.body)
    except ValueError:
        raise _bad(response, "a body that is not JSON") from None
    if not isinstance(obj, dict):
        raise _bad(response, "JSON that is not an object")
    return obj


def _field(response: Response, key: str, kind: type | tuple[type, ...]) -> Any:
    obj = _json(response)
    value = obj.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _bad(response, f"field {key!r} missing or not {getattr(kind, '__name__', kind)}")
    return value


def _strings(response: Response, key: str) -> list[str]:
    obj = _json(response)
    if key not in obj:
        raise _bad(response, f"no {key!r} field")
    value = obj[key]
    if value is None:  # Go encodes an empty, never-allocated slice as null
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(response, f"field {key!r} that is not a list of strings")
    return value


def integer(key: str) -> Callable[[Response], int]:
    return lambda response: int(_field(response, key, int))


def boolean(key: str) -> Callable[[Response], bool]:
    return lambda response: bool(_field(response, key, bool))


def string_list(key: str) -> Callable[[Response], list[str]]:
    return lambda response: _strings(response, key)


def nothing(response: Response) -> None:
    return None


def information(response: Response) -> dict[str, str]:
    value = _field(response, "information", dict)
    if not all(isinstance(v, str) for v in value.values()):
        raise _bad(response, "field 'information' that is not a string map")
    return dict(value)


_DECODE = json.JSONDecoder().decode


def stored_value(response: Response) -> str | None:
    body = response.body
    if body[:2] == b'{"':
        # What json.loads does with these bytes (they can only be UTF-8, surrogates let
        # through), minus its encoding detection: a plan decodes 100,000 of these.
        try:
            obj = _DECODE(body.decode("utf-8", "surrogatepass"))
        except ValueError:
            raise _bad(response, "a body that is not JSON") from None
    else:
        obj = _json(response)
    exists, value = obj.get("exists"), obj.get("value")
    if not isinstance(exists, bool) or not isinstance(value, str):
        raise _bad(response, "no boolean 'exists' and string 'value'")
    return value if exists else None


def queue_messages(response: Response) -> list[QueuedMessage]:
    messages = _field(response, "messages", (list, type(None))) or []
    try:
        return [QueuedMessage.from_json(m) for m in messages]
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(response, f"a malformed queue message ({exc})") from None


def global_value(response: Response) -> str | None:
    if response.status == 404:
        return None
    # Values are arbitrary bytes; surrogateescape keeps non-UTF-8 ones round-trippable.
    return response.body.decode("utf-8", "surrogateescape")


def found(response: Response) -> bool:
    return response.status == 200


def renamed(response: Response) -> bool:
    if response.status == 200:
        return bool(_field(response, "success", bool))
    if _error_text(response.body) == "failed to rename connection":
        return False
    raise_for_status(response)
    raise AssertionError("unreachable")  # pragma: no cover
