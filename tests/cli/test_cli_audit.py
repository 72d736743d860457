"""The audit log: one JSON line per state-changing action, written even on failure."""

from __future__ import annotations

import getpass
from datetime import datetime

import httpx
import pytest
from cli_support import FailingTransport, make_cli

from frankenws_cli._context import AppContext


def test_kill_is_audited(cli, dirs):
    """A kill writes time (UTC ISO 8601), actor, server, command, action, target, result."""
    assert cli("kill", "c-bob", "nobody").exit_code == 1
    first, second = dirs.audit()
    assert datetime.fromisoformat(first["time"]).utcoffset().total_seconds() == 0
    assert first["actor"] == getpass.getuser()
    assert first["server"] == "http://localhost:2019"
    assert first["command"] == "kill"
    assert (first["action"], first["target"], first["result"]) == ("kill", "c-bob", "done")
    assert (second["target"], second["result"]) == ("nobody", "not_found")


@pytest.mark.parametrize(
    ("args", "command", "action", "target"),
    [
        (("send", "c-bob", "hi"), "send", "send", "c-bob"),
        (("broadcast", "hi", "--tag", "admin"), "broadcast", "broadcast", "admin"),
        (("tag", "c-bob", "vip"), "tag", "tag", "c-bob"),
        (("untag", "c-alice", "admin"), "untag", "untag", "c-alice"),
        (("store", "set", "c-bob", "k", "v"), "store set", "store.set", "c-bob"),
        (("store", "clear", "c-bob"), "store clear", "store.clear", "c-bob"),
        (("global", "set", "k", "v"), "global set", "global.set", "k"),
        (("ghost", "on", "c-bob"), "ghost on", "ghost.on", "c-bob"),
        (("ping", "enable", "c-bob"), "ping enable", "ping.enable", "c-bob"),
        (("queue", "enable", "c-bob"), "queue enable", "queue.enable", "c-bob"),
        (("rename", "c-bob", "bobby"), "rename", "rename", "c-bob"),
    ],
)
def test_every_change_is_audited(cli, dirs, args, command, action, target):
    """Each state-changing command appends its action, named after the command."""
    assert cli(*args).exit_code == 0
    (record,) = dirs.audit()
    assert (record["action"], record["target"], record["result"]) == (action, target, "done")
    assert record["command"] == command


def test_details_name_things_but_hold_no_values(cli, dirs):
    """Details say which key or tag, and how many bytes; never the value or payload."""
    cli("store", "set", "c-bob", "token", "s3cr3t")
    cli("send", "c-bob", "private message")
    text = dirs.audit_file.read_text()
    assert "s3cr3t" not in text
    assert "private message" not in text
    store, send = dirs.audit()
    assert store["detail"] == {"key": "token"}
    assert send["detail"] == {"bytes": 15}


def test_bulk_targets_are_audited(cli, dirs):
    """Every target of a bulk job gets its line, with the command name."""
    assert cli("disconnect-route", "/chat", "--yes").exit_code == 0
    records = dirs.audit()
    assert sorted(r["target"] for r in records) == ["c-alice", "c-bob"]
    assert {r["command"] for r in records} == {"disconnect-route"}
    assert {r["action"] for r in records} == {"kill"}


def test_reads_and_dry_runs_are_not_audited(cli, dirs):
    """Nothing is written for commands that change nothing."""
    for args in (("clients",), ("show", "c-bob"), ("kill", "c-bob", "--dry-run")):
        cli(*args)
    cli("disconnect-user", "bob", "--dry-run")
    cli("disconnect-user", "bob", input="n\n")
    assert dirs.audit() == []


def test_failures_are_audited(fake, dirs):
    """A change the server rejects is still recorded, as failed."""
    failing = FailingTransport(fake.transport(), ["/frankenphp_ws/killConnection/c-bob"])
    run = make_cli(lambda: AppContext(transport=failing))
    assert run("kill", "c-bob").exit_code == 4
    (record,) = dirs.audit()
    assert record["result"] == "failed"
    assert record["error"] == "ServerError"


