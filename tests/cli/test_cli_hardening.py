"""Nothing printed that should stay secret, nothing readable that should not be."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
from cli_support import FailingTransport, make_cli
from support import drip, loopback_server

from frankenws.testing import FakeFrankenPHP
from frankenws_cli._context import AppContext


@pytest.fixture
def plain():
    """The CLI with no transport: it builds its client from --url like a user's shell."""
    return make_cli(lambda: AppContext())


@pytest.mark.parametrize(
    "url",
    [
        "http://ops:hunter2@127.0.0.1:9",  # refused connection
        "ops:hunter2@127.0.0.1:99999",  # invalid port, no scheme
        "http://ops:hunter2@127.0.0.1:port",  # invalid port
        "ftp://ops:hunter2@127.0.0.1:2019",  # has scheme
        "http://ops:hun/ter2@127.0.0.1:2019",  # a '/' in the password
    ],
)
@pytest.mark.parametrize("json_flag", [(), ("--json",)])
def test_doctor_never_prints_the_password(plain, url, json_flag):
    result = plain("--url", url, "doctor", *json_flag)
    assert "hunter2" not in result.output
    assert "ter2" not in result.output
    assert "ops:***@" in result.output


@pytest.mark.parametrize("url", ["ops:hunter2@127.0.0.1:99999", "ftp://ops:hunter2@h:2019"])
def test_url_errors_never_print_the_password(plain, url):
    result = plain("--url", url, "clients")
    assert result.exit_code == 2
    assert "hunter2" not in result.output


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_audit_log_and_journal_are_private(dirs):
    """0600 files in 0700 directories, whatever the umask."""
    fake = FakeFrankenPHP()
    fake.connect("/chat", id="c-1")
    fake.connect("/chat", id="c-2")
    fake.set_stored_information("c-1", "username", "alice")
    failing = FailingTransport(fake.transport(), ["/frankenphp_ws/killConnection/c-1"])
    broken = make_cli(lambda: AppContext(transport=failing))
    result = broken("disconnect-user", "alice", "--yes")
    assert result.exit_code == 1  # a failed run keeps its journal
    state = dirs.state / "frankenws"
    (journal,) = (state / "journals").glob("*.jsonl")
    assert _mode(dirs.audit_file) == 0o600
    assert _mode(journal) == 0o600
    assert _mode(state) == 0o700
    assert _mode(state / "journals") == 0o700


def test_no_directory_is_created_outside_the_state_directory(tmp_path):
    fake = FakeFrankenPHP()
    fake.connect("/chat", id="c-1")
    run = make_cli(lambda: AppContext(transport=fake.transport()))
    typo = tmp_path / "no" / "such" / "dir" / "audit.jsonl"
    result = run("--audit-log", str(typo), "kill", "c-1")
    assert result.exit_code == 2
    assert not (tmp_path / "no").exists()
    assert "c-1" in fake.get_clients()
    journal = tmp_path / "missing" / "j.jsonl"
    result = run("--no-audit", "disconnect-route", "/chat", "--yes", "--journal", str(journal))
    assert result.exit_code == 2
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize(
    "content",
    ["", "\n", "hello\n", "just one line", '{"journal": "something-else"}\n', "[1]\n"],
)
def test_resume_refuses_a_file_that_is_not_a_journal(tmp_path, content):
    """Exit 2, nothing killed, and the file is left byte for byte as it was."""
    fake = FakeFrankenPHP()
    fake.connect("/chat", id="c-1")
    run = make_cli(lambda: AppContext(transport=fake.transport()))
    path = tmp_path / "notes.txt"
    path.write_text(content)
    result = run("--no-audit", "disconnect-route", "/chat", "--yes", "--resume", str(path))
    assert result.exit_code == 2, result.output
    assert "not a frankenws bulk journal" in result.stderr
    assert path.read_text() == content
    assert fake.get_clients() == ["c-1"]


