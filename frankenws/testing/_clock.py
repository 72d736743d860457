"""Time and timers for the fake server.

The fake never sleeps and never starts threads of its own. Time comes from a
:class:`Clock`; delayed work (the periodic pings of ``enablePing``) goes through a
:class:`Scheduler`. Two pairs are provided:

* :class:`ManualClock` is both: time only moves when a test calls
  :meth:`ManualClock.advance`, and timers that fall due fire inside that call.
* :class:`SystemClock` reads the real clocks. It is not a scheduler; the fake pairs it
  with an :class:`InertScheduler`, which records timers without ever firing them,
  until a real scheduler (the loopback server's asyncio one) is installed.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = [
    "Clock",
    "InertScheduler",
    "ManualClock",
    "Scheduler",
    "SystemClock",
    "TimerHandle",
]

_NS_PER_S = 1_000_000_000


@runtime_checkable
class Clock(Protocol):
    """Where the fake reads the time."""

    def now(self) -> float:
        """Unix time in seconds."""

    def time_ns(self) -> int:
        """Unix time in nanoseconds (Go's ``time.Now().UnixNano()``)."""

    def monotonic_ns(self) -> int:
        """A monotonic reading in nanoseconds, for durations and expiry checks."""


class TimerHandle(Protocol):
    """A scheduled call that can still be cancelled."""

    def cancel(self) -> None:
        """Make sure the call never happens (no-op once it ran)."""


@runtime_checkable
class Scheduler(Protocol):
    """Runs a callable later."""

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> TimerHandle:
        """Call ``fn`` once, ``delay_s`` seconds from now."""


class SystemClock:
    """The real wall and monotonic clocks."""

    __slots__ = ()

    def now(self) -> float:
        return time.time()

    def time_ns(self) -> int:
        return time.time_ns()

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()

    def __repr__(self) -> str:
        return "SystemClock()"


class _InertHandle:
    __slots__ = ("cancelled", "delay_s", "fn")

    def __init__(self, delay_s: float, fn: Callable[[], None]) -> None:
        self.delay_s = delay_s
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class InertScheduler:
    """Records timers and never fires them.

    The in-process fake uses it with a :class:`SystemClock`: firing would need a thread
    or an event loop, and the fake owns neither. ``pending`` lists what would run.
    """

    __slots__ = ("_handles",)

    def __init__(self) -> None:
        self._handles: list[_InertHandle] = []

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> TimerHandle:
        handle = _InertHandle(delay_s, fn)
        self._handles.append(handle)
        return handle

    @property
    def pending(self) -> list[tuple[float, Callable[[], None]]]:
        """``(delay_s, fn)`` of every timer not cancelled."""
        return [(h.delay_s, h.fn) for h in self._handles if not h.cancelled]

    def __repr__(self) -> str:
        return f"InertScheduler(pending={len(self.pending)})"


class _ManualHandle:
    __slots__ = ("cancelled", "due_ns", "fn")

    def __init__(self, due_ns: int, fn: Callable[[], None]) -> None:
        self.due_ns = due_ns
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock that only moves when told to, and the scheduler that goes with it.

    Time is kept as an integer number of nanoseconds so that durations measured by the
    fake (ping round trips, expiry) are exact; ``now()`` is derived from it. The
    monotonic reading is the same counter.

    Args:
        start: initial Unix time in seconds.
    """

    __slots__ = ("_lock", "_ns", "_seq", "_timers")

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._ns = round(start * _NS_PER_S)
        self._timers: list[tuple[int, int, _ManualHandle]] = []
        self._seq = itertools.count()
        # Timers may be added from inside a firing timer; the lock only guards the heap.
        self._lock = threading.RLock()

    def now(self) -> float:
        return self._ns / _NS_PER_S

    def time_ns(self) -> int:
        return self._ns

    def monotonic_ns(self) -> int:
        return self._ns

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> TimerHandle:
        with self._lock:
            handle = _ManualHandle(self._ns + max(0, round(delay_s * _NS_PER_S)), fn)
            heapq.heappush(self._timers, (handle.due_ns, next(self._seq), handle))
            return handle

    def advance(self, seconds: float) -> None:
        """Move time forward and run, in order, every timer that falls due.

        Each timer runs with the clock set to its own due time, so a timer that
        schedules another one (the chained periodic ping) lands at the right instant.
        """
        if seconds < 0:
            raise ValueError(f"cannot move a clock backwards: {seconds!r}")
        target = self._ns + round(seconds * _NS_PER_S)
        while True:
            with self._lock:
                if not self._timers or self._timers[0][0] > target:
                    break
                due, _, handle = heapq.heappop(self._timers)
                if handle.cancelled:
                    continue
                self._ns = max(self._ns, due)
                handle.cancelled = True
            handle.fn()
        with self._lock:
            self._ns = max(self._ns, target)

    @property
    def pending(self) -> int:
        """How many timers are still waiting."""
        with self._lock:
            return sum(1 for _, _, h in self._timers if not h.cancelled)

    def __repr__(self) -> str:
        return f"ManualClock(now={self.now()!r}, pending={self.pending})"
