"""Client-side checks that run before anything is sent.

The server accepts most bad input silently (an unknown search operator or an invalid
regex just matches nobody, an empty ``send`` payload crashes the handler, an oversized
payload closes the target socket). These checks turn such input into
:class:`~frankenws.InvalidArgument` with a message that says how to fix it.
"""

from __future__ import annotations

import re
from typing import Any

from ._exceptions import InvalidArgument

__all__ = [
    "EXTRA_OPERATORS",
    "MAX_EXPIRE_SECONDS",
    "NUMERIC_OPERATORS",
    "MAX_PAYLOAD",
    "SERVER_SEARCH_OPERATORS",
    "check_positive",
    "check_regex",
    "check_search_op",
    "check_text",
    "payload_bytes",
    "route_filter",
    "value_bytes",
]

NUMERIC_OPERATORS = ("gt", "gte", "lt", "lte")
EXTRA_OPERATORS = (*NUMERIC_OPERATORS, "in", "exists")
"""Operators the SDK implements on top of the server's ten (in ``_ranges``).

Declared here rather than beside their implementation so that checking an operator
does not import ``_ranges`` (and ``decimal``): every CLI start-up would pay for it."""

MAX_PAYLOAD = 16 * 1024 * 1024
"""gws refuses to write a larger frame and closes the connection instead."""

MAX_EXPIRE_SECONDS = 9_223_372_036
"""Beyond this, Go's nanosecond duration overflows and the key expires at a random time."""

SERVER_SEARCH_OPERATORS = (
    "eq",
    "neq",
    "prefix",
    "suffix",
    "contains",
    "ieq",
    "iprefix",
    "isuffix",
    "icontains",
    "regex",
)
"""The operators the server's search implements (PROTOCOL §9); any other matches nobody."""


def check_text(value: Any, what: str) -> str:
    """An id, tag, key, route or expression: a non-empty string encodable as UTF-8."""
    if not isinstance(value, str):
        raise InvalidArgument(f"{what} must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidArgument(f"{what} must not be empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument(f"{what} {value!r} is not valid Unicode (lone surrogate)") from None
    return value


def route_filter(route: str | None) -> str:
    """The ``route`` query value: ``""`` means no filter."""
    if route is None:
        return ""
    if not isinstance(route, str):
        raise InvalidArgument(f"route must be a string such as '/chat', got {type(route).__name__}")
    check_text(route or "x", "route")
    return route


def payload_bytes(data: Any, *, allow_empty: bool) -> bytes:
    """A message payload: ``str`` is sent as UTF-8, bytes-like as is; at most 16 MiB."""
    if isinstance(data, str):
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidArgument("data is not valid Unicode (lone surrogate)") from None
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
    else:
        raise InvalidArgument(f"data must be str or bytes, got {type(data).__name__}")
    if not raw and not allow_empty:
        raise InvalidArgument(
            "data must not be empty: the server's send handler crashes on an empty body "
            "and drops the connection without an answer"
        )
    if len(raw) > MAX_PAYLOAD:
        raise InvalidArgument(
            f"data is {len(raw)} bytes; the server cannot write frames over 16 MiB "
            f"({MAX_PAYLOAD} bytes) and would close the target connection instead"
        )
    return raw


def value_bytes(value: Any, what: str, *, allow_empty: bool) -> bytes:
    """A stored or global value (the request body is the value, byte for byte)."""
    if isinstance(value, str):
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidArgument(f"{what} is not valid Unicode (lone surrogate)") from None
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
    else:
        raise InvalidArgument(f"{what} must be str or bytes, got {type(value).__name__}")
    if not raw and not allow_empty:
        raise InvalidArgument(f"{what} must not be empty (the server answers 400 for an empty one)")
    return raw


def check_positive(value: Any, what: str, *, allow_zero: bool = False) -> int:
    """An integer limit; ``bool`` is refused even though it is an ``int``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{what} must be an integer, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidArgument(f"{what} must be {bound}, got {value}")
    return value


def check_search_op(op: Any) -> str:
    """One of the ten operators the server implements (it ignores all others silently)."""
    if op not in SERVER_SEARCH_OPERATORS:
        raise InvalidArgument(
            f"unknown search operator {op!r}; use one of the server's "
            f"{', '.join(SERVER_SEARCH_OPERATORS)} or frankenws' {', '.join(EXTRA_OPERATORS)} "
            "(the server itself would silently match nobody)"
        )
    return str(op)


def check_regex(pattern: str) -> str:
    """Refuse patterns RE2 cannot compile (the server would silently match nobody)."""
    error = _re2_error(pattern)
    if error is not None:
        raise InvalidArgument(
            f"invalid RE2 regular expression {pattern!r}: {error} "
            "(RE2 has no back-references or look-around)"
        )
    return pattern


_re2_options: Any = None


def _re2_error(pattern: str) -> str | None:
    global _re2_options
    try:
        import re2  # the fake/cli extras install google-re2
    except ImportError:
        return _approximate_re2_error(pattern)
    if _re2_options is None:
        options = re2.Options()
        # Otherwise RE2 prints C++ log lines to stderr for every invalid pattern.
        options.log_errors = False
        _re2_options = options
    try:
        re2.compile(pattern, _re2_options)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        return str(detail) or "does not compile"
    return None


# Constructs Python's re accepts but RE2 rejects; used only without google-re2.
_NOT_RE2 = re.compile(r"\(\?[=!]|\(\?<[=!]|\(\?P=|\\[1-9]|\\Z|\(\?>|[*+?}][+]")


def _approximate_re2_error(pattern: str) -> str | None:
    if _NOT_RE2.search(pattern):
        return "uses a construct RE2 does not support"
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    return None
