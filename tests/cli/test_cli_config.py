"""Profiles, environment variables and the precedence between them."""

from __future__ import annotations

import pytest
from cli_support import json_out, make_cli, no_traceback

from frankenws_cli._context import AppContext
from frankenws_cli._settings import resolve_settings


@pytest.fixture
def write_config(dirs):
    def write(text: str) -> None:
        dirs.config_file.parent.mkdir(parents=True, exist_ok=True)
        dirs.config_file.write_text(text)

    return write


@pytest.fixture
def plain():
    """The CLI without an injected transport (real HTTP to whatever URL is resolved)."""
    return make_cli(lambda: AppContext())


def test_profile_url_is_used(plain, served, write_config):
    """--profile NAME takes the URL (and other settings) from config.toml."""
    write_config(f'[profiles.test]\nurl = "{served.admin_url}"\ntimeout = 5\n')
    result = plain("--profile", "test", "clients", "--json")
    assert result.exit_code == 0, result.output
    assert json_out(result) == ["c-alice", "c-bob", "c-carol"]


def test_default_profile(plain, served, write_config):
    """default_profile applies when no profile is named."""
    write_config(f'default_profile = "local"\n[profiles.local]\nurl = "{served.admin_url}"\n')
    assert plain("clients", "--count").stdout == "3\n"


def test_profile_from_env(plain, served, write_config, monkeypatch):
    """FRANKENWS_PROFILE selects a profile too."""
    write_config(f'[profiles.test]\nurl = "{served.admin_url}"\n')
    monkeypatch.setenv("FRANKENWS_PROFILE", "test")
    assert plain("clients", "--count").stdout == "3\n"


def test_env_url_is_used(plain, served, monkeypatch):
    """FRANKENWS_ADMIN_URL, then CADDY_ADMIN, give the URL when no option does."""
    monkeypatch.setenv("CADDY_ADMIN", served.admin_url)
    assert plain("clients", "--count").stdout == "3\n"
    monkeypatch.setenv("FRANKENWS_ADMIN_URL", "http://127.0.0.1:9")
    assert plain("clients", "--count").exit_code == 3


def test_precedence(dirs, write_config):
    """Option > explicit --profile > env > implicit profile > default."""
    write_config(
        'default_profile = "implicit"\n'
        '[profiles.implicit]\nurl = "http://implicit:1"\nhost_header = "h-implicit"\n'
        '[profiles.chosen]\nurl = "http://chosen:1"\n'
    )
    env = {"FRANKENWS_ADMIN_URL": "http://env:1", "XDG_CONFIG_HOME": str(dirs.config)}
    options = dict.fromkeys(("url", "host_header", "cert", "key", "ca", "timeout"))

    def url(profile, explicit, **given):
        s = resolve_settings(
            {**options, **given}, profile=profile, profile_explicit=explicit, env=env
        )
        return s.url.value, s.url.origin

    assert url(None, False, url="http://option:1") == ("http://option:1", "--url")
    assert url("chosen", True) == ("http://chosen:1", "profile 'chosen'")
    assert url(None, False) == ("http://env:1", "FRANKENWS_ADMIN_URL")
    assert url("chosen", False) == ("http://env:1", "FRANKENWS_ADMIN_URL")
    implicit = resolve_settings(options, profile=None, profile_explicit=False, env=env)
    assert implicit.host_header.value == "h-implicit"
    assert implicit.timeout.value == 10.0
    bare = resolve_settings(
        options, profile=None, profile_explicit=False, env={"XDG_CONFIG_HOME": "/nonexistent"}
    )
    assert (bare.url.value, bare.url.origin) == ("http://localhost:2019", "default")


def test_profile_paths_are_relative_to_the_file(dirs, write_config):
    """cert/key/ca paths in a profile are resolved next to config.toml, ~ expanded."""
    write_config('[profiles.p]\nurl = "https://x:1"\ncert = "certs/c.pem"\n')
    s = resolve_settings(
        dict.fromkeys(("url", "host_header", "cert", "key", "ca", "timeout")),
        profile="p",
        profile_explicit=True,
        env={"XDG_CONFIG_HOME": str(dirs.config)},
    )
    assert s.cert.value == str(dirs.config_file.parent / "certs" / "c.pem")


