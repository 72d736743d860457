"""What the SDK adds on top of the server: extra search operators, real tag expressions.

Property tests compare the SDK (against the fake, in-process and loopback) with a plain
Python definition of the result.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import frankenws


def test_extra_operators(api):
    """gt/gte/lt/lte/in/exists give the mathematical answer."""
    ws, fake = api.ws, api.fake
    values = {"a": "3", "b": "10", "c": "-2", "d": "2.5", "e": "x", "f": "007"}
    ids = {}
    for name, value in values.items():
        ids[name] = fake.connect("/r")
        ws.set_stored_information(ids[name], "n", value)
    untouched = fake.connect("/r")

    def search(op, value):
        return sorted(
            name
            for name, conn in ids.items()
            if conn in ws.search_stored_information("n", op, value)
        )

    assert search("gte", 3) == ["a", "b", "f"]
    assert search("gt", "3") == ["b", "f"]
    assert search("lt", 3) == ["c", "d"]
    assert search("lte", "2.5") == ["c", "d"]
    assert search("gt", -2.5) == ["a", "b", "c", "d", "f"]
    assert search("in", ["x", "10"]) == ["b", "e"]
    assert search("in", "3,007") == ["a", "f"]
    assert search("exists", "") == sorted(ids)
    assert untouched not in ws.search_stored_information("n", "exists")


def test_extra_operators_cost_one_request(frankenws_fake):
    """A numeric search over many connections is a single regex request."""
    for i in range(200):
        frankenws_fake.set_stored_information(frankenws_fake.connect(), "score", str(i))
    with frankenws_fake.client() as ws:
        before = len(frankenws_fake.calls)
        assert len(ws.search_stored_information("score", "gte", 150)) == 50
        assert len(frankenws_fake.calls) - before == 1
        request, _ = frankenws_fake.calls[-1]
        assert "op=regex" in request.target


def test_local_expressions(api):
    """Expressions the server gets wrong are evaluated with real boolean logic."""
    ws, fake = api.ws, api.fake
    tags = {
        "a1": {"admin", "vip", "paris"},
        "a2": {"admin"},
        "a3": {"lyon", "vip"},
        "a4": {"super_admin", "room-42"},
        "a5": set(),
    }
    conns = {}
    for name, tagset in tags.items():
        conns[name] = fake.connect("/r" if name != "a3" else "/other")
        for tag in tagset:
            ws.tag_client(conns[name], tag)
    ws.tag_client("orphan", "admin")

    def select(expression):
        found = ws.get_clients_by_tag_expression(expression)
        return sorted(name for name, conn in conns.items() if conn in found)

    assert select("admin|vip&paris") == ["a1", "a2"]
    assert select("admin&vip&paris") == ["a1"]
    assert select("admin|vip|paris") == ["a1", "a2", "a3"]
    assert select("paris|(lyon&vip)") == ["a1", "a3"]
    assert select("*admin") == ["a1", "a2", "a4"]
    assert select("*") == ["a1", "a2", "a3", "a4"]
    assert select("room-42") == ["a4"]
    assert select("!(admin|vip|lyon|room-42)") == ["a5"]
    assert ws.send_to_tag_expression("admin&vip&paris", "x") == 1
    assert fake.received(conns["a1"]) == [b"x"]
    assert ws.send_to_tag_expression("vip|*admin", "y", route="/r") == 3
    assert ws.send_to_tag_expression("vip|*admin", "", route="/other") == 1
    assert fake.received(conns["a3"]) == [b""]
    assert "frankenws-tmp" not in " ".join(ws.get_tags())


NAMES = ["a", "b", "e", "vip", "room-1", "x_y"]


@st.composite
def expressions(draw, depth=0):
    if depth > 2 or draw(st.booleans()):
        name = draw(st.sampled_from([*NAMES, "*", "x*", "*-1"]))
        return name, (lambda tags, n=name: _glob_any(n, tags))
    kind = draw(st.sampled_from(["not", "and", "or"]))
    left_text, left = draw(expressions(depth + 1))
    if kind == "not":
        return f"!({left_text})", (lambda tags: not left(tags))
    right_text, right = draw(expressions(depth + 1))
    op = "&" if kind == "and" else "|"
    fn = (lambda t: left(t) and right(t)) if op == "&" else (lambda t: left(t) or right(t))
    return f"({left_text}){op}({right_text})", fn


def _glob_any(pattern, tags):
    import fnmatch

    return any(fnmatch.fnmatchcase(tag, pattern.replace("[", "[[]")) for tag in tags)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    expr=expressions(),
    tagsets=st.lists(st.sets(st.sampled_from(NAMES), max_size=4), min_size=1, max_size=5),
)
def test_expressions_equal_reference(frankenws_fake, expr, tagsets):
    """For random expressions and tag sets, the SDK's answer is ordinary boolean logic."""
    text, reference = expr
    with frankenws_fake.client() as ws:
        for conn in ws.get_clients():
            ws.kill_connection(conn)
        conns = []
        for tagset in tagsets:
            conn = frankenws_fake.connect()
            conns.append((conn, tagset))
            for tag in tagset:
                ws.tag_client(conn, tag)
        got = set(ws.get_clients_by_tag_expression(text))
    assert got == {conn for conn, tagset in conns if reference(tagset)}


def _as_number(text):
    """The documented definition: an optional sign, digits, optionally '.' and digits."""
    body = text[1:] if text[:1] in "+-" else text
    whole, dot, fraction = body.partition(".")
    if not whole.isascii() or not whole.isdigit() or (dot and not fraction.isdigit()):
        return None
    if fraction and not fraction.isascii():
        return None
    try:
        return Fraction(Decimal(text))
    except (InvalidOperation, ValueError):
        return None


stored = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.decimals(-100, 100, places=2, allow_nan=False).map(str),
    st.sampled_from(["", "x", "1e3", " 4", "+5", "007", "-0", "3.", ".5", "1_0"]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    op=st.sampled_from(["gt", "gte", "lt", "lte"]),
    bound=st.one_of(st.integers(-50, 50), st.decimals(-50, 50, places=1, allow_nan=False)),
    values=st.lists(stored, min_size=1, max_size=8),
)
def test_numeric_search_equals_definition(frankenws_fake, op, bound, values):
    """Numeric operators select exactly the stored plain decimals that compare true."""
    compare = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }[op]
    limit = Fraction(Decimal(str(bound)))
    with frankenws_fake.client() as ws:
        for conn in ws.get_clients():
            ws.kill_connection(conn)
        expected = set()
        for value in values:
            conn = frankenws_fake.connect()
            if value:
                ws.set_stored_information(conn, "n", value)
                number = _as_number(value)
                if number is not None and compare(number, limit):
                    expected.add(conn)
        assert set(ws.search_stored_information("n", op, str(bound))) == expected


def test_unknown_operator_still_refused(api):
    """Only the documented extra operators are accepted."""
    with pytest.raises(frankenws.InvalidArgument, match="unknown search operator"):
        api.ws.search_stored_information("n", "between", "1")
