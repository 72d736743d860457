"""Numeric / in / exists filters: the RE2 pattern, the local test and plain maths agree."""

from __future__ import annotations

import functools
import re
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from frankenws import InvalidArgument
from frankenws._ranges import (
    MAX_REGEX_DIGITS,
    NEVER,
    compile_numeric,
    in_filter,
    int_range_regex,
    is_number,
)

re2 = pytest.importorskip("re2")

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern, _OPTIONS)


def server_finds(pattern: str, stored: str) -> bool:
    """The server's ``regex`` operator: an unanchored RE2 search."""
    return _compiled(pattern).search(stored) is not None


# --------------------------------------------------------------- the oracle


def plain_number(stored: str) -> Fraction | None:
    """The documented number syntax, written independently of the module."""
    if not stored:
        return None
    sign = 1
    body = stored
    if body[0] in "+-":
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    integer, dot, fraction = body.partition(".")
    ascii_digits = set("0123456789")
    if not integer or not set(integer) <= ascii_digits:
        return None
    if dot and (not fraction or not set(fraction) <= ascii_digits):
        return None
    value = Fraction(int(integer))
    if fraction:
        value += Fraction(int(fraction), 10 ** len(fraction))
    return sign * value


def plain_compare(op: str, stored: str, bound: Fraction) -> bool:
    value = plain_number(stored)
    if value is None:
        return False
    return {
        "gt": value > bound,
        "gte": value >= bound,
        "lt": value < bound,
        "lte": value <= bound,
    }[op]


# ------------------------------------------------------------ strategies


def decimal_text(value: Fraction) -> str:
    """Plain decimal notation of a non-negative fraction whose denominator divides 10**k."""
    places = 0
    while 10**places % value.denominator:
        places += 1
    scaled = value.numerator * 10**places // value.denominator
    whole, frac = divmod(scaled, 10**places)
    return str(whole) + (f".{str(frac).rjust(places, '0')}" if places else "")


DIGITS = st.text("0123456789", min_size=1, max_size=4)


@st.composite
def numerals(draw: st.DrawFn, near: Fraction | None = None) -> str:
    """Number-shaped strings, often close to ``near``, with padding and signs."""
    if near is not None and draw(st.booleans()):
        deltas = [Fraction(d) for d in ("0", "0", "1", "-1", "1/10", "-1/100")]
        delta = draw(st.sampled_from(deltas))
        value = near + delta
        sign = "-" if value < 0 else draw(st.sampled_from(["", "+"]))
        text = decimal_text(abs(value))
        if draw(st.booleans()):
            # Shorter or longer digit strings around the bound: 2, 2.0, 2.051 near 2.05.
            whole, _, fraction = text.partition(".")
            variants = [whole] + [f"{whole}.{fraction[:k]}" for k in range(1, len(fraction))]
            text = draw(st.sampled_from(variants)) if draw(st.booleans()) else text
            extra = draw(st.sampled_from(["", "0", "1", "5", "9", "01", "00"]))
            if extra and "." not in text:
                text += "."
            text += extra
        if "." not in text and draw(st.booleans()):
            text += "." + "0" * draw(st.integers(1, 3))
        if draw(st.booleans()):
            text = "0" * draw(st.integers(1, 3)) + text
        if draw(st.booleans()) and "." in text:
            text += "0" * draw(st.integers(1, 2))
        return sign + text
    sign = draw(st.sampled_from(["", "", "-", "+"]))
    integer = draw(DIGITS)
    fraction = draw(st.one_of(st.just(""), DIGITS.map(lambda d: "." + d)))
    return sign + integer + fraction


JUNK = st.sampled_from(
    [
        "",
        " 5",
        "5 ",
        "1e3",
        "1E3",
        ".5",
        "5.",
        "-",
        "+",
        "+-1",
        "--1",
        "inf",
        "nan",
        "NaN",
        "1_000",
        "\u0663",  # ARABIC-INDIC DIGIT THREE: Python's float() would take it
        "\uff15",  # FULLWIDTH DIGIT FIVE
        "0x10",
        "1.2.3",
        "5\n",
        "\n5",
        "abc",
        "12abc",
        "1,5",
        "\t7",
    ]
)


