"""Go's ``net/url``, ``path`` and ``ServeMux`` behaviour, as the admin server applies it.

Everything the real server does to a request target before a route sees it lives here:
``url.ParseRequestURI``, the Host-header grammar, ``URL.EscapedPath``, ``path.Clean``,
``url.ParseQuery``, ``strconv.ParseInt``, the mux's segment matching against the
endpoint table and its redirect for non-canonical paths. The functions work on bytes
because Go strings are bytes. Strictly private.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from frankenws._endpoints import ENDPOINTS, Endpoint

from ._gojson import go_str

__all__ = [
    "URL",
    "EscapeError",
    "clean_path",
    "escape_path",
    "escaped_path",
    "go_parse_int",
    "go_query_unescape",
    "html_escape",
    "hex_escape",
    "match",
    "parse_query",
    "parse_url",
    "path_clean",
    "path_clean_keep_slash",
    "path_unescape",
    "valid_host_header",
    "valid_method",
]

_HEX = b"0123456789ABCDEF"
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


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


def path_unescape(data: bytes) -> bytes:
    return _unescape(data, plus_is_space=False)


def _should_escape_path(byte: int) -> bool:
    if 48 <= byte <= 57 or 65 <= byte <= 90 or 97 <= byte <= 122:
        return False
    return byte not in b"-_.~$&+,/:;=@"


def escape_path(data: bytes) -> bytes:
    """Go's ``url.escape(s, encodePath)`` (uppercase hex)."""
    out = bytearray()
    for byte in data:
        if _should_escape_path(byte):
            out += bytes((0x25, _HEX[byte >> 4], _HEX[byte & 15]))
        else:
            out.append(byte)
    return bytes(out)


# What ``_should_escape_path`` lets through, plus what ``validEncoded`` tolerates: one
# regex scan instead of a Python call per byte of every request target.
_VALID_ENCODED_PATH = re.compile(rb"[A-Za-z0-9\-_.~$&+,/:;=@!'()*\[\]%]*")


def _valid_encoded_path(data: bytes) -> bool:
    """Go's ``validEncoded(s, encodePath)``."""
    return _VALID_ENCODED_PATH.fullmatch(data) is not None


def escaped_path(raw_path: bytes) -> bytes:
    """Go's ``URL.EscapedPath()`` for a path parsed from ``raw_path``.

    A target that is not in Go's canonical encoding (a raw ``|``, ``"``, ``{`` ...) is
    re-escaped from the decoded path, which turns a ``%2F`` into a real slash.
    """
    if _valid_encoded_path(raw_path):
        return raw_path
    return escape_path(path_unescape(raw_path))


def path_clean(path: str) -> str:
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


def clean_path(path: str) -> str:
    """``net/http``'s ``cleanPath``: ``path.Clean`` that keeps a trailing slash."""
    if not path:
        return "/"
    if path[0] != "/":
        path = "/" + path
    cleaned = path_clean(path)
    if path.endswith("/") and cleaned != "/":
        cleaned += "/"
    return cleaned


def parse_query(raw_query: bytes) -> dict[str, str]:
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
class URL:
    scheme: str
    user: str | None
    host: str
    opaque: str
    force_query: bool
    path: bytes
    raw_query: bytes


_CTL = re.compile(rb"[\x00-\x1f\x7f]")
_PLAIN_TARGET = re.compile(rb"(/[A-Za-z0-9\-_.~$&+,/:;=@!'()*\[\]]*)(?:\?([^\x00-\x1f\x7f?]*))?")


def _contains_ctl(raw: bytes) -> bool:
    return _CTL.search(raw) is not None


