"""The audit log: one JSON line per state-changing action, flushed as it happens.

Each line has ``time`` (UTC, ISO 8601), ``actor``, ``server`` (the admin URL without
credentials), ``command`` (the CLI command), ``action``, ``target`` and ``result``, and
sometimes ``detail`` (names such as the tag or key involved; never values or payloads,
which may hold secrets). A line is written right after its action, so the log is
complete even when the command fails or is interrupted afterwards. Strictly private.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import time
from datetime import datetime, timezone
from json.encoder import encode_basestring as _text
from pathlib import Path
from typing import IO, Any

from ._errors import UsageProblem

__all__ = [
    "AuditLog",
    "default_actor",
    "default_audit_path",
    "guard_existing",
    "open_private",
    "private_directory",
    "state_home",
]


def state_home(env: dict[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME``, or ``~/.local/state``."""
    environ = os.environ if env is None else env
    base = environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base)


def default_audit_path(env: dict[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/frankenws/audit.jsonl`` (``~/.local/state/...`` by default)."""
    return state_home(env) / "frankenws" / "audit.jsonl"


def private_directory(directory: Path) -> None:
    """Make sure ``directory`` exists; what is created is 0700 (audit and journal lines
    name servers, users and connections).

    Missing directories are created only inside the state directory: a mistyped
    ``--audit-log`` or ``--journal`` elsewhere is an error rather than a new tree.
    """
    if directory.is_dir():
        _tighten_directory(directory)
        return
    home = state_home()
    if not directory.absolute().is_relative_to(home.absolute()):
        raise FileNotFoundError(2, "no such directory", str(directory))
    missing = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)  # mkdir's mode is masked by the umask


def open_private(path: Path) -> IO[str]:
    """Open ``path`` for appending; created 0600 when it does not exist yet."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8")


def guard_existing(path: Path, what: str) -> None:
    """An existing ``path`` that other users may read (made before files were 0600, or
    by hand): tightened when it is frankenws's own, in its state directory; anywhere
    else someone may have opened it on purpose, so a warning names the fix instead."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        _tighten_directory(path.parent)
    except OSError:
        return  # missing: it is created 0600
    if not mode & 0o077:
        return
    from . import _output

    if _ours(path):
        os.chmod(path, 0o600)
        _output.note(f"{what} {path} was readable by others (mode {mode:04o}); now 0600")
        return
    _output.warning(
        f"{what} {path} is readable by others (mode {mode:04o}) and its lines name "
        f"servers, users and connections; fix: chmod 600 {shlex.quote(str(path))}"
    )


def _tighten_directory(directory: Path) -> None:
    # Versions before 0700 left frankenws's own directories to the umask.
    if _ours(directory) and stat.S_IMODE(directory.stat().st_mode) & 0o077:
        os.chmod(directory, 0o700)


def _ours(path: Path) -> bool:
    """``path`` is in frankenws's state directory and belongs to this user."""
    own = state_home() / "frankenws"
    try:
        inside = path.absolute().is_relative_to(own.absolute())
        return inside and path.stat().st_uid == os.geteuid()
    except OSError:
        return False


def default_actor() -> str:
    """The OS user running the command."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


class AuditLog:
    """Appends audit records to ``path``; ``path=None`` disables auditing."""

    def __init__(self, path: Path | None, *, actor: str, command: str = "") -> None:
        self.path = path
        self.actor = actor
        self.command = command
        self.server = ""
        self._file: IO[str] | None = None
        self._second = -1
        self._second_text = ""

    @property
    def enabled(self) -> bool:
        return self.path is not None

    def open(self) -> None:
        """Open the file now, so a command refuses to act when it could not be audited."""
        if self.path is None or self._file is not None:
            return
        try:
            private_directory(self.path.parent)
            guard_existing(self.path, "audit log")
            self._file = open_private(self.path)
        except OSError as exc:
            raise UsageProblem(
                f"cannot write the audit log {self.path}: {exc.strerror or exc}; "
                "nothing was changed",
                "fix the permissions, choose another file with --audit-log PATH, "
                "or pass --no-audit",
            ) from None

    def record(
        self,
        action: str,
        target: str,
        result: str,
        *,
        detail: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Append one action; it is in the file (the operating system's) on return."""
        if self.path is None:
            return
        self.open()
        assert self._file is not None
        # Formatted by hand, as json.dumps(..., ensure_ascii=False) would write it (the
        # tests compare), and written straight to the file: a bulk job writes a line per
        # target, and json.dumps plus the text layers cost more than the write itself.
        line = (
            f'{{"time":"{self._now()}","actor":{_text(self.actor)},'
            f'"server":{_text(self.server)},"command":{_text(self.command)},'
            f'"action":{_text(action)},"target":{_text(target)},"result":{_text(result)}'
        )
        if detail:
            line += ',"detail":' + json.dumps(detail, ensure_ascii=False, separators=(",", ":"))
        if error:
            line += ',"error":' + _text(error)
        data = (line + "}\n").encode("utf-8")
        fd = self._file.fileno()
        while data:  # a regular file takes it whole; anything else may take part of it
            data = data[os.write(fd, data) :]

    def _now(self) -> str:
        # The UTC time to the millisecond, as datetime.isoformat writes it, with the part
        # up to the second formatted once per second: a bulk job writes a line per target.
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            moment = datetime.fromtimestamp(second, timezone.utc)
            self._second_text = moment.isoformat(timespec="seconds")[:-6]
        return f"{self._second_text}.{int((now - second) * 1000):03d}+00:00"

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.flush()
                os.fsync(self._file.fileno())
            except OSError:
                pass
            self._file.close()
            self._file = None
