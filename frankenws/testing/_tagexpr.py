"""The upstream tag-expression matcher, bugs included (PROTOCOL.md §8.2, Appendix A).

Upstream does not parse the language it documents. It substitutes ``true``/``false``
for every name by plain substring replacement, doubles the operators, and evaluates
the result with a handful of string splits. The fake must answer exactly like that,
so this module reproduces each step, not the documented semantics; the names say so
(``upstream_matches``, ``substitute_names``, ``evaluate_split``), unlike the SDK's
``_expr``, which implements real boolean logic.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

__all__ = [
    "CompiledExpression",
    "clean_expression",
    "compile_expression",
    "evaluate_split",
    "go_trim_space",
    "substitute_names",
    "upstream_matches",
]

# Go's unicode.IsSpace, which strings.TrimSpace uses.
_GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

# Upstream's token regexp; ASCII-only, so running it on str or on bytes is the same.
_TOKEN = re.compile(r"[a-zA-Z_][a-zA-Z0-9_*]*")


def go_trim_space(text: str) -> str:
    """Go's ``strings.TrimSpace`` (Python's ``strip()`` knows other spaces)."""
    start, end = 0, len(text)
    while start < end and text[start] in _GO_SPACE:
        start += 1
    while end > start and text[end - 1] in _GO_SPACE:
        end -= 1
    return text[start:end]


def clean_expression(expression: str) -> str:
    """Step 1: trim, then delete every ASCII space. ``""`` means *blank*."""
    return go_trim_space(expression).replace(" ", "")


@functools.lru_cache(maxsize=256)
def _glob(token: str) -> re.Pattern[str]:
    # Upstream quotes the token and turns each "*" into ".*" ('.' stops at newlines).
    return re.compile(".*".join(re.escape(part) for part in token.split("*")))


def _truth(token: str, tags: Collection[str] | None) -> bool:
    if not tags:
        return False
    if "*" in token:
        pattern = _glob(token)
        return any(pattern.fullmatch(tag) for tag in tags)
    return token in tags


def substitute_names(clean: str, tags: Collection[str] | None) -> str:
    """Step 3: replace each token, in order of appearance, everywhere it occurs.

    The replacement runs on the working string, which already holds earlier
    ``true``/``false`` words; that is the substring-corruption bug of §8.3.
    """
    working = clean
    for token in _TOKEN.findall(clean):
        working = working.replace(token, "true" if _truth(token, tags) else "false")
    return working


def evaluate_split(working: str) -> bool:
    """Step 5, the split-based evaluator, on a string whose operators are doubled.

    Written as a loop for the two rules that only strip characters, so deeply nested
    parentheses do not hit Python's recursion limit where Go's growing stacks cope.
    The splitting rules recurse at most a few levels: a piece never contains the
    separator it was split on.
    """
    negate = False
    expr = working
    while True:
        if expr.startswith("!"):
            rest = expr[1:]
            if rest == "true":
                return negate
            if rest == "false":
                return not negate
            if rest.startswith("(") and rest.endswith(")"):
                expr = rest[1:-1]
                negate = not negate
                continue
        if expr.startswith("(") and expr.endswith(")"):
            expr = expr[1:-1]
            continue
        break
    for separator, combine in (("&&", all), ("||", any)):
        if separator in expr:
            parts = expr.split(separator)
            if len(parts) == 2:
                left = evaluate_split(go_trim_space(parts[0]))
                right = evaluate_split(go_trim_space(parts[1]))
                return combine((left, right)) != negate
    return (expr == "true") != negate


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    """An expression cleaned once, evaluated per connection."""

    source: str
    clean: str

    @property
    def blank(self) -> bool:
        """Upstream's parse error: the route answers ``[]`` / sends nothing."""
        return not self.clean

    def working_string(self, tags: Collection[str] | None) -> str:
        """The expanded string with doubled operators, as handed to the evaluator."""
        return substitute_names(self.clean, tags).replace("&", "&&").replace("|", "||")

    def matches(self, tags: Collection[str] | None) -> bool:
        """Whether a connection with this tag set (``None``: no tag set) matches."""
        if self.blank:
            return False
        return evaluate_split(self.working_string(tags))


def compile_expression(expression: str) -> CompiledExpression:
    """Prepare ``expression`` (already decoded twice by the route)."""
    return CompiledExpression(expression, clean_expression(expression))


def upstream_matches(expression: str, tags: Sequence[str] | Collection[str] | None) -> bool | None:
    """One-shot helper: ``None`` for a blank expression, else the match result."""
    compiled = compile_expression(expression)
    if compiled.blank:
        return None
    return compiled.matches(tags)
