"""A resumed maintenance waits only what is left of its grace period."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from frankenws import bulk
from frankenws.testing import FakeFrankenPHP


class Stop(Exception):
    """Stands in for the process dying right after the last warning went out."""


def test_resumed_maintenance_waits_only_the_rest_of_the_grace(tmp_path):
    fake = FakeFrankenPHP()
    ids = sorted(fake.connect("/chat") for _ in range(4))
    journal = tmp_path / "maintenance.jsonl"
    with fake.client() as ws:
        plan = bulk.plan_maintenance(ws, "Restarting", grace=30, route="/chat")

        def stop_after_the_warnings(done: int, total: int) -> None:
            if done == len(ids):
                raise Stop

        with pytest.raises(Stop):
            bulk.run(ws, plan, concurrency=1, progress=stop_after_the_warnings, journal=journal)

        # The warnings went out 20 s ago (the journal's own clock says when).
        earlier = (datetime.now(timezone.utc) - timedelta(seconds=20)).isoformat()
        lines = [json.loads(line) for line in journal.read_text().splitlines()]
        for line in lines[1:]:
            line["time"] = earlier
        journal.write_text("".join(json.dumps(line) + "\n" for line in lines))

        waited: list[float] = []

        async def sleep(seconds: float) -> None:
            waited.append(seconds)

        report = bulk.run(ws, plan, resume=journal, sleep=sleep)

    assert len(waited) == 1
    assert 0 < waited[0] <= 10  # not the full 30 s again
    assert sorted(report.by_status("done", "kill")) == ids
    assert all(len(fake.received(conn)) == 1 for conn in ids)  # nobody warned twice


def test_fresh_maintenance_waits_the_whole_grace():
    fake = FakeFrankenPHP()
    fake.connect("/chat")
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    with fake.client() as ws:
        bulk.run(ws, bulk.plan_maintenance(ws, "bye", grace=30), sleep=sleep)
    assert waited == [30]
