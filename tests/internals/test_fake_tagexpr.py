"""The upstream tag-expression matcher (PROTOCOL.md §8) and its bugs."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frankenws.testing._tagexpr import (
    clean_expression,
    compile_expression,
    evaluate_split,
    go_trim_space,
    substitute_names,
    upstream_matches,
)

# (#, expression, tag set (None: no tags), working string after expansion, result)
EXAMPLES = [
    (1, "admin", {"admin", "vip"}, "true", True),
    (2, "admin&!test", {"admin"}, "true&!false", True),
    (3, "admin&!test", {"admin", "test"}, "true&!true", False),
    (4, "!banned", None, "!false", True),
    (5, "(paris|lyon)&vip", {"lyon", "vip"}, "(false|true)&true", True),
    (6, "!(admin&test)", {"admin"}, "!(true&false)", True),
    (7, "admin|vip&paris", {"admin"}, "true|false&false", False),
    (8, "admin&vip|paris", {"admin", "paris"}, "true&false|true", True),
    (9, "admin&vip&paris", {"admin", "vip", "paris"}, "true&true&true", False),
    (10, "admin|vip|paris", {"admin"}, "true|false|false", False),
    (11, "paris|(lyon&vip)", {"lyon", "vip"}, "false|(true&true)", False),
    (12, "(admin|vip)&(paris|lyon)", {"vip", "paris"}, "(false|true)&(true|false)", False),
    (13, "(admin|vip)&(paris|lyon)", {"admin", "lyon"}, "(true|false)&(false|true)", True),
    (14, "group_*&!banned", {"group_3"}, "true&!false", True),
    (15, "*admin", {"super_admin"}, "*false", False),
    (16, "*", {"anything"}, "*", False),
    (17, "premium&premium_user", {"premium", "premium_user"}, "true&true_user", False),
    (18, "premium_user&premium", {"premium", "premium_user"}, "true&true", True),
    (19, "vip|e", {"vip"}, "trufalse|false", False),
    (20, "room-42", {"room-42"}, "false-42", False),
    (21, "admin & vip", {"admin", "vip"}, "true&true", True),
    (22, "Admin", {"admin"}, "false", False),
    (23, "admin&(vip", {"admin", "vip"}, "true&(true", False),
]


@pytest.mark.parametrize(("number", "expression", "tags", "working", "result"), EXAMPLES)
def test_worked_examples(number, expression, tags, working, result):
    """Examples 1-23 of §8.5: same working string, same outcome."""
    assert substitute_names(clean_expression(expression), tags) == working, number
    assert upstream_matches(expression, tags) is result


@pytest.mark.parametrize("tags", [None, {"anything"}])
def test_worked_example_24_blank(tags):
    """Example 24: a blank expression is upstream's parse error, not a result."""
    assert upstream_matches("   ", tags) is None
    assert compile_expression("   ").blank


def test_all_24_examples_through_the_admin_api(fake, call):
    """Each example, as a connection of its own, through getClientsByTagExpression."""
    for number, expression, tags, _, result in EXAMPLES:
        conn = fake.connect(id=f"ex{number}")
        for tag in tags or ():
            fake.tag_client(conn, tag)
        target = "/frankenphp_ws/getClientsByTagExpression/" + quote(
            quote(expression, safe=""), safe=""
        )
        body = json.loads(call("GET", target).body)
        assert (conn in (body["clients"] or [])) is result, number
        fake.kill_connection(conn)
    blank = call("GET", "/frankenphp_ws/getClientsByTagExpression/%2520%2520%2520")
    assert blank.body == b'{"clients":[],"count":0,"expression":"   "}\n'
    send_blank = call("POST", "/frankenphp_ws/sendToTagExpression/%2520", b"x")
    assert send_blank.body == b'{"expression":" ","route":"","sentCount":0}\n'


def test_no_match_is_null_and_orphans_are_never_candidates(fake, call):
    """Non-blank, no match: null. Orphan tags do not make an id a candidate."""
    fake.tag_client("orphan", "vip")
    response = call("GET", "/frankenphp_ws/getClientsByTagExpression/vip")
    assert response.body == b'{"clients":null,"count":0,"expression":"vip"}\n'


def test_untagged_connections_match_negations(fake):
    """An id with no tag set evaluates every token to false."""
    a = fake.connect(id="a")
    assert fake.get_clients_by_tag_expression("!banned") == [a]


def test_go_trim_space_set():
    """TrimSpace strips Go's Unicode spaces (NEL, NBSP, ideographic space), not ZWSP."""
    assert go_trim_space("\t\n\v\f\r \x85\xa0\u3000a b\u2028") == "a b"
    assert go_trim_space("\u200ba") == "\u200ba"
    assert clean_expression("\xa0 a & b \t") == "a&b"


def test_tabs_inside_are_kept_and_break_names():
    """Only ASCII spaces are deleted; an inner tab stays in the working string."""
    assert substitute_names(clean_expression("a\t&b"), {"a", "b"}) == "true\t&true"
    assert upstream_matches("a\t&b", {"a", "b"}) is True  # TrimSpace of each && piece
    assert upstream_matches("a\tb", {"ab"}) is False


