"""Numeric and ``in`` filters for stored information, as RE2 patterns.

The server's ``searchStoredInformation`` only knows ten string operators (PROTOCOL §9).
The SDK adds ``gt``, ``gte``, ``lt``, ``lte``, ``in`` and ``exists``. ``exists`` is a
plain ``prefix ""`` search (``_calls``); the others are translated here into one
``regex`` search whenever an anchored RE2 pattern accepts exactly the stored strings
the filter means, so the search stays a single request. Each filter also
has :meth:`matches`, the local definition, used when ``regex`` is ``None`` (and by the
tests as the oracle the pattern must agree with).

What counts as a number
-----------------------
A stored value is a number iff it matches ``[+-]?[0-9]+(\\.[0-9]+)?`` in full: an
optional sign, one or more ASCII digits (leading zeros allowed: ``007`` is 7), and an
optional dot followed by one or more digits. Its value is the exact decimal it writes
(``-0`` and ``0.00`` are zero; no float rounding, ``10**30 + 1`` differs from
``10**30``). Everything else is *not a number* and satisfies no numeric comparison:
surrounding whitespace, exponents (``1e3``), ``.5``, ``5.``, ``inf``, ``nan``, ``1_000``,
non-ASCII digits, the empty string. The syntax is deliberately one that a regular
expression can compare against a bound; with exponents it would have to count digits
against the exponent, which no regular expression can do.

The bound of a comparison is more liberal, because it is an argument rather than stored
data: ``3``, ``-2``, ``2.5``, ``+.5``, ``1e3``, ``-1.5E-2`` (Python ``int``/``float``
also accepted, a float through its ``repr``), compared exactly; whitespace around it
is ignored.

Patterns are built for RE2 and Go ``regexp`` (``$`` is the end of the text there,
unlike Python's ``re`` where it also matches before a final newline). They use digit
classes and counted repetitions per digit position, so their size grows with the number
of digits of the bound, not its value. Bounds with more than :data:`MAX_REGEX_DIGITS`
digits before or after the point get ``regex = None``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

from ._exceptions import InvalidArgument
from ._validate import EXTRA_OPERATORS, NUMERIC_OPERATORS

__all__ = [
    "EXTRA_OPERATORS",
    "InFilter",
    "MAX_REGEX_DIGITS",
    "NEVER",
    "NUMERIC_OPERATORS",
    "NumericFilter",
    "StoredValueFilter",
    "compile_numeric",
    "in_filter",
    "int_range_regex",
    "is_number",
]

MAX_REGEX_DIGITS = 100
"""Bounds with more digits on either side of the point get no pattern.

