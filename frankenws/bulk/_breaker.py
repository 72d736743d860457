"""When a bulk job gives up: a server that stopped answering, and interrupted requests.

A job that keeps sending to a dead server only turns every remaining target into a
``failed`` line; after a few connection failures in a row nothing suggests the next one
will do better, so the job stops and leaves the rest ``not_attempted`` for a resume.
Strictly private.
"""

from __future__ import annotations

from ._report import Outcome

__all__ = ["INTERRUPTED", "NOT_ATTEMPTED", "UNREACHABLE_IN_A_ROW", "Breaker"]

UNREACHABLE_IN_A_ROW = 5
"""Connection failures in a row (no answer of any kind in between) that stop a job.

Small, because each one costs a connect timeout; more than one, because a single refused
connection can be a restarting listener."""

INTERRUPTED = "interrupted before the answer came; the server may have acted on it"
NOT_ATTEMPTED = "not attempted: the job stopped first"


class Breaker:
    """Counts connection failures in a row and says when the job must stop."""

    def __init__(self, limit: int = UNREACHABLE_IN_A_ROW) -> None:
        self.limit = limit
        self.in_a_row = 0
        self.reason: str | None = None
        """Why the job stopped; ``None`` while it goes on."""

    def saw(self, outcome: Outcome, unreachable: bool) -> None:
        if not unreachable:
            self.in_a_row = 0
            return
        self.in_a_row += 1
        if self.reason is None and self.in_a_row >= self.limit:
            self.reason = (
                f"the server stopped answering ({self.in_a_row} connection failures in a "
                f"row, the last: {outcome.error})"
            )
