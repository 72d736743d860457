"""The sans-I/O core: operations become request descriptions, responses become results.

A :class:`Call` says what to send (method, raw request path, body) and how to turn the
:class:`~frankenws.Response` into a Python value; a :class:`Flow` is an operation that
needs several calls. Senders (the httpx clients, the bulk engine's HTTP/1.1 lane) only
move bytes and run operations with ``_drive``: they never interpret a status code or a
body (``_decode`` does). Strictly private.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._decode import (
    boolean,
    found,
    global_value,
    information,
    integer,
    nothing,
    queue_messages,
    renamed,
    stored_value,
    string_list,
)
from ._encoding import encode_once, encode_query, encode_twice
from ._endpoints import ENDPOINTS, Endpoint, by_name
from ._exceptions import FrankenWSError, InvalidArgument
from ._models import QueuedMessage, Response
from ._validate import (
    EXTRA_OPERATORS,
    MAX_EXPIRE_SECONDS,
    check_positive,
    check_regex,
    check_search_op,
    check_text,
    payload_bytes,
    route_filter,
    value_bytes,
)

if TYPE_CHECKING:
    # Tag expressions and numeric ranges are imported where they are used: most calls
    # never need them, and every CLI start-up would pay for them (docs/performance.md).
    from ._expr import Expr
    from ._ranges import StoredValueFilter

__all__ = ["Call", "Flow", "Operation", "Steps", "calls"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, slots=True)
class Call(Generic[T_co]):
    """One admin request and the decoder of its answer."""

    endpoint: Endpoint | None
    method: str
    path: str
    """The raw request target relative to the admin base URL: escaped path plus ``?query``."""
    body: bytes
    decode: Callable[[Response], T_co] = field(repr=False)
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


# --- request building -------------------------------------------------------------


def _call(
    name: str,
    decode: Callable[[Response], T],
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
        if not segment.startswith("{"):
            parts.append(segment)
            continue
        value = next(args)
        if value == "/" and not endpoint.double:
            raise _unreachable_slash(endpoint, segment)
        parts.append(encode(value))
    path = "/" + "/".join(parts)
    if query:
        path += "?" + encode_query(query)
    return Call(endpoint, endpoint.method, path, body, decode, expected)


def _unreachable_slash(endpoint: Endpoint, segment: str) -> InvalidArgument:
    # PROTOCOL §3.1: a once-decoded value travels as %2F, Go's mux matches on the
    # decoded path, where it is an empty segment plus a trailing slash that no
    # {name} wildcard accepts. Only the exact value "/" hits this ("a/", "//" do not).
    param = "id" if segment == "{clientID}" else segment.strip("{}")
    return InvalidArgument(
        f"{param} '/' cannot be sent to {endpoint.name}: this route decodes its path once, "
        "so the value arrives as a bare '/', which Go's router reads as a trailing slash; no "
        "encoding can reach the handler (the server answers '404 page not found')"
    )


def _route_of(path: str) -> Endpoint | None:
    """The route a raw request path addresses, if it is one of the 41."""
    segments = path.split("?", 1)[0].split("/")[1:]
    for endpoint in ENDPOINTS:
        if len(endpoint.segments) == len(segments) and all(
            (seg != "") if lit.startswith("{") else (seg == lit)
            for lit, seg in zip(endpoint.segments, segments, strict=True)
        ):
            return endpoint
    return None


_KEY_MAY_BE_MISSING = frozenset({200, 404})
"""The global store's readers answer an empty 404 for a missing key: a result, not an error."""
_GLOBAL_READERS = frozenset({"global_get", "global_has", "global_delete"})


def _route_query(route: str | None) -> dict[str, str] | None:
    value = route_filter(route)
    return {"route": value} if value else None


