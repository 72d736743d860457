"""searchStoredInformation: the ten operators, Go's ToLower, RE2 (PROTOCOL.md §9)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frankenws.testing._gojson import go_str
from frankenws.testing._search import compile_matcher, go_lower


def search(call, **params):
    response = call("GET", "/frankenphp_ws/searchStoredInformation?" + urlencode(params))
    assert response.status == 200
    return json.loads(response.body)


@pytest.fixture
def people(fake):
    for conn, city in (("a", "Grenoble"), ("b", "grenoble-sud"), ("c", "Lyon"), ("d", "")):
        fake.connect("/chat" if conn != "c" else "/news", id=conn)
        fake.set_stored_information(conn, "city", city)
    fake.connect("/chat", id="e")
    fake.set_stored_information("e", "name", "eve")  # no "city" key
    fake.set_stored_information("orphan", "city", "Grenoble")
    return fake


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("eq", "Grenoble", ["a", "orphan"]),
        ("neq", "Grenoble", ["b", "c", "d"]),
        ("prefix", "gre", ["b"]),
        ("prefix", "", ["a", "b", "c", "d", "orphan"]),
        ("suffix", "sud", ["b"]),
        ("contains", "noble", ["a", "b", "orphan"]),
        ("ieq", "GRENOBLE", ["a", "orphan"]),
        ("iprefix", "GRE", ["a", "b", "orphan"]),
        ("isuffix", "BLE", ["a", "orphan"]),
        ("icontains", "ENOB", ["a", "b", "orphan"]),
        ("regex", "^[GL]", ["a", "c", "orphan"]),
        ("regex", "oble", ["a", "b", "orphan"]),
        ("regex", "^$", ["d"]),
    ],
)
def test_operators(op, value, expected, people, call):
    """Each operator; missing keys never match (not even neq); orphans included."""
    body = search(call, key="city", op=op, value=value)
    assert sorted(body["clients"]) == expected
    assert body["count"] == len(expected)
    assert (body["key"], body["op"], body["value"], body["route"]) == ("city", op, value, "")


def test_route_filter_excludes_orphans(people, call):
    """With a route filter only connections on that route qualify."""
    body = search(call, key="city", op="contains", value="o", route="/chat")
    assert sorted(body["clients"]) == ["a", "b"]


def test_value_defaults_to_empty(people, call):
    """Without value, eq finds the empty string."""
    assert search(call, key="city", op="eq")["clients"] == ["d"]


@pytest.mark.parametrize("op", ["gte", "EQ", "lt", "in", "Regex"])
def test_unknown_operator_is_an_empty_array(op, people, call):
    """Unknown (or wrongly cased) operators: 200 with clients [] (not null)."""
    response = call("GET", f"/frankenphp_ws/searchStoredInformation?key=city&op={op}&value=x")
    assert response.body == (
        f'{{"clients":[],"count":0,"key":"city","op":"{op}","route":"","value":"x"}}\n'.encode()
    )


@pytest.mark.parametrize("pattern", ["(", "a{2,1}", r"(a)\1", "(?=a)", r"\C", "[z-a]", r"a\Z"])
def test_invalid_regex_is_an_empty_array(pattern, people, call, capfd):
    """A pattern Go's regexp rejects: clients [] and nothing printed by RE2."""
    body = search(call, key="city", op="regex", value=pattern)
    assert body["clients"] == []
    assert body["count"] == 0
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out == ""


def test_valid_operator_without_match_is_null(people, call):
    """A valid operator that matches nothing answers null."""
    body = search(call, key="city", op="eq", value="Paris")
    assert body["clients"] is None


def test_missing_key_or_op_is_400(call):
    """key and op are both required (empty counts as missing)."""
    for query in ("op=eq", "key=city", "key=&op=eq", "key=city&op="):
        response = call("GET", "/frankenphp_ws/searchStoredInformation?" + query)
        assert response.status == 400
        assert response.body == b'{"error":"key and op are required"}\n'


def test_re2_syntax():
    """RE2 semantics: unanchored, \\z, (?i), (?s), ASCII \\d, $ only at the very end."""
    assert compile_matcher("regex", r"b\z")("ab")
    assert compile_matcher("regex", r"(?i)GRE")("grenoble")
    assert not compile_matcher("regex", "a.b")("a\nb")
    assert compile_matcher("regex", "(?s)a.b")("a\nb")
    assert not compile_matcher("regex", r"\d")("٣")
    assert not compile_matcher("regex", "a$")("a\n")
    assert compile_matcher("regex", r"\Qa\C\E")("a\\C")
    assert compile_matcher("regex", "(?P<x>a)")("a")


def test_regex_sees_invalid_bytes_as_replacement_character():
    """Go reads an invalid byte as U+FFFD: '.' matches it, \\x{FFFD} too."""
    value = go_str(b"a\xffb")
    assert compile_matcher("regex", "^a.b$")(value)
    assert compile_matcher("regex", "\\x{FFFD}")(value)


def test_go_lower_differs_from_python_lower():
    """Capital dotted I lowers to plain i; capital sigma always to the medial form; no ß→ss."""
    assert go_lower("İ") == "i"
    assert "İ".lower() != "i"
    assert go_lower("ΟΔΟΣ") == "οδοσ"
    assert compile_matcher("ieq", "İSTANBUL")("istanbul")
    assert compile_matcher("ieq", "ΟΔΟΣ")("οδοσ")
    assert not compile_matcher("ieq", "ß")("ss")


def test_go_lower_maps_invalid_bytes_to_replacement():
    """strings.ToLower goes through strings.Map, which turns bad bytes into U+FFFD."""
    assert compile_matcher("ieq", go_str(b"X\xff"))(go_str(b"x\xfe"))
    assert not compile_matcher("eq", go_str(b"x\xff"))(go_str(b"x\xfe"))


def test_case_sensitive_ops_compare_bytes():
    """A needle of one invalid byte can match inside a multi-byte character."""
    assert compile_matcher("contains", go_str(b"\xa9"))("é")
    assert compile_matcher("suffix", go_str(b"\xa9"))("café")
    assert not compile_matcher("icontains", go_str(b"\xa9"))("é")


def test_every_operator_is_known():
    """The ten names compile; anything else does not."""
    server_ops = ("eq", "neq", "prefix", "suffix", "contains")
    server_ops += ("ieq", "iprefix", "isuffix", "icontains", "regex")
    assert all(compile_matcher(op, "x") is not None for op in server_ops)
    assert compile_matcher("nope", "x") is None


def test_search_through_server_mode(people):
    """The fake's server-mode helper returns lists, never None."""
    assert people.search_stored_information("city", "eq", "Paris") == []
    assert sorted(people.search_stored_information("city", "eq", "Grenoble")) == ["a", "orphan"]
    assert people.search_stored_information("city", "eq", "Grenoble", route="/chat") == ["a"]


@given(st.text(max_size=12), st.text(max_size=6))
def test_case_insensitive_ops_are_the_plain_ops_on_lowered_text(stored, needle):
    """ieq/iprefix/isuffix/icontains equal eq/prefix/suffix/contains after go_lower."""
    lowered_stored, lowered_needle = go_lower(stored), go_lower(needle)
    for op in ("eq", "prefix", "suffix", "contains"):
        plain = compile_matcher(op, lowered_needle)
        insensitive = compile_matcher("i" + op, needle)
        assert plain is not None
        assert insensitive is not None
        assert insensitive(stored) == plain(lowered_stored)
