"""Tag expressions with the semantics the upstream docs promise, evaluated client-side.

The server does not parse its own expression language (PROTOCOL §8.2): it substitutes
``true``/``false`` by substring replacement and evaluates with a few string splits, so
precedence is inverted, chains of three operands are always false, a leading ``*`` never
matches and so on. This module parses the documented language properly so the SDK can
either send an expression the server gets right (:func:`is_server_safe`) or evaluate it
locally from tag membership.

Language
--------
::

    or    := and ('|' and)*
    and   := unary ('&' unary)*
    unary := '!' unary | atom
    atom  := '(' or ')' | NAME

* Precedence ``()`` > ``!`` > ``&`` > ``|``; ``&`` and ``|`` are associative.
* Whitespace (anything ``str.isspace()`` accepts) between tokens is ignored; it also
  ends a name, so ``a b`` is an error, not the tag ``ab`` the server would read.
* NAME is a maximal run of characters that are neither whitespace nor one of ``!&|()``:
  ``room-42``, ``user:1``, ``é``, ``*admin`` and ``*`` are names.
* ``&&`` and ``||`` are refused (the server would evaluate them as always false); the
  message says to write ``&`` and ``|``.
* Errors raise :class:`ExpressionSyntaxError` (an :class:`~frankenws.InvalidArgument`)
  whose message and ``position`` attribute give the **0-based** index, in the string as
  passed, of the offending character (``len(expression)`` for "end of expression").

Matching a name against a connection's tags
-------------------------------------------
A name without ``*`` matches a tag equal to it (case-sensitive, no normalisation). A
name with ``*`` is an anchored glob: ``*`` matches any run of characters, possibly
empty, **except a newline** (``\\n``), every other character is literal. Excluding the
newline is what the server's glob does, so an expression gives the same answer whether
the server or this module evaluates it. Since names cannot contain whitespace, a tag
containing a newline matches no name of an expression at all (other whitespace, such
as a tab, is matched by ``*`` like any character).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from ._exceptions import ExpressionSyntaxError, InvalidArgument

__all__ = [
    "And",
    "Expr",
    "ExpressionSyntaxError",
    "MAX_DEPTH",
    "Not",
    "Or",
    "Tag",
    "expand",
    "is_server_safe",
    "is_wildcard",
    "matches",
    "names",
    "parse",
]

MAX_DEPTH = 100
"""Nesting limit for ``(`` and ``!``; keeps parsing and evaluation far from Python's
recursion limit."""

_OPERATORS = frozenset("!&|()")


# --------------------------------------------------------------------------- AST


class Expr(ABC):
    """A parsed tag expression.

    ``str(expr)`` renders it in the language with the fewest parentheses that keep the
    tree, so ``parse(str(e)) == e`` for every tree :func:`parse` returns (``And``/``Or``
    with at least two operands, nesting within :data:`MAX_DEPTH`).
    """

    __slots__ = ()

    def evaluate(self, tags: Collection[str]) -> bool:
        """Whether a connection holding exactly ``tags`` satisfies the expression."""
        if isinstance(tags, str):
            # A str is a Collection[str] of characters: surely a mistake for [tag].
            raise InvalidArgument(f"tags must be a collection of tags, not the string {tags!r}")
        tag_set = tags if isinstance(tags, AbstractSet) else frozenset(tags)
        return self._eval(tag_set)

    @abstractmethod
    def _eval(self, tags: AbstractSet[str]) -> bool: ...

    @abstractmethod
    def _walk(self) -> Iterator[Tag]: ...

    @abstractmethod
    def _render(self) -> str: ...

    def __str__(self) -> str:
        return self._render()


@dataclass(frozen=True)
class Tag(Expr):
    """A tag name, possibly with ``*`` wildcards."""

    pattern: str

    def __post_init__(self) -> None:
        # Refusing unrepresentable names keeps parse(str(expr)) == expr.
        if not isinstance(self.pattern, str) or not self.pattern:
            raise InvalidArgument(f"a tag name must be a non-empty string, got {self.pattern!r}")
        bad = next((c for c in self.pattern if c.isspace() or c in _OPERATORS), None)
        if bad is not None:
            raise InvalidArgument(
                f"tag name {self.pattern!r} contains {bad!r}; names in tag expressions "
                "cannot contain whitespace or any of ! & | ( )"
            )

    def _eval(self, tags: AbstractSet[str]) -> bool:
        if "*" not in self.pattern:
            return self.pattern in tags
        return any(matches(self.pattern, tag) for tag in tags)

    def _walk(self) -> Iterator[Tag]:
        yield self

    def _render(self) -> str:
        return self.pattern


@dataclass(frozen=True)
class Not(Expr):
    """``!operand``."""

    operand: Expr

    def _eval(self, tags: AbstractSet[str]) -> bool:
        return not self.operand._eval(tags)

    def _walk(self) -> Iterator[Tag]:
        return self.operand._walk()

    def _render(self) -> str:
        inner = self.operand._render()
        return f"!{inner}" if isinstance(self.operand, (Tag, Not)) else f"!({inner})"


@dataclass(frozen=True, init=False)
class And(Expr):
    """``a & b & ...``; true when every operand is (so ``And()`` is true)."""

    operands: tuple[Expr, ...]

    def __init__(self, *operands: Expr) -> None:
        object.__setattr__(self, "operands", operands)

    def _eval(self, tags: AbstractSet[str]) -> bool:
        return all(op._eval(tags) for op in self.operands)

    def _walk(self) -> Iterator[Tag]:
        for op in self.operands:
            yield from op._walk()

    def _render(self) -> str:
        # A nested And keeps its parentheses so that parsing the text gives this tree back.
        return "&".join(
            f"({op._render()})" if isinstance(op, (And, Or)) else op._render()
            for op in self.operands
        )


@dataclass(frozen=True, init=False)
class Or(Expr):
    """``a | b | ...``; true when some operand is (so ``Or()`` is false)."""

    operands: tuple[Expr, ...]

    def __init__(self, *operands: Expr) -> None:
        object.__setattr__(self, "operands", operands)

    def _eval(self, tags: AbstractSet[str]) -> bool:
        return any(op._eval(tags) for op in self.operands)

    def _walk(self) -> Iterator[Tag]:
        for op in self.operands:
            yield from op._walk()

    def _render(self) -> str:
        return "|".join(
            f"({op._render()})" if isinstance(op, Or) else op._render() for op in self.operands
        )


def names(expr: Expr) -> set[str]:
    """The distinct tag patterns the expression mentions (wildcards unexpanded)."""
    return {tag.pattern for tag in expr._walk()}


# ------------------------------------------------------------------------- globs


def is_wildcard(pattern: str) -> bool:
    """Whether the name contains ``*`` (and so needs expanding against the known tags)."""
    return "*" in pattern


def matches(pattern: str, tag: str) -> bool:
    """Whether ``tag`` matches the name ``pattern`` (exactly, or as an anchored glob)."""
    if "*" not in pattern:
        return pattern == tag
    if "\n" in tag or "\n" in pattern:
        # '*' never spans a newline, so the i-th newline of the tag can only be matched by
        # the i-th (literal) newline of the pattern: match line by line.
        pattern_lines, tag_lines = pattern.split("\n"), tag.split("\n")
        return len(pattern_lines) == len(tag_lines) and all(
            _glob(p, t) for p, t in zip(pattern_lines, tag_lines, strict=True)
        )
    return _glob(pattern, tag)


def _glob(pattern: str, tag: str) -> bool:
    """Anchored glob without newlines: ``*`` matches any run of characters."""
    if "*" not in pattern:
        return pattern == tag
    first, *middle, last = pattern.split("*")
    if len(tag) < len(first) + len(last):
        return False
    if not (tag.startswith(first) and tag.endswith(last)):
        return False
    # Leftmost placement of each middle piece is optimal: '*' absorbs anything.
    pos, end = len(first), len(tag) - len(last)
    for piece in middle:
        found = tag.find(piece, pos, end)
        if found < 0:
            return False
        pos = found + len(piece)
    return True


def expand(pattern: str, all_tags: Iterable[str]) -> set[str]:
    """The tags of ``all_tags`` that ``pattern`` matches (for a plain name: itself, if present)."""
    return {tag for tag in all_tags if matches(pattern, tag)}


# ------------------------------------------------------------------------ parser


@dataclass(frozen=True)
class _Token:
    kind: str  # "name", "end", or the operator character itself
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _OPERATORS:
            tokens.append(_Token(ch, ch, i))
            i += 1
        else:
            j = i + 1
            while j < n and not text[j].isspace() and text[j] not in _OPERATORS:
                j += 1
            tokens.append(_Token("name", text[i:j], i))
            i = j
    tokens.append(_Token("end", "", n))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.index]

    def fail(self, message: str, pos: int) -> ExpressionSyntaxError:
        return ExpressionSyntaxError(
            f"{message} in tag expression {self.text!r}", expression=self.text, position=pos
        )

    def parse(self) -> Expr:
        if self.tok.kind == "end":
            raise self.fail(
                f"empty expression: expected a tag name at position {self.tok.pos} "
                "(end of expression)",
                self.tok.pos,
            )
        expr = self.parse_or(0)
        if self.tok.kind != "end":
            raise self.unexpected(None)
        return expr

    def parse_or(self, depth: int) -> Expr:
        parts = [self.parse_and(depth)]
        while self.tok.kind == "|":
            self.index += 1
            parts.append(self.parse_and(depth))
        return parts[0] if len(parts) == 1 else Or(*parts)

    def parse_and(self, depth: int) -> Expr:
        parts = [self.parse_unary(depth)]
        while self.tok.kind == "&":
            self.index += 1
            parts.append(self.parse_unary(depth))
        return parts[0] if len(parts) == 1 else And(*parts)

    def parse_unary(self, depth: int) -> Expr:
        tok = self.tok
        if tok.kind in ("!", "(") and depth >= MAX_DEPTH:
            raise self.fail(
                f"expression nested too deeply at position {tok.pos} "
                f"(more than {MAX_DEPTH} levels of '(' and '!')",
                tok.pos,
            )
        if tok.kind == "!":
            self.index += 1
            return Not(self.parse_unary(depth + 1))
        if tok.kind == "(":
            self.index += 1
            inner = self.parse_or(depth + 1)
            if self.tok.kind != ")":
                raise self.unexpected(tok)
            self.index += 1
            return inner
        if tok.kind == "name":
            self.index += 1
            return Tag(tok.text)
        raise self.expected_name()

    def expected_name(self) -> ExpressionSyntaxError:
        tok = self.tok
        if tok.kind == "end":
            return self.fail(
                f"expected a tag name at position {tok.pos} (end of expression)", tok.pos
            )
        message = f"expected a tag name at position {tok.pos}, found {tok.text!r}"
        prev = self.tokens[self.index - 1] if self.index else None
        if prev is not None and prev.kind == tok.kind and tok.kind in ("&", "|"):
            message += " ('&&' and '||' are not operators: use & for AND and | for OR)"
        return self.fail(message, tok.pos)

    def unexpected(self, opening: _Token | None) -> ExpressionSyntaxError:
        """A complete operand was followed by something other than & or |."""
        tok = self.tok
        if opening is not None and tok.kind == "end":
            return self.fail(
                f"expected ')' at position {tok.pos} (end of expression) to close "
                f"'(' at position {opening.pos}",
                tok.pos,
            )
        if tok.kind == ")":
            return self.fail(f"unexpected ')' at position {tok.pos} (no matching '(')", tok.pos)
        close = "')', " if opening is not None else ""
        if tok.kind == "name":
            return self.fail(
                f"unexpected tag name {tok.text!r} at position {tok.pos}: expected {close}"
                "& or | (tag names cannot contain whitespace)",
                tok.pos,
            )
        return self.fail(
            f"unexpected {tok.text!r} at position {tok.pos}: expected {close}& or |", tok.pos
        )


def parse(expression: str) -> Expr:
    """Parse a tag expression; raise :class:`ExpressionSyntaxError` when it is malformed."""
    if not isinstance(expression, str):
        raise InvalidArgument(f"a tag expression must be a string, got {type(expression).__name__}")
    return _Parser(expression).parse()


# ------------------------------------------------------------ server safe subset

# PROTOCOL §8.4, applied to the string after the server deletes its spaces.
_NAME = r"[A-Za-z_][A-Za-z0-9_*]*"
_LIT = rf"!?{_NAME}"
_GROUP = rf"!?\({_LIT}(?:\|{_LIT})?\)"
_SAFE = re.compile(
    "|".join(
        [
            rf"{_LIT}(?:\|{_LIT})?",
            rf"!?\({_LIT}(?:[&|]{_LIT})?\)",
            # C1: a group on the left of '&' only with a plain literal on the right.
            rf"{_LIT}&(?:{_LIT}|{_GROUP})",
            rf"{_GROUP}&{_LIT}",
        ]
    )
)
_NAME_RE = re.compile(_NAME)
# The server deletes spaces before tokenising, so a space inside a name would join two
# names into one that this parser never sees.
_JOINED_BY_SPACE = re.compile(r"[A-Za-z0-9_*] +[A-Za-z0-9_*]")


def is_server_safe(expression: str) -> bool:
    """Whether the server evaluates ``expression`` exactly as :func:`parse` does.

    True only for the safe subset of PROTOCOL §8.4 as written by the caller: its grammar,
    constraint C1 (no parenthesised operand on both sides of ``&``) and C2 (no name is a
    substring of another distinct name, nor of ``true``/``false``), ASCII spaces between
    tokens. Anything else, including other whitespace the server would trim, is False.
    """
    if not isinstance(expression, str) or _JOINED_BY_SPACE.search(expression):
        return False
    cleaned = expression.replace(" ", "")
    if not _SAFE.fullmatch(cleaned):
        return False
    found = set(_NAME_RE.findall(cleaned))
    # C2: the server replaces names by plain substring replacement.
    for name in found:
        if name in "true" or name in "false":
            return False
        if any(name != other and name in other for other in found):
            return False
    return True
