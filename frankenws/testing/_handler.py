"""The admin HTTP handler: one raw request in, one raw response out.

Layers, in the order the real server applies them:

1. Go's HTTP server parses the request line (``url.ParseRequestURI``) and the Host
   header: a malformed target is a plain-text 400 and the connection is closed.
2. Caddy's admin handler (``adminHandler.serveHTTP``): an ``Upgrade`` header containing
   ``websocket`` is refused (500), then the Host check (403), then, if enabled, the
   Origin check (403).
3. Go's ``ServeMux`` (1.22+ patterns): non-canonical paths are redirected (301, Go ≤
   1.25), unknown paths get the plain-text 404. Matching works on the escaped path
   split at literal slashes; each segment is unescaped once.
4. The extension's route: method check (405 JSON), the second decoding of the four
   ``double`` routes (400 JSON), then the route itself.

Nothing here does I/O; the same handler serves the httpx transport and the loopback
server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from frankenws._endpoints import ENDPOINTS, Endpoint

from ._gojson import JSONValue, dumps, go_str
from ._http import RawRequest, RawResponse
from ._state import FakeState

__all__ = [
    "AdminHandler",
    "AllowedOrigin",
    "EscapeError",
    "default_origins",
    "go_parse_int",
    "go_query_unescape",
    "parse_origin",
]

_JSON = (("Content-Type", "application/json"),)
_NOT_FOUND = RawResponse(
    404,
    (("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff")),
    b"404 page not found\n",
)
_TEXT_ERROR = (("Content-Type", "text/plain; charset=utf-8"), ("Connection", "close"))
_HEX = b"0123456789ABCDEF"
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


# ------------------------------------------------------------------ Go net/url


class EscapeError(ValueError):
    """Go's ``url.EscapeError``; ``str()`` is Go's ``Error()`` text."""

    def __init__(self, sequence: bytes) -> None:
        super().__init__(f"invalid URL escape {_go_quote(sequence)}")
        self.sequence = sequence


def _ishex(byte: int) -> bool:
    return 48 <= byte <= 57 or 65 <= byte <= 70 or 97 <= byte <= 102


_QUOTE_SHORT = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def _go_quote(data: bytes) -> str:
    """Go's ``strconv.Quote``: printable runes kept, the rest escaped."""
    out = ['"']
    text = data.decode("utf-8", "surrogateescape")
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ch in _QUOTE_SHORT:
            out.append(_QUOTE_SHORT[ch])
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _unescape(data: bytes, *, plus_is_space: bool) -> bytes:
    """Go's ``url.unescape`` for the path and query-component modes."""
    if b"%" not in data and (not plus_is_space or b"+" not in data):
        return data  # the common case, kept cheap for load tests
    out = bytearray()
    index = 0
    while index < len(data):
        byte = data[index]
        if byte == 0x25:  # '%'
            if index + 2 >= len(data) or not (_ishex(data[index + 1]) and _ishex(data[index + 2])):
                raise EscapeError(data[index : index + 3])
            out.append(int(data[index + 1 : index + 3], 16))
            index += 3
            continue
        out.append(0x20 if byte == 0x2B and plus_is_space else byte)
        index += 1
    return bytes(out)


def go_query_unescape(value: str) -> str:
    """Go's ``url.QueryUnescape`` (``+`` is a space); raises :class:`EscapeError`."""
    return go_str(_unescape(value.encode("utf-8", "surrogateescape"), plus_is_space=True))


def _path_unescape(data: bytes) -> bytes:
    return _unescape(data, plus_is_space=False)


def _should_escape_path(byte: int) -> bool:
    if 48 <= byte <= 57 or 65 <= byte <= 90 or 97 <= byte <= 122:
        return False
    return byte not in b"-_.~$&+,/:;=@"


