"""Helpers shared by the CLI tests (imported by name; fixtures live in conftest)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from typer.testing import CliRunner, Result

from frankenws_cli._app import app
from frankenws_cli._context import AppContext

Invoke = Callable[..., Result]


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
