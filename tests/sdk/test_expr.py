"""Tag expressions: real boolean semantics, errors with positions, and the server-safe subset.

The reference "server" is the fake's re-implementation of the upstream matcher of PROTOCOL
§8.2 / Appendix A (substring replacement, then split-based evaluation), so that
``is_server_safe`` can be checked against what the server really does.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from frankenws import InvalidArgument
from frankenws._expr import (
    MAX_DEPTH,
    And,
    Expr,
    ExpressionSyntaxError,
    Not,
    Or,
    Tag,
    expand,
    is_server_safe,
    is_wildcard,
    matches,
    names,
    parse,
)
from frankenws.testing._tagexpr import matches as fake_server_matches

# The reference "server" is the fake's matcher, itself checked against every worked
# example of PROTOCOL §8.5 (tests/fake/test_fake_tagexpr.py).
server_matches = fake_server_matches


# ------------------------------------------------------------- §8.5 worked rows

# (row, expression, S, server result, docs result: True/False, or "error")
TABLE = [
    (1, "admin", {"admin", "vip"}, True, True),
    (2, "admin&!test", {"admin"}, True, True),
    (3, "admin&!test", {"admin", "test"}, False, False),
    (4, "!banned", set(), True, True),
    (5, "(paris|lyon)&vip", {"lyon", "vip"}, True, True),
    (6, "!(admin&test)", {"admin"}, True, True),
    (7, "admin|vip&paris", {"admin"}, False, True),
    (8, "admin&vip|paris", {"admin", "paris"}, True, True),
    (9, "admin&vip&paris", {"admin", "vip", "paris"}, False, True),
    (10, "admin|vip|paris", {"admin"}, False, True),
    (11, "paris|(lyon&vip)", {"lyon", "vip"}, False, True),
    (12, "(admin|vip)&(paris|lyon)", {"vip", "paris"}, False, True),
    (13, "(admin|vip)&(paris|lyon)", {"admin", "lyon"}, True, True),
    (14, "group_*&!banned", {"group_3"}, True, True),
    (15, "*admin", {"super_admin"}, False, True),
    (16, "*", {"anything"}, False, True),
    (17, "premium&premium_user", {"premium", "premium_user"}, False, True),
    (18, "premium_user&premium", {"premium", "premium_user"}, True, True),
    (19, "vip|e", {"vip"}, False, True),
    # Docs: an invalid name for the server; our parser takes it as the tag "room-42".
    (20, "room-42", {"room-42"}, False, True),
    (21, "admin & vip", {"admin", "vip"}, True, True),
    (22, "Admin", {"admin"}, False, False),
    (23, "admin&(vip", {"admin", "vip"}, False, "error"),
    (24, "   ", {"x"}, None, "error"),
]

# Besides the rows where the server is wrong (7, 9-13, 15-17, 19, 20, 23):
# * row 8, whose server result agrees with the docs by accident for that S (the server
#   reads admin&(vip|paris), see the test below), not by the §8.4 grammar;
# * row 18, which the server gets right only because the longer name comes first; C2
#   refuses any pair of names where one is a substring of the other;
# * the blank row 24.
UNSAFE_ROWS = {7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19, 20, 23, 24}


@pytest.mark.parametrize(("row", "expression", "tags", "server", "docs"), TABLE)
def test_protocol_table(
    row: int, expression: str, tags: set[str], server: bool | None, docs: bool | str
) -> None:
    assert server_matches(expression, tags) is server, "the reference server is off"
    if docs == "error":
        with pytest.raises(ExpressionSyntaxError):
            parse(expression)
    else:
        assert parse(expression).evaluate(tags) is docs
    assert is_server_safe(expression) is (row not in UNSAFE_ROWS)


def test_row_8_is_unsafe_although_its_example_agrees() -> None:
    # S = {paris}: the docs say match, the server evaluates admin&(vip|paris) -> no.
    assert server_matches("admin&vip|paris", {"paris"}) is False
    assert parse("admin&vip|paris").evaluate({"paris"}) is True


# ------------------------------------------------------------------ parsing


def test_precedence_and_structure() -> None:
    a, b, c, d = Tag("a"), Tag("b"), Tag("c"), Tag("d")
    assert parse("a|b&c") == Or(a, And(b, c))
    assert parse("a&b|c") == Or(And(a, b), c)
    assert parse("a&b&c|d") == Or(And(a, b, c), d)
    assert parse("!a&b") == And(Not(a), b)
    assert parse("!(a&b)") == Not(And(a, b))
    assert parse("!!a") == Not(Not(a))
    assert parse("a&(b&c)") == And(a, And(b, c))
    assert parse("((a))") == a
    assert parse(" \t a\u3000&\n b ") == And(a, b)
    assert parse("*admin|room-42&user:1|é|*") == Or(
        Tag("*admin"), And(Tag("room-42"), Tag("user:1")), Tag("é"), Tag("*")
    )


@pytest.mark.parametrize(
    ("expression", "position", "message"),
    [
        ("", 0, "empty expression: expected a tag name at position 0 (end of expression)"),
        ("  \t", 3, "empty expression"),
        ("a&", 2, "expected a tag name at position 2 (end of expression)"),
        ("a&(b|c))", 7, "unexpected ')' at position 7"),
        ("(a", 2, "expected ')' at position 2 (end of expression) to close '(' at position 0"),
        ("a&(b|(c)", 8, "to close '(' at position 2"),
        ("a&&b", 2, "use & for AND and | for OR"),
        ("a || b", 3, "use & for AND and | for OR"),
        ("a & & b", 4, "use & for AND"),
        ("a b", 2, "unexpected tag name 'b' at position 2"),
        ("a&(b c)", 5, "expected ')', & or |"),
        ("a!b", 1, "unexpected '!' at position 1"),
        ("a(b)", 1, "unexpected '(' at position 1"),
        ("()", 1, "expected a tag name at position 1, found ')'"),
        ("|a", 0, "expected a tag name at position 0, found '|'"),
        ("!", 1, "expected a tag name at position 1 (end of expression)"),
        ("a&)", 2, "found ')'"),
        (")", 0, "expected a tag name at position 0, found ')'"),
        ("é&", 2, "position 2"),
    ],
)
def test_syntax_errors(expression: str, position: int, message: str) -> None:
    with pytest.raises(ExpressionSyntaxError, match=re.escape(message)) as info:
        parse(expression)
    err = info.value
    assert isinstance(err, InvalidArgument)
    assert err.position == position
    assert err.expression == expression
    assert repr(expression) in str(err)


def test_nesting_limit() -> None:
    deep_ok = "(" * (MAX_DEPTH - 1) + "!a" + ")" * (MAX_DEPTH - 1)
    assert parse(deep_ok).evaluate(set()) is True
    too_deep = "!" * (MAX_DEPTH + 1) + "a"
    with pytest.raises(ExpressionSyntaxError, match="nested too deeply at position 100"):
        parse(too_deep)
    with pytest.raises(ExpressionSyntaxError, match="nested too deeply"):
        parse("(" * 5000 + "a" + ")" * 5000)


@pytest.mark.parametrize("bad", [None, 3, b"a"])
def test_parse_refuses_non_strings(bad: Any) -> None:
    with pytest.raises(InvalidArgument, match="must be a string"):
        parse(bad)


@given(st.text(st.sampled_from("ab*!&|() \t\n-é"), max_size=14))
def test_parse_fails_only_with_positioned_syntax_errors(text: str) -> None:
    error: ExpressionSyntaxError | None = None
    try:
        expr = parse(text)
    except ExpressionSyntaxError as exc:
        error = exc
    if error is None:
        assert parse(str(expr)) == expr
    else:
        assert 0 <= error.position <= len(text)
        assert f"position {error.position}" in str(error)


def test_tag_refuses_unrepresentable_names() -> None:
    for bad in ["", "a b", "a&b", "(", "x\n"]:
        with pytest.raises(InvalidArgument):
            Tag(bad)


def test_evaluate_refuses_a_bare_string() -> None:
    with pytest.raises(InvalidArgument, match="collection of tags"):
        parse("admin").evaluate("admin")


# ---------------------------------------------------------- names and globs


def test_names_and_helpers() -> None:
    expr = parse("a&!(b*|a)|*c&b*")
    assert names(expr) == {"a", "b*", "*c"}
    assert is_wildcard("b*")
    assert not is_wildcard("b")
    assert expand("b*", ["b", "bx", "ab", "b\nx", "b\tx"]) == {"b", "bx", "b\tx"}
    assert expand("b", ["b", "bx"]) == {"b"}
    assert expand("b", ["bx"]) == set()
    assert expr.evaluate(["a"]) is False
    assert parse("a&!b*").evaluate(["a", "c"]) is True
    assert expr.evaluate({"a", "b"}) is False
    assert expr.evaluate({"xc", "b1"}) is True
    assert expr.evaluate([]) is False


@pytest.mark.parametrize(
    ("pattern", "tag", "expected"),
    [
        ("*", "", True),
        ("*", "anything", True),
        ("*", "a\nb", False),
        ("*admin", "super_admin", True),
        ("*admin", "admin", True),
        ("*admin", "admins", False),
        ("a*b", "ab", True),
        ("a*b", "a-x-b", True),
        ("a*b*a", "aba", True),
        ("a*b*a", "ab", False),
        ("aa*aa", "aaa", False),
        ("a*bc*c", "abc", False),
        ("a*b*c", "abc", True),
        ("a**b", "ab", True),
        ("group_*", "Group_1", False),
        ("a.c", "abc", False),
        ("a*", "a\tb", True),
        ("a*\nb*", "ax\nby", True),
        ("a*\nb*", "ax\nb\nc", False),
    ],
)
def test_matches_examples(pattern: str, tag: str, expected: bool) -> None:
    assert matches(pattern, tag) is expected


@settings(max_examples=500, deadline=None)
@given(
    pattern=st.text(st.sampled_from("ab*\n."), max_size=7),
    tag=st.text(st.sampled_from("ab\n."), max_size=7),
)
@example(pattern="*a*a*b", tag="aaaab")
@example(pattern="a*ab*b", tag="aab")
def test_matches_is_an_anchored_glob_without_newlines(pattern: str, tag: str) -> None:
    reference = "[^\n]*".join(re.escape(piece) for piece in pattern.split("*"))
    assert matches(pattern, tag) == (re.fullmatch(reference, tag) is not None)


# ------------------------------------------------------------- random ASTs

Node = tuple[Any, ...]

NAME_CHARS = "ab*-:é.1_#'\"\x00"
names_st = st.text(st.sampled_from(NAME_CHARS), min_size=1, max_size=4)


def ast_strategy(leaf: st.SearchStrategy[str]) -> st.SearchStrategy[Node]:
    return st.recursive(
        leaf.map(lambda n: ("tag", n)),
        lambda kids: st.one_of(
            kids.map(lambda k: ("not", k)),
            st.lists(kids, min_size=2, max_size=3).map(lambda ks: ("and", *ks)),
            st.lists(kids, min_size=2, max_size=3).map(lambda ks: ("or", *ks)),
        ),
        max_leaves=10,
    )


def reference_glob(pattern: str, tag: str) -> bool:
    regex = "[^\n]*".join(re.escape(piece) for piece in pattern.split("*"))
    return re.fullmatch(regex, tag) is not None


def reference_eval(node: Node, tags: Collection[str]) -> bool:
    kind = node[0]
    if kind == "tag":
        return any(reference_glob(node[1], tag) for tag in tags)
    if kind == "not":
        return not reference_eval(node[1], tags)
    results = [reference_eval(child, tags) for child in node[1:]]
    return all(results) if kind == "and" else any(results)


_PREC = {"or": 1, "and": 2, "not": 3, "tag": 4}
SPACES = ["", "", "", " ", "  ", "\t", "\n", "\u3000", "\xa0"]


def render(node: Node, draw: st.DrawFn, parent: int = 0) -> str:
    """Text for ``node``: random whitespace, parentheses where needed and sometimes more."""

    def gap() -> str:
        return draw(st.sampled_from(SPACES))

    kind = node[0]
    if kind == "tag":
        text = str(node[1])
    elif kind == "not":
        text = "!" + gap() + render(node[1], draw, _PREC["not"])
    else:
        op = "&" if kind == "and" else "|"
        text = (gap() + op + gap()).join(render(c, draw, _PREC[kind]) for c in node[1:])
    if _PREC[kind] < parent or draw(st.integers(0, 5)) == 0:
        text = "(" + gap() + text + gap() + ")"
    return text


def instantiate(pattern: str, draw: st.DrawFn) -> str:
    """A tag that the pattern matches, or nearly."""
    fillers = st.sampled_from(["", "a", "b-", "é", "\n", "\t", "*"])
    return "".join(
        piece if i == 0 else draw(fillers) + piece for i, piece in enumerate(pattern.split("*"))
    )


def leaves(node: Node) -> list[str]:
    if node[0] == "tag":
        return [node[1]]
    return [name for child in node[1:] for name in leaves(child)]


@settings(max_examples=400, deadline=None)
@given(tree=ast_strategy(names_st), data=st.data())
def test_rendered_ast_parses_to_the_same_boolean_function(tree: Node, data: Any) -> None:
    text = render(tree, data.draw)
    expr = parse(text)
    assert names(expr) == set(leaves(tree))
    pool = [instantiate(n, data.draw) for n in leaves(tree)] + ["a", "b", "a\nb", "1"]
    for _ in range(6):
        tags = data.draw(st.sets(st.sampled_from(pool), max_size=5))
        expected = reference_eval(tree, tags)
        assert expr.evaluate(tags) is expected, (text, tags)
        assert expr.evaluate(list(tags)) is expected
    assert parse(str(expr)) == expr


def build(node: Node) -> Expr:
    if node[0] == "tag":
        return Tag(node[1])
    if node[0] == "not":
        return Not(build(node[1]))
    kids = [build(child) for child in node[1:]]
    return And(*kids) if node[0] == "and" else Or(*kids)


@given(tree=ast_strategy(names_st))
def test_str_of_an_ast_parses_back_to_it(tree: Node) -> None:
    expr = build(tree)
    assert parse(str(expr)) == expr


# ----------------------------------------------------- is_server_safe vs server


@st.composite
def safe_expressions(draw: st.DrawFn) -> tuple[str, list[str]]:
    """An expression of the §8.4 grammar (C1, C2 hold) and the names it uses.

    Every new name starts with its own lower-case letter that occurs nowhere else (tails
    use digits, '_', '*' and upper case), and none of those letters is in true/false,
    so no name is a substring of another or of true/false (C2).
    """
    firsts = iter(draw(st.permutations("bcdghkmnopqvwxyz")))
    used: list[str] = []

    def name() -> str:
        if used and draw(st.integers(0, 4)) == 0:
            return draw(st.sampled_from(used))
        fresh = next(firsts) + draw(st.text(st.sampled_from("0189_*XYZ"), max_size=3))
        used.append(fresh)
        return fresh

    def lit() -> list[str]:
        return ["!", name()] if draw(st.booleans()) else [name()]

    def bang() -> list[str]:
        return ["!"] if draw(st.booleans()) else []

    def group() -> list[str]:
        inner = lit() + (["|", *lit()] if draw(st.booleans()) else [])
        return [*bang(), "(", *inner, ")"]

    shape = draw(st.integers(0, 4))
    if shape == 0:
        tokens = lit()
    elif shape == 1:
        tokens = [*lit(), "|", *lit()]
    elif shape == 2:
        op = draw(st.sampled_from([None, "&", "|"]))
        inner = lit() + ([op, *lit()] if op else [])
        tokens = [*bang(), "(", *inner, ")"]
    elif shape == 3:
        tokens = [*lit(), "&", *(group() if draw(st.booleans()) else lit())]
    else:
        tokens = [*group(), "&", *lit()]
    spaces = st.sampled_from(["", "", " ", "  "])
    text = draw(spaces) + "".join(tok + draw(spaces) for tok in tokens)
    return text, used


@st.composite
def tag_sets_for(draw: st.DrawFn, used: list[str]) -> set[str]:
    fillers = st.sampled_from(["", "X", "0", "b", "\n", "_9"])
    pool = ["", "X", "b\n", "true", "false"]
    for n in used:
        pool.append(n.replace("*", ""))
        pool.append("".join(draw(fillers) + p if i else p for i, p in enumerate(n.split("*"))))
        pool.append(n.replace("*", "Z9"))
    return set(draw(st.lists(st.sampled_from(pool), max_size=5)))


@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_safe_grammar_is_safe_and_the_server_agrees(data: Any) -> None:
    text, used = data.draw(safe_expressions())
    assert is_server_safe(text), text
    expr = parse(text)
    for _ in range(5):
        tags = data.draw(tag_sets_for(used))
        assert server_matches(text, tags) == expr.evaluate(tags), (text, tags)


# Mostly C2-compatible names, plus some that collide with each other or with true/false.
NASTY_NAMES = st.sampled_from(
    ["b", "c", "d9", "x*", "y*z", "B_", "b", "c", "bc", "cb", "a", "e", "true", "*x", "1a"]
)
NASTY_PUNCT = st.one_of(
    st.sampled_from(["&", "|", "&!", "|!", "&(", "|(", ")&", ")|", "!(", " & ", " | ", ""]),
    st.text(st.sampled_from("!&|()  \t-"), max_size=3),
)
NASTY_TAGS = ["a", "b", "c", "bc", "d9", "e", "x", "xa", "yz", "y-z", "B_", "true", "1a", "x\n"]


@st.composite
def token_soup(draw: st.DrawFn) -> str:
    """Names and operator debris in random order: mostly malformed or unsafe."""
    pieces = draw(st.lists(st.tuples(NASTY_PUNCT, NASTY_NAMES), min_size=1, max_size=4))
    return "".join(p + n for p, n in pieces) + draw(NASTY_PUNCT)


@settings(max_examples=1500, deadline=None)
@given(
    text=token_soup(),
    tags=st.lists(st.sets(st.sampled_from(NASTY_TAGS), max_size=4), min_size=1, max_size=4),
)
@example(text="x*&x*", tags=[{"x"}])
@example(text="ab&a", tags=[{"a", "ab"}])
def test_no_false_safe_on_random_token_soup(text: str, tags: list[set[str]]) -> None:
    if not is_server_safe(text):
        return
    expr = parse(text)
    for tag_set in tags:
        assert server_matches(text, tag_set) == expr.evaluate(tag_set), (text, tag_set)


@st.composite
def mutated_safe_expressions(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A safe expression with one to three random edits: the boundary of the subset."""
    text, used = draw(safe_expressions())
    inserts = st.sampled_from(["!", "&", "|", "(", ")", " ", "a", "e", "*", "1", "-", *used])
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(text)))
        if draw(st.booleans()) and pos < len(text):
            text = text[:pos] + text[pos + 1 :]
        else:
            text = text[:pos] + draw(inserts) + text[pos:]
    return text, used


