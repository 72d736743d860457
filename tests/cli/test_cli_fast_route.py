"""``disconnect-route`` without typer: the fast path does what the typer command does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import assert_parsers_agree, run_main, timeless, via_fast

from frankenws.testing import FakeFrankenPHP
from frankenws_cli._fast import parse_disconnect_route


def _fake() -> FakeFrankenPHP:
    fake = FakeFrankenPHP()
    for conn, route in (("a1", "/chat"), ("a2", "/chat"), ("b1", "/news"), ("c1", "/chat")):
        fake.connect(route, id=conn)
    return fake


def _via_fast(argv: list[str], input: str | None, fake: FakeFrankenPHP) -> tuple:
    code, stdout, stderr = via_fast(argv, input, fake)
    return code, timeless(stdout), stderr, fake.get_clients()


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
    assert_parsers_agree(dirs, argv, input, _fake)


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


def test_a_real_job_runs_without_typers_parser(dirs):
    """A real ``disconnect-route --yes`` process: typer's command tree and its pydantic
    coercion (about 0.4 s of CPU) are never built or loaded, and with --yes in a pipe
    nothing is drawn with rich (the plan is one summary line)."""
    fake = _fake()
    with fake.serve() as server:
        argv = ["--url", server.admin_url, "--yes", "disconnect-route", "/chat"]
        code, stdout, loaded = run_main(argv)
    assert code == 0
    assert stdout == "disconnect-route: kill: 3 done, 0 not found, 0 failed\n"
    assert fake.get_clients() == ["b1"]
    assert sorted(loaded & {"pydantic", "rich", "frankenws_cli._app"}) == []
    assert {r["target"] for r in dirs.audit()} == {"a1", "a2", "c1"}
