"""Guard rails of the bulk jobs: alerts that would reach nobody, names that look like typos."""

from __future__ import annotations

import pytest
from cli_support import json_out


@pytest.fixture
def cheater(fake):
    fake.set_stored_information("c-bob", "violationCount", "7")
    return fake


def test_plan_says_alerts_would_reach_nobody(cli, cheater):
    """--notify-tag naming a tag nobody holds: the plan says so, with a did-you-mean."""
    result = cli("sweep", "violationCount", "gte", "3", "--notify-tag", "admins", "--dry-run")
    assert result.exit_code == 0
    assert "no connection holds tag 'admins': the alerts would reach nobody" in result.stderr
    assert "did you mean 'admin'?" in result.stderr
    assert "c-bob" in cheater.get_clients()


def test_real_run_with_alerts_to_nobody_does_not_exit_0(cli, cheater):
    result = cli("sweep", "violationCount", "gte", "3", "--notify-tag", "auditors", "--yes")
    assert result.exit_code == 1, result.output
    assert "the alerts would reach nobody" in result.stderr
    assert "did you mean" not in result.stderr  # nothing close to 'auditors'
    assert "1 alert(s) reached nobody" in result.stderr
    assert "c-bob" not in cheater.get_clients()  # the kill itself was done


def test_alerts_that_reach_someone_are_fine(cli, cheater):
    result = cli("--json", "sweep", "violationCount", "gte", "3", "--notify-tag", "admin", "--yes")
    assert result.exit_code == 0, result.output
    assert json_out(result)["report"]["ok"] is True
    assert "reach nobody" not in result.stderr


def test_route_that_looks_like_a_typo(cli, fake):
    """An empty plan for a route close to an existing one is a mistake, not 'nothing to do'."""
    result = cli("disconnect-route", "/chta", "--yes")
    assert result.exit_code == 1
    assert "no connection is on route '/chta'; did you mean '/chat'?" in result.stderr
    dry = cli("disconnect-route", "/chta", "--dry-run")
    assert dry.exit_code == 0
    assert "did you mean '/chat'?" in dry.stderr
    assert len(fake.get_clients()) == 3


def test_route_with_nobody_and_nothing_close_is_nothing_to_do(cli):
    result = cli("disconnect-route", "/billing", "--yes")
    assert result.exit_code == 0
    assert "nothing to do" in result.stderr
    assert "did you mean" not in result.stderr
