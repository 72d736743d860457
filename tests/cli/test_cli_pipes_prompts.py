"""Prompts and pipes, on a real ``frankenws`` process against the loopback fake.

A bulk job's plan is shown bounded and on stderr, with a prompt naming the action, the
count and the server, so the operator sees both even with stdout redirected. A closed
stdout (the reader of a pipe went away) never cancels a job or turns into an error.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from typing import Any

import pytest

from frankenws.testing import FakeFrankenPHP

pytestmark = pytest.mark.skipif(os.name != "posix", reason="pipes and /dev/null are POSIX")


def environment(dirs: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRANKENWS_")}
    env.update(XDG_CONFIG_HOME=str(dirs.config), XDG_STATE_HOME=str(dirs.state), COLUMNS="80")
    return env


def frankenws(dirs: Any, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "frankenws_cli", *args],
        env=environment(dirs),
        text=True,
        timeout=120,
        **kwargs,
    )


@pytest.fixture
def crowd():
    fake = FakeFrankenPHP()
    for n in range(1695):
        fake.connect("/load", id=f"load-{n:04}")
    with fake.serve() as server:
        yield fake, server


def test_prompt_and_bounded_plan_reach_the_operator_with_stdout_redirected(dirs, crowd, tmp_path):
    fake, server = crowd
    out = tmp_path / "out.txt"
    with out.open("w") as stdout:
        answered = frankenws(
            dirs,
            "--url",
            server.admin_url,
            "disconnect-route",
            "/load",
            input="n\n",
            stdout=stdout,
            stderr=subprocess.PIPE,
        )
    assert answered.returncode == 1
    assert out.read_text() == ""  # nothing but the report ever goes to stdout
    err = answered.stderr
    assert err.startswith("disconnect 1695 connection(s) on route '/load'\n")
    assert "load-0000" in err
    assert "load-0009" in err
    assert "load-0010" not in err
    assert "… 1,685 more; --json for all" in err
    host = server.admin_url.partition("://")[2]
    assert f"Disconnect 1,695 connection(s) on {host}? [y/N]" in err
    assert len(err.splitlines()) < 25  # the prompt does not scroll away
    assert len(fake.get_clients()) == 1695


def test_maintenance_prompt_says_it_warns_first(dirs, crowd):
    _, server = crowd
    refused = frankenws(
        dirs,
        "--url",
        server.admin_url,
        "maintenance",
        "--route",
        "/load",
        input="",
        capture_output=True,
    )
    assert refused.returncode == 1
    host = server.admin_url.partition("://")[2]
    assert f"Warn and then disconnect 1,695 connection(s) on {host}? [y/N]" in refused.stderr


def into_closed_pipe(dirs: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """Run with stdout a pipe whose reader is already gone, like ``| head -1`` after its
    line: every write to it fails with EPIPE."""
    read, write = os.pipe()
    os.close(read)
    try:
        return frankenws(
            dirs, *args, stdin=subprocess.DEVNULL, stdout=write, stderr=subprocess.PIPE
        )
    finally:
        os.close(write)


def test_closed_pipe_does_not_cancel_a_bulk_job(dirs, crowd):
    """--yes | head -1: the job runs to the end, exit 0, no error, all in the audit log."""
    fake, server = crowd
    done = into_closed_pipe(dirs, "--url", server.admin_url, "disconnect-route", "/load", "--yes")
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr.lower()
    assert fake.get_clients() == []
    assert len(dirs.audit()) == 1695


@pytest.mark.parametrize(
    "args",
    [
        ["clients"],
        ["clients", "--json"],
        ["kill", "load-0001", "load-0002", "load-0003"],
        ["clients", "-o", "wide"],
    ],
    ids=["clients", "clients-json", "kill", "clients-wide"],
)
def test_closed_pipe_is_quiet_for_every_command(dirs, crowd, args):
    """Every command: its work is done, nothing is reported as an error, and the exit
    code is the command's own."""
    fake, server = crowd
    done = into_closed_pipe(dirs, "--url", server.admin_url, *args)
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr.lower()
    assert "Exception" not in done.stderr
    if args[0] == "kill":
        assert {"load-0001", "load-0002", "load-0003"}.isdisjoint(fake.get_clients())


def test_head_1_pipeline(dirs, crowd):
    """The real thing: a shell pipeline whose reader stops after one line."""
    fake, server = crowd
    command = [sys.executable, "-m", "frankenws_cli", "--url", server.admin_url, "clients"]
    shell = subprocess.run(
        ["sh", "-c", " ".join(command) + " | head -1"],
        env=environment(dirs),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shell.stdout.splitlines()[0].split("\t")[0] == "load-0000"
    assert "error" not in shell.stderr.lower()
    assert "Exception" not in shell.stderr
    assert len(fake.get_clients()) == 1695


def test_unwritable_audit_log_stops_before_planning(dirs, crowd, tmp_path):
    """The job would fail on the audit log anyway: it says so before reading the server."""
    fake, server = crowd
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    done = frankenws(
        dirs,
        "--url",
        server.admin_url,
        "--audit-log",
        str(blocked / "audit.jsonl"),
        "disconnect-route",
        "/load",
        "--yes",
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    assert done.returncode != 0
    assert "audit" in done.stderr
    assert "disconnect 1695" not in done.stderr + done.stdout  # no plan was made
    assert len(fake.get_clients()) == 1695


def on_terminal(dirs: Any, *args: str) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal; the exit code and what the terminal showed."""
    import pty

    main, terminal = pty.openpty()
    seen: list[bytes] = []

    def drain() -> None:  # a full terminal buffer would block the child
        try:
            while chunk := os.read(main, 65536):
                seen.append(chunk)
        except OSError:  # the terminal's other end is closed: all read
            pass

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        done = frankenws(
            dirs, *args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal
        )
    finally:
        os.close(terminal)
        reader.join(30)
        os.close(main)
    return done.returncode, b"".join(seen).decode("utf-8", "replace")


def test_spinner_counts_the_values_read_on_a_terminal(dirs):
    """Planning that reads values one by one shows a counter on a terminal (stderr)."""
    fake = FakeFrankenPHP()
    for n in range(300):
        conn = fake.connect("/chat", id=f"c{n:03}")
        fake.set_stored_information(conn, "username", f"user{n % 7}")
    with fake.serve() as server:
        code, shown = on_terminal(
            dirs, "--url", server.admin_url, "enforce-limit", "--max", "1", "--dry-run"
        )
    assert code == 0
    assert "reading the server" in shown
    assert "value(s) read" in shown


def test_progress_counts_connections_and_the_grace_counts_down(dirs):
    """A maintenance on a terminal: a countdown during the grace, then connections (not
    requests) with a rate, every line within 80 columns."""
    fake = FakeFrankenPHP()
    for n in range(40):
        fake.connect("/chat", id=f"c{n:03}")
    with fake.serve() as server:
        code, shown = on_terminal(
            dirs, "--url", server.admin_url, "maintenance", "--grace", "2s", "--yes"
        )
    assert code == 0, shown
    assert "grace: 2 s left" in shown or "grace: 1 s left" in shown
    assert "/40 " in shown  # 40 connections, though 80 requests (warn + kill each)
    assert "/80 " not in shown
    assert "/s" in shown
    for frame in shown.replace("\r", "\n").split("\n"):
        visible = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", frame)
        if "/s" in visible or "grace:" in visible:  # the live line, not the messages
            assert len(visible) <= 80, visible
