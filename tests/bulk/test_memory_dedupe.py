"""Dropping duplicate targets without holding every id: exact, and small per id.

The bulk functions remember which ids they have seen through a table of 128-bit digests
(``frankenws.bulk._digests``), not a set of the ids; these tests check it sends each
distinct id exactly once, whatever the ids look like, and that its memory per id stays
small however long the ids are.
"""

from __future__ import annotations

import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import pytest

from frankenws import bulk
from frankenws.bulk._digests import DigestTable, digest
from frankenws.bulk._steps import _Targets
from frankenws.testing import FakeFrankenPHP

PREFIX = "tenant-0123456789abcdef/" * 20
"""Ids that differ only after a long common prefix (a 480-character one)."""

ODD_IDS = [
    PREFIX + "a",
    PREFIX + "b",
    PREFIX + "ab",
    "é",
    "e\u0301",  # the same letter, decomposed: a distinct id
    "日本語-接続",
    "emoji-\U0001f600",
    "line\u2028separator",
    "a",
    "A",
]


def _kills(fake: FakeFrankenPHP) -> Counter[str]:
    from urllib.parse import unquote

    return Counter(
        unquote(raw.target.rsplit("/", 1)[1])
        for raw, _ in fake.calls
        if "/killConnection/" in raw.target
    )


@pytest.mark.parametrize("shape", ["list", "stream"])
def test_each_distinct_id_is_killed_exactly_once(shape):
    fake = FakeFrankenPHP()
    ids = [fake.connect(id=value) for value in ODD_IDS]
    given = [*ids, *reversed(ids), ids[0], PREFIX + "a", "e\u0301"]
    totals: list[int] = []
    with fake.client() as ws:
        report = bulk.kill_connections(
            ws,
            given if shape == "list" else iter(given),
            concurrency=3,
            progress=lambda done, total: totals.append(total),
        )
        assert ws.get_clients() == []
    assert sorted(report.done) == sorted(ODD_IDS)
    assert len(report.outcomes) == len(ODD_IDS)
    assert _kills(fake) == Counter(ODD_IDS)
    assert totals[-1] == len(ODD_IDS)
    if shape == "list":  # a list is counted whole before the first kill
        assert set(totals) == {len(ODD_IDS)}


def test_a_list_keeps_its_order_and_sends_the_first_copy():
    fake = FakeFrankenPHP()
    ids = [fake.connect() for _ in range(5)]
    seen: list[str] = []
    with fake.client() as ws:
        bulk.kill_connections(
            ws,
            [ids[2], ids[0], ids[2], ids[4]],
            concurrency=1,
            on_outcome=lambda o: seen.append(o.target),
        )
    assert seen == [ids[2], ids[0], ids[4]]


class _Job:
    total = 0


def _long_ids(count: int) -> Iterator[str]:
    for number in range(count):
        yield f"{PREFIX[:200]}{number:08d}"


def _streamed(make: Callable[[], Iterable[str]]) -> tuple[int, int, int]:
    """(ids passed on, the job's total, peak bytes allocated) of reading ``make()``
    through the bulk functions' duplicate filter (what it makes is counted too)."""
    job = _Job()
    tracemalloc.start()
    try:
        passed = sum(1 for _ in _Targets(make()).stream(job))  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return passed, job.total, peak


def test_a_stream_of_long_ids_costs_a_few_dozen_bytes_per_id():
    """Structural: the bytes allocated while 100,000 ids of 208 characters stream through
    (a set of them would hold about 270 bytes per id). The table holds 18 to 46 bytes
    per id, and while it doubles, the old one too."""
    count = 100_000
    passed, total, peak = _streamed(lambda: _long_ids(count))
    assert passed == total == count
    assert peak / count < 80


def test_a_list_is_checked_in_a_table_of_a_few_dozen_bytes_per_id():
    ids = list(_long_ids(100_000))
    passed, total, peak = _streamed(lambda: ids + ids[:1000])
    assert passed == len(ids) == total
    # The copied list (8 bytes per id) plus the table; a set would add ~30 per id.
    assert peak / len(ids) < 8 + 48


def test_the_table_grows_and_keeps_every_value():
    table = DigestTable()
    keys = [digest(f"id-{n}") for n in range(5000)]
    for n, key in enumerate(keys):
        assert table.put(key, n % 250 + 1) == 0
    assert len(table) == 5000
    assert all(table.get(key) == n % 250 + 1 for n, key in enumerate(keys))
    assert table.get(digest("id-5000")) == 0
    assert table.add(keys[0]) is False
    assert table.nbytes / len(table) < 50
    wide = DigestTable(wide=True)
    wide.put(keys[0], 60_000)
    assert wide.get(keys[0]) == 60_000


class _Hinted:
    """A one-shot stream that says how many ids it holds (as the CLI's spooled ids do)."""

    def __init__(self, count: int) -> None:
        self._ids = _long_ids(count)
        self._count = count

    def __iter__(self) -> _Hinted:
        return self

    def __next__(self) -> str:
        return next(self._ids)

    def __length_hint__(self) -> int:
        return self._count


def test_a_stream_with_a_length_hint_gets_its_table_sized_once():
    """No doubling, so no moment with the old and the new table both held: 90,000 ids
    fit 131,072 slots of 17 bytes (25 B per id; growing into them peaks at 37)."""
    count = 90_000
    passed, total, peak = _streamed(lambda: _Hinted(count))
    assert passed == count == total
    assert peak / count < 30
