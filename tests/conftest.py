from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_caddy(
    home: Path, admin: dict[str, object], probe: Callable[[], bool]
) -> subprocess.Popen[bytes]:
    binary = shutil.which("caddy")
    if binary is None:
        if os.environ.get("FRANKENWS_REQUIRE_CADDY"):
            pytest.fail("caddy is required (FRANKENWS_REQUIRE_CADDY) but not installed")
        pytest.skip("caddy is not installed")
    config = Path(home, "caddy.json")
    config.write_text(json.dumps({"admin": admin}))
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home), XDG_DATA_HOME=str(home))
    proc = subprocess.Popen(
        [binary, "run", "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while not probe():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"caddy did not start listening on {admin['listen']}")
        time.sleep(0.05)
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _tcp_ready(port: int) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    return probe


@pytest.fixture(scope="session")
def real_caddy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Caddy (no WebSocket extension) with its admin API on loopback; yields its URL.

    Skipped when no ``caddy`` binary exists, unless FRANKENWS_REQUIRE_CADDY is set (CI).
    """
    port = _free_port()
    proc = _start_caddy(
        tmp_path_factory.mktemp("caddy"), {"listen": f"127.0.0.1:{port}"}, _tcp_ready(port)
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def real_caddy_unix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same, with the admin API on a unix socket; yields Caddy's ``unix//path`` form."""
    home = tmp_path_factory.mktemp("caddy-unix")
    path = home / "admin.sock"
    # Caddy before 2.7 also checks Host on unix sockets (2.7+ does not), and its default
    # allowed origin is not a valid Host value, so name one.
    proc = _start_caddy(home, {"listen": f"unix/{path}", "origins": ["localhost"]}, path.exists)
    try:
        yield f"unix/{path}"
    finally:
        _stop(proc)
