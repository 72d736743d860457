"""The bulk engine: per-target outcomes, concurrency, journal and resume."""

from __future__ import annotations

import json

import pytest

import frankenws
from frankenws import bulk
from frankenws.testing import FakeFrankenPHP


@pytest.fixture
def fake() -> FakeFrankenPHP:
    return FakeFrankenPHP()


def test_kill_many_inprocess(fake):
    """Every id gets an outcome; unknown ids are not_found, duplicates handled once."""
    ids = [fake.connect("/chat") for _ in range(20)]
    with fake.client() as ws:
        report = bulk.kill_connections(ws, [*ids, "ghost-id", ids[0]], concurrency=4)
        assert sorted(report.done) == sorted(ids)
        assert report.not_found == ["ghost-id"]
        assert report.failed == []
        assert report.ok
        assert ws.get_clients() == []
    assert str(report) == "kill: 20 done, 1 not found, 0 failed"
    assert (
        report.summary("frankenws kill") == "frankenws kill: kill: 20 done, 1 not found, 0 failed"
    )
    assert report.counts()["done"] == 20
    # a custom transport (the in-process fake) rules out the HTTP/1.1 lane
    assert report.sender == "httpx-threads"


def test_kill_many_over_loopback_uses_fast_lane(fake):
    """Against a real URL the engine's HTTP/1.1 lane carries the kills, same results."""
    ids = [fake.connect("/chat") for _ in range(50)]
    progress: list[tuple[int, int]] = []
    with fake.serve() as server, server.client() as ws:
        report = bulk.kill_connections(
            ws, ids, concurrency=8, progress=lambda d, t: progress.append((d, t))
        )
        assert sorted(report.done) == sorted(ids)
        assert ws.get_clients_count() == 0
    assert report.sender == "http1"
    assert progress[-1] == (50, 50)
    assert [d for d, _ in progress] == list(range(1, 51))


async def test_async_flavour(fake):
    """With an AsyncClient the same function returns a coroutine."""
    ids = [fake.connect() for _ in range(5)]
    async with fake.async_client() as ws:
        report = await bulk.kill_connections(ws, ids)
        assert sorted(report.done) == sorted(ids)
        assert await ws.get_clients() == []
    assert report.sender == "httpx-async"


def test_each_outcome_is_announced_as_it_is_recorded(fake, tmp_path):
    """on_outcome sees every outcome once, after its journal line is written (lines
    finished in the same turn of the event loop are written together)."""
    ids = sorted(fake.connect() for _ in range(6))
    journal = tmp_path / "j"
    seen: list[tuple[bulk.Outcome, list[str]]] = []

    def on_outcome(outcome: bulk.Outcome) -> None:
        written = [json.loads(line) for line in journal.read_text().splitlines()[1:]]
        seen.append((outcome, [record["target"] for record in written]))

    with fake.client() as ws:
        report = bulk.kill_connections(
            ws, [*ids, "gone"], concurrency=2, journal=journal, on_outcome=on_outcome
        )
    assert [outcome for outcome, _ in seen] == report.outcomes
    assert all(outcome.target in written for outcome, written in seen)
    assert len(journal.read_text().splitlines()) == 8  # header + one line each


def test_a_dead_server_stops_the_run(fake, tmp_path):
    """When the server goes away mid-run, a few connection failures in a row stop the
    job: the rest is journaled as not attempted (not thousands of failures) for a resume."""
    ids = [fake.connect() for _ in range(20)]
    server = fake.serve()
    ws = frankenws.Client(server.admin_url, timeout=2)
    journal = tmp_path / "j"

    def progress(done: int, total: int) -> None:
        if done == 4:
            server.close()

    report = bulk.kill_connections(ws, ids, concurrency=1, progress=progress, journal=journal)
    ws.close()
    assert len(report.done) == 4
    assert len(report.failed) == 5
    assert len(report.not_attempted) == 11
    assert report.stopped is not None
    assert "stopped answering" in report.stopped
    assert not report.ok
    assert report.to_dict()["counts"]["not_attempted"] == 11
    assert "11 not attempted" in report.summary()
    assert all(o.error for o in report.outcomes if o.status != "done")
    lines = [json.loads(line) for line in journal.read_text().splitlines()[1:]]
    assert sorted(r["target"] for r in lines if r["status"] == "not_attempted") == sorted(
        report.not_attempted
    )
    with fake.serve() as again, again.client() as ws2:
        second = bulk.kill_connections(ws2, ids, resume=journal)
    assert sorted(second.done) == sorted(report.failed + report.not_attempted)
    assert second.ok
    assert second.stopped is None


