"""Go's json.Encoder output, byte for byte (PROTOCOL.md §2.5)."""

from __future__ import annotations

import json
import math
import re
import struct
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frankenws.testing._gojson import dumps, format_float, go_bytes, go_str


def test_compact_sorted_with_newline():
    """Keys sorted byte-wise (upper case first), compact separators, trailing newline."""
    assert dumps({"b": 1, "a": [True, None], "B": {"y": "", "x": False}}) == (
        b'{"B":{"x":false,"y":""},"a":[true,null],"b":1}\n'
    )


def test_nil_slice_and_empty_containers():
    """None is null; empty list and dict stay [] and {}."""
    assert dumps({"clients": None, "messages": [], "information": {}}) == (
        b'{"clients":null,"information":{},"messages":[]}\n'
    )


def test_html_escaping_and_line_separators():
    """< > & and U+2028/U+2029 are escaped; other non-ASCII is raw UTF-8."""
    assert dumps("a<b>&c\u2028\u2029é✓") == '"a\\u003cb\\u003e\\u0026c\\u2028\\u2029é✓"\n'.encode()


def test_control_characters():
    r"""Short escapes for \b \f \n \r \t, \u00XX for the rest, DEL raw."""
    assert dumps('\b\f\n\r\t\x00\x1f\x7f"\\') == b'"\\b\\f\\n\\r\\t\\u0000\\u001f\x7f\\"\\\\"\n'


def test_invalid_utf8_bytes_become_replacement_escapes():
    """Each invalid byte is one \\ufffd, as Go's decoder sees one RuneError per byte."""
    for raw, count in ((b"\xff", 1), (b"\xed\xa0\x80", 3), (b"\xe2\x82", 2), (b"\xc0\xaf", 2)):
        assert dumps(go_str(raw)) == b'"' + b"\\ufffd" * count + b'"\n'


def test_keys_sort_by_bytes_including_invalid_ones():
    """Map keys sort by their Go bytes, and are escaped like values."""
    keys = {go_str(b"\xff"): 1, "z": 2, "é": 3, "Z": 4}
    assert dumps(keys) == '{"Z":4,"z":2,"é":3,"\\ufffd":1}\n'.encode()


def test_go_str_round_trips_bytes():
    """go_str/go_bytes are inverse for any byte string."""
    for raw in (b"", b"abc", b"\xff\xfe", "é".encode(), b"\x00"):
        assert go_bytes(go_str(raw)) == raw


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (5000000 / 1e6, "5"),
        (1234567 / 1e6, "1.234567"),
        (1 / 1e6, "0.000001"),
        (0.0, "0"),
        (-0.0, "-0"),
        (12.5, "12.5"),
        (100.0, "100"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e21, "1.5e+21"),
        (1e-7, "1e-7"),
        (2.5e-7, "2.5e-7"),
        (1e-10, "1e-10"),
        (123456789.0, "123456789"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
        (-3.25, "-3.25"),
    ],
)
def test_go_float_formatting(value, text):
    """Shortest digits, no exponent in [1e-6, 1e21), Go's exponent clean-up."""
    assert format_float(value) == text


def test_nan_is_refused():
    """Go's encoder fails on NaN and infinities."""
    with pytest.raises(ValueError, match="unsupported value"):
        format_float(math.nan)


def _decimal_ms(nanoseconds: int) -> str:
    # n/10**6 has at most 15 significant digits here, so it is exactly what the
    # shortest round-trip representation of the float n/1e6 prints.
    text = format(Decimal(nanoseconds).scaleb(-6), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@given(st.integers(min_value=0, max_value=10**15 - 1))
def test_ping_time_ms_matches_decimal_reference(nanoseconds):
    """pingTimeMs = ns/1e6 prints as the plain decimal ns/10**6 (independent reference)."""
    assert format_float(nanoseconds / 1e6) == _decimal_ms(nanoseconds)


_FIXED = re.compile(r"-?(0|[1-9]\d*)(\.\d*[1-9])?")
_EXPONENT = re.compile(r"-?[1-9](\.\d*[1-9])?e[+-]([1-9]|\d\d\d?)")


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_formatting_properties(value):
    """Any finite float: round-trips, shortest digits, Go's layout rules."""
    text = format_float(value)
    assert float(text) == value
    assert struct.pack("<d", float(text)) == struct.pack("<d", value)
    magnitude = abs(value)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        assert _FIXED.fullmatch(text), text
    else:
        assert _EXPONENT.fullmatch(text), text
        exponent = text.split("e")[1]
        assert not re.fullmatch(r"-0\d", exponent)
    digits = re.sub(r"e.*", "", text).replace("-", "").replace(".", "").strip("0")
    shortest = Decimal(repr(value)).normalize().as_tuple().digits
    assert len(digits or "0") == len(shortest)


@pytest.mark.slow
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda children: st.lists(children) | st.dictionaries(st.text(), children),
        max_leaves=20,
    )
)
def test_output_is_valid_json_for_valid_text(value):
    """For valid Unicode the bytes parse back to the same value, newline-terminated."""
    encoded = dumps(value)
    assert encoded.endswith(b"\n")
    assert b"<" not in encoded
    assert b">" not in encoded
    assert b"&" not in encoded
    surrogate_free = not re.search("[\ud800-\udfff]", json.dumps(value, ensure_ascii=False))
    if surrogate_free:
        assert json.loads(encoded) == value
