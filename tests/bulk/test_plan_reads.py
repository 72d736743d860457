"""How many requests planning takes: it must not grow with every connection on the server.

Requests are counted at the HTTP transport, under the SDK, against the in-process fake.
"""

from __future__ import annotations

from collections import Counter

import httpx

import frankenws
from frankenws import bulk
from frankenws.testing import FakeFrankenPHP

NOW = 1_700_000_000


class Counting(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.routes: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.routes[request.url.path.split("/")[2]] += 1
        return self.inner.handle_request(request)


def crowd(count: int) -> tuple[FakeFrankenPHP, Counting, frankenws.Client]:
    fake = FakeFrankenPHP()
    for n in range(count):
        conn = fake.connect("/chat", id=f"c{n:04}")
        idle = 7200 if n % 2 else 60
        fake.set_stored_information(conn, "lastActivity", str(NOW - idle))
        fake.set_stored_information(conn, "violationCount", str(n % 10))
        fake.set_stored_information(conn, "username", f"user{n}")
    counting = Counting(fake.transport())
    return fake, counting, frankenws.Client("http://localhost:2019", transport=counting)


def test_cleanup_inactive_plans_in_a_few_requests():
    """Numeric range searches find the idle connections: no read per connection."""
    _, counting, ws = crowd(400)
    plan = bulk.plan_cleanup_inactive(ws, 3600, now=NOW)
    assert len(plan.targets) == 200
    assert sum(counting.routes.values()) <= 5, counting.routes
    assert counting.routes["getStoredInformation"] == 0


def test_cleanup_inactive_reads_only_values_the_search_cannot_compare():
    fake, counting, ws = crowd(50)
    fake.set_stored_information("c0000", "lastActivity", "1.6e9")
    fake.set_stored_information("c0002", "lastActivity", "soon")
    plan = bulk.plan_cleanup_inactive(ws, 3600, now=NOW)
    assert counting.routes["getStoredInformation"] == 2
    assert "c0000" in plan.target_ids
    assert "c0002" in {item.id for item in plan.left_alone}


def test_sweep_without_alerts_does_not_read_who_the_victims_are():
    _, counting, ws = crowd(100)
    plan = bulk.plan_disconnect_matching(ws, "violationCount", "gte", 8)
    assert len(plan.targets) == 20
    assert counting.routes["getStoredInformation"] == 20  # the value in each reason
    alerting = bulk.plan_disconnect_matching(ws, "violationCount", "gte", 8, notify_tag="admin")
    assert counting.routes["getStoredInformation"] == 20 + 40
    assert alerting.params.who["c0008"] == "user8"
