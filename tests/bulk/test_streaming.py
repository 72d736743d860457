"""Bulk jobs of any size: targets read as the job goes, bounded reports, cheap kills.

Through the public functions, against the fake in-process and over loopback (where the
engine sends through its HTTP/1.1 lane).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import frankenws
from frankenws import bulk
from frankenws.testing import FakeFrankenPHP
from frankenws.testing._http import RawRequest, RawResponse


@pytest.fixture
def fake() -> FakeFrankenPHP:
    return FakeFrankenPHP()


def test_a_stream_of_ids_is_read_as_the_job_goes(fake):
    """A generator is not drained up front: the job reads ahead only what it sends."""
    ids = [fake.connect() for _ in range(60)]
    read = 0
    ahead: list[int] = []

    def stream() -> Iterator[str]:
        nonlocal read
        for conn in ids:
            read += 1
            yield conn

    def progress(completed: int, total: int) -> None:
        ahead.append(read - completed)

    with fake.client() as ws:
        report = bulk.kill_connections(ws, stream(), concurrency=4, progress=progress)
    assert sorted(report.done) == sorted(ids)
    assert read == 60
    # At most the 4 in flight (and the one being recorded) were read beyond those done.
    assert max(ahead) <= 5


def test_a_stream_drops_duplicates_and_counts_what_it_read(fake):
    a, b = fake.connect(), fake.connect()
    totals: list[int] = []
    with fake.client() as ws:
        report = bulk.kill_connections(
            ws, iter([a, b, a, b, a]), concurrency=1, progress=lambda d, t: totals.append(t)
        )
    assert sorted(report.done) == sorted([a, b])
    assert len(report.outcomes) == 2
    assert totals[-1] == 2


def test_an_invalid_id_in_a_stream_stops_the_job_after_what_came_before(fake, tmp_path):
    """A list is refused whole before anything is sent; a stream cannot be, so it stops
    where the bad id is, with every earlier target killed and journaled."""
    good = [fake.connect() for _ in range(3)]
    journal = tmp_path / "j"
    with fake.client() as ws:
        with pytest.raises(frankenws.InvalidArgument, match="non-empty string"):
            bulk.kill_connections(ws, [*good, ""], journal=journal)
        assert sorted(ws.get_clients()) == sorted(good)  # a list: nothing was sent
        with pytest.raises(frankenws.InvalidArgument, match="non-empty string"):
            bulk.kill_connections(ws, iter([*good, ""]), concurrency=1, journal=journal)
        assert ws.get_clients() == []
    lines = [json.loads(line) for line in journal.read_text().splitlines()[1:]]
    assert sorted(r["target"] for r in lines if r["status"] == "done") == sorted(good)


def test_keep_outcomes_bounds_the_report_and_keeps_the_counts(fake, tmp_path):
    ids = [fake.connect() for _ in range(25)]
    gone = [f"gone-{n}" for n in range(7)]
    journal = tmp_path / "j"
    announced: list[bulk.Outcome] = []
    with fake.client() as ws:
        report = bulk.kill_connections(
            ws,
            ids + gone,
            keep_outcomes=3,
            journal=journal,
            on_outcome=announced.append,
        )
    assert len(report.outcomes) == 6  # 3 done, 3 not found
    assert report.counts()["done"] == 25
    assert report.counts()["not_found"] == 7
    assert report.omitted == {("kill", "done", None): 22, ("kill", "not_found", None): 4}
    assert report.ok  # nothing failed: not_found is not a failure
    assert report.summary() == "kill: kill: 25 done, 7 not found, 0 failed"
    data = report.to_dict()
    assert data["counts"]["done"] == 25
    assert data["omitted"] == 26
    assert len(data["outcomes"]) == 6
    # The full record is elsewhere: every outcome reached on_outcome and the journal.
    assert len(announced) == 32
    assert len(journal.read_text().splitlines()) == 33


def test_keep_outcomes_zero_still_reports_a_failure(fake):
    """Counting without keeping must not hide that something went wrong."""
    with fake.client() as ws:
        report = bulk.send_messages(ws, ["nobody"], "hi", keep_outcomes=0)
        assert report.outcomes == []
        assert report.ok
    broken = FakeFrankenPHP()
    conn = broken.connect()
    with broken.serve() as server:
        url = server.admin_url
    with frankenws.Client(url, timeout=1) as ws:  # the server is gone: connect failures
        report = bulk.kill_connections(ws, [conn, "x", "y"], keep_outcomes=0)
    assert report.outcomes == []
    assert report.counts()["failed"] == 3
    assert not report.ok


@pytest.mark.parametrize("keep", [-1, 1.5, True, "3"])
def test_keep_outcomes_is_checked(fake, keep):
    with fake.client() as ws, pytest.raises(frankenws.InvalidArgument, match="keep_outcomes"):
        bulk.kill_connections(ws, ["a"], keep_outcomes=keep)


def test_the_cheap_kill_path_answers_as_the_sdk_does(fake):
    """Plain ids take a shortcut (no encoding, answers compared, not parsed); any other
    id, and any other answer, takes the general path: both agree with the SDK."""
    odd = ["a b", "ü/ß", "x.y", "%41", "~tilde"]
    plain = [fake.connect() for _ in range(3)] + ["plain-ID_9"]
    for conn in [*odd, "plain-ID_9"]:
        fake.connect(id=conn)
    with fake.serve() as server, frankenws.Client(server.admin_url) as ws:
        report = bulk.kill_connections(ws, [*plain, *odd, "gone-1", "gone ü"])
        assert report.sender == "http1"
        assert ws.get_clients() == []
    assert sorted(report.done) == sorted(plain + odd)
    assert sorted(report.not_found) == ["gone ü", "gone-1"]


def _watch_sends(fake: FakeFrankenPHP, journal: Path) -> list[tuple[str, str]]:
    """Note, as each send reaches the fake's admin port, what the journal already holds."""
    seen: list[tuple[str, str]] = []
    listening_on = fake.handler.listening_on

    def watched(port: int) -> Any:
        answer = listening_on(port)

        class Port:
            def route(self, raw: RawRequest) -> object:
                return answer.route(raw)

            def route_reads_body(self, routed: object) -> bool:
                return answer.route_reads_body(routed)

            def respond(self, raw: RawRequest, routed: object) -> RawResponse:
                if "/send/" in raw.target:
                    seen.append((raw.target, journal.read_text()))
                return answer.respond(raw, routed)

        return Port()

    fake.handler.listening_on = watched  # type: ignore[method-assign]
    return seen


