"""Audit logs and journals left readable by others (made by a version before 0600, or by
hand): the ones in frankenws's own state directory are tightened, others get a warning
with the chmod that fixes them. Their lines name servers, users and connections."""

from __future__ import annotations

import json
import os
import stat

import pytest
from cli_support import make_cli

from frankenws.testing import FakeFrankenPHP
from frankenws_cli._context import AppContext


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def run():
    fake = FakeFrankenPHP()
    for n in range(3):
        conn = fake.connect("/chat", id=f"c-{n}")
        fake.set_stored_information(conn, "username", "alice")
    return make_cli(lambda: AppContext(transport=fake.transport()))


def _old_state(dirs) -> None:
    """What an earlier version left: the umask's 0755 directory and 0644 audit log."""
    state = dirs.state / "frankenws"
    state.mkdir(parents=True)
    os.chmod(state, 0o755)
    dirs.audit_file.write_text('{"action": "kill", "target": "old"}\n')
    os.chmod(dirs.audit_file, 0o644)


def test_the_default_audit_log_is_tightened(run, dirs):
    _old_state(dirs)
    result = run("kill", "c-0")
    assert result.exit_code == 0, result.output
    assert _mode(dirs.audit_file) == 0o600
    assert _mode(dirs.state / "frankenws") == 0o700
    assert [line["target"] for line in dirs.audit()] == ["old", "c-0"]
    assert result.stderr.count("0600") == 1
    again = run("kill", "c-1")
    assert "0600" not in again.stderr


def test_an_audit_log_elsewhere_is_left_alone_with_a_warning(run, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    log = shared / "audit.jsonl"
    log.write_text("")
    os.chmod(log, 0o640)
    result = run("--audit-log", str(log), "disconnect-user", "alice", "--yes")
    assert result.exit_code == 0, result.output
    assert _mode(log) == 0o640  # someone may have meant a group to read it
    warnings = [line for line in result.stderr.splitlines() if "readable by others" in line]
    assert len(warnings) == 1, result.stderr  # once, not once per record
    assert f"chmod 600 {log}" in warnings[0]
    assert len(log.read_text().splitlines()) == 3


def test_a_resumed_journal_of_an_old_version_is_tightened(run, dirs, tmp_path):
    journals = dirs.state / "frankenws" / "journals"
    journals.mkdir(parents=True)
    os.chmod(journals, 0o755)
    journal = journals / "old.jsonl"
    header = {"journal": "frankenws-bulk", "version": 1, "job": "disconnect_route"}
    journal.write_text(json.dumps({**header, "server": "fake", "created": "2026-01-01"}) + "\n")
    os.chmod(journal, 0o644)
    result = run("--no-audit", "disconnect-route", "/chat", "--yes", "--resume", str(journal))
    assert result.exit_code == 0, result.output
    assert _mode(journal) == 0o600
    assert _mode(journals) == 0o700


def test_a_journal_elsewhere_gets_the_warning(run, tmp_path):
    journal = tmp_path / "j.jsonl"
    journal.write_text("")
    os.chmod(journal, 0o644)
    result = run("--no-audit", "disconnect-route", "/chat", "--yes", "--journal", str(journal))
    assert result.exit_code == 0, result.output
    assert f"chmod 600 {journal}" in result.stderr
    assert _mode(journal) == 0o644
