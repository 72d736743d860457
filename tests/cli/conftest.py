"""Fixtures for the CLI tests: an isolated environment, the fake, and a ``cli`` runner.

Every test runs with its own XDG directories (config, audit log, journals) and without
the FRANKENWS_* variables of whoever runs the suite. The fake is injected through the
app's context object, never by patching the SDK.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cli_support import Invoke, make_cli

from frankenws.testing import FakeFrankenPHP
from frankenws_cli._context import AppContext

ENV_VARS = (
    "FRANKENWS_ADMIN_URL",
    "CADDY_ADMIN",
    "FRANKENWS_PROFILE",
    "FRANKENWS_HOST_HEADER",
    "FRANKENWS_CERT",
    "FRANKENWS_KEY",
    "FRANKENWS_CA",
    "FRANKENWS_TIMEOUT",
    "FRANKENWS_AUDIT_LOG",
    "NO_COLOR",
)


@dataclass
class Dirs:
    config: Path
    state: Path

    @property
    def config_file(self) -> Path:
        return self.config / "frankenws" / "config.toml"

    @property
    def audit_file(self) -> Path:
        return self.state / "frankenws" / "audit.jsonl"

    def audit(self) -> list[dict[str, Any]]:
        """The audit records written so far."""
        if not self.audit_file.exists():
            return []
        return [json.loads(line) for line in self.audit_file.read_text().splitlines()]


@pytest.fixture(autouse=True)
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Dirs:
    """Private XDG directories and a clean environment for every CLI test."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    config, state = tmp_path / "xdg-config", tmp_path / "xdg-state"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    monkeypatch.setenv("COLUMNS", "120")
    return Dirs(config, state)


@pytest.fixture
def fake() -> FakeFrankenPHP:
    """A fake with three connections: alice (admin) and bob on /chat, carol on /news."""
    fake = FakeFrankenPHP()
    for conn, route, user in (("c-alice", "/chat", "alice"), ("c-bob", "/chat", "bob")):
        fake.connect(route, id=conn)
        fake.set_stored_information(conn, "username", user)
    fake.connect("/news", id="c-carol")
    fake.set_stored_information("c-carol", "username", "carol")
    fake.tag_client("c-alice", "admin")
    fake.tag_client("c-carol", "premium")
    return fake


@pytest.fixture
def cli(fake: FakeFrankenPHP) -> Invoke:
    """``cli("kill", "c-bob")`` runs the app in process against ``fake``."""
    return make_cli(lambda: AppContext(transport=fake.transport()))


@pytest.fixture
def served(fake: FakeFrankenPHP) -> Iterator[Any]:
    """``fake`` on loopback: real admin port and WebSocket port."""
    with fake.serve() as server:
        yield server
