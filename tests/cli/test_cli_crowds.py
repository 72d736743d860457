"""``fake-server`` and ``demo`` with more than aiohttp's default 100 connections per session.

Real processes, real WebSocket clients: the server must see every one of them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

import frankenws

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGINT stops the fake server")


def test_fake_server_with_a_thousand_clients(dirs):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRANKENWS_")}
    env.update(XDG_CONFIG_HOME=str(dirs.config), XDG_STATE_HOME=str(dirs.state))
    command = [sys.executable, "-m", "frankenws_cli", "--json", "fake-server", "--clients", "1000"]
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stdout is not None
            first = server.stdout.readline()  # written once every client is registered
            assert first, server.communicate(timeout=30)[1]
            info = json.loads(first)
            assert info["clients"] == 1000
            with frankenws.Client(info["admin_url"]) as client:
                assert client.get_clients_count() == 1000
            server.send_signal(signal.SIGINT)
            assert server.wait(timeout=60) == 0
        finally:
            if server.poll() is None:
                server.kill()


def test_demo_with_150_clients(dirs):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRANKENWS_")}
    env.update(XDG_CONFIG_HOME=str(dirs.config), XDG_STATE_HOME=str(dirs.state), COLUMNS="100")
    done = subprocess.run(
        [sys.executable, "-m", "frankenws_cli", "demo", "--clients", "150"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "with 150 real WebSocket clients" in done.stdout + done.stderr
