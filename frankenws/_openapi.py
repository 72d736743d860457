"""The admin API as an OpenAPI 3.1 document, built from the route table.

Paths, methods, path parameters and their decoding come from ``_endpoints.ENDPOINTS``
(the table the SDK builds requests from and the fake routes with); what each route
reads and answers is described once in :data:`ROUTE_DOCS`, keyed by endpoint name. The
document describes the server as it really answers (PROTOCOL.md), not as it should:
``null`` lists, plain-text 404s, errors that are 200s. ``docs/openapi.yaml`` is this
document through :func:`to_yaml`; a test fails when the file is stale. Strictly private.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ._endpoints import ENDPOINTS, PREFIX, Endpoint
from ._openapi_routes import (
    CLIENTS,
    CONN,
    EMPTY,
    GLOBAL,
    PING,
    QUEUE,
    ROUTE_DOCS,
    STORE,
    STR,
    TAGS,
    TEXT,
    UINT,
    RouteDoc,
    Schema,
    obj,
)
from ._validate import MAX_EXPIRE_SECONDS, SERVER_SEARCH_OPERATORS

__all__ = ["UPSTREAM", "build_document", "operation_id", "to_yaml"]


UPSTREAM = "davidnurdin/devFrankenPhpWebsocket@b907d6dd"
"""The extension commit whose answers the document describes (PROTOCOL.md §0)."""

# --- parameters ---------------------------------------------------------------------

_ONCE = (
    "Percent-encode once (every byte outside A-Z a-z 0-9 - . _ ~): Go's router decodes the "
    "segment once, and a `+` stays a `+`. Send `.` and `..` as `%2E` and `%2E%2E` (a bare "
    "dot segment is redirected). The exact value `/` cannot reach the handler (404)."
)
_TWICE = (
    "Percent-encode twice: the handler decodes the router's value again with form rules, so "
    "a `+` becomes a space and a bad `%` escape is a 400. Encoding once is only enough for "
    "values with neither `%` nor `+`."
)
_PATH_EXAMPLES = {
    "clientID": "3f9c1e2a",
    "tag": "premium",
    "key": "city",
    "expression": "admin|premium",
    "route": "/chat",
    "currentId": "3f9c1e2a",
    "newId": "alice",
}
_ROUTE_FILTER = (
    "Only connections whose route (the path the WebSocket was opened on) equals this, byte "
    "for byte; empty or absent: no filter. Form-encode it: Go's query parser drops a pair "
    "with a raw `;` or a bad `%` escape, and the filter then silently disappears."
)
_QUERY: dict[str, Schema] = {
    "route": {"schema": STR, "description": _ROUTE_FILTER, "example": "/chat"},
    "key": {
        "required": True,
        "schema": {**STR, "minLength": 1},
        "description": "The stored key to compare.",
        "example": "city",
    },
    "op": {
        "required": True,
        "schema": {**STR, "minLength": 1},
        "description": "One of "
        + ", ".join(SERVER_SEARCH_OPERATORS)
        + ". Any other operator is no error: it matches nobody (clients is []).",
        "example": "eq",
    },
    "value": {
        "schema": STR,
        "description": "Compared with op; empty when absent.",
        "example": "Grenoble",
    },
    "interval": {
        "schema": {**UINT, "default": 0},
        "description": "Milliseconds. Above 0: a ping every 2 x interval (upstream's "
        "scheduling); absent, invalid or 0 and below: one ping now.",
        "example": 30000,
    },
    "maxMessages": {
        "schema": {"type": "integer", "minimum": 1, "default": 100},
        "description": "Messages kept; absent, invalid or 0 and below mean 100.",
    },
    "maxTime": {
        "schema": {"type": "integer", "minimum": 1, "default": 3600},
        "description": "Seconds a message is kept; absent, invalid or 0 and below mean 3600.",
    },
    "exp": {
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_EXPIRE_SECONDS},
        "description": "Lifetime in seconds. Absent, invalid or 0 and below: never expires. "
        f"Above {MAX_EXPIRE_SECONDS} Go's duration overflows into an arbitrary expiry.",
        "example": 60,
    },
}


def _path_parameter(endpoint: Endpoint, name: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {**STR, "minLength": 1},
        "description": _TWICE if endpoint.double else _ONCE,
        "example": _PATH_EXAMPLES[name],
        "x-frankenws-decoding": "twice" if endpoint.double else "once",
    }


# --- responses ----------------------------------------------------------------------

_BODY_READ = "^failed to read (request )?body: "
_COMMON_400 = ("^WebSocket connections aren't allowed\\.$",)


def _pattern(message: str) -> str:
    # Encoding errors end with the offending escape: match their fixed start.
    head, sep, _ = message.partition('invalid URL escape "')
    return "^" + re.escape(head + sep) if sep else "^" + re.escape(message) + "$"


def _error(patterns: tuple[str, ...], description: str, example: str) -> Schema:
    text: Schema = {"type": "string", "pattern": patterns[0]}
    if len(patterns) > 1:
        text = {"type": "string", "anyOf": [{"pattern": p} for p in patterns]}
    return {
        "description": description,
        "content": {
            "application/json": {"schema": obj({"error": text}), "example": {"error": example}}
        },
    }


def _text(body: str | None, description: str) -> Schema:
    schema: Schema = {"type": "string"} if body is None else {"const": body}
    return {"description": description, "content": {"text/plain": {"schema": schema}}}


_REDIRECT = "Redirect"
_COMMON: dict[str, Schema] = {
    _REDIRECT: {
        "description": "The path was not canonical (an empty, `.` or `..` segment): Go's mux "
        "redirects to the cleaned path, 301 up to Go 1.25, 307 from Go 1.26; GET gets a "
        "small HTML body. A client that encodes values as described never sees this.",
        "headers": {"Location": {"schema": STR, "required": True}},
    },
    "Unauthorized": _error(
        ("^client identity not authorized$",),
        "Remote admin (mutual TLS): the client certificate is not in access_control.",
        "client identity not authorized",
    ),
    "Forbidden": _error(
        (
            "^host not allowed: ",
            "^required Origin header is missing or invalid$",
            "^client is not allowed to access from origin ",
            "^not authorized to (use this method|access this path)$",
        ),
        "The Host header is not one of the admin listener's addresses (through a tunnel or "
        "a proxy, send `Host: localhost:2019`), the Origin check failed (enforce_origin), "
        "or a remote-admin permission is missing.",
        "host not allowed: localhost:12019",
    ),
    "NotFound": _text("404 page not found\n", "No route matches the path (Go's mux, plain text)."),
    "MethodNotAllowed": _error(
        ("^method not allowed$",),
        "Wrong method, HEAD and OPTIONS included (no Allow header).",
        "method not allowed",
    ),
    "HeadersTooLarge": _text(None, "Request line and headers over Go's limit (plain text)."),
    "WebSocketRefused": _error(
        ("^websocket connections aren't allowed$",),
        "Caddy up to 2.10 refuses an admin request carrying `Upgrade: websocket` (2.11 "
        "answers 400 instead). No route of the extension answers 500 otherwise.",
        "websocket connections aren't allowed",
    ),
}
_COMMON_BY_STATUS = {
    "301": _REDIRECT,
    "307": _REDIRECT,
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
    "405": "MethodNotAllowed",
    "431": "HeadersTooLarge",
    "500": "WebSocketRefused",
}


def _bad_request(own: tuple[str, ...], body: str) -> Schema:
    """The 400 of a route: its own JSON errors, Caddy's, and Go's plain-text one."""
    patterns = (*(_pattern(m) for m in own), *_COMMON_400, *((_BODY_READ,) if body else ()))
    bad = _error(
        patterns,
        "A JSON error from the route or from Caddy, or Go's plain-text answer to a request "
        "target it cannot parse (a bad `%` escape, a raw space).",
        own[0] if own else "WebSocket connections aren't allowed.",
    )
    bad["content"]["text/plain"] = {"schema": {"type": "string", "pattern": "^400 Bad Request"}}
    return bad


def _bad_request_name(body: str) -> str:
    return "BadRequestWithBody" if body else "BadRequest"


def _responses(name: str, doc: RouteDoc) -> dict[str, Schema]:
    if doc.ok == EMPTY:
        ok: Schema = {"description": "Done; empty body, no Content-Type."}
    elif doc.ok == TEXT:
        ok = _text(None, "The stored bytes (text/plain, no charset; may be empty).")
    else:
        ok = {
            "description": "JSON (keys sorted, HTML-escaped strings, a trailing newline).",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
        }
    own = doc.errors.get(400, ())
    assert isinstance(own, tuple)
    responses: dict[str, Schema] = {
        status: {"$ref": f"#/components/responses/{ref}"}
        for status, ref in _COMMON_BY_STATUS.items()
    }
    responses["200"] = ok
    if own:
        responses["400"] = _bad_request(own, doc.body)
    else:
        responses["400"] = {"$ref": f"#/components/responses/{_bad_request_name(doc.body)}"}
    if doc.errors.get(404) == EMPTY:
        # No content documented: the empty 404 has no Content-Type at all.
        responses["404"] = {
            "description": "The key is missing or expired: empty body, no Content-Type (Go's "
            "plain-text `404 page not found` when the path matches no route)."
        }
    return dict(sorted(responses.items()))


def operation_id(endpoint: Endpoint) -> str:
    """``get_client_tags`` -> ``getClientTags``: the SDK method, camel-cased."""
    first, *rest = endpoint.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


_BODY_TEXT = {
    "optional": "The message or value, raw bytes (may be empty). Content-Type is ignored.",
    "required": "The value, raw bytes, byte for byte (a trailing newline is kept). Empty: 400.",
    "crash": "The message, raw bytes. Must not be empty: upstream's handler panics on an "
    "empty body and Go closes the connection without any response.",
}


def _operation(endpoint: Endpoint, doc: RouteDoc) -> Schema:
    parameters = [_path_parameter(endpoint, p) for p in endpoint.params]
    parameters += [{"$ref": f"#/components/parameters/{q}"} for q in doc.query]
    operation: Schema = {
        "operationId": operation_id(endpoint),
        "summary": doc.summary,
        "tags": [doc.group],
        "x-frankenws-sdk-method": endpoint.name,
    }
    if parameters:
        operation["parameters"] = parameters
    if doc.body:
        binary: Schema = {"type": "string", "format": "binary"}
        if doc.body != "optional":
            binary["minLength"] = 1
        operation["requestBody"] = {
            "required": doc.body != "optional",
            "description": _BODY_TEXT[doc.body],
            "content": {"application/octet-stream": {"schema": binary}},
        }
    if doc.body == "crash":
        operation["x-frankenws-empty-body"] = "connection closed without a response"
    operation["responses"] = _responses(endpoint.name, doc)
    return operation


_GROUPS = {
    CLIENTS: "Registered connections, their routes, sending.",
    TAGS: "Tags per id and the tag-expression routes.",
    STORE: "String values stored per connection id.",
    GLOBAL: "A key/value store not tied to connections.",
    PING: "Round-trip measurement with WebSocket pings.",
    QUEUE: "A per-id log of the messages sent.",
    CONN: "Killing, renaming and ghost connections.",
}

_ABOUT = (
    "The admin routes that the FrankenPHP WebSocket extension mounts on Caddy's admin server, "
    f"as {UPSTREAM} really answers them (see docs/protocol-notes.md in frankenws). No "
    "authentication: keep the admin listener on loopback, a unix socket or Caddy's remote "
    "admin with mutual TLS. Caddy checks the Host header against the listener's own "
    "addresses (403 otherwise). JSON bodies come from Go's encoder: keys sorted, `<`, `>` "
    "and `&` escaped as \\u003c..., a trailing newline; lists built from unallocated slices "
    "are null, not [], when empty; list order is random. An unknown id is not an error on "
    "most routes: they answer 200 with empty or false data. Generated by frankenws from its "
    "route table (`frankenws openapi`)."
)


def build_document() -> Schema:
    """The OpenAPI 3.1 document of the 41 routes."""
    paths: dict[str, Schema] = {}
    schemas: dict[str, Schema] = {}
    for endpoint in ENDPOINTS:
        doc = ROUTE_DOCS[endpoint.name]
        paths.setdefault(endpoint.template, {})[endpoint.method.lower()] = _operation(endpoint, doc)
        if isinstance(doc.ok, dict):
            schemas[endpoint.name] = doc.ok
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "FrankenPHP WebSocket admin API",
            "version": UPSTREAM.rpartition("@")[2],
            "description": _ABOUT,
        },
        "servers": [
            {
                "url": "http://localhost:2019",
                "description": f"Caddy's default admin listener; every path starts with {PREFIX}",
            }
        ],
        "tags": [{"name": k, "description": v} for k, v in _GROUPS.items()],
        "paths": paths,
        "components": {
            "parameters": {
                name: {"name": name, "in": "query", **spec} for name, spec in _QUERY.items()
            },
            "responses": {
                **_COMMON,
                "BadRequest": _bad_request((), ""),
                "BadRequestWithBody": _bad_request((), "optional"),
            },
            "schemas": schemas,
        },
    }


# --- YAML ---------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_/.{}() -]*[A-Za-z0-9_/.})]|[A-Za-z_/]")
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
            return value
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value)


def _yaml_lines(value: Any, indent: str) -> list[str]:
    """Block YAML for JSON data; scalar lists in flow style (JSON is valid YAML)."""
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            nested = isinstance(item, (dict, list)) and item
            if nested and not (isinstance(item, list) and _all_scalars(item)):
                lines.append(f"{indent}{_scalar(key)}:")
                lines += _yaml_lines(item, indent + "  ")
            else:
                lines.append(f"{indent}{_scalar(key)}: {_flow(item)}")
        return lines
    lines = []
    for item in value:
        block = _yaml_lines(item, indent + "  ") if isinstance(item, (dict, list)) and item else []
        if block:
            lines.append(f"{indent}- {block[0].lstrip()}")
            lines += block[1:]
        else:
            lines.append(f"{indent}- {_flow(item)}")
    return lines


def _all_scalars(items: list[Any]) -> bool:
    return not any(isinstance(item, (dict, list)) for item in items)


def _flow(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return _scalar(value)


def to_yaml(document: Schema) -> str:
    """``document`` as YAML, with a header saying it is generated."""
    header = [
        "# Generated by frankenws from its route table; do not edit by hand.",
        "# Regenerate with: frankenws openapi > docs/openapi.yaml",
    ]
    return "\n".join([*header, *_yaml_lines(document, "")]) + "\n"