def test_audit_options(cli, dirs, tmp_path):
    """--audit-log PATH, --actor and --no-audit."""
    path = tmp_path / "elsewhere.jsonl"
    cli("--audit-log", str(path), "--actor", "ops-bot", "tag", "c-bob", "x")
    assert '"actor":"ops-bot"' in path.read_text()
    cli("--no-audit", "tag", "c-bob", "y")
    assert dirs.audit() == []
    assert len(path.read_text().splitlines()) == 1


def test_audit_log_from_env(cli, monkeypatch, tmp_path):
    """FRANKENWS_AUDIT_LOG sets the file."""
    path = tmp_path / "env.jsonl"
    monkeypatch.setenv("FRANKENWS_AUDIT_LOG", str(path))
    cli("tag", "c-bob", "x")
    assert path.exists()


def test_server_url_has_no_credentials(served, dirs):
    """User and password in the URL never reach the audit log."""
    url = served.admin_url.replace("http://", "http://ops:hunter2@")
    run = make_cli(lambda: AppContext())
    assert run("--url", url, "tag", "c-bob", "x").exit_code == 0
    (record,) = dirs.audit()
    assert record["server"] == served.admin_url
    assert "hunter2" not in dirs.audit_file.read_text()


def test_unwritable_audit_log_refuses_to_act(cli, fake, tmp_path):
    """If the audit log cannot be written, nothing is changed: exit 2 and how to fix it."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    result = cli("--audit-log", str(blocker / "audit.jsonl"), "kill", "c-bob")
    assert result.exit_code == 2
    assert "cannot write the audit log" in result.stderr
    assert "--no-audit" in result.stderr
    assert "c-bob" in fake.get_clients()


class InterruptAfter(httpx.BaseTransport):
    """Ctrl-C arrives when the n-th kill is sent."""

    def __init__(self, inner: httpx.BaseTransport, at: int) -> None:
        self.inner, self.at, self.count = inner, at, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if b"killConnection" in request.url.raw_path:
            self.count += 1
            if self.count == self.at:
                raise KeyboardInterrupt
        return self.inner.handle_request(request)


def test_bulk_ctrl_c_audits_done_targets_and_offers_resume(fake, dirs):
    """Ctrl-C in a bulk job: exit 130, finished targets audited, journal to resume from."""
    ids = [fake.connect("/load", id=f"load-{n:02d}") for n in range(6)]
    interrupt = InterruptAfter(fake.transport(), at=4)
    run = make_cli(lambda: AppContext(transport=interrupt, concurrency=1))
    result = run("--concurrency", "1", "disconnect-route", "/load", "--yes")
    assert result.exit_code == 130, result.output
    assert "--resume" in result.stderr
    done = [r["target"] for r in dirs.audit() if r["result"] == "done"]
    assert done == ids[:3]
    journal = next((dirs.state / "frankenws" / "journals").glob("*.jsonl"))
    again = make_cli(lambda: AppContext(transport=fake.transport()))
    resumed = again("disconnect-route", "/load", "--yes", "--resume", str(journal))
    assert resumed.exit_code == 0, resumed.output
    assert fake.get_clients("/load") == []


def test_lines_are_the_json_of_their_record(cli, dirs):
    """Each line reads back as JSON and is written exactly as json.dumps writes its record
    (compact, non-ASCII kept), whatever the target holds: quotes, backslashes, control
    characters, non-ASCII."""
    import json

    odd = 'é"\\\t\x01✓'
    assert cli("kill", odd, "c-bob").exit_code == 1
    cli("store", "set", "c-alice", "k\u00e9y", "v")
    lines = dirs.audit_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    for line in lines:
        assert line == json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ":"))
    records = dirs.audit()
    assert [r["target"] for r in records] == [odd, "c-bob", "c-alice"]
    assert records[2]["detail"] == {"key": "k\u00e9y"}
    assert list(records[0]) == [
        "time", "actor", "server", "command", "action", "target", "result"
    ]  # fmt: skip
