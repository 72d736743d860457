"""The typer-free fast path for ``kill`` behaves exactly like the typer command."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from typer.testing import CliRunner

from frankenws.testing import FakeFrankenPHP
from frankenws_cli._app import app
from frankenws_cli._context import AppContext
from frankenws_cli._fast import parse_kill, run_fast


def _fake() -> FakeFrankenPHP:
    fake = FakeFrankenPHP()
    for conn in ("c-alice", "c-bob", "c-carol"):
        fake.connect("/chat", id=conn)
    return fake


def _normalise(stdout: str) -> Any:
    try:
        doc = json.loads(stdout)
    except ValueError:
        return stdout
    if isinstance(doc, dict):
        doc.pop("started", None)
        doc.pop("finished", None)
    return doc


def _via_typer(argv: list[str], input: str | None, fake: FakeFrankenPHP | None) -> tuple:
    obj = AppContext(transport=fake.transport() if fake else None)
    result = CliRunner().invoke(app, argv, input=input, obj=obj, catch_exceptions=False)
    return result.exit_code, _normalise(result.stdout), result.stderr


def _via_fast(argv: list[str], input: str | None, fake: FakeFrankenPHP | None) -> tuple:
    obj = AppContext(transport=fake.transport() if fake else None)
    runner = CliRunner()
    with runner.isolation(input=input) as (out, err, _):
        code = run_fast(argv, obj)
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    assert code is not None, "the fast path should have handled this command line"
    return code, _normalise(stdout), stderr


def _audit(dirs: Any) -> list[dict[str, Any]]:
    records = dirs.audit()
    for record in records:
        record.pop("time")
    dirs.audit_file.unlink(missing_ok=True)
    return records


CASES = [
    (["kill", "c-bob"], None),
    (["kill", "nobody"], None),
    (["kill", "c-alice", "c-bob", "--json"], None),
    (["--json", "kill", "c-carol", "nobody", "c-carol"], None),
    (["kill", ""], None),
    (["kill"], None),
    (["kill", "-"], "c-alice\n\nc-bob\n"),
    (["kill", "c-bob", "--dry-run"], None),
    (["--dry-run", "--json", "kill", "c-bob", "nobody"], None),
    (["--timeout", "5", "kill", "c-bob", "--no-audit"], None),
    (["kill", "c-bob", "--actor", "ops", "-y"], None),
    (["--host-header", "evil.example", "kill", "c-bob"], None),
    (["--url", "ftp://nowhere", "kill", "c-bob"], None),
]


@pytest.mark.parametrize(("argv", "input"), CASES, ids=lambda v: repr(v))
def test_fast_path_matches_typer(dirs, argv, input):
    """Same exit code, stdout, stderr and audit records through both parsers."""
    typer_side = _via_typer(argv, input, _fake())
    typer_audit = _audit(dirs)
    fast_side = _via_fast(argv, input, _fake())
    fast_audit = _audit(dirs)
    assert fast_side == typer_side
    assert fast_audit == typer_audit


def test_fast_path_matches_typer_when_unreachable(dirs):
    """An unreachable server gives the same exit 3 and message."""
    argv = ["--url", "http://127.0.0.1:9", "kill", "c-bob"]
    assert _via_fast(argv, None, None) == _via_typer(argv, None, None)


def test_fast_path_reads_from_file(dirs, tmp_path):
    """--from FILE is handled by the fast path too."""
    path = tmp_path / "ids"
    path.write_text("c-alice\nc-carol\n")
    fake = _fake()
    assert _via_fast(["kill", "--from", str(path)], None, fake)[0] == 0
    assert fake.get_clients() == ["c-bob"]


@pytest.mark.parametrize(
    "argv",
    [
        ["kill", "--help"],
        ["kill", "-h"],
        ["--version"],
        ["clients"],
        ["kill", "-x"],
        ["kill", "--", "-dash-id"],
        ["--timeout", "0", "kill", "a"],
        ["--timeout", "1e3", "kill", "a"],
        ["--concurrency", "0", "kill", "a"],
        ["-uhttp://x", "kill", "a"],
        ["kill", "a", "--cert", "c.pem"],
        ["kill", "--from"],
        ["--url"],
        ["--json=1", "kill", "a"],
        [],
    ],
)
def test_fast_path_leaves_the_rest_to_typer(argv):
    """Anything beyond plain kill command lines is parsed by typer (with its messages)."""
    assert parse_kill(argv) is None


def test_parse_kill_understands_global_options_anywhere(tmp_path):
    """Global options before or after kill are all recognised."""
    options, ids, from_file = parse_kill(
        ["-u", "http://h:1", "kill", "a", "--json", "b", "--timeout=2.5", "--from", "f"]
    ) or ({}, [], None)
    assert options == {"url": "http://h:1", "json": True, "timeout": 2.5}
    assert ids == ["a", "b"]
    assert str(from_file) == "f"
