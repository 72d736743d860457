"""The sans-I/O core: operations become request descriptions, replies become results.

A :class:`Call` says what to send (method, raw request target, body) and how to turn the
:class:`Reply` into a Python value. Senders (the httpx clients, the bulk engine's aiohttp
lane) only move bytes: they never interpret a status code or a body. Strictly private.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ._encoding import encode_once, encode_query, encode_twice
from ._endpoints import Endpoint, by_name
from ._exceptions import (
    APIError,
    BadRequest,
    Forbidden,
    HostNotAllowed,
    InvalidArgument,
    MethodNotAllowed,
    ModuleNotLoaded,
    NotFound,
    ProtocolError,
    ServerError,
)
from ._expr import Expr, expand, is_server_safe, is_wildcard, names, parse
from ._models import QueuedMessage
from ._ranges import EXTRA_OPERATORS, StoredValueFilter, compile_numeric, in_filter
from ._validate import (
    MAX_EXPIRE_SECONDS,
    check_positive,
    check_regex,
    check_search_op,
    check_text,
    payload_bytes,
    route_filter,
    value_bytes,
)

__all__ = [
    "Call",
    "Flow",
    "Operation",
    "Reply",
    "Steps",
    "calls",
    "decode_reply",
    "raise_for_status",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

GO_NOT_FOUND = b"404 page not found\n"


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP response reduced to what decoding needs."""

    status: int
    headers: Mapping[str, str]
    """Header names lower-cased."""
    body: bytes
    url: str
    """The URL that was requested, for error messages."""


@dataclass(frozen=True, slots=True)
class Call(Generic[T_co]):
    """One admin request and the decoder of its answer."""

    endpoint: Endpoint | None
    method: str
    target: str
    """Raw request target relative to the admin base URL: escaped path plus ``?query``."""
    body: bytes
    decode: Callable[[Reply], T_co] = field(repr=False)
    expected: frozenset[int] = frozenset({200})
    """Statuses the decoder handles itself; everything else goes through the error mapping."""

    @property
    def name(self) -> str:
        """The SDK method this call was built for (``"request"`` for a raw request)."""
        return self.endpoint.name if self.endpoint is not None else "request"

    @property
    def idempotent(self) -> bool:
        return self.method == "GET"


Steps = Generator[Call[Any], Any, T]
"""The body of a flow: yields calls, receives their results, returns the final value."""


@dataclass(frozen=True, slots=True)
class Flow(Generic[T_co]):
    """An operation that needs several requests, named after the SDK method it implements.

    ``start()`` returns a fresh generator on every call, so the same flow can be run
    once per server.
    """

    name: str
    start: Callable[[], Steps[T_co]] = field(repr=False)


Operation = Call[T] | Flow[T]
"""What the operation builders return and every sender's ``_run`` accepts."""


def decode_reply(call: Call[T], reply: Reply) -> T:
    """Turn a reply into the call's result, or raise the matching error."""
    # Caddy's router 404 can hit routes that expect a 404 of their own (the global
    # store), so it is recognised before the route's decoder sees it.
    if reply.status not in call.expected or (reply.status == 404 and reply.body == GO_NOT_FOUND):
        raise_for_status(reply, known_route=call.endpoint is not None)
    return call.decode(reply)


