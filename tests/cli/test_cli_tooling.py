"""Tooling: the simulated population, fake-server, demo, and the generated docs/cli.md."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cli_support import docs_generator, json_out, make_cli

from frankenws.testing import FakeFrankenPHP, Population
from frankenws.testing._population import make_profiles
from frankenws_cli._context import AppContext

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def plain():
    return make_cli(lambda: AppContext())


def test_profiles_are_deterministic():
    """The same seed gives the same users, routes, tags and ages."""
    one = make_profiles(30, seed=7, now=1_000_000)
    two = make_profiles(30, seed=7, now=1_000_000)
    assert one == two
    assert make_profiles(30, seed=8, now=1_000_000) != one
    assert {m.route for m in one} == {"/chat", "/notifications"}


def test_population_registers_real_clients_with_worker_data():
    """Each real client is registered with username, activity, violations and tags."""
    fake = FakeFrankenPHP()
    with (
        fake.serve() as server,
        Population(server, 20, seed=1, now=1_000_000) as people,
        server.client() as ws,
    ):
        assert sorted(ws.get_clients()) == sorted(people.ids())
        for member in people.members:
            stored = ws.get_all_stored_information(str(member.id))
            assert stored["username"] == member.username
            assert stored["lastActivity"] == str(member.last_activity)
            assert stored["violationCount"] == str(member.violation_count)
            assert sorted(ws.get_client_tags(str(member.id))) == list(member.tags)
        assert ws.get_clients_by_route("/chat")
        first = people.members[0]
        ws.send(str(first.id), "ping?")
        ws.kill_connection(str(first.id))
        assert people.wait_closed([str(first.id)])
        assert first.messages == [b"ping?"]
        assert first.close_code == 1006


def test_population_answers_server_pings():
    """The simulated clients answer pings, so the server measures a round trip."""
    fake = FakeFrankenPHP()
    with fake.serve() as server, Population(server, 2) as people, server.client() as ws:
        conn = str(people.members[0].id)
        ws.enable_ping(conn)
        deadline = time.monotonic() + 5
        while ws.get_client_ping_time(conn) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ws.get_client_ping_time(conn) > 0


def test_population_other_messages_reach_the_previous_hook():
    """Messages that are not the population's hello go to the hook installed before."""
    seen: list[bytes] = []
    fake = FakeFrankenPHP(on_message=lambda event: seen.append(event.payload or b""))
    with fake.serve() as server, Population(server, 1):
        conn = fake.connect("/x")
        fake.client_message(conn, "mine")
    assert seen == [b"mine"]
    assert fake.on_message is not None  # restored to the original hook


def test_fake_server_runs_and_stops(plain):
    """fake-server prints where it listens (JSON), serves clients, stops after --duration."""
    started = time.monotonic()
    result = plain("fake-server", "--clients", "3", "--duration", "0.3", "--json")
    assert result.exit_code == 0, result.output
    doc = json_out(result)
    assert doc["admin_url"].startswith("http://127.0.0.1:")
    assert doc["ws_url"].startswith("ws://127.0.0.1:")
    assert doc["clients"] == 3
    assert time.monotonic() - started < 20


def test_fake_server_port_in_use_exits_2(plain, served):
    """A port that is taken is a usage error, not a traceback."""
    port = served.admin_url.rsplit(":", 1)[1]
    result = plain("fake-server", "--admin-port", port, "--duration", "0")
    assert result.exit_code == 2
    assert "cannot listen" in result.stderr


def test_demo_runs_the_whole_tour(plain):
    """demo needs no input, finishes well under 30 s, exits 0 and shows each step."""
    started = time.monotonic()
    result = plain("demo", "--clients", "30", "--grace", "0.2s")
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert elapsed < 30
    out = result.stdout
    for command in (
        "$ frankenws routes",
        "$ frankenws clients --tag admin",
        "$ frankenws search username eq ",
        "$ frankenws show ",
        "$ frankenws disconnect-user ",
        "$ frankenws sweep violationCount ",
        "$ frankenws maintenance --route /chat",
    ):
        assert command in out, command
    assert "kill:" in out
    assert "0 failed" in out
    assert "got the warning, then its connection dropped" in out
    assert "step failed" not in out
    audit_line = out.split("JSON lines, e.g.\n#   ", 1)[1].splitlines()[0]
    assert json.loads(audit_line)["actor"] == "demo"


def test_demo_refuses_json(plain):
    """demo is for humans: --json is a usage error."""
    assert plain("demo", "--json").exit_code == 2


def test_cli_docs_are_up_to_date():
    """docs/cli.md is exactly what the app generates (scripts/gen_cli_docs.py)."""
    expected = docs_generator().render()
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == expected, "docs/cli.md is stale: run python scripts/gen_cli_docs.py --write"


def test_every_command_has_help():
    """Every command and group has a help text, and appears in docs/cli.md."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    commands = list(docs_generator().walk())
    assert len(commands) > 40
    for path, command in commands:
        assert (command.help or "").strip(), f"{path} has no help"
        assert f"`frankenws {path}`" in text, path
