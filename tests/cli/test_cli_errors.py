"""Errors: every expected failure gets a clear message and its exit code, never a traceback."""

from __future__ import annotations

import httpx
import pytest
from cli_support import ExplodingTransport, json_out, make_cli, no_traceback

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


# SDK keyword spellings that must never reach a CLI user.
SDK_KEYWORDS = (
    "url=",
    "timeout=",
    "host_header",
    "cert=",
    "verify=",
    "expire_seconds",
    "max_time_seconds",
)


def _speaks_cli(result, *flags: str) -> None:
    for keyword in SDK_KEYWORDS:
        assert keyword not in result.stderr, result.stderr
    for flag in flags:
        assert flag in result.stderr, result.stderr
    no_traceback(result)


def test_errors_name_cli_options_not_sdk_keywords(fake, tmp_path):
    """Connect, timeout, Host, TLS and expiry errors speak in --options."""
    plain = make_cli(lambda: AppContext())
    _speaks_cli(plain("--url", UNREACHABLE, "clients"), "--url")
    timing_out = make_cli(lambda: AppContext(transport=TimeoutTransport()))
    _speaks_cli(timing_out("clients"), "Raise --timeout")
    faked = make_cli(lambda: AppContext(transport=fake.transport()))
    _speaks_cli(faked("--host-header", "evil.example", "clients"), "pass --host-header localhost")
    result = faked("global", "set", "k", "v", "--expire", str(10**12))
    assert result.exit_code == 2
    _speaks_cli(result, "--expire must be at most")
    https = "https://127.0.0.1:9"
    _speaks_cli(plain("--url", https, "--ca", str(tmp_path / "no.pem"), "clients"), "--ca ")
    garbage = tmp_path / "client.pem"
    garbage.write_text("not a certificate\n")
    _speaks_cli(plain("--url", https, "--cert", str(garbage), "clients"), "--cert ")


def test_negative_numbers_are_operands(cli, fake):
    """search/sweep/store take -1 as a value, not as an unknown option."""
    fake.set_stored_information("c-bob", "violationCount", "0")
    result = cli("search", "violationCount", "gte", "-1", "-o", "ids")
    assert (result.exit_code, result.stdout) == (0, "c-bob\n"), result.output
    result = cli("sweep", "violationCount", "gt", "-0.5", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert cli("store", "set", "c-alice", "balance", "-20").exit_code == 0
    assert fake.get_stored_information("c-alice", "balance") == "-20"
    typo = cli("search", "violationCount", "gte", "--rout", "/chat")
    assert typo.exit_code == 2
    assert "No such option: --rout" in typo.stderr


def test_messages_quote_ids(cli):
    """Ids in messages are quoted, so an odd id cannot blend into the sentence."""
    assert "'c-bob' has no tags" in cli("tags", "c-bob").stderr
    assert "'c-bob' has no 'k' stored" in cli("store", "get", "c-bob", "k").stderr
    assert "'c-bob' has no 'k' stored; nothing" in cli("store", "delete", "c-bob", "k").stderr


def test_json_ok_agrees_with_the_exit_code(cli):
    """kill of an unknown id exits 1, and its JSON says ok: false."""
    result = cli("kill", "c-bob", "nobody", "--json")
    assert result.exit_code == 1
    assert json_out(result)["ok"] is False
    result = cli("kill", "c-bob", "--json")
    assert result.exit_code == 1  # already gone
    assert json_out(result)["ok"] is False
    result = cli("kill", "c-alice", "--json")
    assert (result.exit_code, json_out(result)["ok"]) == (0, True)