def raise_for_status(reply: Reply, *, known_route: bool = True) -> None:
    """Raise the :class:`APIError` (or other) that matches a non-expected status.

    Go's plain ``404 page not found`` on a route the SDK built itself can only mean the
    extension is missing; on a raw path (``request()``) it may just be a typo.
    """
    status, body, url = reply.status, reply.body, reply.url
    kw: dict[str, Any] = {"url": url, "status_code": status, "body": body}
    if 300 <= status < 400:
        location = reply.headers.get("location", "?")
        raise ProtocolError(
            f"{url} answered {status} redirect to {location}: the request path was not "
            "canonical. This is an encoding bug in frankenws; please report it with the "
            "value you passed",
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


def _bad(reply: Reply, what: str) -> ProtocolError:
    return ProtocolError(
        f"{reply.url} answered {reply.status} with {what}; this is not the FrankenPHP "
        f"WebSocket admin protocol (body: {reply.body[:120]!r})",
        url=reply.url,
        status_code=reply.status,
        body=reply.body,
    )


def _json(reply: Reply) -> dict[str, Any]:
    try:
        obj = json.loads(reply.body)
    except ValueError:
        raise _bad(reply, "a body that is not JSON") from None
    if not isinstance(obj, dict):
        raise _bad(reply, "JSON that is not an object")
    return obj


def _field(reply: Reply, key: str, kind: type | tuple[type, ...]) -> Any:
    obj = _json(reply)
    value = obj.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _bad(reply, f"field {key!r} missing or not {getattr(kind, '__name__', kind)}")
    return value


def _strings(reply: Reply, key: str) -> list[str]:
    obj = _json(reply)
    if key not in obj:
        raise _bad(reply, f"no {key!r} field")
    value = obj[key]
    if value is None:  # Go encodes an empty, never-allocated slice as null
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(reply, f"field {key!r} that is not a list of strings")
    return value


def _int(key: str) -> Callable[[Reply], int]:
    return lambda reply: int(_field(reply, key, int))


def _bool(key: str) -> Callable[[Reply], bool]:
    return lambda reply: bool(_field(reply, key, bool))


def _list(key: str) -> Callable[[Reply], list[str]]:
    return lambda reply: _strings(reply, key)


def _empty(reply: Reply) -> None:
    return None


def _information(reply: Reply) -> dict[str, str]:
    value = _field(reply, "information", dict)
    if not all(isinstance(v, str) for v in value.values()):
        raise _bad(reply, "field 'information' that is not a string map")
    return dict(value)


def _stored_value(reply: Reply) -> str | None:
    obj = _json(reply)
    exists, value = obj.get("exists"), obj.get("value")
    if not isinstance(exists, bool) or not isinstance(value, str):
        raise _bad(reply, "no boolean 'exists' and string 'value'")
    return value if exists else None


def _queue(reply: Reply) -> list[QueuedMessage]:
    messages = _field(reply, "messages", (list, type(None))) or []
    try:
        return [QueuedMessage.from_json(m) for m in messages]
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(reply, f"a malformed queue message ({exc})") from None


def _global_value(reply: Reply) -> str | None:
    if reply.status == 404:
        return None
    # Values are arbitrary bytes; surrogateescape keeps non-UTF-8 ones round-trippable.
    return reply.body.decode("utf-8", "surrogateescape")


def _found(reply: Reply) -> bool:
    return reply.status == 200


def _renamed(reply: Reply) -> bool:
    if reply.status == 200:
        return bool(_field(reply, "success", bool))
    if _error_text(reply.body) == "failed to rename connection":
        return False
    raise_for_status(reply)
    raise AssertionError("unreachable")  # pragma: no cover


# --- request building -------------------------------------------------------------


def _call(
    name: str,
    decode: Callable[[Reply], T],
    *values: str,
    query: Mapping[str, str] | None = None,
    body: bytes = b"",
    expected: frozenset[int] = frozenset({200}),
) -> Call[T]:
    endpoint = by_name(name)
    encode = encode_twice if endpoint.double else encode_once
    args = iter(values)
    parts = []
    for segment in endpoint.segments:
        parts.append(encode(next(args)) if segment.startswith("{") else segment)
    target = "/" + "/".join(parts)
    if query:
        target += "?" + encode_query(query)
    return Call(endpoint, endpoint.method, target, body, decode, expected)


def _route_query(route: str | None) -> dict[str, str] | None:
    value = route_filter(route)
    return {"route": value} if value else None


class _Calls:
    """Builders for every operation; each validates its arguments first."""

    def get_clients(self, route: str | None = None) -> Call[list[str]]:
        return _call("get_clients", _list("clients"), query=_route_query(route))

    def get_clients_count(self, route: str | None = None) -> Call[int]:
        return _call("get_clients_count", _int("count"), query=_route_query(route))

    def send(self, id: str, data: str | bytes, route: str | None = None) -> Call[None]:
        check_text(id, "id")
        if "\x00" in id or (route and "\x00" in route):
            raise InvalidArgument("id and route must not contain NUL: the server cuts them there")
        payload = payload_bytes(data, allow_empty=False)
        return _call("send", _empty, id, query=_route_query(route), body=payload)

    def send_all(self, data: str | bytes, route: str | None = None) -> Call[int]:
        payload = payload_bytes(data, allow_empty=True)
        return _call("send_all", _int("sentCount"), query=_route_query(route), body=payload)

    def kill_connection(self, id: str) -> Call[bool]:
        return _call("kill_connection", _bool("success"), check_text(id, "id"))

    def get_client_ping_time(self, id: str) -> Call[int]:
        return _call("get_client_ping_time", _int("pingTime"), check_text(id, "id"))

    def enable_ping(self, id: str, interval_ms: int = 0) -> Call[bool]:
        check_text(id, "id")
        interval = check_positive(interval_ms, "interval_ms", allow_zero=True)
        query = {"interval": str(interval)} if interval else None
        return _call("enable_ping", _bool("success"), id, query=query)

    def disable_ping(self, id: str) -> Call[bool]:
        return _call("disable_ping", _bool("success"), check_text(id, "id"))

    def enable_queue_counter(
        self, id: str, max_messages: int = 100, max_time_seconds: int = 3600
    ) -> Call[bool]:
        check_text(id, "id")
        query = {
            "maxMessages": str(check_positive(max_messages, "max_messages")),
            "maxTime": str(check_positive(max_time_seconds, "max_time_seconds")),
        }
        return _call("enable_queue_counter", _bool("success"), id, query=query)

    def disable_queue_counter(self, id: str) -> Call[bool]:
        return _call("disable_queue_counter", _bool("success"), check_text(id, "id"))

    def get_client_message_counter(self, id: str) -> Call[int]:
        return _call("get_client_message_counter", _int("counter"), check_text(id, "id"))

    def get_client_message_queue(self, id: str) -> Call[list[QueuedMessage]]:
        return _call("get_client_message_queue", _queue, check_text(id, "id"))

    def clear_client_message_queue(self, id: str) -> Call[bool]:
        return _call("clear_client_message_queue", _bool("success"), check_text(id, "id"))

    def tag_client(self, id: str, tag: str) -> Call[None]:
        check_text(id, "id")
        body = check_text(tag, "tag").encode("utf-8")
        return _call("tag_client", _empty, id, body=body)

    def untag_client(self, id: str, tag: str) -> Call[None]:
        return _call("untag_client", _empty, check_text(id, "id"), check_text(tag, "tag"))

    def clear_tag_client(self, id: str) -> Call[None]:
        return _call("clear_tag_client", _empty, check_text(id, "id"))

    def get_tags(self) -> Call[list[str]]:
        return _call("get_tags", _list("tags"))

    def get_client_tags(self, id: str) -> Call[list[str]]:
        return _call("get_client_tags", _list("tags"), check_text(id, "id"))

    def get_clients_by_tag(self, tag: str) -> Call[list[str]]:
        return _call("get_clients_by_tag", _list("clients"), check_text(tag, "tag"))

    def get_tag_count(self, tag: str) -> Call[int]:
        return _call("get_tag_count", _int("count"), check_text(tag, "tag"))

    def send_to_tag(self, tag: str, data: str | bytes, route: str | None = None) -> Call[int]:
        check_text(tag, "tag")
        payload = payload_bytes(data, allow_empty=True)
        query = {"route": route_filter(route)} if route else None
        return _call("send_to_tag", _int("sentCount"), tag, query=query, body=payload)

    def set_stored_information(self, id: str, key: str, value: str | bytes) -> Call[None]:
        check_text(id, "id")
        check_text(key, "key")
        body = value_bytes(value, "value", allow_empty=False)
        return _call("set_stored_information", _empty, id, key, body=body)

    def get_stored_information(self, id: str, key: str) -> Call[str | None]:
        return _call(
            "get_stored_information", _stored_value, check_text(id, "id"), check_text(key, "key")
        )

    def delete_stored_information(self, id: str, key: str) -> Call[None]:
        # The server's "deleted" flag is true whenever the id had any data at all, so it
        # says nothing about this key; it is not passed on.
        return _call(
            "delete_stored_information", _empty, check_text(id, "id"), check_text(key, "key")
        )

    def clear_stored_information(self, id: str) -> Call[None]:
        return _call("clear_stored_information", _empty, check_text(id, "id"))

    def has_stored_information(self, id: str, key: str) -> Call[bool]:
        return _call(
            "has_stored_information", _bool("exists"), check_text(id, "id"), check_text(key, "key")
        )

    def list_stored_information_keys(self, id: str) -> Call[list[str]]:
        return _call("list_stored_information_keys", _list("keys"), check_text(id, "id"))

    def get_all_stored_information(self, id: str) -> Call[dict[str, str]]:
        return _call("get_all_stored_information", _information, check_text(id, "id"))

    def search_stored_information(
        self,
        key: str,
        op: str,
        value: str | int | float | Sequence[str] = "",
        route: str | None = None,
    ) -> Operation[list[str]]:
        check_text(key, "key")
        if op in EXTRA_OPERATORS:
            return _extended_search(key, op, value, route)
        return _server_search(key, op, value, route)

    def send_to_tag_expression(
        self, expression: str, data: str | bytes, route: str | None = None
    ) -> Operation[int]:
        check_text(expression, "expression")
        payload = payload_bytes(data, allow_empty=True)
        if not is_server_safe(expression):
            expr = parse(expression)
            return Flow("send_to_tag_expression", lambda: _send_to_matching(expr, payload, route))
        return _call(
            "send_to_tag_expression",
            _int("sentCount"),
            expression,
            query=_route_query(route),
            body=payload,
        )

    def get_clients_by_tag_expression(self, expression: str) -> Operation[list[str]]:
        check_text(expression, "expression")
        if not is_server_safe(expression):
            expr = parse(expression)
            return Flow("get_clients_by_tag_expression", lambda: _matching_ids(expr, None))
        return _call("get_clients_by_tag_expression", _list("clients"), expression)

    def list_routes(self) -> Call[list[str]]:
        return _call("list_routes", _list("routes"))

    def get_clients_by_route(self, route: str) -> Call[list[str]]:
        return _call("get_clients_by_route", _list("clients"), check_text(route, "route"))

    def rename_connection(self, current_id: str, new_id: str) -> Call[bool]:
        check_text(current_id, "current_id")
        check_text(new_id, "new_id")
        return _call(
            "rename_connection",
            _renamed,
            current_id,
            new_id,
            expected=frozenset({200, 400}),
        )

    def activate_ghost(self, id: str) -> Call[bool]:
        return _call("activate_ghost", _bool("success"), check_text(id, "id"))

    def release_ghost(self, id: str) -> Call[bool]:
        return _call("release_ghost", _bool("success"), check_text(id, "id"))

    def is_ghost(self, id: str) -> Call[bool]:
        return _call("is_ghost", _bool("isGhost"), check_text(id, "id"))

    def global_set(self, key: str, value: str | bytes, expire_seconds: int = 0) -> Call[None]:
        check_text(key, "key")
        body = value_bytes(value, "value", allow_empty=True)
        exp = check_positive(expire_seconds, "expire_seconds", allow_zero=True)
        if exp > MAX_EXPIRE_SECONDS:
            raise InvalidArgument(
                f"expire_seconds must be at most {MAX_EXPIRE_SECONDS} (about 292 years); the "
                "server's duration overflows beyond that and the key expires at a random time"
            )
        query = {"exp": str(exp)} if exp else None
        return _call("global_set", _empty, key, query=query, body=body)

    def global_get(self, key: str) -> Call[str | None]:
        return _call(
            "global_get", _global_value, check_text(key, "key"), expected=frozenset({200, 404})
        )

    def global_has(self, key: str) -> Call[bool]:
        return _call("global_has", _found, check_text(key, "key"), expected=frozenset({200, 404}))

    def global_delete(self, key: str) -> Call[bool]:
        return _call(
            "global_delete", _found, check_text(key, "key"), expected=frozenset({200, 404})
        )

    def raw(
        self, method: str, path: str, params: Mapping[str, str] | None, content: bytes
    ) -> Call[Reply]:
        if not isinstance(path, str) or not path.startswith("/"):
            raise InvalidArgument(f"path must start with '/', got {path!r}")
        try:
            path.encode("ascii")
        except UnicodeEncodeError:
            raise InvalidArgument(f"path {path!r} must be already percent-encoded ASCII") from None
        try:
            target = path + ("?" + encode_query(params) if params else "")
        except UnicodeEncodeError:
            raise InvalidArgument("params must be valid Unicode (lone surrogate)") from None
        return Call(None, method.upper(), target, content, lambda reply: reply)


calls = _Calls()


# --- flows: operations that need several requests ----------------------------------
#
# A flow is a generator that yields calls and receives their results; the clients drive
# it with their own sender, so the logic stays written once and free of I/O.


def _server_search(
    key: str, op: str, value: str | int | float | Sequence[str], route: str | None
) -> Call[list[str]]:
    """A search with one of the server's own operators."""
    check_search_op(op)
    if not isinstance(value, str):
        raise InvalidArgument(f"value must be a string, got {type(value).__name__}")
    if value:
        check_text(value, "value")
    if op == "regex":
        check_regex(value)
    query = {"key": key, "op": op, "value": value}
    route_value = route_filter(route)
    if route_value:
        query["route"] = route_value
    return _call("search_stored_information", _list("clients"), query=query)


def _extended_search(
    key: str, op: str, value: str | int | float | Sequence[str], route: str | None
) -> Operation[list[str]]:
    """gt/gte/lt/lte/in/exists, which the server does not know, as server-side regexes."""
    filt: StoredValueFilter
    if op == "exists":
        return _server_search(key, "prefix", "", route)
    if op == "in":
        if isinstance(value, str):
            # A plain string is a comma-separated list ("admin,moderator").
            items: list[Any] = value.split(",")
        elif isinstance(value, (list, tuple, set, frozenset)):
            items = list(value)
        else:
            raise InvalidArgument(
                f"value for 'in' must be a list of strings or 'a,b,c', got {value!r}"
            )
        for item in items:
            if not isinstance(item, str):
                raise InvalidArgument(f"values for 'in' must be strings, got {item!r}")
            if item:
                check_text(item, "value")
        filt = in_filter(items)
    else:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise InvalidArgument(f"value for {op!r} must be a number, got {value!r}")
        filt = compile_numeric(op, value)
    if filt.regex is not None:
        return _server_search(key, "regex", filt.regex, route)
    return Flow("search_stored_information", lambda: _filter_locally(key, filt, route))


def _filter_locally(key: str, filt: StoredValueFilter, route: str | None) -> Steps[list[str]]:
    candidates = yield _server_search(key, "prefix", "", route)
    found = []
    for conn in candidates:
        stored = yield calls.get_stored_information(conn, key)
        if stored is not None and filt.matches(stored):
            found.append(conn)
    return found


def _matching_ids(expr: Expr, route: str | None) -> Steps[list[str]]:
    """Evaluate a tag expression locally: one request per distinct tag."""
    patterns = names(expr)
    wildcards = sorted(p for p in patterns if is_wildcard(p))
    tags = {p for p in patterns if not is_wildcard(p)}
    if wildcards:
        every_tag: list[str] = yield calls.get_tags()
        for pattern in wildcards:
            tags |= expand(pattern, every_tag)
    members: dict[str, set[str]] = {}
    for tag in sorted(tags):
        members[tag] = set((yield calls.get_clients_by_tag(tag)))
    # Only registered connections can match, as on the server (orphans never do).
    registered: list[str] = yield calls.get_clients(route)
    return [
        conn
        for conn in registered
        if expr.evaluate({tag for tag, holders in members.items() if conn in holders})
    ]


def _send_to_matching(expr: Expr, payload: bytes, route: str | None) -> Steps[int]:
    targets = yield from _matching_ids(expr, route)
    if payload:
        for conn in targets:
            yield calls.send(conn, payload, route)
        return len(targets)
    # send refuses an empty payload (the server crashes on it), so an empty frame goes
    # through a temporary tag, which also yields the server's own count of writes.
    marker = f"frankenws-tmp-{uuid.uuid4().hex}"
    for conn in targets:
        yield calls.tag_client(conn, marker)
    try:
        sent: int = yield calls.send_to_tag(marker, payload, route)
    finally:
        for conn in targets:
            yield calls.untag_client(conn, marker)
    return sent
