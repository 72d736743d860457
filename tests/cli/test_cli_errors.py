"""Errors: every expected failure gets a clear message and its exit code, never a traceback."""

from __future__ import annotations

import httpx
import pytest
from cli_support import ExplodingTransport, make_cli, no_traceback

from frankenws.testing import FakeFrankenPHP
from frankenws_cli._context import AppContext

UNREACHABLE = "http://127.0.0.1:9"


class TimeoutTransport(httpx.BaseTransport):
    """A server that never answers in time."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize(
    "args",
    [
        ("clients",),
        ("kill", "c-1"),
        ("show", "c-1"),
        ("disconnect-user", "alice", "--yes"),
        ("store", "get", "c-1", "k"),
        ("global", "set", "k", "v"),
    ],
)
def test_unreachable_url_exits_3(args):
    """Nothing listens at the URL: exit 3, the URL and a hint, no traceback."""
    run = make_cli(lambda: AppContext())
    result = run("--url", UNREACHABLE, *args)
    assert result.exit_code == 3, result.output
    assert "cannot connect to http://127.0.0.1:9" in result.stderr
    assert "frankenws doctor" in result.stderr
    assert result.stdout == ""
    no_traceback(result)


def test_timeout_exits_3():
    """A request that times out: exit 3 with a --timeout hint."""
    run = make_cli(lambda: AppContext(transport=TimeoutTransport()))
    result = run("clients")
    assert result.exit_code == 3
    assert "--timeout" in result.stderr


def test_host_not_allowed_exits_4_with_hint(fake):
    """Caddy's Host check: exit 4 and a --host-header hint."""
    run = make_cli(lambda: AppContext(transport=fake.transport()))
    result = run("--host-header", "evil.example", "clients")
    assert result.exit_code == 4
    assert "--host-header" in result.stderr
    no_traceback(result)


def test_module_not_loaded_exits_4():
    """A Caddy without the WebSocket extension: exit 4 and what to do."""
    plain = FakeFrankenPHP(module_loaded=False)
    run = make_cli(lambda: AppContext(transport=plain.transport()))
    result = run("kill", "c-1")
    assert result.exit_code == 4
    assert "WebSocket extension" in result.stderr
    no_traceback(result)


def test_server_error_exits_4():
    """A 5xx answer is a rejection: exit 4."""
    from cli_support import FailingTransport

    fake = FakeFrankenPHP()
    fake.connect(id="x")
    run = make_cli(
        lambda: AppContext(
            transport=FailingTransport(fake.transport(), ["/frankenphp_ws/killConnection/x"])
        )
    )
    result = run("kill", "x")
    assert result.exit_code == 4
    assert "500" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--url", "ftp://example.com", "clients"), "scheme 'ftp'"),
        (("--url", "", "clients"), "the admin URL is empty"),
        (("--key", "k.pem", "clients"), "no certificate"),
        (("--cert", "/nonexistent/cert.pem", "clients"), "does not exist"),
        (("--ca", "/nonexistent/ca.pem", "clients"), "does not exist"),
        (("--timeout", "0", "clients"), "--timeout"),
        (("nope",), "No such command"),
        (("show",), "Missing argument"),
    ],
)
def test_usage_errors_exit_2(cli, args, message):
    """Bad options and arguments: exit 2 and a message naming the problem."""
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    no_traceback(result)


def test_bad_timeout_env_exits_2(cli, monkeypatch):
    """An unusable FRANKENWS_TIMEOUT is named in the message."""
    monkeypatch.setenv("FRANKENWS_TIMEOUT", "soon")
    result = cli("clients")
    assert result.exit_code == 2
    assert "FRANKENWS_TIMEOUT='soon'" in result.stderr


def test_unexpected_error_is_short_and_suggests_debug():
    """A bug prints one line and a --debug hint, exit 1, no traceback, no locals."""
    run = make_cli(lambda: AppContext(transport=ExplodingTransport()))
    result = run("clients")
    assert result.exit_code == 1
    assert "unexpected error: ZeroDivisionError: boom" in result.stderr
    assert "--debug" in result.stderr
    no_traceback(result)


def test_debug_shows_the_traceback():
    """With --debug the exception propagates (typer prints it, without locals)."""
    run = make_cli(lambda: AppContext(transport=ExplodingTransport()))
    with pytest.raises(ZeroDivisionError):
        run("--debug", "clients")


def test_no_args_shows_help(cli):
    """frankenws alone shows the help and the commands."""
    result = cli()
    assert "Usage" in result.output
    assert "disconnect-user" in result.output


def test_version(cli):
    """--version prints 'frankenws <version>'."""
    import frankenws

    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"frankenws {frankenws.__version__}\n"


class InterruptingTransport(httpx.BaseTransport):
    """Ctrl-C arrives while the n-th request is in flight."""

    def __init__(self, inner: httpx.BaseTransport, at: int) -> None:
        self.inner, self.at, self.count = inner, at, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.count += 1
            if self.count == self.at:
                raise KeyboardInterrupt
        return self.inner.handle_request(request)


def test_ctrl_c_exits_130_and_audits_what_was_done(fake, dirs):
    """Ctrl-C during kill: exit 130, and the kill done before it is in the audit log."""
    interrupt = InterruptingTransport(fake.transport(), at=2)
    run = make_cli(lambda: AppContext(transport=interrupt))
    result = run("kill", "c-alice", "c-bob", "c-carol")
    assert result.exit_code == 130
    assert "interrupted" in result.stderr
    no_traceback(result)
    records = [(r["target"], r["result"]) for r in dirs.audit()]
    assert records == [("c-alice", "done"), ("c-bob", "interrupted")]
