"""Bulk jobs: plan, dry run, confirmation, run, report, partial failure, resume."""

from __future__ import annotations

import json
import time

import pytest
from cli_support import FailingTransport, json_out, make_cli, no_traceback

from frankenws.testing import FakeFrankenPHP
from frankenws_cli._context import AppContext


@pytest.fixture
def users() -> FakeFrankenPHP:
    """Eight connections of five users, with activity and violation data."""
    fake = FakeFrankenPHP()
    now = int(time.time())
    rows = [
        ("a1", "/chat", "alice", now - 10, 0, ("admin",)),
        ("a2", "/chat", "alice", now - 20, 0, ()),
        ("a3", "/news", "alice", now - 30, 0, ()),
        ("a4", "/news", "alice", now - 40, 5, ()),
        ("b1", "/chat", "bob", now - 7200, 3, ()),
        ("c1", "/chat", "carol", now - 3600, 1, ("admin",)),
        ("d1", "/news", "dave", now - 5, 9, ("premium",)),
        ("e1", "/news", "erin", now - 50, 2, ()),
    ]
    for conn, route, user, seen, violations, tags in rows:
        fake.connect(route, id=conn)
        fake.set_stored_information(conn, "username", user)
        fake.set_stored_information(conn, "lastActivity", str(seen))
        fake.set_stored_information(conn, "violationCount", str(violations))
        fake.set_stored_information(conn, "connectedAt", conn[1])
        for tag in tags:
            fake.tag_client(conn, tag)
    return fake


@pytest.fixture
def run(users):
    return make_cli(lambda: AppContext(transport=users.transport()))


ALL = ["a1", "a2", "a3", "a4", "b1", "c1", "d1", "e1"]


@pytest.mark.parametrize(
    ("args", "targets"),
    [
        (("disconnect-user", "alice"), ["a1", "a2", "a3", "a4"]),
        (("disconnect-route", "/chat"), ["a1", "a2", "b1", "c1"]),
        (("cleanup-inactive", "--max-idle", "30m"), ["b1", "c1"]),
        (("enforce-limit", "--max", "2"), ["a3", "a4"]),
        (("sweep", "username", "regex", "^(bob|dave)$"), ["b1", "d1"]),
        (("maintenance", "--route", "/news", "--grace", "0s"), ["a3", "a4", "d1", "e1"]),
    ],
)
def test_dry_run_shows_plan_and_changes_nothing(run, users, args, targets):
    """--dry-run prints the plan (JSON: plan, report null) and kills nothing."""
    result = run(*args, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    doc = json_out(result)
    assert doc["dry_run"] is True
    assert doc["report"] is None
    assert [t["id"] for t in doc["plan"]["targets"]] == targets
    assert all(t["reason"] for t in doc["plan"]["targets"])
    assert sorted(users.get_clients()) == ALL
    assert all(users.received(c) == [] for c in ALL)


@pytest.mark.parametrize(
    ("args", "gone"),
    [
        (("disconnect-user", "alice"), ["a1", "a2", "a3", "a4"]),
        (("disconnect-route", "/chat"), ["a1", "a2", "b1", "c1"]),
        (("cleanup-inactive", "--max-idle", "30m"), ["b1", "c1"]),
        (("enforce-limit", "--max", "2", "--order-key", "connectedAt"), ["a3", "a4"]),
        (("sweep", "username", "regex", "^(bob|dave)$"), ["b1", "d1"]),
    ],
)
def test_yes_runs_the_plan(run, users, args, gone):
    """--yes runs without asking; the report counts what was done."""
    result = run(*args, "--yes", "--json")
    assert result.exit_code == 0, result.output
    doc = json_out(result)
    assert doc["report"]["ok"] is True
    assert doc["report"]["counts"]["done"] == len(gone)
    assert sorted(users.get_clients()) == sorted(set(ALL) - set(gone))


def test_confirmation_refused_changes_nothing(run, users):
    """Answering no (or nothing) cancels: exit 1, nothing killed."""
    for answer in ("n\n", "", "maybe\n"):
        result = run("disconnect-user", "alice", input=answer)
        assert result.exit_code == 1
        assert "cancelled; nothing was changed" in result.stderr
        assert "Disconnect 4 connection(s) on localhost:2019? [y/N]" in result.stderr
    assert sorted(users.get_clients()) == ALL


def test_confirmation_accepted(run, users):
    """Answering yes runs the job; the plan is shown (on stderr) before the question."""
    result = run("disconnect-user", "bob", input="y\n")
    assert result.exit_code == 0, result.output
    assert result.stderr.index("b1") < result.stderr.index("[y/N]")
    assert "disconnect-user: kill: 1 done, 0 not found, 0 failed" in result.stdout
    assert "b1" not in users.get_clients()


def test_empty_plan_is_nothing_to_do(run):
    """A plan with no target does not ask and exits 0."""
    result = run("disconnect-user", "nobody")
    assert result.exit_code == 0
    assert "nothing to do" in result.stderr
    assert "[y/N]" not in result.stderr


def test_maintenance_warns_then_kills(run, users):
    """maintenance sends the warning first, then disconnects everyone on the route."""
    result = run("maintenance", "--route", "/news", "--grace", "0s", "-m", "bye", "--yes")
    assert result.exit_code == 0, result.output
    assert users.get_clients("/news") == []
    warning = json.loads(users.received("a3")[0])
    assert warning["type"] == "maintenance_warning"
    assert warning["message"] == "bye"
    assert "warn: 4 done" in result.stdout
    assert "kill: 4 done" in result.stdout
    assert sorted(users.get_clients()) == ["a1", "a2", "b1", "c1"]


def test_sweep_notifies_admins(run, users):
    """sweep --notify-tag alerts the tagged connections after each kill."""
    result = run("sweep", "username", "eq", "dave", "--notify-tag", "admin", "--yes", "--json")
    assert result.exit_code == 0, result.output
    alert = json.loads(users.received("a1")[0])
    assert alert["type"] == "user_disconnected"
    assert alert["who"] == "dave"
    assert alert["connection"] == "d1"
    assert json_out(result)["plan"]["params"]["notify_tag"] == "admin"


def test_sweep_violation_count_gte_needs_sdk_numeric_operators(run, users):
    """sweep violationCount gte 3 (the PHP scenario) kills exactly the offenders.

    Depends on search_stored_information accepting gte (added to the SDK alongside).
    """
    result = run("sweep", "violationCount", "gte", "3", "--notify-tag", "admin", "--yes")
    assert result.exit_code == 0, result.output
    assert sorted(set(ALL) - set(users.get_clients())) == ["a4", "b1", "d1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sweep", "violationCount", "resembles", "3"), "unknown search operator"),
        (("sweep", "username", "regex", "(("), "invalid RE2"),
        (("maintenance", "--grace", "soon"), "--grace 'soon' is not a duration"),
        (("cleanup-inactive", "--max-idle", "0s"), "must be longer than zero"),
        (("enforce-limit", "--max", "0"), "greater than or equal to 1"),
        (("disconnect-user", ""), "must not be empty"),
    ],
)
def test_bad_bulk_input_exits_2(run, users, args, message):
    """Bad operators, regexes, durations and limits: exit 2, nothing changed."""
    result = run(*args, "--yes")
    assert result.exit_code == 2, result.output
    assert message in result.output
    no_traceback(result)
    assert sorted(users.get_clients()) == ALL


