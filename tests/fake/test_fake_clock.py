"""ManualClock, SystemClock and the inert scheduler."""

from __future__ import annotations

import time

import pytest

from frankenws.testing import ManualClock, SystemClock
from frankenws.testing._clock import Clock, InertScheduler, Scheduler


def test_manual_clock_reads():
    """now/time_ns/monotonic_ns come from one integer nanosecond counter."""
    clock = ManualClock(start=1_000.5)
    assert clock.now() == 1_000.5
    assert clock.time_ns() == 1_000_500_000_000
    clock.advance(0.000000001)
    assert clock.monotonic_ns() == clock.time_ns() == 1_000_500_000_001


def test_default_start():
    """The default start is 1 700 000 000 (2023-11-14)."""
    assert ManualClock().now() == 1_700_000_000.0


def test_timers_fire_in_order_at_their_due_time():
    """advance fires due timers in order, each with the clock set to its due time."""
    clock = ManualClock(start=0)
    fired: list[tuple[str, float]] = []
    clock.call_later(2, lambda: fired.append(("b", clock.now())))
    clock.call_later(1, lambda: fired.append(("a", clock.now())))
    clock.call_later(5, lambda: fired.append(("late", clock.now())))
    clock.advance(3)
    assert fired == [("a", 1.0), ("b", 2.0)]
    assert clock.now() == 3.0
    assert clock.pending == 1


def test_timers_scheduled_by_timers_fire_in_the_same_advance():
    """A chain of timers runs as far as the advance reaches."""
    clock = ManualClock(start=0)
    ticks: list[float] = []

    def tick() -> None:
        ticks.append(clock.now())
        clock.call_later(1, tick)

    clock.call_later(1, tick)
    clock.advance(3.5)
    assert ticks == [1.0, 2.0, 3.0]


def test_cancelled_timers_do_not_fire():
    """cancel() before the due time prevents the call."""
    clock = ManualClock(start=0)
    fired: list[int] = []
    handle = clock.call_later(1, lambda: fired.append(1))
    handle.cancel()
    clock.advance(2)
    assert fired == []
    assert clock.pending == 0


def test_zero_delay_fires_on_next_advance():
    """A timer due now fires on advance(0)."""
    clock = ManualClock(start=0)
    fired: list[int] = []
    clock.call_later(0, lambda: fired.append(1))
    clock.advance(0)
    assert fired == [1]


def test_no_going_back():
    """A negative advance is a programming error."""
    with pytest.raises(ValueError, match="backwards"):
        ManualClock().advance(-1)


def test_system_clock_is_real_time():
    """SystemClock follows time.time and time.monotonic_ns."""
    clock = SystemClock()
    assert abs(clock.now() - time.time()) < 5
    assert abs(clock.time_ns() - time.time_ns()) < 5 * 10**9
    first = clock.monotonic_ns()
    assert clock.monotonic_ns() >= first


def test_protocols():
    """ManualClock is a clock and a scheduler; SystemClock only a clock."""
    assert isinstance(ManualClock(), Clock)
    assert isinstance(ManualClock(), Scheduler)
    assert isinstance(SystemClock(), Clock)
    assert not isinstance(SystemClock(), Scheduler)


def test_inert_scheduler_records_without_firing():
    """Timers are listed until cancelled and never run."""
    scheduler = InertScheduler()
    fired: list[int] = []
    first = scheduler.call_later(1, lambda: fired.append(1))
    scheduler.call_later(2, lambda: fired.append(2))
    first.cancel()
    assert [delay for delay, _ in scheduler.pending] == [2]
    assert fired == []