def _escape_path(data: bytes) -> bytes:
    """Go's ``url.escape(s, encodePath)`` (uppercase hex)."""
    out = bytearray()
    for byte in data:
        if _should_escape_path(byte):
            out += bytes((0x25, _HEX[byte >> 4], _HEX[byte & 15]))
        else:
            out.append(byte)
    return bytes(out)


def _valid_encoded_path(data: bytes) -> bool:
    """Go's ``validEncoded(s, encodePath)``."""
    return all(byte in b"!$&'()*+,;=:@[]%" or not _should_escape_path(byte) for byte in data)


def _escaped_path(raw_path: bytes) -> bytes:
    """Go's ``URL.EscapedPath()`` for a path parsed from ``raw_path``.

    A target that is not in Go's canonical encoding (a raw ``|``, ``"``, ``{`` ...) is
    re-escaped from the decoded path, which turns a ``%2F`` into a real slash.
    """
    if _valid_encoded_path(raw_path):
        return raw_path
    return _escape_path(_path_unescape(raw_path))


def _path_clean(path: str) -> str:
    """Go's ``path.Clean``."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(segment)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def _clean_path(path: str) -> str:
    """``net/http``'s ``cleanPath``: ``path.Clean`` that keeps a trailing slash."""
    if not path:
        return "/"
    if path[0] != "/":
        path = "/" + path
    cleaned = _path_clean(path)
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


def _parse_query(raw_query: bytes) -> dict[str, str]:
    """Go's ``url.ParseQuery`` followed by ``Get``: first value of each key.

    A pair with a raw ``;`` or a bad escape is dropped silently (PROTOCOL.md §3.2).
    """
    values: dict[str, str] = {}
    for pair in raw_query.split(b"&"):
        if not pair or b";" in pair:
            continue
        key, _, value = pair.partition(b"=")
        try:
            decoded_key = go_str(_unescape(key, plus_is_space=True))
            decoded_value = go_str(_unescape(value, plus_is_space=True))
        except EscapeError:
            continue
        values.setdefault(decoded_key, decoded_value)
    return values


def go_parse_int(text: str) -> int | None:
    """Go's ``strconv.ParseInt(s, 10, 64)`` / ``Atoi``: None on any error."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not digits or not all("0" <= ch <= "9" for ch in digits):
        return None
    value = int(digits)
    if text.startswith("-"):
        value = -value
    if not _INT64_MIN <= value <= _INT64_MAX:
        return None
    return value


def _get_scheme(raw: bytes) -> tuple[bytes, bytes] | None:
    """Go's ``getScheme``; None for "missing protocol scheme"."""
    for index, byte in enumerate(raw):
        if 65 <= byte <= 90 or 97 <= byte <= 122:
            continue
        if 48 <= byte <= 57 or byte in b"+-.":
            if index == 0:
                return b"", raw
            continue
        if byte == 0x3A:  # ':'
            if index == 0:
                return None
            return raw[:index], raw[index + 1 :]
        return b"", raw
    return b"", raw


_HOST_OK = frozenset(b"!$&'()*+,;=:[]<>\"-_.~")


def _parse_host(host: bytes) -> bytes | None:
    """Go's ``parseHost`` (simplified IPv6 zone handling); None on error."""
    if host.startswith(b"["):
        end = host.rfind(b"]")
        if end < 0:
            return None
        port = host[end + 1 :]
    else:
        colon = host.rfind(b":")
        port = host[colon:] if colon >= 0 else b""
    if port and not ((port.startswith(b":") and port[1:].isdigit()) or port == b":"):
        return None
    index = 0
    out = bytearray()
    while index < len(host):
        byte = host[index]
        if byte == 0x25:
            seq = host[index : index + 3]
            if len(seq) < 3 or not (_ishex(seq[1]) and _ishex(seq[2])):
                return None
            if int(seq[1:2], 16) < 8 and seq != b"%25":
                return None
            out.append(int(seq[1:], 16))
            index += 3
            continue
        alnum = 48 <= byte <= 57 or 65 <= byte <= 90 or 97 <= byte <= 122
        if byte < 0x80 and not alnum and byte not in _HOST_OK:
            return None
        out.append(byte)
        index += 1
    return bytes(out)


