"""Live feedback on stderr while the CLI waits: a spinner while reading, a progress bar
while a job runs, a countdown during a grace period. Terminals only; rich is imported
lazily. Strictly private.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ._output import _console

__all__ = ["JobProgress", "countdown", "job_progress", "spinner"]


@contextmanager
def spinner(label: str) -> Iterator[Callable[[int], None]]:
    """A spinner while reading; ``tick(n)`` shows how many values were read."""
    if not sys.stderr.isatty():
        yield lambda _count: None
        return
    from rich.status import Status

    status = Status(label, console=_console(sys.stderr, stderr=True))

    shown = 0.0

    def tick(count: int) -> None:
        # Called once per value read: redrawing each time cost about 12 µs a value (over a
        # second of CPU for 100,000), for a display that refreshes about ten times a second.
        nonlocal shown
        now = time.monotonic()
        if now - shown >= 0.1:
            shown = now
            status.update(f"{label}: {count:,} value(s) read")

    with status:
        yield tick


class JobProgress:
    """Connections handled (not requests: a kill and its alert are one connection), rate
    and time left, in one line that fits 80 columns.

    ``target(action)`` counts a finished target of the job's main ``action``;
    ``steps(done, total)`` is the engine's callback, used for the total when the plan
    does not give one; ``say(text)`` replaces the label (the grace countdown).
    """

    def __init__(self, bar: Any, label: str, total: int | None, action: str) -> None:
        self._bar = bar
        self._label = label
        self._total = total
        self._action = action
        self._done = 0
        self._warned = 0
        self._started = time.monotonic()
        self._task = bar.add_task(label, total=total, figures="")

    def __call__(self, done: int, total: int) -> None:
        self.steps(done, total)

    def target(self, action: str) -> None:
        if action == self._action:
            self._done += 1
            self._show()
        elif action == "warn":  # a maintenance warns everyone before the first kill
            self._warned += 1
            self.say(f"warned {self._warned:,}")

    def steps(self, done: int, total: int) -> None:
        if self._total is None and total:
            self._bar.update(self._task, total=total)
            self._done = done
            self._show(total)

    def say(self, text: str | None) -> None:
        self._bar.update(self._task, description=text or self._label)

    def _show(self, total: int | None = None) -> None:
        total = max(total or self._total or 0, self._done)
        elapsed = time.monotonic() - self._started
        rate = self._done / elapsed if elapsed > 0 else 0.0
        figures = f"{self._done:,}/{total:,} {rate:,.0f}/s"
        if rate > 0 and total > self._done:
            figures += f" ETA {(total - self._done) / rate:,.0f} s"
        self._bar.update(self._task, completed=self._done, total=total, figures=figures)


@contextmanager
def job_progress(
    label: str, total: int | None, action: str = "kill"
) -> Iterator[JobProgress | None]:
    """A :class:`JobProgress` on stderr when it is a terminal, else ``None``."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        TextColumn("{task.fields[figures]}"),
        console=_console(sys.stderr, stderr=True),
        transient=True,
        expand=False,
    )
    with bar:
        yield JobProgress(bar, label[:24], total, action)


async def countdown(seconds: float, progress: JobProgress | None) -> None:
    """Wait out a grace period, showing the seconds left on the progress line."""
    if progress is None or seconds <= 0:
        await asyncio.sleep(seconds)
        return
    end = time.monotonic() + seconds
    try:
        while (left := end - time.monotonic()) > 0:
            progress.say(f"grace: {left:,.0f} s left")
            await asyncio.sleep(min(0.25, left))
    finally:
        progress.say(None)
