"""The planners' fast paths for one key read over many ids give what the ordinary path gives."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frankenws import InvalidArgument, ProtocolError
from frankenws._calls import calls
from frankenws._decode import stored_value
from frankenws._models import Response
from frankenws.bulk._reads import stored_value_reads
from frankenws.testing._gojson import dumps

IDS = ["abc", "0a1b-2c", "x.y", ".", "..", "a/b", "é", "a b", "~_-", "%41", "a?b#c", "A.B~c_d-e"]


@pytest.mark.parametrize("key", ["username", "a/b", "..", "é ö", "%2F"])
def test_same_calls_as_one_by_one(key: str) -> None:
    """Requests built for many ids are the ones calls.get_stored_information builds."""
    assert stored_value_reads(IDS, key) == [calls.get_stored_information(i, key) for i in IDS]
    assert stored_value_reads([], key) == []


@given(st.lists(st.text(min_size=1), min_size=1, max_size=8), st.text(min_size=1))
def test_same_calls_for_any_text(ids: list[str], key: str) -> None:
    try:
        expected = [calls.get_stored_information(i, key) for i in ids]
    except InvalidArgument:
        with pytest.raises(InvalidArgument):
            stored_value_reads(ids, key)
    else:
        assert stored_value_reads(ids, key) == expected


@pytest.mark.parametrize(
    ("ids", "key"),
    [
        (["abc"], ""),
        (["abc", "def"], "\ud800"),
        (["abc", ""], "k"),
        (["abc", 7], "k"),
        (["abc", "x\udc80"], "k"),
        (["abc", "/"], "k"),
        (["abc"], "/"),
    ],
)
def test_invalid_id_or_key_refused_before_sending(ids: list[str], key: str) -> None:
    with pytest.raises(InvalidArgument):
        stored_value_reads(ids, key)


def _reference(body: bytes) -> str | type[ProtocolError] | None:
    """What the answer means per PROTOCOL: JSON (any encoding json.loads takes) or an error."""
    try:
        obj = json.loads(body)
    except ValueError:
        return ProtocolError
    if not isinstance(obj, dict):
        return ProtocolError
    exists, value = obj.get("exists"), obj.get("value")
    if not isinstance(exists, bool) or not isinstance(value, str):
        return ProtocolError
    return value if exists else None


BODIES = [
    b'{"exists":true,"value":"alice"}\n',
    b'{"exists":false,"value":""}\n',
    b'{"exists":true,"value":"\\ufffd\xc3\xa9"}\n',
    b'{"exists":true,"value":"\xed\xa0\x80"}\n',  # an encoded surrogate: json.loads lets it by
    b'{"exists":true,"value":"\xff"}\n',  # not UTF-8
    b'{"exists":true,"value":',
    b'{"exists":1,"value":"x"}',
    b'{"value":"x"}',
    b'{"exists":true,"value":"a"} trailing',
    b"\xef\xbb\xbf{}",
    '{"exists":true,"value":"u16"}'.encode("utf-16"),
    '{"exists":true,"value":"u16"}'.encode("utf-16-le"),
    b"[]",
    b"",
]


@pytest.mark.parametrize("body", BODIES)
def test_stored_value_decodes_as_json_loads(body: bytes) -> None:
    _check(body)


@given(st.binary(max_size=40))
def test_stored_value_any_bytes(tail: bytes) -> None:
    _check(b'{"' + tail)
    _check(b'{"exists":true,"value":"' + tail + b'"}')


def _check(body: bytes) -> None:
    expected = _reference(body)
    response = Response(200, {}, body, "http://x/getStoredInformation/a/k")
    if expected is ProtocolError:
        with pytest.raises(ProtocolError):
            stored_value(response)
    else:
        assert stored_value(response) == expected


def test_fake_encodes_maps_of_one_shape_in_any_key_order() -> None:
    """The fake's encoder reuses a map shape's key order: insertion order and nesting do
    not change Go's byte-sorted output, nor do more shapes than it keeps."""
    assert dumps({"value": "v", "key": "k", "exists": True, "clientID": "c"}) == (
        b'{"clientID":"c","exists":true,"key":"k","value":"v"}\n'
    )
    assert dumps({"clientID": "c<", "key": None, "value": False, "exists": {"b": 1, "a": []}}) == (
        b'{"clientID":"c\\u003c","exists":{"a":[],"b":1},"key":null,"value":false}\n'
    )
    for n in range(1500):
        # The invalid byte 0x80 sorts before the é's 0xC3.
        shape = {f"k{n}": n, "\udc80": "x", "é": "y", "Z": [n]}
        assert dumps(shape) == b'{"Z":[%d],"k%d":%d,"\\ufffd":"x","\xc3\xa9":"y"}\n' % (n, n, n)
