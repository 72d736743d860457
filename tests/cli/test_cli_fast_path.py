"""The typer-free fast path for ``kill`` behaves exactly like the typer command."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args, get_origin, get_type_hints

import pytest
import typer.main
from cli_support import assert_parsers_agree, timeless, via_fast, via_typer

from frankenws.testing import FakeFrankenPHP
from frankenws_cli._app import app
from frankenws_cli._app import main as main_callback
from frankenws_cli._argv import FLAGS_ANYWHERE, GLOBAL_OPTIONS, ROOT_VALUED, VALUED_ANYWHERE
from frankenws_cli._context import AppContext, configure
from frankenws_cli._fast import parse_kill


def _fake() -> FakeFrankenPHP:
    fake = FakeFrankenPHP()
    for conn in ("c-alice", "c-bob", "c-carol"):
        fake.connect("/chat", id=conn)
    return fake


def _via_typer(argv: list[str], input: str | None, fake: FakeFrankenPHP | None) -> tuple:
    code, stdout, stderr = via_typer(argv, input, fake)
    return code, timeless(stdout), stderr


def _via_fast(argv: list[str], input: str | None, fake: FakeFrankenPHP | None) -> tuple:
    code, stdout, stderr = via_fast(argv, input, fake)
    return code, timeless(stdout), stderr


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
    (["kill", "c-bob", "-o", "json"], None),
    (["--output=ids", "kill", "c-bob", "nobody"], None),
    (["kill", "c-bob", "--json", "-o", "table"], None),
]


@pytest.mark.parametrize(("argv", "input"), CASES, ids=lambda v: repr(v))
def test_fast_path_matches_typer(dirs, argv, input):
    """Same exit code, stdout, stderr and audit records through both parsers."""
    assert_parsers_agree(dirs, argv, input, _fake)


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
        ["-o", "yaml", "kill", "a"],
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
    assert options == {"url": ["http://h:1"], "json": True, "timeout": 2.5}
    assert ids == ["a", "b"]
    assert str(from_file) == "f"


# --- GLOBAL_OPTIONS is the one description of the global options -------------------

_PYTHON_TYPE = {"flag": bool, "str": str, "float": float, "int": int, "file": Path}
# Root options that are not settings of a run: click's and typer's own.
_NOT_GLOBAL_OPTIONS = {"help", "version", "install_completion", "show_completion"}


def test_global_options_table_matches_the_typer_command():
    """Names, spellings, valued-ness, types, checks, defaults and panels agree."""
    root = typer.main.get_command(app)
    params = {p.name: p for p in root.params if p.name not in _NOT_GLOBAL_OPTIONS}
    assert list(params) == [o.attribute for o in GLOBAL_OPTIONS]
    hints = get_type_hints(main_callback, include_extras=False)
    for spec in GLOBAL_OPTIONS:
        param = params[spec.attribute]
        assert param.opts + param.secondary_opts == list(spec.flags), spec.attribute
        assert param.is_flag == (not spec.valued), spec.attribute
        assert getattr(param, "min", None) == spec.minimum, spec.attribute
        assert param.rich_help_panel == spec.panel, spec.attribute
        assert param.default == (spec.default if spec.valued else False), spec.attribute
        # The CLI reads env vars itself (a typed --profile beats them): click must not.
        assert param.envvar is None, spec.attribute
        hint = hints[spec.attribute]
        if spec.kind == "choice":
            (literal,) = (a for a in get_args(hint) if get_origin(a) is Literal)
            assert get_args(literal) == spec.choices, spec.attribute
        elif spec.multiple:
            (listed,) = (a for a in get_args(hint) if get_origin(a) is list)
            assert get_args(listed) == (_PYTHON_TYPE[spec.kind],), spec.attribute
        else:
            assert _PYTHON_TYPE[spec.kind] in (hint, *get_args(hint)), spec.attribute
        assert param.multiple == spec.multiple, spec.attribute


def test_option_sets_of_the_parsers_come_from_the_table():
    """Every global option can be hoisted, and only --cert/--key/--ca stay in front."""
    valued = {f for o in GLOBAL_OPTIONS if o.valued for f in o.flags}
    flags = {f for o in GLOBAL_OPTIONS if not o.valued for f in o.flags}
    assert valued == ROOT_VALUED
    assert flags == FLAGS_ANYWHERE
    assert valued - VALUED_ANYWHERE == {"--cert", "--key", "--ca"}


@pytest.mark.parametrize("spec", [o for o in GLOBAL_OPTIONS if o.env], ids=lambda o: o.attribute)
def test_every_env_var_of_the_table_is_honoured(spec, monkeypatch, tmp_path):
    """Each option's env var supplies its value when the option is absent."""
    values = {"timeout": "7.5", "audit_log": str(tmp_path / "audit.jsonl")}
    raw = values.get(spec.attribute, "https://env.example:2019")
    if spec.attribute == "profile":
        config = tmp_path / "xdg-config" / "frankenws" / "config.toml"
        config.parent.mkdir(parents=True)
        config.write_text('[profiles.https]\nurl = "http://p:1"\n')
        raw = "https"
    monkeypatch.setenv(spec.env[-1], raw)
    obj = configure(AppContext())
    if spec.setting:
        source = getattr(obj.settings(), spec.attribute)
        assert (str(source.value), source.origin) == (raw, spec.env[-1])
    else:
        assert str(getattr(obj, spec.attribute)) == raw
        assert getattr(obj, "profile_explicit", False) is False