def test_user_written_double_operators_fail():
    """&& becomes &&&& (four pieces), so it never matches."""
    assert upstream_matches("a&&b", {"a", "b"}) is False
    assert upstream_matches("a||b", {"a"}) is False


def test_double_negation_is_false():
    """!!a is neither !true nor !false nor a group: false."""
    assert upstream_matches("!!a", {"a"}) is False
    assert upstream_matches("!!a", None) is False


def test_wildcards():
    """Inner and trailing * are globs; * never crosses a newline; leading * fails."""
    assert upstream_matches("a*b", {"a-x-b"}) is True
    assert upstream_matches("gr_*", {"gr_"}) is True
    assert upstream_matches("gr_*", {"gr\n_"}) is False
    assert upstream_matches("gr_*", {"gr_1\n2"}) is False
    assert upstream_matches("*gr", {"gr"}) is False


def test_deep_nesting_does_not_overflow():
    """Go's growing stacks cope with deep parentheses; so must the fake."""
    assert upstream_matches("(" * 5000 + "a" + ")" * 5000, {"a"}) is True
    assert upstream_matches("!(" * 5001 + "a" + ")" * 5001, {"a"}) is False


# --- safe subset (§8.4) agrees with ordinary boolean logic --------------------------

NAMES = ["alpha", "bravo", "charlie", "delta", "kilo", "zulu_*"]
TAG_POOL = ["alpha", "bravo", "charlie", "delta", "kilo", "zulu_1", "zulu_x", "other"]


def _value(name, tags):
    if name.endswith("*"):
        return any(tag.startswith(name[:-1]) for tag in tags)
    return name in tags


@st.composite
def _lit(draw):
    name = draw(st.sampled_from(NAMES))
    negate = draw(st.booleans())
    return ("!" if negate else "") + name, (lambda tags: not _value(name, tags)) if negate else (
        lambda tags: _value(name, tags)
    )


@st.composite
def _inner(draw):
    kind = draw(st.sampled_from(["lit", "and", "or"]))
    left_text, left = draw(_lit())
    if kind == "lit":
        return left_text, left
    right_text, right = draw(_lit())
    if kind == "and":
        return f"{left_text}&{right_text}", lambda tags: left(tags) and right(tags)
    return f"{left_text}|{right_text}", lambda tags: left(tags) or right(tags)


@st.composite
def _operand(draw):
    kind = draw(st.sampled_from(["lit", "or", "nor", "group", "ngroup"]))
    text, fn = draw(_lit())
    if kind == "lit":
        return text, fn
    if kind in ("group", "ngroup"):
        if kind == "group":
            return f"({text})", fn
        return f"!({text})", lambda tags: not fn(tags)
    other_text, other = draw(_lit())
    body = f"{text}|{other_text}"
    if kind == "or":
        return f"({body})", lambda tags: fn(tags) or other(tags)
    return f"!({body})", lambda tags: not (fn(tags) or other(tags))


@st.composite
def safe_expressions(draw):
    kind = draw(st.sampled_from(["lit", "or", "group", "ngroup", "and"]))
    if kind == "lit":
        return draw(_lit())
    if kind == "or":
        (a, fa), (b, fb) = draw(_lit()), draw(_lit())
        return f"{a}|{b}", lambda tags: fa(tags) or fb(tags)
    if kind in ("group", "ngroup"):
        text, fn = draw(_inner())
        if kind == "group":
            return f"({text})", fn
        return f"!({text})", lambda tags: not fn(tags)
    (a, fa), (b, fb) = draw(_operand()), draw(_operand())
    # Constraint C1: not "(...)&(...)" shaped.
    if a.lstrip("!").startswith("(") and b.endswith(")"):
        b, fb = draw(_lit())
    return f"{a}&{b}", lambda tags: fa(tags) and fb(tags)


@given(safe_expressions(), st.sets(st.sampled_from(TAG_POOL)), st.data())
def test_safe_subset_is_ordinary_boolean_logic(expression, tags, data):
    """Expressions of the §8.4 grammar evaluate like real boolean logic, spaces or not."""
    text, reference = expression
    assert upstream_matches(text, tags or None) is reference(tags)
    spaced = "".join(ch + " " * data.draw(st.integers(0, 2)) for ch in text)
    assert upstream_matches(" " + spaced, tags or None) is reference(tags)


@given(st.text(max_size=40), st.sets(st.text(max_size=6), max_size=4))
def test_matcher_never_raises(expression, tags):
    """Arbitrary input: a bool, or None exactly when the cleaned text is empty."""
    result = upstream_matches(expression, tags)
    assert (result is None) == (clean_expression(expression) == "")


@given(st.sampled_from(["true", "false", "!true", "!false", "(true)", "!(false)"]))
def test_evaluator_literals(working):
    """The evaluator's base cases."""
    assert evaluate_split(working) is (working in ("true", "!false", "(true)", "!(false)"))
