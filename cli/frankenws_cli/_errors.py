"""Exit codes and the one mapping from an exception to an exit code and a message.

=====  ==========================================================================
code   meaning
=====  ==========================================================================
0      the command did what it was asked
1      the operation did not happen (unknown id, ``success:false``, a bulk job
       with failed targets, a refused confirmation)
2      usage error: bad arguments, values the SDK refuses (``InvalidArgument``),
       an unknown profile or an unreadable config file
3      the server cannot be reached (connect, timeout, TLS, dropped connection)
4      the server answered but rejected the request (4xx/5xx, host not allowed,
       extension not loaded, an answer that breaks the protocol)
130    interrupted (Ctrl-C)
143    terminated (SIGTERM): stops exactly like Ctrl-C, only the code differs
=====  ==========================================================================

Strictly private.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import frankenws

__all__ = [
    "INTERRUPTED",
    "TERMINATED",
    "NOT_DONE",
    "OK",
    "REJECTED",
    "UNREACHABLE",
    "USAGE",
    "CliError",
    "Failure",
    "Interrupted",
    "NotDone",
    "Terminated",
    "UsageProblem",
    "classify",
    "cli_voice",
]

OK = 0
NOT_DONE = 1
USAGE = 2
UNREACHABLE = 3
REJECTED = 4
INTERRUPTED = 130
TERMINATED = 143


class CliError(Exception):
    """An expected failure of a command, with its exit code and optional hints."""

    exit_code = NOT_DONE

    def __init__(self, message: str, *hints: str) -> None:
        super().__init__(message)
        self.message = message
        self.hints = list(hints)


class NotDone(CliError):
    """The operation did not happen (exit 1)."""

    exit_code = NOT_DONE


class UsageProblem(CliError):
    """The command line, the environment or the config file is wrong (exit 2)."""

    exit_code = USAGE


class Interrupted(CliError):
    """Ctrl-C (exit 130); what was done before is in the audit log and the journal."""

    exit_code = INTERRUPTED


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so every path that cleans up after Ctrl-C
    (audit records, journals, the resume hint) does the same for a service manager's
    stop or a ``kill``."""


def on_sigterm(signum: int, frame: object) -> None:
    raise Terminated


def interruption(exc: BaseException) -> tuple[str, int]:
    """The word and exit code for a Ctrl-C or a SIGTERM."""
    if isinstance(exc, Terminated):
        return "terminated (SIGTERM)", TERMINATED
    return "interrupted", INTERRUPTED


@dataclass(frozen=True, slots=True)
class Failure:
    """How an expected error is reported: exit code, message, hints."""

    exit_code: int
    message: str
    hints: tuple[str, ...] = ()


# The SDK's messages name its keyword arguments; on the command line the same advice
# is an option. Each pattern is an SDK spelling, replaced by the CLI's.
_CLI_VOICE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\burl=\.\.\.", "--url"),
        (r"\btimeout=", "--timeout"),
        (r"\bhost_header=(['\"]?)([^'\"\s)]+)\1", r"--host-header \2"),
        (r"\bhost_header=", "--host-header"),
        (r"\bhost_header\b", "--host-header"),
        (r"\bcert=\(([^,()]+), ([^()]+)\)", r"--cert \1 --key \2"),
        (r"\bverify=", "--ca "),
        (r"\ballow_path=True", "--url-path-ok"),
        (r"\bmax_response_bytes=", "--max-response-bytes"),
        (r"\bexpire_seconds\b", "--expire"),
        (r"\bmax_time_seconds\b", "--max-age"),
        (r"\bmax_messages\b", "--max-messages"),
        (r"\binterval_ms\b", "--interval"),
    )
)


def cli_voice(message: str) -> str:
    """An SDK message with its keyword arguments named as the CLI's options."""
    for pattern, replacement in _CLI_VOICE:
        message = pattern.sub(replacement, message)
    return message


def classify(exc: BaseException) -> Failure | None:
    """The report for an expected error, or ``None`` for a bug (shown with a --debug hint)."""
    failure = _classify(exc)
    if failure is None or isinstance(exc, CliError):
        return failure
    return Failure(failure.exit_code, cli_voice(failure.message), failure.hints)


def _classify(exc: BaseException) -> Failure | None:
    if isinstance(exc, CliError):
        return Failure(exc.exit_code, exc.message, tuple(exc.hints))
    if isinstance(exc, frankenws.InvalidArgument):
        return Failure(USAGE, exc.message)
    if isinstance(exc, frankenws.TransportError):
        hints: tuple[str, ...] = ()
        if isinstance(exc, frankenws.ConnectError):
            hints = (
                "check --url (or FRANKENWS_ADMIN_URL, or the --profile in use); "
                "'frankenws doctor' shows which address was tried and why",
            )
        elif isinstance(exc, frankenws.RequestTimeout):
            hints = ("raise --timeout if the server is expected to be slow",)
        return Failure(UNREACHABLE, exc.message, hints)
    if isinstance(exc, frankenws.HostNotAllowed):
        if (exc.url or "").startswith("unix/"):
            # A listener address is refused there too (Caddy before 2.7 on a socket).
            hint = (
                "on a unix socket, leave --host-header unset (an empty Host) or give one "
                "of the 'origins' of Caddy's admin config"
            )
        else:
            hint = (
                "pass --host-header with the admin listener's own address, "
                "e.g. --host-header localhost:2019"
            )
        return Failure(REJECTED, exc.message, (hint,))
    if isinstance(exc, frankenws.ModuleNotLoaded):
        return Failure(
            REJECTED,
            exc.message,
            ("point --url at the admin endpoint of a FrankenPHP with the WebSocket extension",),
        )
    if isinstance(exc, (frankenws.APIError, frankenws.ProtocolError)):
        return Failure(REJECTED, exc.message)
    if isinstance(exc, frankenws.FrankenWSError):
        return Failure(NOT_DONE, exc.message)
    return None
