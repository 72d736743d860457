"""Resuming from a journal of any size: compact state, the same decisions as before.

The resumed journal is read line by line into tables of id digests (``JournalState``);
these tests check that a large journal resumes exactly as recorded, that its state costs
a few dozen bytes per target, that fleet jobs still send a target to the node the
journal placed it on, and that odd lines (ids with line separators, a torn last line
that a resume appends after) resume again.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
from cluster_support import serve_fleet

import frankenws
from frankenws import bulk
from frankenws.bulk._journal import load_journal
from frankenws.testing import FakeFrankenPHP

HEADER = {"journal": "frankenws-bulk", "version": 1, "job": "kill", "server": "x"}
STAMP = "2026-12-01T10:00:00.000+00:00"


def _write(path: Path, records: list[dict[str, object]], tail: str = "") -> None:
    with path.open("w", encoding="utf-8") as file:
        for record in [HEADER, *records]:
            file.write(json.dumps(record, ensure_ascii=False) + "\n")
        file.write(tail)


def _line(target: str, status: str, action: str = "kill", **extra: object) -> dict[str, object]:
    return {"time": STAMP, "action": action, "target": target, "status": status, **extra}


def test_a_large_journal_resumes_exactly_as_recorded(tmp_path):
    """50,000 recorded targets, each status and some targets seen twice; a resume over a
    sample of them skips exactly those done or not found by their last line."""
    count = 50_000
    statuses = ["done", "not_found", "failed", "uncertain", "not_attempted"]
    records = [_line(f"conn-{n:06d}", statuses[n % 5]) for n in range(count)]
    # A failure later retried and done, and a done one later... failed (the last wins).
    records += [_line("conn-000002", "done"), _line("conn-000000", "failed")]
    journal = tmp_path / "kill.jsonl"
    _write(journal, records, tail='{"time": "2026-12-01T10:0')  # torn

    state = load_journal(journal)
    assert len(state.last) == count
    assert state.last[("kill", "conn-000002")] == "done"
    assert state.last.get(("kill", "conn-000000")) == "failed"
    assert state.last.get(("kill", "conn-999999")) is None
    assert state.last.get(("send", "conn-000001")) is None
    listed = dict(state.last.items())
    assert len(listed) == count
    assert listed[("kill", "conn-000002")] == "done"

    fake = FakeFrankenPHP()
    sample = [f"conn-{n:06d}" for n in range(0, count, 499)] + ["conn-000002", "new-one"]
    for target in sample:
        fake.connect(id=target)
    with fake.client() as ws:
        report = bulk.kill_connections(ws, sample, resume=journal)
    last = {target: status for (_, target), status in listed.items()}
    expected_skips = {t for t in sample if last.get(t) in ("done", "not_found")}
    assert set(report.skipped) == expected_skips
    assert set(report.done) == set(sample) - expected_skips
    assert "conn-000002" in expected_skips
    assert "conn-000000" not in expected_skips


def test_a_loaded_journal_costs_a_few_dozen_bytes_per_target(tmp_path):
    """Structural: what loading 40,000 lines allocates at its peak (a dict of (action,
    target) tuples and their strings held about 250 bytes per target)."""
    count = 40_000
    journal = tmp_path / "kill.jsonl"
    _write(journal, [_line(f"{'x' * 40}-{n:08d}", "done", node="node-a") for n in range(count)])
    tracemalloc.start()
    try:
        state = load_journal(journal)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(state.last) == len(state.nodes) == count
    # Two tables (statuses, nodes) of 17-18 bytes per slot, one of them doubling.
    assert peak / count < 150


def test_ids_with_line_separators_resume(tmp_path):
    """The journal writes U+2028 and U+0085 as they are; only ``\\n`` ends its lines."""
    odd = ["a\u2028b", "c\x85d", "e\u2029f"]
    fake = FakeFrankenPHP()
    for target in odd:
        fake.connect(id=target)
    journal = tmp_path / "kill.jsonl"
    with fake.client() as ws:
        first = bulk.kill_connections(ws, odd[:2], journal=journal)
        assert sorted(first.done) == sorted(odd[:2])
        fake.connect(id=odd[0])  # back again: a resume must still skip it
        second = bulk.kill_connections(ws, odd, resume=journal)
    assert sorted(second.skipped) == sorted(odd[:2])
    assert second.done == [odd[2]]


def test_a_resume_cuts_a_torn_last_line_off_before_appending(tmp_path):
    """A run that died mid-line left a torn last line; the resume cuts it off before
    appending, so the journal resumes again (glued to the resume's first line, it would
    be a line in the middle that is not JSON, and refused)."""
    fake = FakeFrankenPHP()
    ids = [fake.connect() for _ in range(3)]
    journal = tmp_path / "kill.jsonl"
    _write(journal, [_line(ids[0], "done")], tail='{"time": "2026-12-01T10:00:0')
    with fake.client() as ws:
        first = bulk.kill_connections(ws, ids[:2], resume=journal)
        assert (first.skipped, first.done) == ([ids[0]], [ids[1]])
        second = bulk.kill_connections(ws, ids, resume=journal)
    assert sorted(second.skipped) == sorted(ids[:2])
    assert second.done == [ids[2]]


def test_a_line_in_the_middle_that_is_not_json_is_still_refused(tmp_path):
    journal = tmp_path / "kill.jsonl"
    done = json.dumps(_line("a", "done")).encode()
    header = json.dumps(HEADER).encode()
    journal.write_bytes(header + b'\n{"broken\n' + done + b"\n")
    with pytest.raises(frankenws.InvalidArgument, match="line 2 is not JSON"):
        load_journal(journal)
    journal.write_bytes(header + b"\n\xff\xfe\n" + done + b"\n")
    with pytest.raises(frankenws.InvalidArgument, match="line 2 is not JSON"):
        load_journal(journal)


def test_a_last_line_torn_inside_a_character_is_ignored(tmp_path):
    """A process killed mid-write may cut a UTF-8 character in two."""
    journal = tmp_path / "kill.jsonl"
    done = json.dumps(_line("a", "done")).encode()
    torn = '{"time": "' + STAMP + '", "action": "kill", "target": "\u00e9'
    cut = torn.encode()[:-1]  # the first of the two bytes of the last character
    journal.write_bytes(json.dumps(HEADER).encode() + b"\n" + done + b"\n" + cut)
    assert load_journal(journal).handled("kill", "a")


def test_a_fleet_resume_sends_each_target_to_the_node_the_journal_names(tmp_path):
    """A node that cannot be listed any more: its targets go where the journal placed
    them (and are refused there), not failed as "cannot tell which node holds it"."""
    with serve_fleet(3) as fleet:
        ids = [fake.connect("/chat") for fake in fleet.fakes]
        urls = fleet.urls
        journal = tmp_path / "kill.jsonl"
        records = [_line(conn, "failed", node=url) for conn, url in zip(ids, urls, strict=True)]
        records += [_line(f"other-{n}", "done", node=urls[n % 3]) for n in range(2000)]
        _write(journal, records)
        state = load_journal(journal)
        assert state.nodes[ids[1]] == urls[1]
        assert len(state.nodes) == 2003
        listed = list(state.nodes)  # read back from the journal, each target once
        assert len(listed) == 2003
        assert set(ids) <= set(listed)
        fleet.servers[1].close()
        with frankenws.Cluster(urls, timeout=2) as cluster:
            report = bulk.kill_connections(cluster, [*ids, "stray"], resume=journal)
    by_target = {o.target: o for o in report.outcomes}
    assert (by_target[ids[0]].status, by_target[ids[0]].node) == ("done", urls[0])
    assert (by_target[ids[2]].status, by_target[ids[2]].node) == ("done", urls[2])
    refused = by_target[ids[1]]
    assert (refused.status, refused.node) == ("failed", urls[1])
    assert "cannot tell" not in (refused.error or "")
    assert "cannot tell which node holds" in (by_target["stray"].error or "")


def test_a_resume_of_settled_targets_holds_none_of_their_outcomes(tmp_path):
    """Targets the journal settles take no request: their outcomes are flushed (journal,
    then ``on_outcome``) in batches, not held until the job yields to its loop."""
    count = 30_000
    journal = tmp_path / "kill.jsonl"
    _write(journal, [_line(f"conn-{n:06d}", "done") for n in range(count)])
    seen = 0

    def counted(outcome: bulk.Outcome) -> None:
        nonlocal seen
        seen += 1

    fake = FakeFrankenPHP()
    with fake.client() as ws:
        targets = (f"conn-{n:06d}" for n in range(count))
        tracemalloc.start()
        try:
            report = bulk.kill_connections(
                ws, targets, resume=journal, keep_outcomes=0, on_outcome=counted
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert report.counts()["skipped"] == seen == count
    # The journal's table and the duplicate table, ~60 B each at their peak; an Outcome
    # held for each target, with its id, adds ~160 B.
    assert peak / count < 180