@dataclass(frozen=True, slots=True)
class _URL:
    scheme: str
    user: str | None
    host: str
    opaque: str
    force_query: bool
    path: bytes
    raw_query: bytes


def _contains_ctl(raw: bytes) -> bool:
    return any(byte < 0x20 or byte == 0x7F for byte in raw)


def _parse_url(raw: bytes, *, via_request: bool) -> _URL | None:
    """Go's ``url.Parse`` (``via_request=False``) or ``url.ParseRequestURI``."""
    if _contains_ctl(raw):
        return None
    if not via_request:
        raw, _, fragment = raw.partition(b"#")
        if fragment:
            try:
                _unescape(fragment, plus_is_space=False)
            except EscapeError:
                return None
    if raw == b"*":
        return _URL("", None, "", "", False, b"*", b"")
    split = _get_scheme(raw)
    if split is None:
        return None
    scheme, rest = split
    force_query = False
    raw_query = b""
    if rest.endswith(b"?") and rest.count(b"?") == 1:
        force_query, rest = True, rest[:-1]
    else:
        rest, _, raw_query = rest.partition(b"?")
    if not rest.startswith(b"/"):
        if scheme:
            return _URL(go_str(scheme).lower(), None, "", go_str(rest), force_query, b"", raw_query)
        if via_request or b":" in rest.partition(b"/")[0]:
            return None
    user: str | None = None
    host = b""
    authority_form = scheme or (not via_request and not rest.startswith(b"///"))
    if authority_form and rest.startswith(b"//"):
        authority, slash, tail = rest[2:].partition(b"/")
        rest = slash + tail
        at = authority.rfind(b"@")
        parsed_host = _parse_host(authority[at + 1 :])
        if parsed_host is None:
            return None
        host = parsed_host
        if at >= 0:
            info = authority[:at]
            if not all(b < 0x80 and (chr(b).isalnum() or b in b"-._:~!$&'()*+,;=%@") for b in info):
                return None
            user = go_str(info)
    try:
        _path_unescape(rest)
    except EscapeError:
        return None
    return _URL(go_str(scheme).lower(), user, go_str(host), "", force_query, rest, raw_query)


def _valid_host_header(host: str) -> bool:
    """Go's ``httpguts.ValidHostHeader``."""
    return all(ch.isascii() and (ch.isalnum() or ch in "!$%&'()*+,-.:;=[]_~") for ch in host)


def _valid_method(method: str) -> bool:
    return bool(method) and all(
        ch.isascii() and (ch.isalnum() or ch in "!#$%&'*+-.^_`|~") for ch in method
    )


def _html_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


# ----------------------------------------------------------------- responses


def _json(value: JSONValue, status: int = 200) -> RawResponse:
    return RawResponse(status, _JSON, dumps(value))


def _api_error(status: int, message: str) -> RawResponse:
    return _json({"error": message}, status)


def _empty(status: int = 200) -> RawResponse:
    return RawResponse(status)


def _bad_request(detail: str = "") -> RawResponse:
    # Written by the HTTP server itself, before any handler: no Content-Length, the
    # connection is closed after the body.
    text = "400 Bad Request" + (f": {detail}" if detail else "")
    return RawResponse(400, _TEXT_ERROR, text.encode(), close=True)


@dataclass(frozen=True, slots=True)
class AllowedOrigin:
    """One entry of Caddy's allowed origins: a host:port and an optional scheme."""

    host: str
    scheme: str = ""


def default_origins(port: int) -> tuple[AllowedOrigin, ...]:
    """Caddy's defaults for a loopback admin listener on ``port``."""
    return tuple(AllowedOrigin(f"{host}:{port}") for host in ("localhost", "[::1]", "127.0.0.1"))