def test_partial_failure_exits_1_and_resume_finishes(users, dirs, tmp_path):
    """A target failing on the server gives exit 1 and a journal; --resume retries it only."""
    failing = FailingTransport(users.transport(), ["/frankenphp_ws/killConnection/a2"])
    broken = make_cli(lambda: AppContext(transport=failing))
    journal = tmp_path / "job.jsonl"
    result = broken("disconnect-user", "alice", "--yes", "--journal", str(journal), "--json")
    assert result.exit_code == 1
    report = json_out(result)["report"]
    assert report["counts"]["done"] == 3
    assert report["counts"]["failed"] == 1
    assert [o["target"] for o in report["outcomes"] if o["status"] == "failed"] == ["a2"]
    assert "--resume" in result.stderr
    assert "a2" in users.get_clients()

    healthy = make_cli(lambda: AppContext(transport=users.transport()))
    again = healthy("disconnect-user", "alice", "--yes", "--resume", str(journal), "--json")
    assert again.exit_code == 0, again.output
    outcomes = json_out(again)["report"]["outcomes"]
    assert outcomes == [{"target": "a2", "action": "kill", "status": "done"}]
    assert not [c for c in users.get_clients() if c.startswith("a")]


def test_auto_journal_kept_only_when_needed(users, dirs):
    """Without --journal, a clean run leaves no journal; a failed one keeps it."""
    journals = dirs.state / "frankenws" / "journals"
    ok = make_cli(lambda: AppContext(transport=users.transport()))
    assert ok("disconnect-user", "bob", "--yes").exit_code == 0
    assert list(journals.glob("*.jsonl")) == []
    failing = FailingTransport(users.transport(), ["/frankenphp_ws/killConnection/d1"])
    bad = make_cli(lambda: AppContext(transport=failing))
    result = bad("disconnect-user", "dave", "--yes")
    assert result.exit_code == 1
    kept = list(journals.glob("disconnect-user-*.jsonl"))
    assert len(kept) == 1
    assert str(kept[0]) in result.stderr


def test_resume_missing_journal_exits_2(run, tmp_path):
    """--resume of a file that does not exist is a usage error."""
    result = run("disconnect-user", "alice", "--yes", "--resume", str(tmp_path / "none.jsonl"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_resume_journal_of_another_job_exits_2(run, users, tmp_path):
    """A journal written by another kind of job is refused."""
    journal = tmp_path / "route.jsonl"
    assert run("disconnect-route", "/chat", "--yes", "--journal", str(journal)).exit_code == 0
    result = run("disconnect-user", "alice", "--yes", "--resume", str(journal))
    assert result.exit_code == 2
    assert "belongs to job" in result.stderr


def test_human_report(run):
    """Without --json: the plan's summary on stderr, the report on stdout; no progress
    bar off a terminal."""
    result = run("disconnect-route", "/news", "--yes")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0] == "disconnect 4 connection(s) on route '/news'"
    assert result.stdout.splitlines() == ["disconnect-route: kill: 4 done, 0 not found, 0 failed"]
    assert "━" not in result.stderr
