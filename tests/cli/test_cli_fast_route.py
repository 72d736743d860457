"""``disconnect-route`` without typer: the fast path does what the typer command does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from frankenws.testing import FakeFrankenPHP
from frankenws_cli._app import app
from frankenws_cli._context import AppContext
from frankenws_cli._fast import parse_disconnect_route, run_fast


def _fake() -> FakeFrankenPHP:
    fake = FakeFrankenPHP()
    for conn, route in (("a1", "/chat"), ("a2", "/chat"), ("b1", "/news"), ("c1", "/chat")):
        fake.connect(route, id=conn)
    return fake


def _timeless(document: Any) -> Any:
    """A JSON document without its timestamps (they differ from run to run)."""
    if isinstance(document, dict):
        return {k: _timeless(v) for k, v in document.items() if k not in ("started", "finished")}
    if isinstance(document, list):
        return [_timeless(v) for v in document]
    return document


def _normalise(stdout: str) -> Any:
    try:
        return _timeless(json.loads(stdout))
    except ValueError:
        return stdout


def _via_typer(argv: list[str], input: str | None, fake: FakeFrankenPHP) -> tuple:
    obj = AppContext(transport=fake.transport())
    result = CliRunner().invoke(app, argv, input=input, obj=obj, catch_exceptions=False)
    return result.exit_code, _normalise(result.stdout), result.stderr, fake.get_clients()


def _via_fast(argv: list[str], input: str | None, fake: FakeFrankenPHP) -> tuple:
    obj = AppContext(transport=fake.transport())
    runner = CliRunner()
    with runner.isolation(input=input) as (out, err, _):
        code = run_fast(argv, obj)
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    assert code is not None, "the fast path should have handled this command line"
    return code, _normalise(stdout), stderr, fake.get_clients()


def _audit(dirs: Any) -> list[dict[str, Any]]:
    records = dirs.audit()
    for record in records:
        record.pop("time")
    dirs.audit_file.unlink(missing_ok=True)
    return records


CASES = [
    (["--yes", "disconnect-route", "/chat"], None),
    (["disconnect-route", "/chat", "--yes", "--json"], None),
    (["disconnect-route", "/chat", "-o", "table", "-y"], None),
    (["--dry-run", "disconnect-route", "/chat"], None),
    (["--dry-run", "--json", "disconnect-route", "/news"], None),
    (["disconnect-route", "/chat"], "y\n"),
    (["disconnect-route", "/chat"], "n\n"),
    (["disconnect-route", "/chat"], ""),
    (["--yes", "disconnect-route", "/chta"], None),
    (["--yes", "disconnect-route", "/nowhere", "--json"], None),
    (["--no-audit", "-y", "disconnect-route", "/news", "--actor", "ops"], None),
    (["--yes", "disconnect-route", "/chat", "--resume", "no-such-journal.jsonl"], None),
    (["--url", "ftp://nowhere", "--yes", "disconnect-route", "/chat"], None),
]


@pytest.mark.parametrize(("argv", "input"), CASES, ids=lambda v: repr(v))
def test_fast_path_matches_typer(dirs, argv, input):
    """Same exit code, stdout, stderr, audit records and connections left."""
    typer_side = _via_typer(argv, input, _fake())
    typer_audit = _audit(dirs)
    fast_side = _via_fast(argv, input, _fake())
    fast_audit = _audit(dirs)
    assert fast_side == typer_side
    assert fast_audit == typer_audit


def test_fast_path_keeps_and_resumes_a_journal(dirs, tmp_path):
    """--journal keeps the run's journal, --resume=FILE is understood too."""
    journal = tmp_path / "route.jsonl"
    fake = _fake()
    argv = ["--yes", "disconnect-route", "/chat", "--journal", str(journal), "--json"]
    code, document, _, left = _via_fast(argv, None, fake)
    assert code == 0
    assert left == ["b1"]
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert sorted(line["target"] for line in lines if "target" in line) == ["a1", "a2", "c1"]
    again = ["--yes", "disconnect-route", "/chat", f"--resume={journal}", "--json"]
    code, document, _, _ = _via_fast(again, None, fake)
    assert code == 0
    assert document["plan"]["targets"] == []
    assert document["report"] is None


@pytest.mark.parametrize(
    "argv",
    [
        ["disconnect-route"],
        ["disconnect-route", "/a", "/b"],
        ["disconnect-route", "--help"],
        ["disconnect-route", "-h"],
        ["disconnect-route", "/a", "--resume"],
        ["disconnect-route", "/a", "--resume", "f", "--resume", "g"],
        ["disconnect-route", "/a", "--journal", "."],
        ["disconnect-route", "/a", "-x"],
        ["disconnect-route", "--", "/a"],
        ["disconnect-user", "alice"],
        ["--concurrency", "0", "disconnect-route", "/a"],
    ],
)
def test_fast_path_leaves_the_rest_to_typer(argv):
    assert parse_disconnect_route(argv) is None


def test_parse_disconnect_route_understands_options_anywhere():
    parsed = parse_disconnect_route(
        ["-y", "disconnect-route", "--journal=j.jsonl", "/chat", "--json", "--resume", "r"]
    )
    assert parsed == (
        {"yes": True, "json": True},
        "/chat",
        {"journal": Path("j.jsonl"), "resume": Path("r")},
    )


_RUN = """
import json, sys
sys.argv = ["frankenws", *json.loads(sys.argv[1])]
import frankenws_cli
try:
    frankenws_cli.main()
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def test_a_real_job_runs_without_typers_parser(dirs):
    """A real ``disconnect-route --yes`` process: typer's command tree and its pydantic
    coercion (about 0.4 s of CPU) are never built or loaded."""
    fake = _fake()
    with fake.serve() as server:
        argv = ["--url", server.admin_url, "--yes", "disconnect-route", "/chat"]
        out = subprocess.run(
            [sys.executable, "-c", _RUN, json.dumps(argv)],
            capture_output=True,
            text=True,
            check=True,
        )
    report = json.loads(out.stderr.strip().splitlines()[-1])
    assert report["code"] == 0
    assert out.stdout == "disconnect-route: kill: 3 done, 0 not found, 0 failed\n"
    assert fake.get_clients() == ["b1"]
    loaded = set(report["modules"])
    assert sorted(loaded & {"pydantic", "frankenws_cli._app"}) == []
    assert {r["target"] for r in dirs.audit()} == {"a1", "a2", "c1"}