def parse_origin(entry: str) -> AllowedOrigin:
    """An ``origins`` entry as Caddy reads it: ``host:port`` or ``scheme://host:port``."""
    if "://" in entry:
        scheme, _, rest = entry.partition("://")
        return AllowedOrigin(rest.split("/", 1)[0], scheme.lower())
    return AllowedOrigin(entry)


# ------------------------------------------------------------------- routes


@dataclass(frozen=True, slots=True)
class _Call:
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes

    def q(self, name: str) -> str:
        return self.query.get(name, "")


_Route = Callable[[FakeState, _Call], RawResponse]


def _r_get_clients(state: FakeState, c: _Call) -> RawResponse:
    route = c.q("route")
    return _json({"clients": state.get_clients(route), "route": route})


def _r_send(state: FakeState, c: _Call) -> RawResponse:
    if not c.body:
        # Upstream takes &body[0] of an empty body: a panic, and Go's server drops
        # the connection without writing anything.
        return RawResponse(0, drop=True)
    state.send(c.params["clientID"], c.body, c.q("route"))
    return _empty()


def _r_tag(state: FakeState, c: _Call) -> RawResponse:
    if not c.body:
        return _api_error(400, "tag is required")
    state.tag_client(c.params["clientID"], go_str(c.body))
    return _empty()


def _r_untag(state: FakeState, c: _Call) -> RawResponse:
    state.untag_client(c.params["clientID"], c.params["tag"])
    return _empty()


def _r_clear_tags(state: FakeState, c: _Call) -> RawResponse:
    state.clear_tag_client(c.params["clientID"])
    return _empty()


def _r_get_client_tags(state: FakeState, c: _Call) -> RawResponse:
    client = c.params["clientID"]
    return _json({"clientID": client, "tags": state.get_client_tags(client)})


def _r_get_clients_by_tag(state: FakeState, c: _Call) -> RawResponse:
    tag = c.params["tag"]
    return _json({"clients": state.get_clients_by_tag(tag), "tag": tag})


def _r_get_tags(state: FakeState, c: _Call) -> RawResponse:
    return _json({"tags": state.get_tags()})


def _r_send_to_tag(state: FakeState, c: _Call) -> RawResponse:
    tag, route = c.params["tag"], c.q("route")
    sent = state.send_to_tag(tag, c.body, route)
    return _json({"route": route, "sentCount": sent, "tag": tag})


def _r_set_stored(state: FakeState, c: _Call) -> RawResponse:
    if not c.body:
        return _api_error(400, "value is required")
    state.set_stored_information(c.params["clientID"], c.params["key"], go_str(c.body))
    return _empty()


def _r_global_set(state: FakeState, c: _Call) -> RawResponse:
    seconds = go_parse_int(c.q("exp")) if c.q("exp") else None
    state.global_set(c.params["key"], c.body, seconds if seconds and seconds > 0 else 0)
    return _empty()


def _r_global_get(state: FakeState, c: _Call) -> RawResponse:
    value = state.global_get(c.params["key"])
    if value is None:
        return _empty(404)
    return RawResponse(200, (("Content-Type", "text/plain"),), value)


def _r_global_has(state: FakeState, c: _Call) -> RawResponse:
    return _empty(200 if state.global_has(c.params["key"]) else 404)


def _r_global_delete(state: FakeState, c: _Call) -> RawResponse:
    return _empty(200 if state.global_delete(c.params["key"]) else 404)


def _r_get_stored(state: FakeState, c: _Call) -> RawResponse:
    client, key = c.params["clientID"], c.params["key"]
    value, exists = state.get_stored_information(client, key)
    return _json({"clientID": client, "exists": exists, "key": key, "value": value})


def _r_delete_stored(state: FakeState, c: _Call) -> RawResponse:
    client, key = c.params["clientID"], c.params["key"]
    deleted = state.delete_stored_information(client, key)
    return _json({"clientID": client, "deleted": deleted, "key": key})


def _r_clear_stored(state: FakeState, c: _Call) -> RawResponse:
    client = c.params["clientID"]
    return _json({"cleared": state.clear_stored_information(client), "clientID": client})


