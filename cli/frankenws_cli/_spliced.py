"""JSON documents holding arrays too big to hold: written item by item.

``--json`` of a bulk job of a million targets prints one outcome per target; the CLI
reads them back from disk as it writes them (:class:`Streamed`), so the document is never
one string, nor one list. Strictly private; ``_output`` writes every document.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

__all__ = ["Streamed", "holds_streamed", "write_spliced"]


class Streamed:
    """A JSON array in a result's ``data`` whose items are made as it is written.

    A bulk job's outcomes: a million of them are read back from disk one at a time and
    written, never held as one list. Only ``--json`` writes it (see :func:`_write_json`).
    """

    def __init__(self, items: Callable[[], Iterable[Any]]) -> None:
        self._items = items

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items())


def holds_streamed(data: dict[str, Any]) -> bool:
    return any(
        isinstance(v, Streamed) or (isinstance(v, dict) and holds_streamed(v))
        for v in data.values()
    )


def write_spliced(data: dict[str, Any], out: IO[str], dump: Callable[[Any], str]) -> None:
    """``data`` with its :class:`Streamed` arrays written item by item.

    The document is dumped with a random placeholder string where each array goes, then
    written piece by piece with the arrays' items in place of the placeholders: the same
    text as ``json.dumps`` of the whole, but for the escaping of values that are not
    valid UTF-8, decided per item instead of for the whole document.
    """
    import secrets  # here: the common commands never write such a document

    token = "\x00" + secrets.token_hex(16)
    arrays: list[Streamed] = []

    def placed(value: dict[str, Any]) -> dict[str, Any]:
        copy: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, Streamed):
                copy[key] = f"{token}{len(arrays)}"
                arrays.append(item)
            else:
                copy[key] = placed(item) if isinstance(item, dict) else item
        return copy

    text = dump(placed(data))
    for index, array in enumerate(arrays):
        before, _, text = text.partition(json.dumps(f"{token}{index}"))
        out.write(before + "[")
        chunk: list[str] = []
        for number, item in enumerate(array):
            chunk.append(("," if number else "") + dump(item))
            if len(chunk) >= 1000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk) + "]")
    out.write(text + "\n")
