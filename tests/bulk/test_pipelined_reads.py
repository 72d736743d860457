"""Planning reads pipelined over HTTP/1.1: the same plans, in a few connections.

The loopback fake answers pipelined requests in order, as Go's server does; the plans it
gives are compared with the same population read one request at a time through the
in-process transport (which cannot pipeline). Servers that break pipelining are small
raw servers here; a real Caddy checks framing, order and error mapping.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import unquote

import pytest
import trustme
from support import loopback_server

import frankenws
from frankenws import bulk
from frankenws._calls import Call, calls
from frankenws.bulk._planners import _Reader
from frankenws.bulk._reads import read_pipelined
from frankenws.testing import FakeFrankenPHP

T = TypeVar("T")

NOW = 1_700_000_000

# Values the Go JSON encoder escapes (<, >, &, U+2028), non-ASCII, and ids needing
# percent-encoding in the path.
ODD_USERS = ["a<b>&c", "line\u2028sep", "\u00e9l\u00e8ve \U0001f600", "50%+x", "sl/ash", "q\"'\\"]


def populate(count: int) -> FakeFrankenPHP:
    fake = FakeFrankenPHP()
    for n in range(count):
        conn = fake.connect("/chat", id=f"c{n:04}" if n % 7 else f"id {n}/%2F..")
        fake.set_stored_information(conn, "username", ODD_USERS[n % 6] + str(n // 54))
        fake.set_stored_information(conn, "since", str(NOW - n))
        fake.set_stored_information(conn, "violationCount", str(n % 10))
        if n % 50 == 3:
            fake.set_stored_information(conn, "lastActivity", "1.69e9")
        else:
            fake.set_stored_information(conn, "lastActivity", str(NOW - 60 * (n % 120)))
    return fake


PLANS: dict[str, Callable[[frankenws.Client], bulk.Plan]] = {
    "enforce-limit": lambda ws: bulk.plan_enforce_connection_limit(ws, 2, order_key="since"),
    "sweep": lambda ws: bulk.plan_disconnect_matching(
        ws, "violationCount", "gte", 7, notify_tag="admin"
    ),
    "cleanup-inactive": lambda ws: bulk.plan_cleanup_inactive(ws, 3600, now=NOW),
}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_pipelined_plan_equals_one_read_at_a_time(name: str) -> None:
    make = PLANS[name]
    reference = make(populate(600).client())
    with populate(600).serve() as server, server.client() as ws:
        assert make(ws) == reference
    assert reference.targets


def vanish_during_reads(fake: FakeFrankenPHP, victims: list[str]) -> Callable[[int], None]:
    """A progress callback that disconnects ``victims`` when the first value comes back."""

    def tell(read: int) -> None:
        if read == 1:
            for victim in victims:
                fake.disconnect(victim)

    return tell


def test_ids_that_vanish_mid_planning_are_planned_as_before() -> None:
    # The last ids are read only after the first answer (whichever way they are read),
    # so both plans see them vanish at the same point.
    victims = [f"c{n:04}" for n in range(980, 1000) if n % 7]
    old = populate(1000)
    with bulk.planning_progress(vanish_during_reads(old, victims)):
        reference = bulk.plan_enforce_connection_limit(old.client(), 2)
    new = populate(1000)
    with (
        new.serve() as server,
        server.client() as ws,
        bulk.planning_progress(vanish_during_reads(new, victims)),
    ):
        plan = bulk.plan_enforce_connection_limit(ws, 2)
    assert plan == reference
    planned = {item.id for item in (*plan.targets, *plan.left_alone)}
    assert len(planned) == 1000 - len(victims)
    assert not planned & set(victims)


def test_planning_reads_travel_over_a_few_connections() -> None:
    """One request per connection over 32 connections was the old way: now a few carry
    them all, many requests at a time."""
    fake = populate(400)
    with (
        fake.serve() as server,
        counting_proxy(server.admin_port) as (url, seen),
        frankenws.Client(url, host_header=f"127.0.0.1:{server.admin_port}") as ws,
    ):
        plan = bulk.plan_enforce_connection_limit(ws, 2)
    assert len(plan.targets) + len(plan.left_alone) == 400
    assert seen["requests"] >= 402
    assert seen["connections"] <= 6, seen


# --- servers that break pipelining ---------------------------------------------------


def stored_values_server(
    values: dict[str, str], policy: Callable[[int, bytes], bool]
) -> Callable[[socket.socket, threading.Event], None]:
    """Answers getStoredInformation from ``values``, Content-Length framed. Before each
    answer, ``policy(answered_so_far, unread_bytes)`` says whether to hang up instead."""

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        buffer, answered = b"", 0
        while not stop.is_set():
            while b"\r\n\r\n" not in buffer:
                data = conn.recv(65536)
                if not data:
                    return
                buffer += data
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            if policy(answered, buffer):
                return
            _, conn_id, key = head.split(b" ", 2)[1].rsplit(b"/", 2)
            ident, name = unquote(conn_id.decode()), unquote(key.decode())
            found = values.get(ident)
            body = json.dumps(
                {"clientID": ident, "exists": found is not None, "key": name, "value": found or ""}
            ).encode()
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            answered += 1

    return handle


def read_values(
    url: str, ids: list[str], key: str = "username", timeout: float = 5
) -> dict[str, str | None]:
    """The values as the planners read them (their reader, as every plan uses it)."""
    with frankenws.Client(url, timeout=timeout) as ws:
        return asyncio.run(_Reader(ws).values(ids, key))


VALUES = {f"u{n}": f"user {n % 13} \u00e9" for n in range(700)}
IDS = [*VALUES, "gone-1", "gone-2"]
EXPECTED = {conn: VALUES.get(conn) for conn in IDS}


def test_a_connection_closed_mid_batch_has_its_unanswered_reads_resent() -> None:
    with loopback_server(stored_values_server(VALUES, lambda n, _: n == 37)) as url:
        assert read_values(url, IDS) == EXPECTED


def test_a_server_that_hangs_up_on_pipelined_requests_is_read_one_at_a_time() -> None:
    refused = []

    def no_pipelining(answered: int, unread: bytes) -> bool:
        if unread:
            refused.append(unread)
        return bool(unread)

    with loopback_server(stored_values_server(VALUES, no_pipelining)) as url:
        assert read_values(url, IDS) == EXPECTED
    assert refused  # pipelining was tried, and the lane read what it could not


def test_a_server_that_ignores_pipelined_requests_is_read_one_at_a_time() -> None:
    """No answer in time to the pipelined requests (a proxy that swallows them): the
    lane reads everything pipelining did not."""

    def swallowing(conn: socket.socket, stop: threading.Event) -> None:
        data = conn.recv(65536)
        if data.count(b"\r\n\r\n") > 1:
            stop.wait()  # never answers, never hangs up
            return
        answer_one_by_one = stored_values_server(VALUES, lambda n, _: False)
        answer_one_by_one(_Replaying(conn, data), stop)  # type: ignore[arg-type]

    with loopback_server(swallowing) as url:
        assert read_values(url, IDS, timeout=3) == EXPECTED


class _Replaying:
    """A socket whose first ``recv`` gives back bytes already read from it."""

    def __init__(self, conn: socket.socket, first: bytes) -> None:
        self._conn, self._first = conn, first

    def recv(self, size: int) -> bytes:
        first, self._first = self._first, b""
        return first or self._conn.recv(size)

    def sendall(self, data: bytes) -> None:
        self._conn.sendall(data)


def test_pipelined_reads_use_the_client_tls_settings(tmp_path: Any) -> None:
    """HTTPS with a private CA and a client certificate (mutual TLS)."""
    ca = trustme.CA()
    client_cert = ca.issue_cert("ops@example.com")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    ca.configure_trust(server_ctx)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    client_cert.cert_chain_pems[0].write_to_path(str(tmp_path / "c.pem"))
    client_cert.private_key_pem.write_to_path(str(tmp_path / "c.key"))
    fake = populate(300)
    reads = [calls.get_stored_information(conn, "username") for conn in fake.get_clients()]
    with fake.serve(ssl_context=server_ctx) as server:
        values = pipelined(
            server.admin_url,
            reads,
            verify=str(tmp_path / "ca.pem"),
            cert=(str(tmp_path / "c.pem"), str(tmp_path / "c.key")),
        )
    assert values == [fake.get_stored_information(conn, "username") for conn in fake.get_clients()]


# --- against a real Caddy --------------------------------------------------------------


def pipelined(url: str, reads: list[Call[T]], **client: Any) -> list[T]:
    """The values of ``reads``, every one of them pipelined."""
    got: dict[int, T] = {}
    with frankenws.Client(url, **client) as ws:
        unread = asyncio.run(read_pipelined(ws._connection, reads, got.__setitem__))
    assert not unread
    return [got[i] for i in range(len(reads))]


def test_a_real_caddy_answers_pipelined_reads_in_order(real_caddy: str) -> None:
    """Content-Length and chunked answers, interleaved, each where it belongs."""
    paths = ["/config/admin/listen", "/debug/vars", "/config/", "/debug/vars"] * 40
    answers = pipelined(real_caddy, [calls.raw("GET", p, None, b"") for p in paths])
    with frankenws.Client(real_caddy) as ws:
        listen = ws.request("GET", "/config/admin/listen", any_path=True)
        config = ws.request("GET", "/config/", any_path=True)
    for path, answer in zip(paths, answers, strict=True):
        if path == "/debug/vars":
            assert "memstats" in json.loads(answer.body)  # over 2 KiB: sent chunked
            assert answer.headers.get("transfer-encoding") == "chunked"
        else:
            expected = listen if path.endswith("listen") else config
            assert (answer.status, answer.body) == (expected.status, expected.body)


def test_pipelined_reads_reach_a_real_caddy_on_a_unix_socket(real_caddy_unix: str) -> None:
    paths = ["/config/admin/listen", "/config/", "/id/nothing"] * 50
    raw = [calls.raw("GET", p, None, b"") for p in paths if not p.startswith("/id")]
    answers = pipelined(real_caddy_unix, raw)
    with frankenws.Client(real_caddy_unix) as ws:
        single = {p: ws.request("GET", p, any_path=True) for p in set(paths[:2])}
    wanted = [single[p] for p in paths if not p.startswith("/id")]
    assert [(a.status, a.body) for a in answers] == [(w.status, w.body) for w in wanted]
    refused = [calls.raw("GET", p, None, b"") for p in paths]
    with frankenws.Client(real_caddy_unix) as ws:
        assert error_of(lambda: pipelined(real_caddy_unix, refused)) == error_of(
            lambda: ws.request("GET", "/id/nothing", any_path=True)
        )


def error_of(action: Callable[[], object]) -> tuple[type[BaseException], str]:
    with pytest.raises(frankenws.FrankenWSError) as caught:
        action()
    return type(caught.value), str(caught.value)


@pytest.mark.parametrize("host", [None, "elsewhere:2019"])
def test_a_real_caddy_refusal_raises_what_a_single_call_raises(
    real_caddy: str, host: str | None
) -> None:
    """Without the extension Caddy's router answers 404; with a foreign Host, 403."""
    reads = [calls.get_stored_information("c0", "username")] * 300
    piped = error_of(lambda: pipelined(real_caddy, reads, host_header=host))
    with frankenws.Client(real_caddy, host_header=host) as ws:
        single = error_of(lambda: ws.get_stored_information("c0", "username"))
    assert piped == single
    assert piped[0] in (frankenws.ModuleNotLoaded, frankenws.HostNotAllowed)