def test_a_send_is_journaled_before_it_leaves(fake, tmp_path):
    """Journal lines are flushed once per loop turn, but a send's "started" line (and
    every line before it) is on disk before its request reaches the server."""
    journal = tmp_path / "j"
    seen = _watch_sends(fake, journal)
    ids = [fake.connect() for _ in range(12)]
    with fake.serve() as server, frankenws.Client(server.admin_url) as ws:
        report = bulk.send_messages(ws, ids, "hi", concurrency=4, journal=journal)
    assert report.sender == "http1"
    assert sorted(report.done) == sorted(ids)
    assert len(seen) == 12
    for target, text in seen:
        started = {
            r["target"] for r in map(json.loads, text.splitlines()[1:]) if r["status"] == "started"
        }
        assert target.rpartition("/send/")[2].partition("?")[0] in started


def test_a_finished_job_does_not_format_its_report(fake, monkeypatch):
    """asyncio.run formats its main task's result on the way out (Python 3.11): for a
    report, the repr of every outcome, twice, for nothing."""
    formatted: list[bulk.Outcome] = []

    def counted(self: bulk.Outcome) -> str:
        formatted.append(self)
        return "Outcome(...)"

    monkeypatch.setattr(bulk.Outcome, "__repr__", counted)
    ids = [fake.connect() for _ in range(5)]
    with fake.serve() as server, frankenws.Client(server.admin_url) as ws:
        report = bulk.kill_connections(ws, ids)
    assert len(report.done) == 5
    assert formatted == []