def test_resume_still_accepts_a_real_journal(tmp_path):
    fake = FakeFrankenPHP()
    fake.connect("/chat", id="c-1")
    run = make_cli(lambda: AppContext(transport=fake.transport()))
    journal = tmp_path / "j.jsonl"
    args = ("--no-audit", "disconnect-route", "/chat", "--yes")
    assert run(*args, "--journal", str(journal)).exit_code == 0
    assert json.loads(journal.read_text().splitlines()[0])["journal"] == "frankenws-bulk"
    assert run(*args, "--resume", str(journal)).exit_code == 0


def test_a_path_in_the_url_needs_url_path_ok(served):
    """http://host:2019/config would rebase every call into Caddy's config API."""
    run = make_cli(lambda: AppContext())
    refused = run("--no-audit", "--url", served.admin_url + "/config", "clients")
    assert refused.exit_code == 2
    assert "--url-path-ok" in refused.stderr
    assert "allow_path" not in refused.stderr
    # Allowed, the path is used: the fake has nothing there, so Go's plain 404 comes back.
    allowed = run("--url-path-ok", "--url", served.admin_url + "/proxy", "clients")
    assert allowed.exit_code == 4, allowed.output


def test_timeout_help_calls_it_a_deadline(plain):
    text = " ".join(plain("--help").output.split())
    assert "Deadline per request" in text
    assert "3x this" in text


@pytest.mark.parametrize(
    ("args", "limit"),
    [
        (("maintenance", "-m", "bye", "--grace", "99999999999999d"), "24h"),
        (("maintenance", "-m", "bye", "--grace", "25h"), "24h"),
        (("cleanup-inactive", "--max-idle", "99999999999999999d"), "366d"),
        (("cleanup-inactive", "--max-idle", "9" * 400), "366d"),  # float('inf') seconds
    ],
)
def test_absurd_durations_are_refused(cli, args, limit):
    result = cli("--yes", *args)
    assert result.exit_code == 2, result.output
    assert f"longer than the {limit} this option accepts" in result.stderr
    assert "Traceback" not in result.output


def test_sane_durations_still_work(cli):
    assert cli("--dry-run", "maintenance", "-m", "bye", "--grace", "24h").exit_code == 0
    assert cli("--dry-run", "cleanup-inactive", "--max-idle", "30d").exit_code == 0


def test_timeout_is_a_deadline_for_the_cli(plain):
    """A server dripping a valid answer fails `--timeout 1` instead of holding it."""
    with loopback_server(drip) as url:
        result = plain("--timeout", "1", "--url", url, "clients")
    assert result.exit_code == 3, result.output
    assert "did not answer within 1 s" in result.stderr
    assert "Raise --timeout" in result.stderr


def test_timeout_is_a_deadline_for_the_cli_process(dirs):
    with loopback_server(drip) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FRANKENWS_")}
        command = [sys.executable, "-m", "frankenws_cli", "--timeout", "1", "--url", url]
        done = subprocess.run(
            [*command, "clients"], env=env, capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 3, done.stderr
    assert "did not answer within 1 s" in done.stderr


def test_max_response_bytes_from_the_command_line(cli):
    """The cap is configurable, and the error says which option raises it."""
    assert cli("--max-response-bytes", "100000", "clients").exit_code == 0
    result = cli("--max-response-bytes", "10", "clients")
    assert result.exit_code == 4, result.output
    assert "limit of 10 bytes" in result.stderr
    assert "Raise --max-response-bytes" in result.stderr
    assert "max_response_bytes=" not in result.stderr


@pytest.mark.parametrize("command", [("clients",), ("doctor",)])
def test_plain_http_to_another_host_is_a_cli_warning(plain, command):
    url = f"http://192.0.2.{len(command[0])}:1"  # TEST-NET-1: never answers
    result = plain("--no-audit", "--timeout", "0.2", "--url", url, *command)
    assert f"warning: {url} is plain HTTP to a host that is not loopback" in result.stderr
    assert "InsecureConnectionWarning" not in result.stderr
    assert result.stderr.count("plain HTTP") == 1
