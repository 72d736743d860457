"""Helpers shared by the CLI tests (imported by name; fixtures live in conftest)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
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


_RUN_MAIN = """
import json, sys
sys.argv = ["frankenws", *json.loads(sys.argv[1])]
import frankenws_cli
try:
    frankenws_cli.main()
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def run_main(argv: Sequence[str]) -> tuple[int, str, set[str]]:
    """``frankenws ARGV`` in a real process: its exit code, its stdout and the modules
    it had loaded when it ended (what a command's start-up costs comes from those)."""
    out = subprocess.run(
        [sys.executable, "-c", _RUN_MAIN, json.dumps(list(argv))],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(out.stderr.strip().splitlines()[-1])
    return report["code"], out.stdout, set(report["modules"])


# --- one command line through both parsers (the fast path must match typer) -------------


def via_typer(argv: list[str], input: str | None = None, fake: Any = None) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``argv`` parsed by the typer app."""
    obj = AppContext(transport=fake.transport() if fake else None)
    result = CliRunner().invoke(app, argv, input=input, obj=obj, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def via_fast(argv: list[str], input: str | None = None, fake: Any = None) -> tuple[int, str, str]:
    """The same through the fast path, which must handle this command line."""
    from frankenws_cli._fast import run_fast

    obj = AppContext(transport=fake.transport() if fake else None)
    with CliRunner().isolation(input=input) as (out, err, _):
        code = run_fast(argv, obj)
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    assert code is not None, "the fast path should have handled this command line"
    return code, stdout, stderr


def timeless(stdout: str) -> Any:
    """A JSON document without its timestamps (they differ from run to run); other
    output as it is."""

    def strip(document: Any) -> Any:
        if isinstance(document, dict):
            return {k: strip(v) for k, v in document.items() if k not in ("started", "finished")}
        if isinstance(document, list):
            return [strip(v) for v in document]
        return document

    try:
        return strip(json.loads(stdout))
    except ValueError:
        return stdout


def take_audit(dirs: Any) -> list[dict[str, Any]]:
    """The audit records written so far, without their times; the log is emptied."""
    records = dirs.audit()
    for record in records:
        record.pop("time")
    dirs.audit_file.unlink(missing_ok=True)
    return records


def assert_parsers_agree(dirs: Any, argv: list[str], input: str | None, make_fake: Any) -> None:
    """Typer and the fast path give the same exit code, output and audit records, and
    leave the same connections on a fresh fake each."""
    sides = []
    for via in (via_typer, via_fast):
        fake = make_fake()
        code, stdout, stderr = via(argv, input, fake)
        # A job said to take a second or more ("finished in 1.2 s") is the machine's
        # load, not the parser: either side may cross that line on a busy CI runner.
        stderr = re.sub(r"(?m)^finished in \d+\.\d s\n", "", stderr)
        sides.append(((code, timeless(stdout), stderr, fake.get_clients()), take_audit(dirs)))
    assert sides[1] == sides[0]
