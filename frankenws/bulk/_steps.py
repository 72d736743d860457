"""What a bulk job does to each target: its steps, and the targets it reads.

A ``_Step`` is one kind of per-target request (a kill, a send); ``_Targets`` reads the
ids given to a bulk function, dropping duplicates, without holding a stream whole.
Strictly private.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from frankenws._calls import Call, calls
from frankenws._exceptions import InvalidArgument
from frankenws._models import Response
from frankenws._validate import payload_bytes, route_filter

from ._digests import DigestTable, digest

if TYPE_CHECKING:
    from ._context import _Context

__all__ = ["_Step", "_Targets", "_check_keep", "_kill_step", "_send_step"]


@dataclass(frozen=True, slots=True)
class _Step:
    """One kind of per-target request."""

    action: str
    make_call: Callable[[str], Call[Any]]
    classify: Callable[[Any], str]
    repeatable: bool
    """Safe to send again when an interrupted run may already have sent it (kills are)."""


def _kill_step() -> _Step:
    return _Step("kill", _kill_call, lambda ok: "done" if ok else "not_found", True)


_PLAIN_ID = re.compile(r"[A-Za-z0-9_-]+")
"""Ids that travel unchanged: in the path (nothing to percent-encode) and in Go's JSON
(nothing to escape). The server's own ids (hex, UUIDs) are all of this kind."""
_KILL = calls.kill_connection("x")
_KILL_PATH = _KILL.path[:-1]


def _kill_call(target: str) -> Call[bool]:
    """``calls.kill_connection(target)``, cheaper for plain ids.

    A bulk kill is one request per target, so building, checking and decoding it is a
    large share of the client's work: a plain id needs no encoding or check, and its
    answer is nearly always one exact body, compared instead of parsed. Anything else
    goes the general way (the tests check both give the same call and results).
    """
    if _PLAIN_ID.fullmatch(target) is None:
        return calls.kill_connection(target)
    killed = b'{"clientID":"' + target.encode() + b'","success":true}\n'
    return Call(
        _KILL.endpoint,
        _KILL.method,
        _KILL_PATH + target,
        _KILL.body,
        partial(_kill_answer, killed),
        _KILL.expected,
    )


def _kill_answer(killed: bytes, response: Response) -> bool:
    return response.body == killed or _KILL.decode(response)


def _send_step(action: str, data: str | bytes, route: str | None) -> _Step:
    payload = _checked_message(data, route)
    return _Step(action, lambda id: calls.send(id, payload, route), lambda _: "done", False)


def _checked_message(data: str | bytes, route: str | None) -> bytes:
    """A bulk message's payload, checked once before any target is touched."""
    if route is not None and "\x00" in route_filter(route):
        raise InvalidArgument("route must not contain NUL: the server cuts it there")
    return payload_bytes(data, allow_empty=False)


class _Targets:
    """The unique ids given to a bulk function, read as the job goes.

    A collection is checked whole when the function is called (an invalid id raises
    before anything is sent) and its unique ids are the job's total. A one-shot iterator
    (a generator, a file) is read as the job goes, not ahead: each id is checked as it is
    read (an invalid one stops the job once the requests in flight are answered, with
    every earlier target in the report and the journal) and the total grows as ids are
    read.

    Duplicates are dropped through a :class:`DigestTable` of the ids' 128-bit digests,
    not a set of the ids: about 35 bytes per unique id, whatever the ids' length, and
    no string kept from a stream (see ``_digests`` for the odds that two distinct ids
    share a digest: 1.5e-27 for a million ids).
    """

    def __init__(self, ids: Iterable[str]) -> None:
        self._ids = ids
        self._unsent: DigestTable | None = None
        if isinstance(ids, Collection):
            unsent = DigestTable(expected=len(ids))
            add = unsent.add_id
            for value in ids:
                if not isinstance(value, str) or not value:
                    _check_id(value)
                add(value)
            self._unsent = unsent

    def stream(self, ctx: _Context) -> Iterator[str]:
        unsent = self._unsent
        if unsent is not None:
            ctx.total += len(unsent)
            for value in self._ids:
                if unsent.put(digest(value), _SENT) != _SENT:  # later copies are not sent
                    yield value
            return
        # A stream that knows about how many ids it holds (length_hint, e.g. the CLI's
        # spooled ids) gets a table of its size at once: growing it costs ~1 µs an id.
        expected = min(operator.length_hint(self._ids, 0), _MOST_EXPECTED)
        seen = DigestTable(expected=expected).add_id
        for value in self._ids:
            if not isinstance(value, str) or not value:
                _check_id(value)
            if seen(value):
                ctx.total += 1
                yield value


_MOST_EXPECTED = 1 << 22
"""A length hint above this (4M ids, a 140 MB table) is not trusted to size the table
up front: past it, the table grows as the ids come."""

_SENT = 2
"""The value of an id of a collection once it is sent (1: checked, not sent yet)."""


def _check_id(value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidArgument(f"every target id must be a non-empty string, got {value!r}")


def _check_keep(keep: int | None) -> None:
    if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int) or keep < 0):
        raise InvalidArgument(f"keep_outcomes must be None or an integer >= 0, got {keep!r}")