@settings(max_examples=1000, deadline=None)
@given(data=st.data())
def test_no_false_safe_near_the_safe_subset(data: Any) -> None:
    text, used = data.draw(mutated_safe_expressions())
    if not is_server_safe(text):
        return
    expr = parse(text)
    for _ in range(4):
        tags = data.draw(tag_sets_for(used)) | data.draw(st.sets(st.sampled_from(NASTY_TAGS)))
        assert server_matches(text, tags) == expr.evaluate(tags), (text, tags)


def test_no_false_safe_exhaustively_on_short_expressions() -> None:
    """Every string of up to 6 tokens over a small alphabet, against every tag set."""
    alphabet = ["b", "c", "x*", "!", "&", "|", "(", ")"]
    universe = ["b", "c", "x", "xy", "bc"]
    tag_sets = [
        set(combo)
        for size in range(len(universe) + 1)
        for combo in itertools.combinations(universe, size)
    ]
    safe = 0
    for length in range(1, 7):
        for combo in itertools.product(alphabet, repeat=length):
            text = "".join(combo)
            if not is_server_safe(text):
                continue
            safe += 1
            expr = parse(text)
            for tag_set in tag_sets:
                assert server_matches(text, tag_set) == expr.evaluate(tag_set), (text, tag_set)
    assert safe > 500  # the alphabet reaches every shape of the grammar