def _r_has_stored(state: FakeState, c: _Call) -> RawResponse:
    client, key = c.params["clientID"], c.params["key"]
    exists = state.has_stored_information(client, key)
    return _json({"clientID": client, "exists": exists, "key": key})


def _r_list_keys(state: FakeState, c: _Call) -> RawResponse:
    client = c.params["clientID"]
    return _json({"clientID": client, "keys": state.list_stored_information_keys(client)})


def _r_get_all_stored(state: FakeState, c: _Call) -> RawResponse:
    client = c.params["clientID"]
    info = state.get_all_stored_information(client)
    return _json({"clientID": client, "information": info})


def _positive(text: str, default: int) -> int:
    value = go_parse_int(text)
    return value if value is not None and value > 0 else default


def _r_enable_ping(state: FakeState, c: _Call) -> RawResponse:
    client = c.params["clientID"]
    interval = state.enable_ping(client, _positive(c.q("interval"), 0))
    return _json(
        {"action": "enablePing", "clientID": client, "interval": interval, "success": True}
    )


def _r_disable_ping(state: FakeState, c: _Call) -> RawResponse:
    client = c.params["clientID"]
    state.disable_ping(client)
    return _json({"action": "disablePing", "clientID": client, "success": True})


def _r_ping_time(state: FakeState, c: _Call) -> RawResponse:
    client = c.params["clientID"]
    nanos = state.get_client_ping_time(client)
    return _json({"clientID": client, "pingTime": nanos, "pingTimeMs": nanos / 1e6})


def _r_enable_queue(state: FakeState, c: _Call) -> RawResponse:
    client = c.params["clientID"]
    max_messages, max_time = state.enable_queue_counter(
        client, _positive(c.q("maxMessages"), 100), _positive(c.q("maxTime"), 3600)
    )
    return _json(
        {
            "action": "enableQueueCounter",
            "clientID": client,
            "maxMessages": max_messages,
            "maxTime": max_time,
            "success": True,
        }
    )


def _r_message_counter(state: FakeState, c: _Call) -> RawResponse:
    client = c.params["clientID"]
    return _json({"clientID": client, "counter": state.get_client_message_counter(client)})


def _r_message_queue(state: FakeState, c: _Call) -> RawResponse:
    client = c.params["clientID"]
    messages = [m.to_json() for m in state.get_client_message_queue(client)]
    return _json({"clientID": client, "count": len(messages), "messages": messages})


def _r_kill(state: FakeState, c: _Call) -> RawResponse:
    client = c.params["clientID"]
    if state.kill_connection(client):
        return _json({"clientID": client, "success": True})
    return _json(
        {"clientID": client, "error": "Connection not found or already closed", "success": False}
    )


def _r_send_all(state: FakeState, c: _Call) -> RawResponse:
    route = c.q("route")
    body: dict[str, JSONValue] = {"sentCount": state.send_all(c.body, route)}
    if route:
        body["route"] = route
    return _json(body)


def _r_clients_count(state: FakeState, c: _Call) -> RawResponse:
    route = c.q("route")
    body: dict[str, JSONValue] = {"count": state.get_clients_count(route)}
    if route:
        body["route"] = route
    return _json(body)


def _r_tag_count(state: FakeState, c: _Call) -> RawResponse:
    tag = c.params["tag"]
    return _json({"count": state.get_tag_count(tag), "tag": tag})


def _r_search(state: FakeState, c: _Call) -> RawResponse:
    key, op, value, route = c.q("key"), c.q("op"), c.q("value"), c.q("route")
    if not key or not op:
        return _api_error(400, "key and op are required")
    clients = state.search_stored_information(key, op, value, route)
    return _json(
        {
            "clients": clients,
            "count": len(clients or ()),
            "key": key,
            "op": op,
            "route": route,
            "value": value,
        }
    )