A pattern nests one group per digit of the bound and is a few kilobytes at this size;
Go's regexp refuses nesting deeper than 1000 and repetition counts above 1000.
"""

NEVER = r"[^\x00-\x{10FFFF}]"
"""An RE2 pattern that matches no string (an empty character class)."""

_NUMBER = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]+))?")
_BOUND = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_BOUND_FORMS = "an integer or decimal number such as 3, -2, 2.5 or 1e3"

# Regex fragments over a magnitude "digits[.digits]"; None stands for "never".
_ANY_FRACTION = r"(?:\.[0-9]+)?"
_ZERO_FRACTION = r"(?:\.0+)?"
_NONZERO_FRACTION = r"\.0*[1-9][0-9]*"
_ANY_MAGNITUDE = r"[0-9]+" + _ANY_FRACTION


class StoredValueFilter(Protocol):
    """What the search needs from a filter: a pattern (or None) and the local test."""

    @property
    def regex(self) -> str | None: ...

    def matches(self, stored: str) -> bool: ...


def is_number(stored: str) -> bool:
    """Whether a stored value counts as a number (see the module docstring)."""
    return _NUMBER.fullmatch(stored) is not None


# ------------------------------------------------------------ integer ranges


def _repeat_digit(count: int) -> str:
    if count == 0:
        return ""
    return "[0-9]" if count == 1 else f"[0-9]{{{count}}}"


def _digit_class(low: int, high: int) -> str:
    if low == high:
        return str(low)
    return f"[{low}-{high}]"


def _alternation(parts: Iterable[str | None]) -> str | None:
    present = [part for part in parts if part is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else "(?:" + "|".join(present) + ")"


def _at_least(digits: str) -> str:
    """Digit strings of the same length that are >= ``digits``."""
    if not digits.strip("0"):
        return _repeat_digit(len(digits))
    head, rest = int(digits[0]), digits[1:]
    if not rest:
        return _digit_class(head, 9)
    higher = f"{_digit_class(head + 1, 9)}{_repeat_digit(len(rest))}" if head < 9 else None
    same = f"{head}{_at_least(rest)}"
    return _alternation([same, higher]) or ""


def _at_most(digits: str) -> str:
    """Digit strings of the same length that are <= ``digits``."""
    if not digits.strip("9"):
        return _repeat_digit(len(digits))
    head, rest = int(digits[0]), digits[1:]
    if not rest:
        return _digit_class(0, head)
    lower = f"{_digit_class(0, head - 1)}{_repeat_digit(len(rest))}" if head > 0 else None
    same = f"{head}{_at_most(rest)}"
    return _alternation([lower, same]) or ""


def _same_length_span(low: str, high: str) -> str:
    """Digit strings of one length between ``low`` and ``high`` (inclusive, low <= high)."""
    common = 0
    while common < len(low) and low[common] == high[common]:
        common += 1
    if common == len(low):
        return low
    prefix = low[:common]
    a, b = int(low[common]), int(high[common])
    low_rest, high_rest = low[common + 1 :], high[common + 1 :]
    width = len(low_rest)
    # Whole-decade ends fold into the middle digit class instead of a branch of their own.
    low_full = not low_rest.strip("0")
    high_full = not high_rest.strip("9")
    middle_low = a if low_full else a + 1
    middle_high = b if high_full else b - 1
    parts: list[str | None] = []
    if not low_full:
        parts.append(f"{a}{_at_least(low_rest)}")
    if middle_low <= middle_high:
        parts.append(f"{_digit_class(middle_low, middle_high)}{_repeat_digit(width)}")
    if not high_full:
        parts.append(f"{b}{_at_most(high_rest)}")
    return prefix + (_alternation(parts) or "")


def _repeat_between(least: int, most: int | None) -> str:
    if most is None:
        return {0: "[0-9]*", 1: "[0-9]+"}.get(least, f"[0-9]{{{least},}}")
    if least == most:
        return _repeat_digit(least)
    return f"[0-9]{{{least},{most}}}"


def _canonical_range(low: int, high: int | None) -> str | None:
    """Canonical decimals (no leading zeros; ``0`` itself) of the integers in [low, high]."""
    if high is not None and low > high:
        return None
    parts: list[str | None] = []
    if low == 0:
        parts.append("0")
        if high == 0:
            return "0"
        low = 1
    low_len = len(str(low))
    high_len = low_len if high is None else len(str(high))
    # Lengths whose every number is in range collapse into one counted repetition.
    run_start: int | None = None
    for length in range(low_len, high_len + 1):
        start = max(low, 10 ** (length - 1))
        stop = 10**length - 1 if high is None else min(high, 10**length - 1)
        if start == 10 ** (length - 1) and stop == 10**length - 1:
            if run_start is None:
                run_start = length
            continue
        if run_start is not None:
            parts.append("[1-9]" + _repeat_between(run_start - 1, length - 2))
            run_start = None
        parts.append(_same_length_span(str(start), str(stop)))
    if high is None:
        first = run_start if run_start is not None else low_len + 1
        parts.append("[1-9]" + _repeat_between(first - 1, None))
    elif run_start is not None:
        parts.append("[1-9]" + _repeat_between(run_start - 1, high_len - 1))
    return _alternation(parts)


def _padded_range(low: int, high: int | None) -> str | None:
    """Digit strings, leading zeros allowed, whose value is in [low, high]."""
    if low == 0 and high is None:
        return "[0-9]+"
    canonical = _canonical_range(low, high)
    if canonical is None:
        return None
    # "0*" in front of the canonical "0" accepts "00"; in front of [1-9] any padding.
    return "0*" + canonical


def int_range_regex(lo: int | None, hi: int | None) -> str:
    """An anchored RE2 pattern for the integers ``lo <= n <= hi`` (None: unbounded).

    It matches strings of one or more ASCII digits, leading zeros allowed (``007`` is 7),
    without sign, point or whitespace: the non-negative integers of the number syntax
    the numeric filters use. An empty range gives :data:`NEVER`. Bounds must be below
    ``10**MAX_REGEX_DIGITS``.
    """
    low = 0 if lo is None else _non_negative(lo, "lo")
    high = None if hi is None else _non_negative(hi, "hi")
    for bound in (low, high):
        if bound is not None and bound >= 10**MAX_REGEX_DIGITS:
            raise InvalidArgument(
                f"int_range_regex bounds must be below 10**{MAX_REGEX_DIGITS}, got {bound}"
            )
    body = _padded_range(low, high)
    return NEVER if body is None else f"^{body}$"


def _non_negative(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{what} must be an integer or None, got {value!r}")
    if value < 0:
        raise InvalidArgument(f"{what} must be >= 0, got {value}")
    return value


# ----------------------------------------------------------- fraction digits


def _fraction_above(digits: str, *, inclusive: bool) -> str:
    """Fraction digit strings F (non-empty) with 0.F > 0.digits (>= when inclusive).

    ``digits`` is non-empty and has no trailing zero, so every proper suffix is positive.
    """
    head, rest = int(digits[0]), digits[1:]
    if not rest and inclusive:
        return f"{_digit_class(head, 9)}[0-9]*"
    higher = f"{_digit_class(head + 1, 9)}[0-9]*" if head < 9 else None
    # With nothing left of `digits`, F = digits + zeros is equal: a non-zero digit must follow.
    same = f"{head}{_fraction_above(rest, inclusive=inclusive)}" if rest else f"{head}0*[1-9][0-9]*"
    return _alternation([same, higher]) or ""


def _fraction_below(digits: str, *, inclusive: bool) -> str:
    """Fraction digit strings F (non-empty) with 0.F < 0.digits (<= when inclusive).

    Never empty: ``digits`` ends with a non-zero digit, so some F is below it.
    """
    head, rest = int(digits[0]), digits[1:]
    lower = f"{_digit_class(0, head - 1)}[0-9]*" if head > 0 else None
    if rest:
        # Stopping after `head` is below, since the rest of `digits` is positive.
        same: str | None = f"{head}(?:{_fraction_below(rest, inclusive=inclusive)})?"
    else:
        same = f"{head}0*" if inclusive else None
    return _alternation([lower, same]) or ""


# ----------------------------------------------------------------- magnitudes


def _join(*pieces: str | None) -> str | None:
    if any(piece is None for piece in pieces):
        return None
    return "".join(piece for piece in pieces if piece is not None)


def _magnitude(op: str, integer: int, fraction: str) -> str | None:
    """Unsigned numerals ``digits[.digits]`` whose value compares ``op`` to the bound.

    The bound is ``integer`` + 0.``fraction`` (``fraction`` without trailing zeros).
    """
    above = _padded_range(integer + 1, None)
    below = _padded_range(0, integer - 1) if integer > 0 else None
    equal = _padded_range(integer, integer)
    if not fraction:
        if op == "gt":
            return _alternation([_join(above, _ANY_FRACTION), _join(equal, _NONZERO_FRACTION)])
        if op == "gte":
            return _join(_padded_range(integer, None), _ANY_FRACTION)
        if op == "lt":
            return _join(below, _ANY_FRACTION)
        return _alternation([_join(below, _ANY_FRACTION), _join(equal, _ZERO_FRACTION)])
    if op in ("gt", "gte"):
        frac = _fraction_above(fraction, inclusive=op == "gte")
        return _alternation([_join(above, _ANY_FRACTION), _join(equal, r"\.", frac)])
    # Without a fraction the value is `integer`, which is below the bound.
    frac_below = _fraction_below(fraction, inclusive=op == "lte")
    return _alternation([_join(below, _ANY_FRACTION), _join(equal, rf"(?:\.{frac_below})?")])


_MIRROR = {"gt": "lt", "gte": "lte", "lt": "gt", "lte": "gte"}


def _split_bound(bound: Decimal) -> tuple[int, str] | None:
    """|bound| as (integer part, fraction digits without trailing zeros), if small enough."""
    _, digit_tuple, exponent = bound.as_tuple()
    assert isinstance(exponent, int)  # finite: _parse_bound refused inf and nan
    digits = "".join(map(str, digit_tuple))
    if exponent > MAX_REGEX_DIGITS or -exponent > MAX_REGEX_DIGITS + len(digits):
        return None
    if exponent >= 0:
        integer_digits, fraction = digits + "0" * exponent, ""
    else:
        padded = digits.rjust(-exponent, "0")
        integer_digits, fraction = padded[:exponent], padded[exponent:]
    integer_digits = integer_digits.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    if len(integer_digits) > MAX_REGEX_DIGITS or len(fraction) > MAX_REGEX_DIGITS:
        return None
    return int(integer_digits), fraction


def _numeric_regex(op: str, bound: Decimal) -> str | None:
    split = _split_bound(bound)
    if split is None:
        return None
    integer, fraction = split
    negative_bound = bound < 0
    # Positive numerals are >= 0 and negative ones <= 0, so against a bound of the other
    # sign each side is all or nothing; against one of the same sign, -m op b is
    # m (mirrored op) |b|.
    if negative_bound:
        positive = _ANY_MAGNITUDE if op in ("gt", "gte") else None
    else:
        positive = _magnitude(op, integer, fraction)
    if bound > 0:
        negative = _ANY_MAGNITUDE if op in ("lt", "lte") else None
    else:
        negative = _magnitude(_MIRROR[op], integer, fraction)
    body = _alternation([_join(r"\+?", positive), _join("-", negative)])
    return NEVER if body is None else f"^{body}$"


# -------------------------------------------------------------------- filters


@dataclass(frozen=True)
class NumericFilter:
    """``gt``/``gte``/``lt``/``lte`` against an exact decimal bound."""

    op: str
    bound: Decimal
    regex: str | None

    def matches(self, stored: str) -> bool:
        """Whether ``stored`` is a number (module docstring) comparing true to the bound."""
        if not isinstance(stored, str) or _NUMBER.fullmatch(stored) is None:
            return False
        value = Decimal(stored)
        if self.op == "gt":
            return value > self.bound
        if self.op == "gte":
            return value >= self.bound
        if self.op == "lt":
            return value < self.bound
        return value <= self.bound


def _parse_bound(value: object) -> Decimal:
    if isinstance(value, bool):
        raise InvalidArgument(f"a numeric search value cannot be a bool, got {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidArgument(f"numeric search value must be finite, got {value!r}")
        # repr gives the shortest text that round-trips: 0.1 means 0.1, not 0.1000000000000000055.
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise InvalidArgument(
            f"numeric search value must be a string or a number, got {type(value).__name__}"
        )
    text = value.strip()
    if not _BOUND.fullmatch(text):
        raise InvalidArgument(f"numeric search value {value!r} is not {_BOUND_FORMS}")
    try:
        return Decimal(text)
    except InvalidOperation:  # an exponent beyond what decimal can represent
        raise InvalidArgument(f"numeric search value {value!r} is out of range") from None


def compile_numeric(op: str, value: str | int | float) -> NumericFilter:
    """A filter for ``stored op value``; ``regex`` is None only for very long bounds."""
    if op not in NUMERIC_OPERATORS:
        raise InvalidArgument(
            f"unknown numeric operator {op!r}; expected one of {', '.join(NUMERIC_OPERATORS)}"
        )
    bound = _parse_bound(value)
    return NumericFilter(op=op, bound=bound, regex=_numeric_regex(op, bound))


@dataclass(frozen=True)
class InFilter:
    """The stored value equals one of ``values`` (byte-exact, like ``eq``)."""

    values: frozenset[str]
    regex: str

    def matches(self, stored: str) -> bool:
        return stored in self.values


def _re2_literal(text: str) -> str:
    out: list[str] = []
    for ch in text:
        if ch.isascii() and (ch.isalnum() or ch == "_"):
            out.append(ch)
        elif ch.isascii() and ch.isprintable() and ch != " ":
            out.append("\\" + ch)
        else:
            # Hex escapes keep controls, spaces and non-ASCII readable in logs and URLs.
            out.append(f"\\x{{{ord(ch):x}}}")
    return "".join(out)


def in_filter(values: Iterable[str]) -> InFilter:
    """``stored in values``; an empty list matches nothing (the regex is :data:`NEVER`)."""
    if isinstance(values, (str, bytes)):
        raise InvalidArgument("in expects a list of values, not a single string")
    items = list(values)
    for item in items:
        if not isinstance(item, str):
            raise InvalidArgument(f"in values must be strings, got {type(item).__name__}")
        try:
            item.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidArgument(f"in value {item!r} is not valid Unicode") from None
    distinct = sorted(set(items))
    if not distinct:
        return InFilter(values=frozenset(), regex=NEVER)
    body = "|".join(_re2_literal(item) for item in distinct)
    return InFilter(values=frozenset(distinct), regex=f"^(?:{body})$")