@pytest.mark.parametrize(
    ("config", "args", "message"),
    [
        (None, ("--profile", "prod"), "unknown profile 'prod': the config file"),
        ('[profiles.dev]\nurl = "http://x:1"\n', ("--profile", "prod"), "known profiles: dev"),
        ("this is [not toml", (), "is not valid TOML"),
        ('[profiles.p]\nurl = "http://x:1"\npassword = "x"\n', ("--profile", "p"), "unknown key"),
        ("[profiles.p]\ntimeout = -1\n", ("--profile", "p"), "timeout must be a positive"),
        ('default_profile = "missing"\n', (), "unknown profile 'missing'"),
        ("profiles = 3\n", ("--profile", "p"), "must be a table"),
    ],
)
def test_config_problems_exit_2(plain, write_config, dirs, config, args, message):
    """Unknown profiles and invalid files: exit 2, the file named, no traceback."""
    if config is not None:
        write_config(config)
    result = plain(*args, "clients")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "config.toml" in result.stderr
    no_traceback(result)


def test_did_you_mean_for_profiles_and_keys(plain, write_config):
    """A mistyped profile or key gets the closest known name as a hint."""
    write_config(
        '[profiles.production]\nurl = "http://x:1"\n'
        '[profiles.p]\nurl = "http://x:1"\nhost-header = "localhost:2019"\n'
    )
    result = plain("--profile", "prodution", "clients")
    assert result.exit_code == 2
    assert "did you mean 'production' instead of 'prodution'?" in result.stderr
    result = plain("--profile", "p", "clients")
    assert result.exit_code == 2
    assert "did you mean 'host_header' instead of 'host-header'?" in result.stderr


def test_unreadable_config_exits_2(plain, dirs):
    """A config file that cannot be read: exit 2 naming it."""
    dirs.config_file.mkdir(parents=True)  # a directory where the file should be
    result = plain("clients")
    assert result.exit_code == 2
    assert "cannot read the config file" in result.stderr
    assert str(dirs.config_file) in result.stderr


def test_commands_without_server_ignore_a_broken_config(plain, write_config):
    """--version and --help work even when the config file is broken."""
    write_config("not [ toml")
    assert plain("--version").exit_code == 0
    assert plain("kill", "--help").exit_code == 0


def test_doctor_reports_sources(plain, served, write_config):
    """doctor says which URL and Host were used and where they came from."""
    write_config(f'[profiles.test]\nurl = "{served.admin_url}"\n')
    result = plain("--profile", "test", "doctor", "--json")
    assert result.exit_code == 0, result.output
    doc = json_out(result)
    assert doc["url"] == served.admin_url
    assert doc["url_source"] == "profile 'test'"
    assert doc["host_header"] == served.admin_url.removeprefix("http://")
    assert doc["host_header_source"] == "derived from the URL"
    assert doc["profile"] == "test"
    assert doc["connections"] == 3
    assert {c["name"]: c["ok"] for c in doc["checks"]} == {
        "config": True,
        "reach": True,
        "extension": True,
        "latency": True,
        "audit log": True,
    }
    assert doc["latency_ms"]["median"] > 0


def test_doctor_unreachable(plain):
    """doctor against nothing: the reach check fails with a fix, exit 3."""
    result = plain("--url", "http://127.0.0.1:9", "doctor", "--json")
    assert result.exit_code == 3
    checks = json_out(result)["checks"]
    failed = [c for c in checks if not c["ok"]]
    assert failed[0]["name"] == "reach"
    assert "--url" in failed[0]["fix"]


def test_doctor_host_not_allowed(plain, served):
    """doctor names the Host problem and the --host-header fix, exit 4."""
    result = plain("--url", served.admin_url, "--host-header", "wrong:1", "doctor")
    assert result.exit_code == 4
    assert "--host-header" in result.stdout
    assert "FAIL" in result.stdout


def test_doctor_module_not_loaded():
    """doctor against a Caddy without the extension: exit 4."""
    from frankenws.testing import FakeFrankenPHP

    plain_caddy = FakeFrankenPHP(module_loaded=False)
    run = make_cli(lambda: AppContext(transport=plain_caddy.transport()))
    result = run("doctor", "--json")
    assert result.exit_code == 4
    assert [c["name"] for c in json_out(result)["checks"] if not c["ok"]] == ["extension"]


def test_doctor_bad_config(plain, write_config):
    """doctor reports a broken config file as a failed check, exit 2."""
    write_config("nope = [")
    result = plain("doctor", "--json")
    assert result.exit_code == 2
    assert json_out(result)["checks"][0]["name"] == "config"