def _r_send_to_expression(state: FakeState, c: _Call) -> RawResponse:
    expression, route = c.params["expression"], c.q("route")
    sent = state.send_to_tag_expression(expression, c.body, route)
    return _json({"expression": expression, "route": route, "sentCount": sent})


def _r_clients_by_expression(state: FakeState, c: _Call) -> RawResponse:
    expression = c.params["expression"]
    clients = state.get_clients_by_tag_expression(expression)
    return _json({"clients": clients, "count": len(clients or ()), "expression": expression})


def _r_list_routes(state: FakeState, c: _Call) -> RawResponse:
    return _json({"routes": state.list_routes()})


def _r_clients_by_route(state: FakeState, c: _Call) -> RawResponse:
    route = c.params["route"]
    clients = state.get_clients_by_route(route)
    return _json({"clients": clients, "count": len(clients or ()), "route": route})


def _r_rename(state: FakeState, c: _Call) -> RawResponse:
    current, new = c.params["currentId"], c.params["newId"]
    if not state.rename_connection(current, new):
        return _api_error(400, "failed to rename connection")
    return _json(
        {
            "currentId": current,
            "message": "Connection renamed successfully",
            "newId": new,
            "success": True,
        }
    )


def _r_is_ghost(state: FakeState, c: _Call) -> RawResponse:
    client = c.params["clientID"]
    return _json({"clientID": client, "isGhost": state.is_ghost(client)})


def _action_route(action: str, method: Callable[[FakeState, str], bool]) -> _Route:
    """A route answering ``{"action", "clientID", "success"}`` from a state method."""

    def route(state: FakeState, c: _Call) -> RawResponse:
        client = c.params["clientID"]
        return _json({"action": action, "clientID": client, "success": method(state, client)})

    return route


_ROUTES: dict[str, _Route] = {
    "get_clients": _r_get_clients,
    "send": _r_send,
    "tag_client": _r_tag,
    "untag_client": _r_untag,
    "clear_tag_client": _r_clear_tags,
    "get_client_tags": _r_get_client_tags,
    "get_clients_by_tag": _r_get_clients_by_tag,
    "get_tags": _r_get_tags,
    "send_to_tag": _r_send_to_tag,
    "set_stored_information": _r_set_stored,
    "global_set": _r_global_set,
    "global_get": _r_global_get,
    "global_has": _r_global_has,
    "global_delete": _r_global_delete,
    "get_stored_information": _r_get_stored,
    "delete_stored_information": _r_delete_stored,
    "clear_stored_information": _r_clear_stored,
    "has_stored_information": _r_has_stored,
    "list_stored_information_keys": _r_list_keys,
    "get_all_stored_information": _r_get_all_stored,
    "enable_ping": _r_enable_ping,
    "disable_ping": _r_disable_ping,
    "get_client_ping_time": _r_ping_time,
    "enable_queue_counter": _r_enable_queue,
    "disable_queue_counter": _action_route("disableQueueCounter", FakeState.disable_queue_counter),
    "get_client_message_counter": _r_message_counter,
    "get_client_message_queue": _r_message_queue,
    "clear_client_message_queue": _action_route(
        "clearClientMessageQueue", FakeState.clear_client_message_queue
    ),
    "kill_connection": _r_kill,
    "send_all": _r_send_all,
    "get_clients_count": _r_clients_count,
    "get_tag_count": _r_tag_count,
    "search_stored_information": _r_search,
    "send_to_tag_expression": _r_send_to_expression,
    "get_clients_by_tag_expression": _r_clients_by_expression,
    "list_routes": _r_list_routes,
    "get_clients_by_route": _r_clients_by_route,
    "rename_connection": _r_rename,
    "activate_ghost": _action_route("activateGhost", FakeState.activate_ghost),
    "release_ghost": _action_route("releaseGhost", FakeState.release_ghost),
    "is_ghost": _r_is_ghost,
}

assert set(_ROUTES) == {endpoint.name for endpoint in ENDPOINTS}


