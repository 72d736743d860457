"""Ctrl-C (SIGINT) and SIGTERM in the middle of a bulk job, on a real ``frankenws`` process.

The loopback fake's close hook (the PHP worker's place) holds the third kill, which
stalls the fake's event loop: with ``--concurrency 4`` several requests are then in
flight for certain when the signal arrives. Every target the server acted on must be in
the journal and the audit log afterwards, the ones whose answer never came as
``uncertain``, and the resume command printed must be the exact command line.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from support import wait_for

from frankenws.testing import FakeFrankenPHP

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals are POSIX")


class HeldKill:
    """Holds the server's ``n``-th close until released (records every close)."""

    def __init__(self, fake: FakeFrankenPHP, n: int) -> None:
        self.n = n
        self.closing: list[str] = []
        self.release = threading.Event()
        fake.on_close = self

    def __call__(self, event: Any) -> None:
        if event.type == "close" and event.connection and event.connection not in self.closing:
            self.closing.append(event.connection)
            if len(self.closing) == self.n:
                self.release.wait(30)


def environment(dirs: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRANKENWS_")}
    env.update(XDG_CONFIG_HOME=str(dirs.config), XDG_STATE_HOME=str(dirs.state))
    return env


def interrupt(args: list[str], held: HeldKill, dirs: Any, signum: int) -> tuple[int, str]:
    """Run ``frankenws args``, send ``signum`` once the held kill is reached."""
    command = [sys.executable, "-m", "frankenws_cli", *args]
    job = subprocess.Popen(
        command,
        env=environment(dirs),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: len(held.closing) == held.n, timeout=60)
        job.send_signal(signum)
        _, stderr = job.communicate(timeout=60)
    finally:
        held.release.set()
        if job.poll() is None:
            job.kill()
            job.wait()
    return job.returncode, stderr


def journal_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()[1:]]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_job_records_every_target_in_flight(dirs, tmp_path, signum):
    fake = FakeFrankenPHP()
    for n in range(12):
        fake.connect("/load", id=f"load-{n:02}")
    held = HeldKill(fake, 3)
    journal = tmp_path / "route.jsonl"
    with fake.serve() as server:
        args = ["--url", server.admin_url, "disconnect-route", "/load", "--yes"]
        args += ["--concurrency", "4", "--journal", str(journal)]
        code, stderr = interrupt(args, held, dirs, signum)
        wait_for(lambda: held.closing[2] not in fake.get_clients(), timeout=30)

    assert code == (143 if signum == signal.SIGTERM else 130), stderr
    assert "Traceback" not in stderr
    # The held kill and the ones queued behind it never got their answer.
    audit = {r["target"]: r["result"] for r in dirs.audit()}
    journaled = {r["target"]: r["status"] for r in journal_records(journal)}
    assert audit == journaled
    assert audit[held.closing[2]] == "uncertain"
    in_flight = [t for t, status in audit.items() if status == "uncertain"]
    assert len(in_flight) >= 2
    assert set(audit.values()) <= {"done", "uncertain"}
    # Everything the server acted on is accounted for.
    assert set(held.closing) <= set(audit)
    assert f"{len(in_flight)} of them in flight and recorded as uncertain" in stderr
    exact = shlex.join(["frankenws", *args, "--resume", str(journal)])
    assert f"continue with: {exact}" in stderr


def test_interrupted_sweep_owes_the_alert_of_the_kill_in_flight(dirs, tmp_path):
    """The kill in flight at Ctrl-C was done by the server: on resume (which plans again
    and no longer sees that connection) its alert is still sent, once."""
    fake = FakeFrankenPHP()
    cheats = sorted(fake.connect("/game", id=f"cheat-{n}") for n in range(5))
    for conn in cheats:
        fake.set_stored_information(conn, "violationCount", "9")
        fake.set_stored_information(conn, "username", f"user-{conn}")
    admin = fake.connect("/admin", id="admin")
    fake.tag_client(admin, "admin")
    held = HeldKill(fake, 3)
    journal = tmp_path / "sweep.jsonl"
    with fake.serve() as server:
        args = ["--url", server.admin_url, "sweep", "violationCount", "gte", "3"]
        args += ["--notify-tag", "admin", "--yes", "--concurrency", "1"]
        args += ["--journal", str(journal)]
        code, stderr = interrupt(args, held, dirs, signal.SIGINT)
        assert code == 130, stderr
        wait_for(lambda: held.closing[2] not in fake.get_clients(), timeout=30)
        alerted = [json.loads(frame)["connection"] for frame in fake.received(admin)]
        assert alerted == held.closing[:2]

        resumed = subprocess.run(
            [sys.executable, "-m", "frankenws_cli", *args, "--resume", str(journal)],
            env=environment(dirs),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert resumed.returncode == 0, resumed.stderr
    alerted = [json.loads(frame)["connection"] for frame in fake.received(admin)]
    assert sorted(alerted) == cheats  # each victim announced exactly once
    assert fake.get_clients() == [admin]


def test_dead_server_mid_job_stops_with_the_exact_resume_command(dirs, tmp_path):
    """The admin endpoint dies after the third kill: a few connection failures, then the
    job stops, journals the rest as not attempted, exits 3 and names the exact command."""
    from cli_support import make_cli

    from frankenws_cli._context import AppContext

    cli = make_cli(lambda: AppContext())
    fake = FakeFrankenPHP()
    ids = sorted(fake.connect("/load", id=f"load-{n:02}") for n in range(30))
    admin = fake.serve()
    port = admin.admin_port
    closes: list[str] = []

    def die_after_the_third(event: Any) -> None:
        if event.type == "close" and event.connection not in closes:
            closes.append(event.connection)
            if len(closes) == 3:  # closing from inside the server's own loop would block
                threading.Thread(target=admin.close).start()

    fake.on_close = die_after_the_third
    journal = tmp_path / "route.jsonl"
    args = ["--url", admin.admin_url, "disconnect-route", "/load", "--yes"]
    args += ["--concurrency", "1", "--journal", str(journal)]
    try:
        result = cli(*args)
    finally:
        admin.close()

    assert result.exit_code == 3, result.output
    statuses = [r["status"] for r in journal_records(journal)]
    assert statuses.count("failed") == 5
    left = statuses.count("not_attempted")
    assert left >= 20
    assert len(statuses) == len(ids)
    assert f"{left} target(s) not attempted" in result.stderr
    assert "the server stopped answering" in result.stderr
    exact = shlex.join(["frankenws", *args, "--resume", str(journal)])
    assert exact in result.stderr
    assert "not_attempted" not in {r["result"] for r in dirs.audit()}  # nothing was done

    fake.on_close = None
    with fake.serve(admin_port=port):
        again = cli(*shlex.split(exact)[1:])
    assert again.exit_code == 0, again.output
    assert fake.get_clients() == []