def test_an_answer_over_the_size_cap_is_refused_as_a_single_call_refuses_it(
    real_caddy: str,
) -> None:
    reads = [calls.raw("GET", "/debug/vars", None, b"")] * 3
    piped = error_of(lambda: pipelined(real_caddy, reads, max_response_bytes=1000))
    assert piped[0] is frankenws.ResponseTooLarge


# --- helpers -----------------------------------------------------------------------


@contextlib.contextmanager
def counting_proxy(port: int) -> Iterator[tuple[str, dict[str, int]]]:
    """A TCP relay to 127.0.0.1:``port`` counting the connections and requests it carries."""
    seen = {"connections": 0, "requests": 0}
    lock = threading.Lock()

    def pump(source: socket.socket, sink: socket.socket, count: bool) -> None:
        tail = b""
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if count:
                    # GETs have no body: each request ends its head with a blank line.
                    with lock:
                        seen["requests"] += (tail + data).count(b"\r\n\r\n")
                    tail = data[-3:]
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        with lock:
            seen["connections"] += 1
        with socket.create_connection(("127.0.0.1", port)) as upstream:
            back = threading.Thread(target=pump, args=(upstream, conn, False), daemon=True)
            back.start()
            pump(conn, upstream, True)
            back.join()

    with loopback_server(handle) as url:
        yield url, seen


