"""Helpers shared by the CLI tests (imported by name; fixtures live in conftest)."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from typer.testing import CliRunner, Result

from frankenws_cli._app import app
from frankenws_cli._context import AppContext

Invoke = Callable[..., Result]

ROOT = Path(__file__).resolve().parents[2]


def docs_generator() -> ModuleType:
    """``scripts/gen_cli_docs.py``, which lives outside the installed packages."""
    name = "gen_cli_docs"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def make_cli(context: Callable[[], AppContext | None]) -> Invoke:
    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None, **kwargs: Any) -> Result:
        return runner.invoke(
            app, list(args), input=input, obj=context(), catch_exceptions=False, **kwargs
        )

    return invoke


def json_out(result: Result) -> Any:
    """The one JSON document a --json command printed."""
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0])


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output, result.output


class FailingTransport(httpx.BaseTransport):
    """The fake's transport, except that some paths answer 500 (a server in trouble)."""

    def __init__(self, inner: httpx.BaseTransport, failing: Sequence[str]) -> None:
        self.inner = inner
        self.failing = set(failing)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.raw_path.decode() in self.failing:
            return httpx.Response(500, text="internal error\n")
        return self.inner.handle_request(request)


class ExplodingTransport(httpx.BaseTransport):
    """A transport with a bug: raises an exception the SDK does not expect."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise ZeroDivisionError("boom")