_BY_LENGTH: dict[int, list[Endpoint]] = {}
for _endpoint in ENDPOINTS:
    _BY_LENGTH.setdefault(len(_endpoint.segments), []).append(_endpoint)


def _match(path: bytes) -> tuple[Endpoint, dict[str, str]] | None:
    """ServeMux matching of a clean escaped path against the endpoint table."""
    segments = path[1:].split(b"/")
    # Literal segments are compared unescaped too (``get%54ags`` routes).
    decoded = [go_str(_path_unescape(raw)) for raw in segments]
    for endpoint in _BY_LENGTH.get(len(segments), ()):
        values: dict[str, str] = {}
        for template, raw, segment in zip(endpoint.segments, segments, decoded, strict=True):
            if template.startswith("{"):
                if not raw:
                    break
                values[template[1:-1]] = segment
            elif segment != template:
                break
        else:
            return endpoint, values
    return None


def _with_headers(response: RawResponse, extra: Sequence[tuple[str, str]]) -> RawResponse:
    # Go writes response headers sorted by name.
    headers = tuple(sorted((*extra, *response.headers), key=lambda item: item[0]))
    return RawResponse(response.status, headers, response.body, response.drop, response.close)


class AdminHandler:
    """Caddy's admin server with the extension's 41 routes, over a :class:`FakeState`.

    Args:
        state: the extension state the routes act on.
        origins: allowed origins (Host check, Origin check); Caddy's defaults for a
            loopback listener on port 2019 when omitted.
        host_check: whether the Host header is checked (off for wildcard listeners
            and unix sockets in the real server).
        enforce_origin: Caddy's ``enforce_origin``.
        module_loaded: False imitates a Caddy without the extension.
    """

    def __init__(
        self,
        state: FakeState,
        *,
        origins: Iterable[AllowedOrigin] | None = None,
        host_check: bool = True,
        enforce_origin: bool = False,
        module_loaded: bool = True,
    ) -> None:
        self.state = state
        self.origins: tuple[AllowedOrigin, ...] = (
            tuple(origins) if origins is not None else default_origins(2019)
        )
        self.host_check = host_check
        self.enforce_origin = enforce_origin
        self.module_loaded = module_loaded

    def __call__(self, raw: RawRequest) -> RawResponse:
        return self.handle(raw)

    def handle(self, raw: RawRequest) -> RawResponse:
        """Answer one request exactly as the real admin endpoint would."""
        response = self._serve(raw)
        if raw.method == "HEAD" and response.body and not response.close:
            # Go's server discards whatever a handler writes for HEAD (but writes its
            # own raw 400 verbatim).
            return RawResponse(response.status, response.headers)
        return response

    def _serve(self, raw: RawRequest) -> RawResponse:
        target = raw.target.encode("utf-8", "surrogateescape")
        # A space would have split the request line: Go sees a bad HTTP version.
        if not _valid_method(raw.method) or b" " in target:
            return _bad_request()
        url = _parse_url(target, via_request=True)
        if url is None:
            return _bad_request()
        headers = {name.lower(): value for name, value in raw.headers.items()}
        if "host" not in headers:
            return _bad_request("missing required Host header")
        if not _valid_host_header(headers["host"]):
            return _bad_request("malformed Host header")
        host = url.host or headers["host"]
        if target == b"*" and raw.method == "OPTIONS":
            # Go's server answers "OPTIONS *" itself, before any handler.
            return _empty()

        # Caddy's adminHandler.serveHTTP.
        if "websocket" in headers.get("upgrade", ""):
            return _api_error(500, "websocket connections aren't allowed")
        if self.host_check and not any(host == origin.host for origin in self.origins):
            return _api_error(403, f"host not allowed: {host}")
        extra: list[tuple[str, str]] = []
        if self.enforce_origin:
            refusal = self._check_origin(raw.method, headers, extra)
            if refusal is not None:
                return refusal
        return _with_headers(self._mux(raw, url), extra)

    def _check_origin(
        self, method: str, headers: Mapping[str, str], extra: list[tuple[str, str]]
    ) -> RawResponse | None:
        origin = headers.get("origin", "") or headers.get("referer", "")
        parsed = _parse_url(origin.encode("utf-8", "surrogateescape"), via_request=False)
        if parsed is None:
            return _api_error(403, "required Origin header is missing or invalid")
        allowed = any(
            (not o.scheme or o.scheme == parsed.scheme) and parsed.host == o.host
            for o in self.origins
        )
        if not allowed:
            return _api_error(403, f"client is not allowed to access from origin '{origin}'")
        if method == "OPTIONS":
            extra += [
                ("Access-Control-Allow-Methods", "OPTIONS, GET, POST, PUT, PATCH, DELETE"),
                ("Access-Control-Allow-Headers", "Content-Type, Content-Length, Cache-Control"),
                ("Access-Control-Allow-Credentials", "true"),
            ]
        extra.append(("Access-Control-Allow-Origin", _origin_string(parsed)))
        return None

    def _mux(self, raw: RawRequest, url: _URL) -> RawResponse:
        if url.path == b"*":
            return RawResponse(400, (("Connection", "close"),), close=True)
        escaped = _escaped_path(url.path)
        cleaned = _clean_path(escaped.decode("ascii")).encode("ascii")
        if cleaned != escaped:
            return _redirect(raw.method, cleaned, url.raw_query)
        match = _match(cleaned) if self.module_loaded else None
        if match is None:
            return _NOT_FOUND
        endpoint, params = match
        if raw.method != endpoint.method:
            return _api_error(405, "method not allowed")
        if endpoint.double:
            for name in endpoint.params:
                try:
                    params[name] = go_query_unescape(params[name])
                except EscapeError as exc:
                    return _api_error(400, f"invalid {name} encoding: {exc}")
        call = _Call(params, _parse_query(url.raw_query), raw.body)
        return _ROUTES[endpoint.name](self.state, call)


