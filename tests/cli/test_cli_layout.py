"""The CLI's boundaries: it uses the SDK's public API, and its imports run one way."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import frankenws
import frankenws_cli
from frankenws_cli import _settings

PACKAGE = Path(frankenws_cli.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))

# Private SDK modules the CLI may still import, with the reason.
ALLOWED_PRIVATE: set[tuple[str, str]] = {
    # `frankenws openapi` prints the wire protocol's description, which is not SDK API.
    ("commands/openapi.py", "frankenws._openapi"),
}


def _imports(path: Path) -> list[str]:
    """Absolute module names imported by ``path`` (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(("frankenws_cli", *path.relative_to(PACKAGE).parent.parts))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append(module)
            found += [f"{module}.{alias.name}" for alias in node.names]
    return found


def _private_sdk(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "frankenws" and any(
        p.startswith("_") and not p.endswith("__") for p in parts[1:]
    )


def _allowed(name: str, module: str) -> bool:
    return any(
        scope in ("*", name) and (module == allowed or module.startswith(allowed + "."))
        for scope, allowed in ALLOWED_PRIVATE
    )


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_cli_imports_no_private_sdk_module(path):
    """The CLI is a user of the SDK: only public names (and the listed exceptions)."""
    name = path.relative_to(PACKAGE).as_posix()
    private = {m for m in _imports(path) if _private_sdk(m) and not _allowed(name, m)}
    assert not private, f"{name} imports private SDK modules: {sorted(private)}"


# The two parsers of a command line sit above commands/: the typer app, and the fast
# path, which runs a few commands' own functions without typer.
PARSERS = ("_app.py", "_fast.py")


def test_modules_below_commands_do_not_import_commands():
    """Only the parsers assemble commands/; everything else sits below them."""
    for path in MODULES:
        name = path.relative_to(PACKAGE).as_posix()
        if name.startswith("commands/") or name in PARSERS:
            continue
        upward = [m for m in _imports(path) if m.startswith("frankenws_cli.commands")]
        assert not upward, f"{name} imports {upward}"


def test_no_import_of_the_app_from_commands():
    """Commands reach the root command through their context, never by importing _app."""
    for path in PACKAGE.joinpath("commands").glob("*.py"):
        assert "frankenws_cli._app" not in _imports(path), path.name


def test_cli_and_sdk_default_urls_agree(monkeypatch):
    """With nothing configured, the CLI and the SDK talk to the same address."""
    for name in ("FRANKENWS_ADMIN_URL", "CADDY_ADMIN"):
        monkeypatch.delenv(name, raising=False)
    with frankenws.Client() as sdk:
        default_sdk = sdk.url
    with frankenws.Client(_settings.DEFAULT_URL) as cli:
        assert cli.url == default_sdk
    settings = _settings.resolve_settings(
        {}, profile=None, profile_explicit=False, env=dict(os.environ), read_config=False
    )
    assert settings.url.value == _settings.DEFAULT_URL


def test_fast_kill_path_imports_neither_typer_nor_rich():
    """The fast path exists to skip typer and rich: importing it must not load them."""
    code = (
        "import sys; from frankenws_cli import _fast; "
        "print(sorted(m for m in ('typer', 'rich', 'frankenws.bulk') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
