"""How values travel in request targets (PROTOCOL.md §3).

Go's router decodes each path segment once. Four routes decode a second time with form
rules, so their values must be encoded twice. A segment that is exactly ``.`` or ``..``
would be cleaned away by the router, so dots are escaped there. Query strings are always
fully form-encoded: Go drops a pair containing a raw ``;`` or a bad escape, which would
silently turn a filter into "no filter".
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode

__all__ = ["encode_once", "encode_query", "encode_twice"]

_DOT_SEGMENTS = {".": "%2E", "..": "%2E%2E"}


def encode_once(value: str) -> str:
    """Encode a path value for a route that decodes it once."""
    if value in _DOT_SEGMENTS:
        return _DOT_SEGMENTS[value]
    return quote(value, safe="")


def encode_twice(value: str) -> str:
    """Encode a path value for a route that decodes it twice (path, then form rules)."""
    if value in _DOT_SEGMENTS:
        return _DOT_SEGMENTS[value].replace("%", "%25")
    return quote(quote(value, safe=""), safe="")


def encode_query(params: Mapping[str, str]) -> str:
    """Form-encode query parameters; ``;``, ``&``, ``+``, ``%`` and ``#`` are all escaped."""
    return urlencode(dict(params), quote_via=quote, safe="")