class _Calls:
    """Builders for every operation; each validates its arguments first."""

    def get_clients(self, route: str | None = None) -> Call[list[str]]:
        return _call("get_clients", string_list("clients"), query=_route_query(route))

    def get_clients_count(self, route: str | None = None) -> Call[int]:
        return _call("get_clients_count", integer("count"), query=_route_query(route))

    def send(self, id: str, data: str | bytes, route: str | None = None) -> Call[None]:
        check_text(id, "id")
        if "\x00" in id or (route and "\x00" in route):
            raise InvalidArgument("id and route must not contain NUL: the server cuts them there")
        payload = payload_bytes(data, allow_empty=False)
        return _call("send", nothing, id, query=_route_query(route), body=payload)

    def send_all(self, data: str | bytes, route: str | None = None) -> Call[int]:
        payload = payload_bytes(data, allow_empty=True)
        return _call("send_all", integer("sentCount"), query=_route_query(route), body=payload)

    def kill_connection(self, id: str) -> Call[bool]:
        return _call("kill_connection", boolean("success"), check_text(id, "id"))

    def get_client_ping_time(self, id: str) -> Call[int]:
        return _call("get_client_ping_time", integer("pingTime"), check_text(id, "id"))

    def enable_ping(self, id: str, interval_ms: int = 0) -> Call[bool]:
        check_text(id, "id")
        interval = check_positive(interval_ms, "interval_ms", allow_zero=True)
        query = {"interval": str(interval)} if interval else None
        return _call("enable_ping", boolean("success"), id, query=query)

    def disable_ping(self, id: str) -> Call[bool]:
        return _call("disable_ping", boolean("success"), check_text(id, "id"))

    def enable_queue_counter(
        self, id: str, max_messages: int = 100, max_time_seconds: int = 3600
    ) -> Call[bool]:
        check_text(id, "id")
        query = {
            "maxMessages": str(check_positive(max_messages, "max_messages")),
            "maxTime": str(check_positive(max_time_seconds, "max_time_seconds")),
        }
        return _call("enable_queue_counter", boolean("success"), id, query=query)

    def disable_queue_counter(self, id: str) -> Call[bool]:
        return _call("disable_queue_counter", boolean("success"), check_text(id, "id"))

    def get_client_message_counter(self, id: str) -> Call[int]:
        return _call("get_client_message_counter", integer("counter"), check_text(id, "id"))

    def get_client_message_queue(self, id: str) -> Call[list[QueuedMessage]]:
        return _call("get_client_message_queue", queue_messages, check_text(id, "id"))

    def clear_client_message_queue(self, id: str) -> Call[bool]:
        return _call("clear_client_message_queue", boolean("success"), check_text(id, "id"))

    def tag_client(self, id: str, tag: str) -> Call[None]:
        check_text(id, "id")
        body = check_text(tag, "tag").encode("utf-8")
        return _call("tag_client", nothing, id, body=body)

    def untag_client(self, id: str, tag: str) -> Call[None]:
        return _call("untag_client", nothing, check_text(id, "id"), check_text(tag, "tag"))

    def clear_tag_client(self, id: str) -> Call[None]:
        return _call("clear_tag_client", nothing, check_text(id, "id"))

    def get_tags(self) -> Call[list[str]]:
        return _call("get_tags", string_list("tags"))

    def get_client_tags(self, id: str) -> Call[list[str]]:
        return _call("get_client_tags", string_list("tags"), check_text(id, "id"))

    def get_clients_by_tag(self, tag: str) -> Call[list[str]]:
        return _call("get_clients_by_tag", string_list("clients"), check_text(tag, "tag"))

    def get_tag_count(self, tag: str) -> Call[int]:
        return _call("get_tag_count", integer("count"), check_text(tag, "tag"))

    def send_to_tag(self, tag: str, data: str | bytes, route: str | None = None) -> Call[int]:
        check_text(tag, "tag")
        payload = payload_bytes(data, allow_empty=True)
        query = {"route": route_filter(route)} if route else None
        return _call("send_to_tag", integer("sentCount"), tag, query=query, body=payload)

    def set_stored_information(self, id: str, key: str, value: str | bytes) -> Call[None]:
        check_text(id, "id")
        check_text(key, "key")
        body = value_bytes(value, "value", allow_empty=False)
        return _call("set_stored_information", nothing, id, key, body=body)

    def get_stored_information(self, id: str, key: str) -> Call[str | None]:
        return _call(
            "get_stored_information", stored_value, check_text(id, "id"), check_text(key, "key")
        )

    def delete_stored_information(self, id: str, key: str) -> Call[None]:
        # The server's "deleted" flag is true whenever the id had any data at all, so it
        # says nothing about this key; it is not passed on.
        return _call(
            "delete_stored_information", nothing, check_text(id, "id"), check_text(key, "key")
        )

    def clear_stored_information(self, id: str) -> Call[None]:
        return _call("clear_stored_information", nothing, check_text(id, "id"))

    def has_stored_information(self, id: str, key: str) -> Call[bool]:
        return _call(
            "has_stored_information",
            boolean("exists"),
            check_text(id, "id"),
            check_text(key, "key"),
        )

    def list_stored_information_keys(self, id: str) -> Call[list[str]]:
        return _call("list_stored_information_keys", string_list("keys"), check_text(id, "id"))

    def get_all_stored_information(self, id: str) -> Call[dict[str, str]]:
        return _call("get_all_stored_information", information, check_text(id, "id"))

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
        from ._expr import is_server_safe, parse

        check_text(expression, "expression")
        payload = payload_bytes(data, allow_empty=True)
        if not is_server_safe(expression):
            expr = parse(expression)
            return Flow("send_to_tag_expression", lambda: _send_to_matching(expr, payload, route))
        return _call(
            "send_to_tag_expression",
            integer("sentCount"),
            expression,
            query=_route_query(route),
            body=payload,
        )

    def get_clients_by_tag_expression(self, expression: str) -> Operation[list[str]]:
        from ._expr import is_server_safe, parse

        check_text(expression, "expression")
        if not is_server_safe(expression):
            expr = parse(expression)
            return Flow("get_clients_by_tag_expression", lambda: _matching_ids(expr, None))
        return _call("get_clients_by_tag_expression", string_list("clients"), expression)

    def list_routes(self) -> Call[list[str]]:
        return _call("list_routes", string_list("routes"))

    def get_clients_by_route(self, route: str) -> Call[list[str]]:
        return _call("get_clients_by_route", string_list("clients"), check_text(route, "route"))

    def rename_connection(self, current_id: str, new_id: str) -> Call[bool]:
        check_text(current_id, "current_id")
        check_text(new_id, "new_id")
        return _call(
            "rename_connection",
            renamed,
            current_id,
            new_id,
            expected=frozenset({200, 400}),
        )

    def activate_ghost(self, id: str) -> Call[bool]:
        return _call("activate_ghost", boolean("success"), check_text(id, "id"))

    def release_ghost(self, id: str) -> Call[bool]:
        return _call("release_ghost", boolean("success"), check_text(id, "id"))

    def is_ghost(self, id: str) -> Call[bool]:
        return _call("is_ghost", boolean("isGhost"), check_text(id, "id"))

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
        return _call("global_set", nothing, key, query=query, body=body)

    def global_get(self, key: str) -> Call[str | None]:
        return _call(
            "global_get", global_value, check_text(key, "key"), expected=_KEY_MAY_BE_MISSING
        )

    def global_has(self, key: str) -> Call[bool]:
        return _call("global_has", found, check_text(key, "key"), expected=_KEY_MAY_BE_MISSING)

    def global_delete(self, key: str) -> Call[bool]:
        return _call("global_delete", found, check_text(key, "key"), expected=_KEY_MAY_BE_MISSING)

    def raw(
        self, method: str, path: str, params: Mapping[str, str] | None, content: bytes
    ) -> Call[Response]:
        if not isinstance(path, str) or not path.startswith("/"):
            raise InvalidArgument(f"path must start with '/', got {path!r}")
        try:
            path.encode("ascii")
        except UnicodeEncodeError:
            raise InvalidArgument(f"path {path!r} must be already percent-encoded ASCII") from None
        try:
            full = path + ("?" + encode_query(params) if params else "")
        except UnicodeEncodeError:
            raise InvalidArgument("params must be valid Unicode (lone surrogate)") from None
        method = method.upper()
        route = _route_of(path)
        expected = frozenset({200})
        if route is not None and route.method == method and route.name in _GLOBAL_READERS:
            expected = _KEY_MAY_BE_MISSING
        return Call(None, method, full, content, lambda response: response, expected)


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
    return _call("search_stored_information", string_list("clients"), query=query)


def _extended_search(
    key: str, op: str, value: str | int | float | Sequence[str], route: str | None
) -> Operation[list[str]]:
    """gt/gte/lt/lte/in/exists, which the server does not know, as server-side regexes."""
    from ._ranges import compile_numeric, in_filter

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
    from ._expr import expand, is_wildcard, names

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
    import uuid

    marker = f"frankenws-tmp-{uuid.uuid4().hex}"
    tagged: list[str] = []
    try:
        for conn in targets:
            tagged.append(conn)
            yield calls.tag_client(conn, marker)
        sent: int = yield calls.send_to_tag(marker, payload, route)
    except Exception:
        # The driver throws a failed request's error in here: remove the marker, then
        # let the original error through. (Not on GeneratorExit: no request can be sent
        # once the driver is closing the flow.)
        for conn in tagged:
            with contextlib.suppress(FrankenWSError):
                yield calls.untag_client(conn, marker)
        raise
    for conn in targets:
        yield calls.untag_client(conn, marker)
    return sent
