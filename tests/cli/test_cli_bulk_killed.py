"""A bulk job killed with SIGKILL half-way: the audit log still has every finished target.

The ``frankenws`` process runs as a subprocess against the loopback fake. The fake's close
hook (the PHP worker's place) holds the third kill, so the job is caught in flight for
certain; then the process is killed without any chance to clean up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest
from support import wait_for

from frankenws.testing import FakeFrankenPHP

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")


def _stop_mid_job(dirs, sig: int) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    """Run a 6-target bulk kill, send ``sig`` while the third kill is held, return the end."""
    fake = FakeFrankenPHP()
    ids = sorted(fake.connect("/load", id=f"load-{n}") for n in range(6))
    release = threading.Event()
    closing: list[str] = []

    def hold_the_third_kill(event) -> None:
        if event.type == "close" and event.connection and event.connection not in closing:
            closing.append(event.connection)
            if len(closing) == 3:
                release.wait(30)  # the server answers this kill only after the test

    fake.on_close = hold_the_third_kill
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRANKENWS_")}
    env.update(XDG_CONFIG_HOME=str(dirs.config), XDG_STATE_HOME=str(dirs.state))
    with fake.serve() as server:
        command = [sys.executable, "-m", "frankenws_cli", "--url", server.admin_url]
        command += ["--concurrency", "1", "disconnect-route", "/load", "--yes"]
        job = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        try:
            wait_for(lambda: len(closing) == 3, timeout=60)
            job.send_signal(sig)
            _, stderr = job.communicate(timeout=30)
        finally:
            release.set()
            if job.poll() is None:
                job.kill()
                job.wait()
    return ids, subprocess.CompletedProcess(command, job.returncode, "", stderr)


def test_sigkill_mid_job_leaves_finished_targets_audited(dirs):
    """Each target is audited as it finishes, not after the job: SIGKILL loses none."""
    ids, job = _stop_mid_job(dirs, signal.SIGKILL)
    assert job.returncode == -signal.SIGKILL
    records = dirs.audit()
    assert [(r["target"], r["action"], r["result"]) for r in records] == [
        (ids[0], "kill", "done"),
        (ids[1], "kill", "done"),
    ]
    assert {r["command"] for r in records} == {"disconnect-route"}


def test_sigterm_mid_job_stops_like_ctrl_c(dirs):
    """SIGTERM (a service manager's stop): message, resume hint, audit, exit 143."""
    ids, job = _stop_mid_job(dirs, signal.SIGTERM)
    assert job.returncode == 143, job.stderr
    # the two done and the one held in flight (recorded as uncertain)
    assert "terminated (SIGTERM) after 3 target(s), 1 of them in flight" in job.stderr
    assert "--resume" in job.stderr
    assert "Traceback" not in job.stderr
    done = [(r["target"], r["result"]) for r in dirs.audit() if r["result"] == "done"]
    assert done == [(ids[0], "done"), (ids[1], "done")]
