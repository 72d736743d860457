"""The extension's 41 route handlers, each named after its endpoint.

A handler gets the state and the :class:`RouteArgs` the mux extracted (path values
already decoded as the route decodes them, the parsed query, the body) and returns the
raw response upstream's Go handler writes. ``@route("kill_connection")`` registers it
under the endpoint name of ``frankenws._endpoints``, so the SDK method, the endpoint
and the handler share one name. Strictly private.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from . import _msgs
from ._gojson import JSONValue, dumps, go_str
from ._gonet import go_parse_int
from ._http import RawResponse
from ._state import FakeState

__all__ = [
    "JSON_HEADERS",
    "READS_BODY",
    "ROUTES",
    "Route",
    "RouteArgs",
    "api_error",
    "json_response",
]

JSON_HEADERS = (("Content-Type", "application/json"),)

READS_BODY = frozenset(
    {
        "send",
        "send_all",
        "send_to_tag",
        "send_to_tag_expression",
        "tag_client",
        "set_stored_information",
        "global_set",
    }
)
"""The routes whose Go handler reads the request body (``io.ReadAll``)."""


@dataclass(frozen=True, slots=True)
class RouteArgs:
    """What a route handler reads from its request."""

    params: Mapping[str, str]
    """Path values by name, decoded once (twice on the ``double`` routes)."""
    query: Mapping[str, str]
    body: bytes

    def q(self, name: str) -> str:
        """A query value, ``""`` when absent (Go's ``Query().Get``)."""
        return self.query.get(name, "")


Route = Callable[[FakeState, RouteArgs], RawResponse]

ROUTES: dict[str, Route] = {}
"""Endpoint name -> handler; filled by :func:`route`."""


def route(name: str) -> Callable[[Route], Route]:
    """Register the decorated handler for the endpoint called ``name``."""

    def register(handler: Route) -> Route:
        if name in ROUTES:
            raise ValueError(f"two handlers for the endpoint {name!r}")
        ROUTES[name] = handler
        return handler

    return register


def json_response(value: JSONValue, status: int = 200) -> RawResponse:
    return RawResponse(status, JSON_HEADERS, dumps(value))


def api_error(status: int, message: str) -> RawResponse:
    """A ``caddy.APIError``: ``{"error": ...}`` with the given status."""
    return json_response({"error": message}, status)


def _empty(status: int = 200) -> RawResponse:
    return RawResponse(status)


def _positive(text: str, default: int) -> int:
    value = go_parse_int(text)
    return value if value is not None and value > 0 else default


def _action(args: RouteArgs, action: str, method: Callable[[str], bool]) -> RawResponse:
    """The ``{"action", "clientID", "success"}`` answer of the simple per-id actions."""
    client = args.params["clientID"]
    return json_response({"action": action, "clientID": client, "success": method(client)})


# ------------------------------------------------------- clients and sending


@route("get_clients")
def get_clients(state: FakeState, args: RouteArgs) -> RawResponse:
    route_filter = args.q("route")
    return json_response({"clients": state.get_clients(route_filter), "route": route_filter})


@route("send")
def send(state: FakeState, args: RouteArgs) -> RawResponse:
    if not args.body:
        # Upstream takes &body[0] of an empty body: a panic, and Go's server drops
        # the connection without writing anything.
        return RawResponse(0, drop=True)
    state.send(args.params["clientID"], args.body, args.q("route"))
    return _empty()


@route("send_all")
def send_all(state: FakeState, args: RouteArgs) -> RawResponse:
    route_filter = args.q("route")
    body: dict[str, JSONValue] = {"sentCount": state.send_all(args.body, route_filter)}
    if route_filter:
        body["route"] = route_filter
    return json_response(body)


@route("send_to_tag")
def send_to_tag(state: FakeState, args: RouteArgs) -> RawResponse:
    tag, route_filter = args.params["tag"], args.q("route")
    sent = state.send_to_tag(tag, args.body, route_filter)
    return json_response({"route": route_filter, "sentCount": sent, "tag": tag})


@route("send_to_tag_expression")
def send_to_tag_expression(state: FakeState, args: RouteArgs) -> RawResponse:
    expression, route_filter = args.params["expression"], args.q("route")
    sent = state.send_to_tag_expression(expression, args.body, route_filter)
    return json_response({"expression": expression, "route": route_filter, "sentCount": sent})


@route("get_clients_count")
def get_clients_count(state: FakeState, args: RouteArgs) -> RawResponse:
    route_filter = args.q("route")
    body: dict[str, JSONValue] = {"count": state.get_clients_count(route_filter)}
    if route_filter:
        body["route"] = route_filter
    return json_response(body)


@route("list_routes")
def list_routes(state: FakeState, args: RouteArgs) -> RawResponse:
    return json_response({"routes": state.list_routes()})


@route("get_clients_by_route")
def get_clients_by_route(state: FakeState, args: RouteArgs) -> RawResponse:
    route_value = args.params["route"]
    clients = state.get_clients_by_route(route_value)
    return json_response({"clients": clients, "count": len(clients or ()), "route": route_value})


# ---------------------------------------------------------------------- tags


@route("tag_client")
def tag_client(state: FakeState, args: RouteArgs) -> RawResponse:
    if not args.body:
        return api_error(400, _msgs.TAG_REQUIRED)
    state.tag_client(args.params["clientID"], go_str(args.body))
    return _empty()


@route("untag_client")
def untag_client(state: FakeState, args: RouteArgs) -> RawResponse:
    state.untag_client(args.params["clientID"], args.params["tag"])
    return _empty()


@route("clear_tag_client")
def clear_tag_client(state: FakeState, args: RouteArgs) -> RawResponse:
    state.clear_tag_client(args.params["clientID"])
    return _empty()


@route("get_client_tags")
def get_client_tags(state: FakeState, args: RouteArgs) -> RawResponse:
    client = args.params["clientID"]
    return json_response({"clientID": client, "tags": state.get_client_tags(client)})


@route("get_clients_by_tag")
def get_clients_by_tag(state: FakeState, args: RouteArgs) -> RawResponse:
    tag = args.params["tag"]
    return json_response({"clients": state.get_clients_by_tag(tag), "tag": tag})


@route("get_tags")
def get_tags(state: FakeState, args: RouteArgs) -> RawResponse:
    return json_response({"tags": state.get_tags()})


@route("get_tag_count")
def get_tag_count(state: FakeState, args: RouteArgs) -> RawResponse:
    tag = args.params["tag"]
    return json_response({"count": state.get_tag_count(tag), "tag": tag})


@route("get_clients_by_tag_expression")
def get_clients_by_tag_expression(state: FakeState, args: RouteArgs) -> RawResponse:
    expression = args.params["expression"]
    clients = state.get_clients_by_tag_expression(expression)
    return json_response(
        {"clients": clients, "count": len(clients or ()), "expression": expression}
    )


# -------------------------------------------------------- stored information


@route("set_stored_information")
def set_stored_information(state: FakeState, args: RouteArgs) -> RawResponse:
    if not args.body:
        return api_error(400, _msgs.VALUE_REQUIRED)
    state.set_stored_information(args.params["clientID"], args.params["key"], go_str(args.body))
    return _empty()


@route("get_stored_information")
def get_stored_information(state: FakeState, args: RouteArgs) -> RawResponse:
    client, key = args.params["clientID"], args.params["key"]
    value, exists = state.get_stored_information(client, key)
    return json_response({"clientID": client, "exists": exists, "key": key, "value": value})


@route("delete_stored_information")
def delete_stored_information(state: FakeState, args: RouteArgs) -> RawResponse:
    client, key = args.params["clientID"], args.params["key"]
    deleted = state.delete_stored_information(client, key)
    return json_response({"clientID": client, "deleted": deleted, "key": key})


@route("clear_stored_information")
def clear_stored_information(state: FakeState, args: RouteArgs) -> RawResponse:
    client = args.params["clientID"]
    return json_response({"cleared": state.clear_stored_information(client), "clientID": client})


@route("has_stored_information")
def has_stored_information(state: FakeState, args: RouteArgs) -> RawResponse:
    client, key = args.params["clientID"], args.params["key"]
    exists = state.has_stored_information(client, key)
    return json_response({"clientID": client, "exists": exists, "key": key})


@route("list_stored_information_keys")
def list_stored_information_keys(state: FakeState, args: RouteArgs) -> RawResponse:
    client = args.params["clientID"]
    return json_response({"clientID": client, "keys": state.list_stored_information_keys(client)})


@route("get_all_stored_information")
def get_all_stored_information(state: FakeState, args: RouteArgs) -> RawResponse:
    client = args.params["clientID"]
    info = state.get_all_stored_information(client)
    return json_response({"clientID": client, "information": info})


@route("search_stored_information")
def search_stored_information(state: FakeState, args: RouteArgs) -> RawResponse:
    key, op, value, route_filter = args.q("key"), args.q("op"), args.q("value"), args.q("route")
    if not key or not op:
        return api_error(400, _msgs.KEY_AND_OP_REQUIRED)
    clients = state.search_stored_information(key, op, value, route_filter)
    return json_response(
        {
            "clients": clients,
            "count": len(clients or ()),
            "key": key,
            "op": op,
            "route": route_filter,
            "value": value,
        }
    )


# -------------------------------------------------------------- global store


@route("global_set")
def global_set(state: FakeState, args: RouteArgs) -> RawResponse:
    seconds = go_parse_int(args.q("exp")) if args.q("exp") else None
    state.global_set(args.params["key"], args.body, seconds if seconds and seconds > 0 else 0)
    return _empty()


@route("global_get")
def global_get(state: FakeState, args: RouteArgs) -> RawResponse:
    value = state.global_get(args.params["key"])
    if value is None:
        return _empty(404)
    return RawResponse(200, (("Content-Type", "text/plain"),), value)


@route("global_has")
def global_has(state: FakeState, args: RouteArgs) -> RawResponse:
    return _empty(200 if state.global_has(args.params["key"]) else 404)


@route("global_delete")
def global_delete(state: FakeState, args: RouteArgs) -> RawResponse:
    return _empty(200 if state.global_delete(args.params["key"]) else 404)


# ---------------------------------------------------------------------- ping


@route("enable_ping")
def enable_ping(state: FakeState, args: RouteArgs) -> RawResponse:
    client = args.params["clientID"]
    interval = state.enable_ping(client, _positive(args.q("interval"), 0))
    return json_response(
        {"action": "enablePing", "clientID": client, "interval": interval, "success": True}
    )


@route("disable_ping")
def disable_ping(state: FakeState, args: RouteArgs) -> RawResponse:
    client = args.params["clientID"]
    state.disable_ping(client)
    return json_response({"action": "disablePing", "clientID": client, "success": True})


@route("get_client_ping_time")
def get_client_ping_time(state: FakeState, args: RouteArgs) -> RawResponse:
    client = args.params["clientID"]
    nanos = state.get_client_ping_time(client)
    return json_response({"clientID": client, "pingTime": nanos, "pingTimeMs": nanos / 1e6})


# ------------------------------------------------------------- queue counter


@route("enable_queue_counter")
def enable_queue_counter(state: FakeState, args: RouteArgs) -> RawResponse:
    client = args.params["clientID"]
    max_messages, max_time = state.enable_queue_counter(
        client, _positive(args.q("maxMessages"), 100), _positive(args.q("maxTime"), 3600)
    )
    return json_response(
        {
            "action": "enableQueueCounter",
            "clientID": client,
            "maxMessages": max_messages,
            "maxTime": max_time,
            "success": True,
        }
    )


@route("disable_queue_counter")
def disable_queue_counter(state: FakeState, args: RouteArgs) -> RawResponse:
    return _action(args, "disableQueueCounter", state.disable_queue_counter)


@route("get_client_message_counter")
def get_client_message_counter(state: FakeState, args: RouteArgs) -> RawResponse:
    client = args.params["clientID"]
    return json_response({"clientID": client, "counter": state.get_client_message_counter(client)})


@route("get_client_message_queue")
def get_client_message_queue(state: FakeState, args: RouteArgs) -> RawResponse:
    client = args.params["clientID"]
    messages = [m.to_json() for m in state.get_client_message_queue(client)]
    return json_response({"clientID": client, "count": len(messages), "messages": messages})


@route("clear_client_message_queue")
def clear_client_message_queue(state: FakeState, args: RouteArgs) -> RawResponse:
    return _action(args, "clearClientMessageQueue", state.clear_client_message_queue)


# ------------------------------------------------ connections and ghosts


@route("kill_connection")
def kill_connection(state: FakeState, args: RouteArgs) -> RawResponse:
    client = args.params["clientID"]
    if state.kill_connection(client):
        return json_response({"clientID": client, "success": True})
    return json_response(
        {"clientID": client, "error": _msgs.CONNECTION_NOT_FOUND, "success": False}
    )


@route("rename_connection")
def rename_connection(state: FakeState, args: RouteArgs) -> RawResponse:
    current, new = args.params["currentId"], args.params["newId"]
    if not state.rename_connection(current, new):
        return api_error(400, _msgs.RENAME_FAILED)
    return json_response(
        {"currentId": current, "message": _msgs.RENAMED, "newId": new, "success": True}
    )


@route("activate_ghost")
def activate_ghost(state: FakeState, args: RouteArgs) -> RawResponse:
    return _action(args, "activateGhost", state.activate_ghost)


@route("release_ghost")
def release_ghost(state: FakeState, args: RouteArgs) -> RawResponse:
    return _action(args, "releaseGhost", state.release_ghost)


@route("is_ghost")
def is_ghost(state: FakeState, args: RouteArgs) -> RawResponse:
    client = args.params["clientID"]
    return json_response({"clientID": client, "isGhost": state.is_ghost(client)})