def parse_url(raw: bytes, *, via_request: bool) -> URL | None:
    """Go's ``url.Parse`` (``via_request=False``) or ``url.ParseRequestURI``."""
    if via_request:
        plain = _PLAIN_TARGET.fullmatch(raw)
        if plain is not None:
            # An origin-form target with nothing to unescape, validate or split off
            # (what every SDK request sends): the general parse below gives this.
            path, query = plain.group(1, 2)
            return URL("", None, "", "", query == b"", path, query or b"")
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
        return URL("", None, "", "", False, b"*", b"")
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
            return URL(go_str(scheme).lower(), None, "", go_str(rest), force_query, b"", raw_query)
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
        path_unescape(rest)
    except EscapeError:
        return None
    return URL(go_str(scheme).lower(), user, go_str(host), "", force_query, rest, raw_query)


_HOST_HEADER = re.compile(r"[A-Za-z0-9!$%&'()*+,\-.:;=\[\]_~]*")
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")


def valid_host_header(host: str) -> bool:
    """Go's ``httpguts.ValidHostHeader``."""
    return _HOST_HEADER.fullmatch(host) is not None


def valid_method(method: str) -> bool:
    """An HTTP token (``httpguts.ValidHeaderFieldName``'s alphabet)."""
    return _TOKEN.fullmatch(method) is not None


def html_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


def hex_escape(ch: str) -> str:
    """``http.Redirect``'s escaping of one non-ASCII character (lowercase hex)."""
    return "".join(f"%{byte:02x}" for byte in ch.encode("utf-8", "surrogateescape"))


def path_clean_keep_slash(path: bytes) -> bytes:
    """``path.Clean`` on an escaped path, keeping a trailing slash (``http.Redirect``)."""
    text = path.decode("ascii")
    cleaned = path_clean(text)
    if text.endswith("/") and not cleaned.endswith("/"):
        cleaned += "/"
    return cleaned.encode("ascii")


def _literal_prefix(endpoint: Endpoint) -> tuple[int, str, str]:
    first, second = endpoint.segments[0], endpoint.segments[1]
    if first.startswith("{") or second.startswith("{"):
        raise ValueError(f"{endpoint.name}: the mux index needs two literal first segments")
    return len(endpoint.segments), first, second


class _Pattern(NamedTuple):
    endpoint: Endpoint
    literals: tuple[tuple[int, str], ...]
    """Literal segments after the first two: (index, text)."""
    wildcards: tuple[tuple[int, str], ...]
    """Wildcard segments: (index, name)."""


# Every endpoint starts with two literal segments (``frankenphp_ws/<action>``), so the
# segment count and those two select the few candidates; the table's order is kept
# among them, and no other endpoint could have matched.
_CANDIDATES: dict[tuple[int, str, str], list[_Pattern]] = {}
for _endpoint in ENDPOINTS:
    _CANDIDATES.setdefault(_literal_prefix(_endpoint), []).append(
        _Pattern(
            _endpoint,
            tuple((i, t) for i, t in enumerate(_endpoint.segments) if i > 1 and t[:1] != "{"),
            tuple((i, t[1:-1]) for i, t in enumerate(_endpoint.segments) if t[:1] == "{"),
        )
    )


def match(path: bytes) -> tuple[Endpoint, dict[str, str]] | None:
    """ServeMux matching of a clean escaped path against the endpoint table."""
    segments = path[1:].split(b"/")
    # Literal segments are compared unescaped too (``get%54ags`` routes).
    if b"%" in path:
        decoded = [go_str(path_unescape(raw)) for raw in segments]
    else:
        # No byte of a UTF-8 sequence is a slash: decoding first splits alike.
        decoded = go_str(path[1:]).split("/")
    if len(segments) < 2:
        return None
    for pattern in _CANDIDATES.get((len(segments), decoded[0], decoded[1]), ()):
        if any(decoded[index] != text for index, text in pattern.literals):
            continue
        values: dict[str, str] = {}
        for index, name in pattern.wildcards:
            # A segment that decodes to exactly "/" reads as a trailing slash to Go's
            # mux, and a wildcard never matches one (PROTOCOL.md §13).
            if not segments[index] or decoded[index] == "/":
                break
            values[name] = decoded[index]
        else:
            return pattern.endpoint, values
    return None