def test_journal_and_resume_exactly_once(fake, tmp_path):
    """An interrupted run resumed from its journal handles every target exactly once."""
    ids = sorted(fake.connect() for _ in range(30))
    journal = tmp_path / "kill.jsonl"
    server = fake.serve()
    ws = frankenws.Client(server.admin_url, timeout=2)

    def stop_half_way(done: int, total: int) -> None:
        if done == 12:
            server.close()

    first = bulk.kill_connections(ws, ids, concurrency=1, progress=stop_half_way, journal=journal)
    ws.close()
    assert len(first.done) == 12
    with fake.serve() as again, again.client() as ws2:
        second = bulk.kill_connections(ws2, ids, resume=journal)
        assert ws2.get_clients() == []
    assert sorted(second.skipped) == sorted(first.done)
    assert sorted(second.done) == sorted(first.failed + first.not_attempted)
    # every target killed exactly once over both runs, per the journal
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert lines[0]["journal"] == "frankenws-bulk"
    done = [r["target"] for r in lines[1:] if r["status"] == "done"]
    assert sorted(done) == ids


def test_in_flight_sends_are_not_repeated(fake, tmp_path):
    """A send recorded as started but never finished is reported uncertain, not resent."""
    a, b = fake.connect(), fake.connect()
    journal = tmp_path / "send.jsonl"
    journal.write_text(
        '{"journal":"frankenws-bulk","version":1,"job":"send","server":"x","created":"t"}\n'
        f'{{"time":"t","action":"send","target":"{a}","status":"started"}}\n'
    )
    with fake.client() as ws:
        report = bulk.send_messages(ws, [a, b], "hello", resume=journal)
    assert report.uncertain == [a]
    assert report.done == [b]
    assert fake.received(a) == []
    assert fake.received(b) == [b"hello"]


def test_resume_refuses_another_jobs_journal(fake, tmp_path):
    """Resuming a kill from a send journal is refused."""
    journal = tmp_path / "j"
    with fake.client() as ws:
        bulk.send_messages(ws, [fake.connect()], "x", journal=journal)
        with pytest.raises(frankenws.InvalidArgument, match="belongs to job 'send'"):
            bulk.kill_connections(ws, ["a"], resume=journal)
        with pytest.raises(frankenws.InvalidArgument, match="does not exist"):
            bulk.kill_connections(ws, ["a"], resume=tmp_path / "missing")
        with pytest.raises(frankenws.InvalidArgument, match="already records a 'send' job"):
            bulk.kill_connections(ws, ["a"], journal=journal)


def test_torn_last_line_is_ignored(fake, tmp_path):
    """A journal cut mid-line by a crash still resumes."""
    a = fake.connect()
    journal = tmp_path / "j"
    journal.write_text(
        '{"journal":"frankenws-bulk","version":1,"job":"kill","server":"x","created":"t"}\n'
        f'{{"time":"t","action":"kill","target":"{a}","stat'
    )
    with fake.client() as ws:
        report = bulk.kill_connections(ws, [a], resume=journal)
    assert report.done == [a]


def test_bad_arguments(fake):
    """Bad input is refused before anything is sent."""
    with fake.client() as ws:
        with pytest.raises(frankenws.InvalidArgument, match="concurrency"):
            bulk.kill_connections(ws, ["a"], concurrency=0)
        with pytest.raises(frankenws.InvalidArgument, match="non-empty string"):
            bulk.kill_connections(ws, ["a", ""])
        with pytest.raises(frankenws.InvalidArgument, match="must not be empty"):
            bulk.send_messages(ws, ["a"], "")
        with pytest.raises(frankenws.InvalidArgument, match="must not contain NUL"):
            bulk.send_messages(ws, ["a"], "x", route="/a\x00b")
        with pytest.raises(frankenws.InvalidArgument, match="Client"):
            bulk.kill_connections(object(), ["a"])


def test_wait_closed(fake):
    """wait_closed polls until killed ids are gone (immediate on the in-process fake)."""
    ids = [fake.connect() for _ in range(3)]
    with fake.client() as ws:
        report = bulk.kill_connections(ws, ids, wait_closed=True, timeout=2)
    assert report.notes == []
    assert sorted(report.done) == sorted(ids)


def test_resume_against_another_server_is_noted(fake, tmp_path):
    """Resuming a journal recorded against another URL says so in the report's notes."""
    journal = tmp_path / "j"
    journal.write_text(
        '{"journal":"frankenws-bulk","version":1,"job":"kill","server":"http://elsewhere:2019",'
        '"created":"t"}\n'
    )
    with fake.client() as ws:
        report = bulk.kill_connections(ws, [fake.connect()], resume=journal)
    assert report.ok
    assert any("elsewhere" in note for note in report.notes)
