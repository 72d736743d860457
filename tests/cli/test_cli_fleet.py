"""The CLI on a fleet: repeated --url, --discover, profiles with nodes, NODE columns,
per-node doctor and watch, bulk jobs with one plan and one confirmation across nodes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from cli_support import json_out, make_cli

from frankenws.testing import FakeFrankenPHP
from frankenws_cli._context import AppContext


class Nodes:
    """Three loopback fakes; ``urls[i]`` serves ``fakes[i]``."""

    def __init__(self, servers: list[Any]) -> None:
        self.servers = servers
        self.fakes: list[FakeFrankenPHP] = [server.fake for server in servers]
        self.urls: list[str] = [server.admin_url for server in servers]

    def args(self) -> list[str]:
        return [arg for url in self.urls for arg in ("--url", url)]


@pytest.fixture
def nodes() -> Iterator[Nodes]:
    servers = [FakeFrankenPHP().serve() for _ in range(3)]
    try:
        yield Nodes(servers)
    finally:
        for server in servers:
            server.close()


@pytest.fixture
def plain():
    return make_cli(lambda: AppContext())


def _alice_everywhere(nodes: Nodes) -> list[str]:
    ids = []
    for fake in nodes.fakes:
        conn = fake.connect("/chat")
        fake.set_stored_information(conn, "username", "alice")
        ids.append(conn)
    bob = nodes.fakes[1].connect("/news")
    nodes.fakes[1].set_stored_information(bob, "username", "bob")
    return ids


def test_repeated_url_lists_every_node_with_its_node(plain, nodes):
    alice = _alice_everywhere(nodes)
    data = json_out(plain(*nodes.args(), "clients", "--json"))
    assert {item["id"]: item["node"] for item in data if item["id"] in alice} == dict(
        zip(alice, nodes.urls, strict=True)
    )
    assert len(data) == 4
    table = plain(*nodes.args(), "-o", "table", "clients")
    assert table.exit_code == 0
    assert "NODE" in table.stdout
    assert json_out(plain(*nodes.args(), "clients", "--count", "--json")) == {"count": 4}
    found = json_out(plain(*nodes.args(), "search", "username", "eq", "alice", "--json"))
    assert sorted(item["node"] for item in found) == sorted(nodes.urls)
    # One node is still the single-server shape.
    assert json_out(plain("--url", nodes.urls[0], "clients", "--json")) == [alice[0]]


def test_profile_nodes_and_bulk_disconnect_user_across_the_fleet(plain, nodes, dirs):
    alice = _alice_everywhere(nodes)
    config = dirs.config / "frankenws" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "[profiles.fleet]\nnodes = [" + ", ".join(f'"{u}"' for u in nodes.urls) + "]\n"
    )
    result = plain("--profile", "fleet", "disconnect-user", "alice", "--yes", "--json")
    assert result.exit_code == 0, result.output
    document = json_out(result)
    assert sorted(t["node"] for t in document["plan"]["targets"]) == sorted(nodes.urls)
    outcomes = document["report"]["outcomes"]
    assert {o["target"]: o["node"] for o in outcomes} == dict(zip(alice, nodes.urls, strict=True))
    assert all(fake.get_clients() == [] for fake in (nodes.fakes[0], nodes.fakes[2]))
    assert len(nodes.fakes[1].get_clients()) == 1


def test_one_plan_and_one_confirmation_for_the_whole_fleet(plain, nodes):
    for fake in nodes.fakes:
        fake.connect("/chat")
    result = plain(
        *nodes.args(), "-o", "table", "maintenance", "-m", "bye", "--grace", "0s", input="y\n"
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.count("Warn and then disconnect 3 connection(s) on 3 nodes (") == 1
    assert "NODE" in result.stderr + result.stdout
    assert all(fake.get_clients() == [] for fake in nodes.fakes)


def test_a_failed_node_makes_the_bulk_job_exit_1_with_the_per_node_report(plain, nodes):
    ids = [fake.connect("/chat") for fake in nodes.fakes]
    nodes.servers[2].close()
    result = plain(*nodes.args(), "kill", *ids, "--json")
    # Few ids go one by one through the cluster: the lost node's id is not found, and
    # its failure is named.
    assert result.exit_code == 1
    many = [fake.connect("/chat") for fake in nodes.fakes[:2] for _ in range(15)]
    bulk_run = plain(*nodes.args(), "-o", "table", "kill", *many, ids[2])
    assert bulk_run.exit_code == 1
    assert nodes.urls[2] in bulk_run.output
    # one line per id, as on one server; the lost node's id says why and which node
    assert f"failed {ids[2]}: " in bulk_run.stdout
    assert all(fake.get_clients() == [] for fake in nodes.fakes[:2])
    # A plan needs every node: without one it is refused, naming the node.
    planned = plain(*nodes.args(), "disconnect-route", "/chat", "--yes")
    assert planned.exit_code == 1
    assert nodes.urls[2] in planned.output


def test_doctor_checks_every_node_and_names_the_failing_one(plain, nodes):
    nodes.servers[1].close()
    result = plain(*nodes.args(), "doctor", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 3
    assert [(n["node"], n["ok"]) for n in data["nodes"]] == [
        (nodes.urls[0], True),
        (nodes.urls[1], False),
        (nodes.urls[2], True),
    ]
    failed = [c["name"] for c in data["checks"] if not c["ok"]]
    assert failed == [f"node {nodes.urls[1]}"]
    healthy = plain("--url", nodes.urls[0], "--url", nodes.urls[2], "doctor", "--json")
    assert healthy.exit_code == 0


def test_watch_shows_each_node_and_the_total(plain, nodes):
    for count, fake in enumerate(nodes.fakes, 1):
        for _ in range(count):
            fake.connect("/chat")
    result = plain(*nodes.args(), "watch", "-n", "1", "--json")
    snapshot = json_out(result)
    assert snapshot["connections"] == 6
    assert [(n["node"], n["connections"]) for n in snapshot["nodes"]] == list(
        zip(nodes.urls, [1, 2, 3], strict=True)
    )
    nodes.servers[0].close()
    down = json_out(plain(*nodes.args(), "watch", "-n", "1", "--json"))
    assert down["connections"] == 5
    assert down["nodes"][0]["error"]
    assert nodes.urls[0] in down["error"]


def test_url_and_discover_together_are_refused(plain, nodes):
    result = plain("--url", nodes.urls[0], "--discover", "dns+a://x.invalid:2019", "clients")
    assert result.exit_code == 2
    assert "--discover" in result.output


def _frankenws() -> list[str]:
    found = shutil.which("frankenws", path=os.path.dirname(sys.executable))
    if found is None:
        pytest.fail("the frankenws console script is not installed")
    return [found]


def test_subprocess_fleet_disconnect_user(nodes, dirs):
    alice = _alice_everywhere(nodes)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRANKENWS_")}
    env.update(XDG_CONFIG_HOME=str(dirs.config), XDG_STATE_HOME=str(dirs.state))
    done = subprocess.run(
        [*_frankenws(), *nodes.args(), "disconnect-user", "alice", "--yes", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert sorted(o["target"] for o in document["report"]["outcomes"]) == sorted(alice)
    assert sum(len(fake.get_clients()) for fake in nodes.fakes) == 1
    nodes.servers[0].close()
    failed = subprocess.run(
        [*_frankenws(), *nodes.args(), "clients"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode == 1
    assert nodes.urls[0] in failed.stderr


def test_discover_finds_the_fleet_in_dns(plain, nodes):
    """--discover with ?nameserver= asks a real DNS server (here on loopback) for the nodes."""
    from cluster_support import Zone, dns_server, srv

    alice = _alice_everywhere(nodes)
    ports = [int(url.rsplit(":", 1)[1]) for url in nodes.urls]
    zone = Zone()
    zone.set("_admin._tcp.ws.test", "SRV", [srv(port, "node.ws.test.") for port in ports])
    zone.set("node.ws.test", "A", ["127.0.0.1"])
    with dns_server(zone) as nameserver:
        found = plain(
            "--discover",
            f"dns+srv://_admin._tcp.ws.test?nameserver={nameserver}",
            "clients",
            "--where",
            "username",
            "eq",
            "alice",
            "--json",
        )
    assert found.exit_code == 0, found.output
    rows = json_out(found)
    assert sorted(row["id"] for row in rows) == sorted(alice)
    assert sorted(row["node"] for row in rows) == sorted(nodes.urls)


def test_discover_refuses_a_bad_nameserver(plain):
    result = plain("--discover", "dns+a://ws.test:2019?nameserver=not-an-ip", "clients")
    assert result.exit_code == 2
    assert "nameserver 'not-an-ip'" in result.output