def _origin_string(url: _URL) -> str:
    """``url.String()`` of an origin whose path, query and fragment were cleared."""
    text = f"{url.scheme}:" if url.scheme else ""
    if url.opaque:
        text += url.opaque
    elif url.host or url.user is not None:
        text += "//" + (f"{url.user}@" if url.user is not None else "") + url.host
    return text + ("?" if url.force_query else "")


def _redirect(method: str, clean_escaped: bytes, raw_query: bytes) -> RawResponse:
    """ServeMux's redirect to the cleaned path, as Go ≤ 1.25 builds it.

    Go puts the cleaned *escaped* path into ``URL.Path`` and calls ``String()``, which
    escapes it again: a ``%2F`` in the original comes back as ``%252F``.
    """
    location = _escape_path(clean_escaped)
    if raw_query:
        location += b"?" + raw_query
    # http.Redirect re-cleans the path part (a no-op here) and hex-escapes non-ASCII.
    path, sep, query = location.partition(b"?")
    url = go_str(_path_clean_keep_slash(path) + sep + query)
    header_value = "".join(ch if ch.isascii() else _hex_escape(ch) for ch in url)
    headers = [("Location", header_value)]
    if method in ("GET", "HEAD"):
        headers.append(("Content-Type", "text/html; charset=utf-8"))
    body = b""
    if method == "GET":
        body = f'<a href="{_html_escape(url)}">Moved Permanently</a>.\n\n'.encode(
            "utf-8", "surrogateescape"
        )
    return RawResponse(301, tuple(sorted(headers)), body)


def _path_clean_keep_slash(path: bytes) -> bytes:
    text = path.decode("ascii")
    cleaned = _path_clean(text)
    if text.endswith("/") and not cleaned.endswith("/"):
        cleaned += "/"
    return cleaned.encode("ascii")


def _hex_escape(ch: str) -> str:
    return "".join(f"%{byte:02x}" for byte in ch.encode("utf-8", "surrogateescape"))
