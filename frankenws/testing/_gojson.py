"""Byte-exact imitation of Go's ``json.NewEncoder(w).Encode(v)``.

The admin handlers build ``map[string]any`` values and hand them to a ``json.Encoder``;
PROTOCOL.md §2.5 lists what that produces: sorted keys, compact separators, HTML-safe
escaping, invalid UTF-8 replaced by ``\\ufffd``, a trailing newline, and Go's own float
formatting.

Go strings are byte strings. The fake keeps them as Python ``str`` decoded with
``surrogateescape``, so an invalid byte is a lone surrogate U+DC80..U+DCFF here; the
encoder turns each of those into ``\\ufffd`` exactly as Go turns each invalid byte.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeAlias

__all__ = ["JSONValue", "dumps", "format_float", "go_bytes", "go_str", "raw_replacement_chars"]

JSONValue: TypeAlias = (
    bool | int | float | str | Sequence["JSONValue"] | Mapping[str, "JSONValue"] | None
)

# Characters Go escapes when HTML escaping is on (the Encoder default), plus lone
# surrogates, which stand for invalid UTF-8 bytes.
_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\<>&\u2028\u2029\ud800-\udfff]')
_SCALARS = {True: "true", False: "false", None: "null"}
_LAYOUTS: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
"""Per set of map keys (in insertion order): each key in Go's order with the text that
precedes its value, for the same few shapes every answer has."""
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def go_str(data: bytes) -> str:
    """A Go string (bytes) as the fake stores it."""
    return data.decode("utf-8", "surrogateescape")


def go_bytes(value: str) -> bytes:
    """The bytes of a string produced by :func:`go_str` (or any Python string)."""
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        # A surrogate that did not come from surrogateescape cannot exist in Go; keep
        # it representable rather than failing.
        return value.encode("utf-8", "surrogatepass")


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group()
    short = _SHORT.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        return "\\ufffd"
    return f"\\u{code:04x}"


def _plain_strings(items: list[Any]) -> bool:
    """True for a list of strings none of which needs escaping (ids, tags, routes)."""
    try:
        # "a" needs no escaping, so the joined text needs some iff an item does.
        return _NEEDS_ESCAPE.search("a".join(items)) is None
    except TypeError:  # not all strings
        return False


def _string(value: str) -> str:
    # Most ids, tags and routes need no escaping; skipping the substitution keeps the
    # loopback fake fast enough to stand in for the real server in load tests.
    if _NEEDS_ESCAPE.search(value) is None:
        return '"' + value + '"'
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, value) + '"'


def format_float(value: float) -> str:
    """Go's ``encoding/json`` rendering of a float64.

    Shortest round-trip digits, plain notation for ``1e-6 <= |x| < 1e21`` (and zero),
    exponent notation otherwise with Go's ``e-07`` → ``e-7`` clean-up. Never a
    trailing ``.0``.
    """
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"json: unsupported value: {value!r}")
    sign, digit_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    # The value is 0.<digits> x 10**point.
    point = 1 if digits == "0" else len(digits) + exponent
    prefix = "-" if sign else ""
    magnitude = abs(value)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        if point <= 0:
            body = "0." + "0" * (-point) + digits
        elif point >= len(digits):
            body = digits + "0" * (point - len(digits))
        else:
            body = digits[:point] + "." + digits[point:]
        return prefix + body
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exp = point - 1
    exp_text = f"{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp_text.startswith("-0"):
        exp_text = "-" + exp_text[2:]
    return f"{prefix}{mantissa}e{exp_text}"


def _layout(keys: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    # UTF-8 byte order is code point order, except for surrogate-escaped bytes.
    ordered = sorted(keys) if "".join(keys).isascii() else sorted(keys, key=go_bytes)
    return tuple(
        (key, ("," if index else "") + _string(key) + ":") for index, key in enumerate(ordered)
    )


def _encode(value: JSONValue, out: list[str]) -> None:
    # Strings first: they are most of what the routes answer (a str is never a bool,
    # an int or None, so the order of the other tests is kept).
    if isinstance(value, str):
        out.append(_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(format_float(value))
    elif isinstance(value, Mapping):
        keys = tuple(value)
        layout = _LAYOUTS.get(keys)
        if layout is None:
            layout = _layout(keys)
            if len(_LAYOUTS) < 1024:  # the routes' own few shapes, not every stored map
                _LAYOUTS[keys] = layout
        out.append("{")
        for key, prefix in layout:
            item = value[key]
            # Most answers are flat maps of strings and flags: those members are written
            # here, without a call per value (the loopback fake's CPU per read counts).
            if type(item) is str:
                out.append(prefix + _string(item))
            elif item is True or item is False or item is None:
                out.append(prefix + _SCALARS[item])
            else:
                out.append(prefix)
                _encode(item, out)
        out.append("}")
    elif isinstance(value, list) and value and _plain_strings(value):
        out.append('["' + '","'.join(value) + '"]')
    elif isinstance(value, Sequence):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"json: unsupported type: {type(value).__name__}")


def dumps(value: JSONValue) -> bytes:
    """Encode ``value`` exactly as Go's ``json.Encoder.Encode`` would, newline included.

    ``None`` is ``null`` (how Go prints a nil slice or map).
    """
    out: list[str] = []
    _encode(value, out)
    out.append("\n")
    return "".join(out).encode("utf-8")


# An escape is a backslash preceded by an even number of backslashes.
_ESCAPED_REPLACEMENT = re.compile(rb"(?<!\\)((?:\\\\)*)\\ufffd")


def raw_replacement_chars(encoded: bytes) -> bytes:
    """Go 1.27's encoding of invalid UTF-8: the raw bytes of U+FFFD, not ``\\ufffd``.

    :func:`dumps` escapes only invalid bytes as ``\\ufffd`` (a real U+FFFD is written
    raw), so rewriting those escapes gives Go 1.27's output exactly.
    """
    return _ESCAPED_REPLACEMENT.sub(lambda m: m.group(1) + "\ufffd".encode(), encoded)
