"""Help that reads well, and shell completion of what the server and config know."""

from __future__ import annotations

import re

import pytest
from cli_support import docs_generator
from typer.testing import CliRunner

from frankenws_cli._app import app
from frankenws_cli._context import AppContext
from frankenws_cli.commands._help import EXAMPLES

COMMANDS = [path for path, _ in docs_generator().walk()]


def _help(*path: str) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_every_command_has_examples():
    """The examples table covers exactly the commands there are."""
    assert set(EXAMPLES) == set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS)
def test_help_shows_examples_and_global_options(path):
    """Each --help: its examples; each command (not group) also lists the global options."""
    text = _help(*path.split())
    assert "Examples:" in text
    assert EXAMPLES[path][0] in text
    if path not in {"store", "global", "ghost", "ping", "queue"}:
        assert "Global options, before or after the command:" in text
        assert "-o/--output" in text
    assert "list[str]" not in text
    assert "<bool>" not in text.replace("-h      <bool>", "")


@pytest.mark.parametrize("path", COMMANDS)
def test_no_indentation_leaks_into_help(path):
    """The text above the panels has no run of spaces inside a line (leaked indent)."""
    prose = _help(*path.split()).partition("\u256d")[0]  # up to the first panel
    leaks = [line for line in prose.splitlines() if re.search(r"\S {2,}\S", line)]
    assert not leaks, leaks


def _complete(words: str, obj: AppContext | None = None, **env: str) -> list[str]:
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    result = CliRunner().invoke(
        app,
        [],
        obj=obj,
        prog_name="frankenws",
        env={
            "_FRANKENWS_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(cword),
            **env,
        },
    )
    assert result.exit_code == 0, result.output
    return [line for line in result.stdout.splitlines() if line]


def test_completion_of_routes_tags_and_operators(fake):
    """Routes and tags come from the server; operators include frankenws' own."""
    obj = AppContext(transport=fake.transport())
    assert _complete("frankenws clients --route ", obj) == ["/chat", "/news"]
    assert _complete("frankenws broadcast hi --tag p", obj) == ["premium"]
    assert _complete("frankenws sweep violationCount g", obj) == ["gt", "gte"]
    assert "exists" in _complete("frankenws search username ", obj)
    assert _complete("frankenws tag c-bob a", obj) == ["admin"]


def test_completion_of_profiles(dirs):
    """--profile completes the profiles of the config file."""
    dirs.config_file.parent.mkdir(parents=True)
    dirs.config_file.write_text('[profiles.prod]\nurl = "x"\n[profiles.staging]\nurl = "y"\n')
    assert _complete("frankenws --profile ") == ["prod", "staging"]
    assert _complete("frankenws --profile st") == ["staging"]


def test_completion_of_an_unreachable_server_is_empty():
    """No server, no routes, and no error text in the shell."""
    assert _complete("frankenws --url http://127.0.0.1:9 clients --route ") == []
