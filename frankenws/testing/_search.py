"""The ten ``searchStoredInformation`` operators (PROTOCOL.md §9).

Values are Go strings, i.e. bytes; the fake holds them as ``surrogateescape`` text.
Case-sensitive operators therefore compare the bytes (a needle made of one invalid
byte can match inside a multi-byte character, as in Go). The ``i*`` operators use
Go's ``strings.ToLower``, which differs from ``str.lower()``. ``regex`` uses RE2
through google-re2, the same engine family as Go's ``regexp``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._gojson import go_bytes

__all__ = ["compile_matcher", "go_lower", "re2_compile"]

Matcher = Callable[[str], bool]


def go_lower(text: str) -> str:
    """Go's ``strings.ToLower``.

    Per code point simple lowercase mapping: U+0130 becomes a plain ``i`` (Python adds
    U+0307), and there is no final-sigma rule (calling ``lower()`` per character
    avoids Python's). A non-ASCII Go string goes through ``strings.Map``, which turns
    every invalid byte into U+FFFD, so two different invalid bytes compare equal.
    """
    if text.isascii():
        return text.lower()
    out = []
    for ch in text:
        if "\udc80" <= ch <= "\udcff":
            out.append("\ufffd")
        elif ch == "\u0130":
            out.append("i")
        else:
            out.append(ch.lower())
    return "".join(out)


def _has_go_invalid_escape(pattern: str) -> bool:
    r"""Whether ``pattern`` uses ``\C``, which RE2 accepts and Go's regexp rejects."""
    index = 0
    while index < len(pattern):
        if pattern[index] != "\\" or index + 1 >= len(pattern):
            index += 1
            continue
        escaped = pattern[index + 1]
        if escaped == "C":
            return True
        if escaped == "Q":
            end = pattern.find("\\E", index + 2)
            if end < 0:
                return False
            index = end + 2
            continue
        index += 2
    return False


def re2_compile(pattern: str) -> Any | None:
    """Compile like Go's ``regexp.Compile``; ``None`` when Go would return an error.

    RE2 logs every rejected pattern to stderr unless ``log_errors`` is off.
    """
    try:
        import re2
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ImportError(
            "the fake's regex search needs google-re2: pip install 'frankenws[fake]'"
        ) from exc

    if _has_go_invalid_escape(pattern):
        return None
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(go_bytes(pattern), options)
    except re2.error:
        return None


def _subject(value: str) -> bytes:
    # Go's regexp reads each invalid byte as U+FFFD; C++ RE2 would not match it at all.
    # For a yes/no search the substitution is exact, since a valid pattern can only
    # ever match runes.
    if value.isascii():
        return value.encode("ascii")
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value).encode()


def compile_matcher(op: str, value: str) -> Matcher | None:
    """The predicate for ``op``/``value``; ``None`` for an unknown op or a bad regex.

    ``None`` is what makes the route answer ``clients: []`` instead of ``null``.
    """
    needle = go_bytes(value)
    if op == "eq":
        return lambda s: go_bytes(s) == needle
    if op == "neq":
        return lambda s: go_bytes(s) != needle
    if op == "prefix":
        return lambda s: go_bytes(s).startswith(needle)
    if op == "suffix":
        return lambda s: go_bytes(s).endswith(needle)
    if op == "contains":
        return lambda s: needle in go_bytes(s)
    if op in ("ieq", "iprefix", "isuffix", "icontains"):
        lowered = go_lower(value)
        if op == "ieq":
            return lambda s: go_lower(s) == lowered
        if op == "iprefix":
            return lambda s: go_lower(s).startswith(lowered)
        if op == "isuffix":
            return lambda s: go_lower(s).endswith(lowered)
        return lambda s: lowered in go_lower(s)
    if op == "regex":
        compiled = re2_compile(value)
        if compiled is None:
            return None
        return lambda s: compiled.search(_subject(s)) is not None
    return None
