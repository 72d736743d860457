"""disconnect-user with a user name nobody has: say so, suggest the stored names it is a
likely typo of, and do not exit 0 when it looks like one; read only a few values to know."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from cli_support import json_out, make_cli

from frankenws.testing import FakeFrankenPHP
from frankenws_cli._context import AppContext


def test_user_that_looks_like_a_typo(cli, fake):
    result = cli("disconnect-user", "alcie", "--yes")
    assert result.exit_code == 1, result.output
    assert "no connection has username 'alcie'; did you mean 'alice'?" in result.stderr
    assert len(fake.get_clients()) == 3
    dry = cli("disconnect-user", "alcie", "--dry-run")
    assert dry.exit_code == 0
    assert "did you mean 'alice'?" in dry.stderr


def test_user_name_in_another_case(cli, fake):
    result = cli("--json", "disconnect-user", "BOB", "--yes")
    assert result.exit_code == 1
    assert json_out(result)["plan"]["targets"] == []
    assert "did you mean 'bob'?" in result.stderr
    assert len(fake.get_clients()) == 3


def test_user_with_nobody_and_nothing_close_is_nothing_to_do(cli):
    result = cli("disconnect-user", "zed", "--yes")
    assert result.exit_code == 0
    assert "no connection has username 'zed'" in result.stderr
    assert "nothing to do" in result.stderr
    assert "did you mean" not in result.stderr


def test_a_user_who_is_there_gets_no_advice(cli, fake):
    result = cli("disconnect-user", "bob", "--yes")
    assert result.exit_code == 0, result.output
    assert "no connection has" not in result.stderr
    assert "c-bob" not in fake.get_clients()


def test_several_close_names_closest_first(cli, fake):
    for conn, name in (("c-alicia", "alicia"), ("c-malice", "malice")):
        fake.connect("/chat", id=conn)
        fake.set_stored_information(conn, "username", name)
    result = cli("disconnect-user", "alic", "--dry-run")
    assert "did you mean 'alice', 'alicia' or 'malice'?" in result.stderr


def test_user_names_with_regex_characters(cli, fake):
    fake.connect("/chat", id="c-dave")
    fake.set_stored_information("c-dave", "username", "d.a+ve(1)")
    result = cli("disconnect-user", "d.a+ve(2)", "--dry-run")
    assert "did you mean 'd.a+ve(1)'?" in result.stderr
    # A '.' in the given name is not a wildcard: nothing one edit away from 'd.ave'.
    result = cli("disconnect-user", "dXa+ve(1)x", "--dry-run")
    assert "did you mean" not in result.stderr


class CountingTransport(httpx.BaseTransport):
    """The fake's transport, counting the requests per admin route."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.routes: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.routes[request.url.raw_path.decode().split("/")[2]] += 1
        return self.inner.handle_request(request)


@pytest.fixture
def crowd() -> FakeFrankenPHP:
    """5,000 connections: 4,000 distinct users and one popular one ('bob', 1,000 of them)."""
    fake = FakeFrankenPHP()
    for n in range(5000):
        conn = fake.connect("/chat", id=f"c{n:05d}")
        fake.set_stored_information(conn, "username", "bob" if n % 5 == 0 else f"user{n:05d}")
    return fake


def test_the_suggestion_reads_a_few_values_however_big_the_server(crowd):
    counting = CountingTransport(crowd.transport())
    cli = make_cli(lambda: AppContext(transport=counting))
    result = cli("disconnect-user", "bbo", "--yes")
    assert result.exit_code == 1
    assert "did you mean 'bob'?" in result.stderr
    # One read names all 1,000 of bob's connections (they are then searched out).
    assert counting.routes["getStoredInformation"] == 1
    counting.routes.clear()
    result = cli("disconnect-user", "user0012", "--dry-run")
    assert "did you mean" in result.stderr
    assert counting.routes["getStoredInformation"] <= 20
    assert sum(counting.routes.values()) <= 50


def test_sweep_selecting_one_value_gets_the_same_did_you_mean(cli, fake):
    result = cli("sweep", "username", "eq", "carlo", "--yes")
    assert result.exit_code == 1
    assert "no connection has username 'carlo'; did you mean 'carol'?" in result.stderr
    assert len(fake.get_clients()) == 3
    other = cli("sweep", "username", "prefix", "carlo", "--yes")
    assert other.exit_code == 0
    assert "did you mean" not in other.stderr


def test_maintenance_on_a_route_that_looks_like_a_typo(cli, fake):
    result = cli("maintenance", "--route", "/chta", "--grace", "0s", "--yes")
    assert result.exit_code == 1
    assert "no connection is on route '/chta'; did you mean '/chat'?" in result.stderr
    assert len(fake.get_clients()) == 3


def test_the_did_you_mean_on_a_fleet():
    """Names held on other nodes are found the same way (searches fan out to every node)."""
    fakes = [FakeFrankenPHP() for _ in range(2)]
    for n, fake in enumerate(fakes):
        conn = fake.connect("/chat", id=f"n{n}")
        fake.set_stored_information(conn, "username", ["alice", "bob"][n])
    servers = [fake.serve() for fake in fakes]
    try:
        run = make_cli(lambda: AppContext())
        urls = [arg for server in servers for arg in ("--url", server.admin_url)]
        result = run(*urls, "disconnect-user", "bbo", "--yes")
    finally:
        for server in servers:
            server.close()
    assert result.exit_code == 1, result.output
    assert "did you mean 'bob'?" in result.stderr
    assert [fake.get_clients() for fake in fakes] == [["n0"], ["n1"]]
