"""The CLI on a unix-socket admin of every Caddy generation (see tests/sdk/test_unix_host.py).

These Caddies have no WebSocket extension: "no FrankenPHP WebSocket extension" means the
request got past Caddy's Host check, "host not allowed" that it did not.
"""

from __future__ import annotations

import pytest
from cli_support import json_out, make_cli, no_traceback

from frankenws_cli._context import AppContext


@pytest.fixture
def plain():
    return make_cli(lambda: AppContext())


def test_commands_pass_the_host_check(plain, each_caddy_unix):
    result = plain("--url", each_caddy_unix.url, "clients")
    no_traceback(result)
    assert result.exit_code == 4
    assert "no FrankenPHP WebSocket extension" in result.output
    assert "host not allowed" not in result.output


def test_doctor_shows_the_empty_host(plain, each_caddy_unix):
    result = plain("--url", each_caddy_unix.url, "doctor", "--json")
    data = json_out(result)
    assert data["host_header"] == ""
    failed = [check for check in data["checks"] if not check["ok"]]
    assert [check["name"] for check in failed] == ["extension"]
    assert "404 page not found" in failed[0]["detail"]
    text = plain("--url", each_caddy_unix.url, "doctor").stdout
    assert "(empty)" in text


def test_refused_host_on_an_old_caddy_gets_a_fix_that_works(plain, old_caddy_unix):
    """The hint must not suggest a listener address, which the old socket refuses too
    (only Caddy before 2.7 checks Host on a unix socket)."""
    result = plain("--url", old_caddy_unix.url, "--host-header", "localhost", "clients")
    no_traceback(result)
    assert result.exit_code == 4
    assert "host not allowed: localhost" in result.output
    assert "localhost:2019" not in result.output
    assert "leave --host-header unset" in result.output
    assert "host_header" not in result.output