@st.composite
def stored_values(draw: st.DrawFn, near: Fraction | None = None) -> str:
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return draw(JUNK)
    if choice == 1:
        # Mutate a numeral so that near-misses (a stray character) are tried too.
        base = draw(numerals(near))
        pos = draw(st.integers(0, len(base)))
        extra = draw(st.sampled_from([" ", "e", ".", "-", "+", "x", "\n", "0", "9"]))
        return base[:pos] + extra + base[pos:]
    if choice == 2:
        return draw(st.text(st.sampled_from("0123456789+-. e\n"), max_size=6))
    return draw(numerals(near))


@st.composite
def bounds(draw: st.DrawFn) -> tuple[str | int | float, Fraction]:
    """A bound as the caller writes it, and its exact value."""
    kind = draw(st.integers(0, 4))
    if kind == 0:
        n = draw(st.integers(-(10**35), 10**35) | st.integers(-120, 120))
        return n, Fraction(n)
    if kind == 1:
        n = draw(st.integers(-(10**6), 10**6))
        places = draw(st.integers(0, 4))
        whole, frac = divmod(abs(n), 10**places)
        text = ("-" if n < 0 else "") + str(whole)
        if places:
            text += "." + str(frac).rjust(places, "0")
        return text, Fraction(n, 10**places)
    if kind == 2:
        mantissa = draw(st.integers(-999, 999))
        exponent = draw(st.integers(-4, 4))
        text = f"{mantissa}e{exponent}"
        return text, Fraction(mantissa) * Fraction(10) ** exponent
    if kind == 3:
        x = draw(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
        return x, Fraction(repr(x))
    text = draw(st.sampled_from(["-0", "+0", "0.0", "007", "+.5", "-.25", "5.", " 3 ", "1E2"]))
    return text, Fraction(text)


# -------------------------------------------------------------- int_range_regex


def plain_in_range(stored: str, lo: int | None, hi: int | None) -> bool:
    if not stored or not set(stored) <= set("0123456789"):
        return False
    n = int(stored)
    return (lo is None or lo <= n) and (hi is None or n <= hi)


@st.composite
def int_strings(draw: st.DrawFn, anchors: tuple[int, ...]) -> str:
    near_anchor: bool = draw(st.booleans())
    if anchors and near_anchor:
        anchor: int = draw(st.sampled_from(list(anchors)))
        n = max(0, anchor + draw(st.integers(-11, 11)))
        return "0" * draw(st.integers(0, 2)) + str(n)
    return draw(st.one_of(DIGITS, JUNK, numerals()))


@settings(max_examples=400, deadline=None)
@given(
    lo=st.none() | st.integers(0, 10**4) | st.integers(0, 10**32),
    hi=st.none() | st.integers(0, 10**4) | st.integers(0, 10**32),
    data=st.data(),
)
@example(lo=0, hi=0, data=None)
@example(lo=None, hi=None, data=None)
@example(lo=5, hi=4, data=None)
def test_int_range_regex_equals_plain_range(lo: int | None, hi: int | None, data: Any) -> None:
    pattern = int_range_regex(lo, hi)
    _compiled(pattern)  # compiles under RE2
    anchors = tuple(x for x in (lo, hi) if x is not None)
    samples = ["0", "00", "7", "007", "10", "-0", "", "+5", "5.0"] + [
        prefix + str(x + d)
        for x in anchors
        for d in (-1, 0, 1)
        for prefix in ("", "0")
        if x + d >= 0
    ]
    if data is not None:
        samples += data.draw(st.lists(int_strings(anchors), max_size=20))
    for s in samples:
        assert server_finds(pattern, s) == plain_in_range(s, lo, hi), (lo, hi, s, pattern)


def test_int_range_regex_is_compact_for_big_numbers() -> None:
    pattern = int_range_regex(10**30, 10**31 + 12345)
    assert len(pattern) < 400
    assert server_finds(pattern, str(10**30))
    assert server_finds(pattern, "000" + str(10**31 + 12345))
    assert not server_finds(pattern, str(10**31 + 12346))
    assert not server_finds(pattern, str(10**30 - 1))
    assert int_range_regex(10**30, None) == "^0*[1-9][0-9]{30,}$"


@pytest.mark.parametrize(
    ("lo", "hi", "match"),
    [(-1, None, ">= 0"), (None, -3, ">= 0"), (True, None, "integer"), (1.5, None, "integer")],
)
def test_int_range_regex_refuses_bad_bounds(lo: Any, hi: Any, match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        int_range_regex(lo, hi)


def test_int_range_regex_refuses_bounds_beyond_the_limit() -> None:
    with pytest.raises(InvalidArgument, match="below 10"):
        int_range_regex(10**MAX_REGEX_DIGITS, None)
    largest = 10**MAX_REGEX_DIGITS - 1
    pattern = int_range_regex(largest // 3, largest)
    assert server_finds(pattern, str(largest))
    assert not server_finds(pattern, str(largest // 3 - 1))


# ------------------------------------------------------------- compile_numeric


@settings(max_examples=600, deadline=None)
@given(op=st.sampled_from(["gt", "gte", "lt", "lte"]), bound=bounds(), data=st.data())
def test_numeric_regex_and_local_match_equal_plain_maths(
    op: str, bound: tuple[str | int | float, Fraction], data: Any
) -> None:
    written, value = bound
    flt = compile_numeric(op, written)
    whole, _, fraction = decimal_text(abs(value)).partition(".")
    # Only bounds with too many digits (tiny floats such as 5e-300) go without a pattern.
    has_pattern = len(whole) <= MAX_REGEX_DIGITS and len(fraction) <= MAX_REGEX_DIGITS
    assert (flt.regex is not None) == has_pattern
    if flt.regex is not None:
        _compiled(flt.regex)
    stored = data.draw(st.lists(stored_values(value), min_size=1, max_size=25))
    for s in stored:
        expected = plain_compare(op, s, value)
        assert flt.matches(s) == expected, (op, written, s)
        if flt.regex is not None:
            assert server_finds(flt.regex, s) == expected, (op, written, s, flt.regex)


@pytest.mark.parametrize(
    ("op", "bound", "yes", "no"),
    [
        ("lt", "10", ["-5", "3.7", "9.999", "-0", "0009", "+9"], ["10", "10.0", "10.01", "1e0"]),
        ("gte", "3", ["3", "3.0", "003", "+3", "4.5", "1000"], ["2.999", "-3", " 3", "3."]),
        ("gt", "2.5", ["2.51", "2.500001", "3", "10"], ["2.5", "2.50", "2.4999", "-3"]),
        ("lte", "-1.05", ["-1.05", "-1.050", "-1.06", "-2"], ["-1.04", "-1", "0", "1.05"]),
        ("gt", "0", ["0.0001", "1", "+1"], ["0", "-0", "0.000", "-0.1"]),
        ("gte", "0", ["0", "-0", "-0.00", "5"], ["-0.01", "-1"]),
        ("lt", "0", ["-0.01", "-1"], ["0", "-0", "-0.0", "0.1"]),
        ("lte", "0", ["0", "-0", "-7", "+0.0"], ["0.01", "1"]),
        ("gt", "1e3", ["1000.5", "1001"], ["1000", "999.99"]),
        ("gt", "2.05", ["2.051", "2.06", "2.1", "3"], ["2.05", "2.050", "2.0", "2", "2.049"]),
        ("gte", "2.05", ["2.05", "2.0500", "2.051", "2.1"], ["2.0", "2", "2.049", "2.04999"]),
        ("lt", "2.05", ["2.0", "2", "2.049", "2.04999", "-2.1"], ["2.05", "2.050", "2.051"]),
        ("lte", "2.05", ["2.05", "2.0500", "2.0", "2"], ["2.051", "2.06", "2.1"]),
        ("gte", "-0.5", ["-0.5", "-0.49", "-0", "0.1", "-0.50"], ["-0.51", "-1"]),
        ("gte", 10**30, [str(10**30), str(10**31)], [str(10**30 - 1), f"{10**30 - 1}.99"]),
        ("lt", 0.1, ["0.09", "0.0999999999999"], ["0.1", "0.10000000000000000001"]),
    ],
)
def test_numeric_examples(op: str, bound: Any, yes: list[str], no: list[str]) -> None:
    flt = compile_numeric(op, bound)
    assert flt.regex is not None
    for s in yes:
        assert flt.matches(s), s
        assert server_finds(flt.regex, s), s
    for s in no:
        assert not flt.matches(s), s
        assert not server_finds(flt.regex, s), s


def test_huge_bounds_fall_back_to_local_comparison() -> None:
    tiny = compile_numeric("gt", "1e-150")
    assert tiny.regex is None
    assert tiny.matches("0." + "0" * 149 + "2")
    assert not tiny.matches("0." + "0" * 150 + "9")
    huge = compile_numeric("lt", "1e999999999")
    assert huge.regex is None
    assert huge.matches("9" * 5000)
    assert compile_numeric("gt", "1e-100").regex is not None
    assert compile_numeric("gt", "-1e-100").regex is not None
    assert compile_numeric("gt", "1e-101").regex is None
    assert compile_numeric("gt", "1e100").regex is None
    assert compile_numeric("gt", "1e99").regex is not None
    at_limit = compile_numeric("gte", "9" * MAX_REGEX_DIGITS + "." + "9" * MAX_REGEX_DIGITS)
    assert at_limit.regex is not None
    _compiled(at_limit.regex)
    assert server_finds(at_limit.regex, "1" + "0" * MAX_REGEX_DIGITS)


@given(
    whole=st.text("0123456789", min_size=MAX_REGEX_DIGITS, max_size=MAX_REGEX_DIGITS),
    fraction=st.text("0123456789", min_size=MAX_REGEX_DIGITS, max_size=MAX_REGEX_DIGITS),
    negative=st.booleans(),
    data=st.data(),
)
@settings(max_examples=20, deadline=None)
def test_bounds_at_the_digit_limit_get_a_correct_pattern(
    whole: str, fraction: str, negative: bool, data: Any
) -> None:
    written = ("-" if negative else "") + whole + "." + fraction
    value = Fraction(written)
    for op in ("gt", "gte", "lt", "lte"):
        flt = compile_numeric(op, written)
        assert flt.regex is not None
        stored = data.draw(st.lists(numerals(value), min_size=10, max_size=10))
        for s in [written, written + "0", written[:-1], *stored]:
            expected = plain_compare(op, s, value)
            assert flt.matches(s) == expected
            assert server_finds(flt.regex, s) == expected, (op, written, s)


@pytest.mark.parametrize(
    "value", ["", "abc", "1e", "--1", "nan", "inf", "1_000", "0x10", "\u0663", "1.2.3", "e3"]
)
def test_compile_numeric_refuses_bad_values(value: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(repr(value)) + ".*such as 3, -2, 2.5"):
        compile_numeric("gt", value)


@pytest.mark.parametrize(
    ("op", "value", "match"),
    [
        ("GT", "3", "unknown numeric operator"),
        ("eq", "3", "unknown numeric operator"),
        ("gt", True, "bool"),
        ("gt", float("nan"), "finite"),
        ("gt", float("inf"), "finite"),
        ("gt", [3], "string or a number"),
        ("gt", "1e9999999999999999999", "out of range"),
    ],
)
def test_compile_numeric_refuses_bad_arguments(op: str, value: Any, match: str) -> None:
    with pytest.raises(InvalidArgument, match=match):
        compile_numeric(op, value)


@given(st.text(max_size=8))
def test_is_number_is_the_documented_syntax(s: str) -> None:
    assert is_number(s) == (plain_number(s) is not None)


# -------------------------------------------------------------------- in / exists


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.text(max_size=5), max_size=6),
    others=st.lists(st.text(max_size=5), max_size=6),
)
@example(values=[".", "a|b", "(", "\\", "[x]", "^$", "\x00", " ", "\n", "é", "🙂"], others=["a"])
def test_in_filter_equals_membership(values: list[str], others: list[str]) -> None:
    flt = in_filter(values)
    _compiled(flt.regex)
    for s in [*values, *others, *(v + "x" for v in values), *("\n" + v for v in values)]:
        expected = s in values
        assert flt.matches(s) == expected
        assert server_finds(flt.regex, s) == expected, (values, s, flt.regex)


def test_in_filter_empty_and_bad_input() -> None:
    empty = in_filter([])
    assert empty.regex == NEVER
    assert not server_finds(empty.regex, "")
    assert not empty.matches("")
    with pytest.raises(InvalidArgument, match="list"):
        in_filter("abc")
    with pytest.raises(InvalidArgument, match="strings"):
        in_filter([1])  # type: ignore[list-item]
    with pytest.raises(InvalidArgument, match="Unicode"):
        in_filter(["\ud800"])
