"""Every text the fake server writes verbatim, in one auditable list.

The strings come from the upstream extension's ``caddy.go``, Caddy's ``admin.go``,
Go's ``net/http`` and gws; a parity test against a real server is only as good as these
bytes. Templates take their values through ``str.format``. Strictly private.
"""

from __future__ import annotations

from ._http import RawResponse

# --- the extension's routes (caddy.APIError texts and fixed JSON values)
TAG_REQUIRED = "tag is required"
VALUE_REQUIRED = "value is required"
KEY_AND_OP_REQUIRED = "key and op are required"
RENAME_FAILED = "failed to rename connection"
RENAMED = "Connection renamed successfully"
CONNECTION_NOT_FOUND = "Connection not found or already closed"
METHOD_NOT_ALLOWED = "method not allowed"
INVALID_ENCODING = "invalid {} encoding: {}"
"""Parameter name, then Go's ``url.EscapeError`` text."""

# --- Caddy's admin handler
HOST_NOT_ALLOWED = "host not allowed: {}"
ORIGIN_MISSING = "required Origin header is missing or invalid"
ORIGIN_NOT_ALLOWED = "client is not allowed to access from origin '{}'"
WEBSOCKET_REFUSED = "websocket connections aren't allowed"
"""Caddy ≤ 2.10: a 500 APIError."""
WEBSOCKET_REFUSED_2_11 = "WebSocket connections aren't allowed."
"""Caddy ≥ 2.11: a 400 APIError."""

# --- Go's net/http server and mux
NOT_FOUND_BODY = b"404 page not found\n"
BAD_REQUEST = "400 Bad Request"
MISSING_HOST = "missing required Host header"
MALFORMED_HOST = "malformed Host header"
HEADERS_TOO_LARGE = "431 Request Header Fields Too Large"
VERSION_NOT_SUPPORTED = "505 HTTP Version Not Supported: unsupported protocol version"
UNSUPPORTED_TRANSFER_ENCODING = "Unsupported transfer encoding"
MOVED_PERMANENTLY = "Moved Permanently"
TEMPORARY_REDIRECT = "Temporary Redirect"
REDIRECT_BODY = '<a href="{}">{}</a>.\n\n'
"""``http.Redirect``'s body for GET: the HTML-escaped URL, then the status text."""

# --- gws, the extension's WebSocket server
GWS_HANDSHAKE_ERROR = "gws: handshake error"
GWS_VERSION_NOT_SUPPORTED = "gws: websocket version not supported"

NOT_FOUND = RawResponse(
    404,
    (("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff")),
    NOT_FOUND_BODY,
)
"""The mux's answer to a path no pattern matches."""
