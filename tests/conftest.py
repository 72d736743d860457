from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def real_caddy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Caddy (no WebSocket extension) with its admin API on loopback; yields its URL.

    Skipped when no ``caddy`` binary exists, unless FRANKENWS_REQUIRE_CADDY is set (CI).
    """
    binary = shutil.which("caddy")
    if binary is None:
        if os.environ.get("FRANKENWS_REQUIRE_CADDY"):
            pytest.fail("caddy is required (FRANKENWS_REQUIRE_CADDY) but not installed")
        pytest.skip("caddy is not installed")
    home = tmp_path_factory.mktemp("caddy")
    port = _free_port()
    config = Path(home, "caddy.json")
    config.write_text(json.dumps({"admin": {"listen": f"127.0.0.1:{port}"}}))
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home), XDG_DATA_HOME=str(home))
    proc = subprocess.Popen(
        [binary, "run", "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"caddy did not start on port {port}")
            time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