def test_a_finished_plan_is_not_formatted(monkeypatch: pytest.MonkeyPatch) -> None:
    """``asyncio.run`` formats its main task's result when it puts the SIGINT handler back
    (CPython 3.11's ``signal`` module): twice the repr of every plan item, about 0.3 s
    each for 100,000 items, for nothing."""
    formatted = []
    original = bulk.Plan.__repr__

    def spy(plan: bulk.Plan) -> str:
        formatted.append(plan)
        return original(plan)

    monkeypatch.setattr(bulk.Plan, "__repr__", spy)
    plan = bulk.plan_enforce_connection_limit(populate(60).client(), 2)
    assert plan.targets
    assert not formatted


def test_the_planning_counter_counts_pipelined_reads() -> None:
    seen: list[int] = []
    with (
        populate(300).serve() as server,
        server.client() as ws,
        bulk.planning_progress(seen.append),
    ):
        bulk.plan_enforce_connection_limit(ws, 2)
    assert seen == list(range(1, 301))


def test_an_async_client_plans_the_same_pipelined() -> None:
    reference = PLANS["sweep"](populate(300).client())

    async def plan(url: str) -> bulk.Plan:
        async with frankenws.AsyncClient(url) as ws:
            return await bulk.plan_disconnect_matching(
                ws, "violationCount", "gte", 7, notify_tag="admin"
            )

    with populate(300).serve() as server:
        assert asyncio.run(plan(server.admin_url)) == reference
