"""What happens to a command's return value and to its errors; shared by both parsers.

The typer app (``_app``) and the fast path for ``kill`` (``_fast``) both end here, so a
result is shown, and an error becomes an exit code, in exactly one way. Strictly
private; nothing here imports typer.
"""

from __future__ import annotations

import sys
from typing import Any

from . import _output
from ._context import AppContext
from ._errors import INTERRUPTED, NOT_DONE, classify, interruption

__all__ = ["fail", "finish", "interrupted"]


def finish(obj: Any, value: Any) -> int:
    """Show a command's return value; returns the exit code it asks for."""
    mode: _output.Mode = obj.mode if isinstance(obj, AppContext) else "auto"
    # A BulkJob can only exist once _jobs is imported; not importing it here keeps it
    # (and its dependencies) out of the start-up of commands that never build one.
    jobs = sys.modules.get(f"{__package__}._jobs")
    if jobs is not None and isinstance(value, jobs.BulkJob):
        assert isinstance(obj, AppContext)
        value = jobs.execute(obj, value)
    # A closed stdout (``... | head -1``) is the reader saying it has seen enough: the
    # same for every command, the work is not undone or cut short, nothing more is
    # printed, and the exit code is the command's own.
    if isinstance(value, _output.Result):
        _ok_is_the_exit_code(value)
        try:
            _output.emit(value, mode=mode)
        except BrokenPipeError:
            _output.stdout_closed()
        return value.exit_code
    if isinstance(value, _output.Stream):
        try:
            return _output.emit_stream(value, mode=mode)
        except BrokenPipeError:
            _output.stdout_closed()
    return 0


def _ok_is_the_exit_code(result: _output.Result) -> None:
    """Make every ``"ok"`` of a JSON document say what the exit code says.

    A report's own ``ok`` only counts failures, but a command can fail for more
    (``kill`` of an id that is not connected exits 1): scripts read one or the other,
    and both must agree.
    """
    data = result.data
    for document in (data, data.get("report") if isinstance(data, dict) else None):
        if isinstance(document, dict) and isinstance(document.get("ok"), bool):
            document["ok"] = result.exit_code == 0


def fail(obj: Any, exc: Exception) -> int:
    """Report an error on stderr; returns its exit code. Bugs re-raise with --debug."""
    failure = classify(exc)
    if failure is None:
        if isinstance(obj, AppContext) and obj.debug:
            raise exc
        _output.error(
            f"unexpected error: {type(exc).__name__}: {exc}",
            ["this is a bug in frankenws; rerun with --debug to see the traceback"],
        )
        return NOT_DONE
    _output.error(failure.message, failure.hints)
    return failure.exit_code


def interrupted(exc: BaseException | None = None) -> int:
    word, code = interruption(exc) if exc is not None else ("interrupted", INTERRUPTED)
    _output.error(word)
    return code
