"""What each admin route reads and answers, for the OpenAPI document.

The route table (``_endpoints``) says where a route is; this table says what the real
server does there, keyed by endpoint name: its group, a summary, the 200 body (a JSON
schema, or an empty or plain-text body), the query parameters it reads, how it treats
the request body and the errors of its own. A test checks that every endpoint has an
entry. Strictly private.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CLIENTS",
    "CONN",
    "EMPTY",
    "GLOBAL",
    "PING",
    "QUEUE",
    "ROUTE_DOCS",
    "STORE",
    "TAGS",
    "TEXT",
    "BOOL",
    "INT",
    "STR",
    "UINT",
    "RouteDoc",
    "Schema",
    "obj",
]

Schema = dict[str, Any]

# --- schema helpers ---------------------------------------------------------------

STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
UINT: Schema = {"type": "integer", "minimum": 0}
BOOL: Schema = {"type": "boolean"}
_TRUE: Schema = {"const": True}
_IDS: Schema = {
    "type": ["array", "null"],
    "items": STR,
    "description": "null when empty (Go's unallocated slice); order is random.",
}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    # additionalProperties false: a key the server starts sending is drift the fuzzing
    # test should see.
    return {
        "type": "object",
        "required": sorted(required),
        "properties": dict(sorted({**required, **(optional or {})}.items())),
        "additionalProperties": False,
    }


def _action(name: str, success: Schema = BOOL) -> Schema:
    return obj({"action": {"const": name}, "clientID": STR, "success": success})


_MESSAGE = obj(
    {
        "data": {"type": "string", "contentEncoding": "base64"},
        "id": {"type": "integer", "minimum": 1},
        "route": {**STR, "description": "The route filter of the send call, not the client's."},
        "sendTarget": STR,
        "sendType": {"enum": ["direct", "tag", "tagExpression", "all"]},
        "timestamp": {**INT, "description": "Unix seconds."},
    }
)

# --- per-route description ---------------------------------------------------------

EMPTY = "empty"
"""A 200 (or 404) with no body, no Content-Type and ``Content-Length: 0``."""
TEXT = "text"
"""``global/get``: the stored bytes as ``text/plain``."""


@dataclass(frozen=True, slots=True)
class RouteDoc:
    """What the route table does not say: what one route reads and answers."""

    group: str
    summary: str
    ok: Schema | str
    """The 200 body: a JSON schema, :data:`EMPTY` or :data:`TEXT`."""
    query: tuple[str, ...] = ()
    body: str = ""
    """``""`` (ignored), ``optional``, ``required`` (400 when empty), ``crash`` (empty kills it)."""
    errors: dict[int, tuple[str, ...] | str] = field(default_factory=dict)
    """Route-specific statuses: JSON error messages, or :data:`EMPTY`."""


CLIENTS, TAGS, STORE, GLOBAL = "clients", "tags", "stored information", "global store"
PING, QUEUE, CONN = "ping", "queue counter", "connections"
_RENAME_ERRORS = (
    "failed to rename connection",
    'invalid currentId encoding: invalid URL escape "%zz"',
    'invalid newId encoding: invalid URL escape "%zz"',
)

ROUTE_DOCS: dict[str, RouteDoc] = {
    "get_clients": RouteDoc(
        CLIENTS,
        "List the registered connection ids",
        obj({"clients": _IDS, "route": STR}),
        query=("route",),
    ),
    "send": RouteDoc(
        CLIENTS,
        "Send the body to one connection as a binary frame (no delivery feedback)",
        EMPTY,
        query=("route",),
        body="crash",
    ),
    "tag_client": RouteDoc(
        TAGS,
        "Add the body as a tag (any id, registered or not)",
        EMPTY,
        body="required",
        errors={400: ("tag is required",)},
    ),
    "untag_client": RouteDoc(TAGS, "Remove one tag", EMPTY),
    "clear_tag_client": RouteDoc(TAGS, "Remove every tag of an id", EMPTY),
    "get_client_tags": RouteDoc(TAGS, "The tags of an id", obj({"clientID": STR, "tags": _IDS})),
    "get_clients_by_tag": RouteDoc(
        TAGS, "Ids holding a tag (orphan ids included)", obj({"clients": _IDS, "tag": STR})
    ),
    "get_tags": RouteDoc(TAGS, "Every tag in use", obj({"tags": _IDS})),
    "send_to_tag": RouteDoc(
        TAGS,
        "Send the body to every connection holding a tag",
        obj({"route": STR, "sentCount": UINT, "tag": STR}),
        query=("route",),
        body="optional",
    ),
    "set_stored_information": RouteDoc(
        STORE,
        "Store the body under a key of an id",
        EMPTY,
        body="required",
        errors={400: ("value is required",)},
    ),
    "global_set": RouteDoc(
        GLOBAL, "Store the body under a global key", EMPTY, query=("exp",), body="optional"
    ),
    "global_get": RouteDoc(
        GLOBAL, "The value of a global key, byte for byte", TEXT, errors={404: EMPTY}
    ),
    "global_has": RouteDoc(GLOBAL, "Whether a global key exists", EMPTY, errors={404: EMPTY}),
    "global_delete": RouteDoc(
        GLOBAL, "Delete a global key (200 also for an expired one)", EMPTY, errors={404: EMPTY}
    ),
    "get_stored_information": RouteDoc(
        STORE,
        "One stored value of an id (value is empty when exists is false)",
        obj({"clientID": STR, "exists": BOOL, "key": STR, "value": STR}),
    ),
    "delete_stored_information": RouteDoc(
        STORE,
        "Delete one stored key (deleted is true whenever the id had any data)",
        obj({"clientID": STR, "deleted": BOOL, "key": STR}),
    ),
    "clear_stored_information": RouteDoc(
        STORE, "Delete everything stored for an id", obj({"cleared": _TRUE, "clientID": STR})
    ),
    "has_stored_information": RouteDoc(
        STORE,
        "Whether an id has a stored key",
        obj({"clientID": STR, "exists": BOOL, "key": STR}),
    ),
    "list_stored_information_keys": RouteDoc(
        STORE, "The stored keys of an id", obj({"clientID": STR, "keys": _IDS})
    ),
    "get_all_stored_information": RouteDoc(
        STORE,
        "Everything stored for an id (never null)",
        obj(
            {
                "clientID": STR,
                "information": {"type": "object", "additionalProperties": STR},
            }
        ),
    ),
    "enable_ping": RouteDoc(
        PING,
        "Measure round trips: one ping now, or one every 2 x interval",
        obj(
            {
                "action": {"const": "enablePing"},
                "clientID": STR,
                "interval": {**UINT, "description": "The effective interval in ms, 0 if none."},
                "success": _TRUE,
            }
        ),
        query=("interval",),
    ),
    "disable_ping": RouteDoc(PING, "Stop measuring round trips", _action("disablePing", _TRUE)),
    "get_client_ping_time": RouteDoc(
        PING,
        "The last measured round trip (0 when unknown, 5 ms placeholder possible)",
        obj(
            {
                "clientID": STR,
                "pingTime": {**UINT, "description": "Nanoseconds."},
                "pingTimeMs": {"type": "number", "minimum": 0},
            }
        ),
    ),
    "enable_queue_counter": RouteDoc(
        QUEUE,
        "Record the messages sent to an id",
        obj(
            {
                "action": {"const": "enableQueueCounter"},
                "clientID": STR,
                "maxMessages": {"type": "integer", "minimum": 1},
                "maxTime": {"type": "integer", "minimum": 1, "description": "Seconds."},
                "success": _TRUE,
            }
        ),
        query=("maxMessages", "maxTime"),
    ),
    "disable_queue_counter": RouteDoc(
        QUEUE,
        "Stop recording (success is false if it was never enabled)",
        _action("disableQueueCounter"),
    ),
    "get_client_message_counter": RouteDoc(
        QUEUE,
        "How many messages were ever recorded for an id",
        obj({"clientID": STR, "counter": UINT}),
    ),
    "get_client_message_queue": RouteDoc(
        QUEUE,
        "The recorded messages of an id, oldest first (never null)",
        obj({"clientID": STR, "count": UINT, "messages": {"type": "array", "items": _MESSAGE}}),
    ),
    "clear_client_message_queue": RouteDoc(
        QUEUE,
        "Forget the recorded messages (the counter stays)",
        _action("clearClientMessageQueue"),
    ),
    "kill_connection": RouteDoc(
        CONN,
        "Close a connection's TCP socket (failure is still a 200)",
        {
            "oneOf": [
                obj({"clientID": STR, "success": _TRUE}),
                obj(
                    {
                        "clientID": STR,
                        "error": {"const": "Connection not found or already closed"},
                        "success": {"const": False},
                    }
                ),
            ]
        },
    ),
    "send_all": RouteDoc(
        CLIENTS,
        "Send the body to every connection",
        obj(
            {"sentCount": UINT},
            {"route": {**STR, "minLength": 1, "description": "Only when the filter is set."}},
        ),
        query=("route",),
        body="optional",
    ),
    "get_clients_count": RouteDoc(
        CLIENTS,
        "Count the registered connections",
        obj(
            {"count": UINT},
            {"route": {**STR, "minLength": 1, "description": "Only when the filter is set."}},
        ),
        query=("route",),
    ),
    "get_tag_count": RouteDoc(
        TAGS, "How many ids hold a tag (orphans included)", obj({"count": UINT, "tag": STR})
    ),
    "search_stored_information": RouteDoc(
        STORE,
        "Ids whose stored value under key matches op and value",
        obj(
            {
                "clients": {
                    **_IDS,
                    "description": "null when nothing matched; [] for an unknown op or a "
                    "regex that does not compile.",
                },
                "count": UINT,
                "key": STR,
                "op": STR,
                "route": STR,
                "value": STR,
            }
        ),
        query=("key", "op", "value", "route"),
        errors={400: ("key and op are required",)},
    ),
    "send_to_tag_expression": RouteDoc(
        TAGS,
        "Send the body to every connection a tag expression matches",
        obj({"expression": STR, "route": STR, "sentCount": UINT}),
        query=("route",),
        body="optional",
        errors={400: ('invalid expression encoding: invalid URL escape "%zz"',)},
    ),
    "get_clients_by_tag_expression": RouteDoc(
        TAGS,
        "Registered ids a tag expression matches",
        obj(
            {
                "clients": {**_IDS, "description": "[] for a blank expression, null for none."},
                "count": UINT,
                "expression": STR,
            }
        ),
        errors={400: ('invalid expression encoding: invalid URL escape "%zz"',)},
    ),
    "list_routes": RouteDoc(
        CLIENTS, "The distinct routes of the connections", obj({"routes": _IDS})
    ),
    "get_clients_by_route": RouteDoc(
        CLIENTS,
        "Ids connected on a route",
        obj({"clients": _IDS, "count": UINT, "route": STR}),
        errors={400: ('invalid route encoding: invalid URL escape "%zz"',)},
    ),
    "rename_connection": RouteDoc(
        CONN,
        "Re-register a connection under a new id (route, tags and stored data move)",
        obj(
            {
                "currentId": STR,
                "message": {"const": "Connection renamed successfully"},
                "newId": STR,
                "success": _TRUE,
            }
        ),
        errors={400: _RENAME_ERRORS},
    ),
    "activate_ghost": RouteDoc(
        CONN, "Keep the id registered after its socket closes", _action("activateGhost")
    ),
    "release_ghost": RouteDoc(
        CONN, "Unflag a ghost and run its close path (blocks on PHP)", _action("releaseGhost")
    ),
    "is_ghost": RouteDoc(
        CONN, "The raw ghost flag of an id", obj({"clientID": STR, "isGhost": BOOL})
    ),
}