@pytest.mark.parametrize(
    "expression",
    [
        "a&b",  # 'a' is a substring of 'false' (C2)
        "vip|e",
        "premium&premium_user",
        "x*&x",  # 'x' is a substring of 'x*'
        "b c",  # the server reads the tag 'bc'
        "b *",
        "\tb",  # the server would trim it, but only ASCII spaces are accepted
        "b\u3000",
        "(b|c)&(d|g)",  # C1
        "!(b)&(c)",
        "b&c&d",
        "b|c|d",
        "!!b",
        "((b))",
        "(b&c)&d",
        "*b",
        "1b",
        "b-1",
        "é",
        "b&&c",
        "",
        "   ",
    ],
)
def test_unsafe_expressions(expression: str) -> None:
    assert not is_server_safe(expression)


@pytest.mark.parametrize(
    "expression",
    [
        "b",
        " !b ",
        "b | c",
        "(b)",
        "!(b&c)",
        "(b|!c)",
        "(b|c)&d",
        "b&!(c|d)",
        "!(b|c)&d",
        "!(b)&d",
        "b&(c)",
        "group_*&!banned",
        "b*c*&d",
        "_x&B9",
        "! ( b | c ) & d",
    ],
)
def test_safe_expressions(expression: str) -> None:
    assert is_server_safe(expression)


def test_is_server_safe_of_non_strings() -> None:
    assert not is_server_safe(None)  # type: ignore[arg-type]
