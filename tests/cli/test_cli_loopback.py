"""The CLI over real HTTP against the loopback fake, with real WebSocket clients.

Includes the installed ``frankenws`` run as a subprocess: the clients it kills must see
their TCP connection drop.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import json_out, make_cli

from frankenws.testing import FakeFrankenPHP, Population
from frankenws_cli._context import AppContext


@pytest.fixture
def people():
    """A loopback fake with 12 simulated users connected over real WebSockets."""
    fake = FakeFrankenPHP()
    with fake.serve() as server, Population(server, 12, seed=3) as population:
        yield population


@pytest.fixture
def plain():
    return make_cli(lambda: AppContext())


def _cli_env(dirs) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRANKENWS_")}
    env.update(XDG_CONFIG_HOME=str(dirs.config), XDG_STATE_HOME=str(dirs.state), COLUMNS="120")
    return env


def _frankenws() -> list[str]:
    found = shutil.which("frankenws", path=os.path.dirname(sys.executable)) or shutil.which(
        "frankenws"
    )
    if found is None:
        pytest.fail("the frankenws console script is not installed (pip install -e '.[cli]')")
    return [found]


def test_cli_over_http(plain, served):
    """--url with the loopback admin URL: the same answers as in process."""
    url = served.admin_url
    assert json_out(plain("--url", url, "clients", "--json")) == ["c-alice", "c-bob", "c-carol"]
    assert plain("--url", url, "kill", "c-bob").exit_code == 0
    assert plain("--url", url, "kill", "c-bob").exit_code == 1


def test_bulk_kill_over_http_uses_real_requests(plain, served, fake):
    """Many ids over HTTP go through the bulk engine (HTTP/1.1 lane) and all die."""
    ids = [fake.connect("/load") for _ in range(40)]
    result = plain("--url", served.admin_url, "kill", *ids, "--json")
    assert result.exit_code == 0, result.output
    assert json_out(result)["counts"]["done"] == 40
    assert fake.get_clients_count("/load") == 0


def test_maintenance_warns_real_clients_before_dropping_them(plain, people):
    """Real clients on /chat receive the warning, then see their connection drop."""
    url = people.server.admin_url
    chat = [m for m in people.members if m.route == "/chat"]
    result = plain("--url", url, "maintenance", "--route", "/chat", "--grace", "0.2s", "--yes")
    assert result.exit_code == 0, result.output
    assert people.wait_closed([m.id for m in chat])
    for member in chat:
        (arrived, data), *_ = member.received
        assert json.loads(data)["type"] == "maintenance_warning"
        assert member.closed_at is not None
        assert member.closed_at >= arrived
        assert member.close_code == 1006
    assert all(m.is_open for m in people.members if m.route != "/chat")


def test_subprocess_kill_really_disconnects(people, dirs):
    """The installed frankenws kills real WebSocket clients; they see the TCP drop."""
    url = people.server.admin_url
    victim = people.members[0]
    done = subprocess.run(
        [*_frankenws(), "--url", url, "kill", str(victim.id)],
        capture_output=True,
        text=True,
        env=_cli_env(dirs),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"killed {victim.id}\n"
    assert "Traceback" not in done.stderr
    assert people.wait_closed([str(victim.id)])
    assert victim.close_code == 1006
    audit = Path(dirs.state, "frankenws", "audit.jsonl").read_text().splitlines()
    assert json.loads(audit[0])["target"] == victim.id


def test_subprocess_pipeline_disconnects_a_user(people, dirs):
    """clients --where ... --json | kill - : every connection of the user is dropped."""
    url = people.server.admin_url
    user = people.members[0].username
    listed = subprocess.run(
        [*_frankenws(), "--url", url, "clients", "--where", "username", "eq", user, "--json"],
        capture_output=True,
        text=True,
        env=_cli_env(dirs),
        timeout=60,
        check=True,
    )
    ids = json.loads(listed.stdout)
    assert sorted(ids) == sorted(str(m.id) for m in people.by_username(user))
    killed = subprocess.run(
        [*_frankenws(), "--url", url, "kill", "-"],
        input="\n".join(ids) + "\n",
        capture_output=True,
        text=True,
        env=_cli_env(dirs),
        timeout=60,
    )
    assert killed.returncode == 0, killed.stderr
    assert people.wait_closed(ids)
    assert all(not m.is_open for m in people.by_username(user))
    assert all(m.is_open for m in people.members if m.username != user)


def test_subprocess_exit_codes(dirs):
    """Exit codes reach the shell: unknown id 1, bad input 2, unreachable 3."""
    fake = FakeFrankenPHP()
    with fake.serve() as server:
        base = [*_frankenws(), "--url", server.admin_url]
        env = _cli_env(dirs)
        assert (
            subprocess.run([*base, "kill", "nobody"], env=env, capture_output=True).returncode == 1
        )
        assert subprocess.run([*base, "kill", ""], env=env, capture_output=True).returncode == 2
        bad = subprocess.run(
            [*base, "clients", "--where", "k", "regex", "(("],
            env=env,
            capture_output=True,
            text=True,
        )
        assert bad.returncode == 2
        assert "Traceback" not in bad.stderr
    gone = subprocess.run(
        [*_frankenws(), "--url", "http://127.0.0.1:9", "kill", "x"],
        env=_cli_env(dirs),
        capture_output=True,
        text=True,
    )
    assert gone.returncode == 3
    assert "Traceback" not in gone.stderr


def test_clients_piped_into_kill_minus_kills_them(dirs, served, fake):
    """frankenws clients ... | frankenws kill - : a real pipeline kills what was listed."""
    fake.tag_client("c-bob", "admin")
    url = ["--url", served.admin_url]
    with subprocess.Popen(
        [*_frankenws(), *url, "clients", "--tag", "admin"],
        stdout=subprocess.PIPE,
        env=_cli_env(dirs),
    ) as lister:
        killer = subprocess.run(
            [*_frankenws(), *url, "kill", "-"],
            stdin=lister.stdout,
            capture_output=True,
            text=True,
            env=_cli_env(dirs),
            timeout=60,
        )
    assert lister.returncode == 0
    assert killer.returncode == 0, killer.stderr
    assert killer.stdout.splitlines() == ["killed c-alice", "killed c-bob"]
    assert fake.get_clients() == ["c-carol"]
