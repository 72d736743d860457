"""Events for the PHP worker, the hooks that play it, and the operation lock.

An :class:`Event` is what the worker receives. :class:`EventLog` keeps the recent
events, calls the hooks, and provides the state's operation context: one re-entrant
lock, and hook errors held back until the outermost operation has finished, so the
state is never left half-updated.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

__all__ = ["MAX_EVENTS", "Event", "EventLog", "EventType", "Hook"]

MAX_EVENTS = 100_000
"""How many recent events ``EventLog.events`` keeps."""

EventType = Literal["open", "message", "beforeClose", "close", "ghostConnectionClose"]

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Event:
    """One event handed to the PHP worker (here: to a hook).

    ``headers`` is only filled for ``open``. ``payload`` is the frame for ``message``,
    the close reason (Go's close error as text, or ``b"ghost_released"``) for the
    three close events, and ``None`` for ``open``.
    """

    type: EventType
    connection: str
    route: str
    remote_addr: str
    headers: Mapping[str, list[str]] = field(default_factory=dict)
    payload: bytes | None = None


Hook = Callable[[Event], object]


class EventLog:
    """The recent events, the three hooks, and the lock every state operation takes."""

    def __init__(
        self, on_open: Hook | None, on_message: Hook | None, on_close: Hook | None
    ) -> None:
        self.hooks: dict[str, Hook | None] = {
            "open": on_open,
            "message": on_message,
            "close": on_close,
        }
        self.lock = threading.RLock()
        self._depth = 0
        self._pending_errors: list[BaseException] = []
        self.hook_errors: list[BaseException] = []
        """Every exception raised by a hook, in order."""
        self.events: list[Event] = []
        """The events emitted, in order (whether or not a hook is installed); the most
        recent :data:`MAX_EVENTS` are kept, so a long-running fake does not grow forever."""

    @contextmanager
    def operation(self) -> Iterator[None]:
        """Hold the lock; re-raise the first hook error when the outermost one ends."""
        with self.lock:
            self._depth += 1
            errors: list[BaseException] = []
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    # Taken even when the operation itself failed, so that a stale
                    # hook error never surfaces in some later, unrelated call.
                    errors, self._pending_errors = self._pending_errors, []
            if errors:
                raise errors[0]

    def run(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
        """``fn(*args, **kwargs)`` as one :meth:`operation`.

        The same rules without a generator-based context manager per call: every
        admin request runs one state operation, so this is on the load-test path.
        """
        errors: list[BaseException] = []
        with self.lock:
            self._depth += 1
            try:
                result = fn(*args, **kwargs)
            finally:
                self._depth -= 1
                if self._depth == 0 and self._pending_errors:
                    errors, self._pending_errors = self._pending_errors, []
        if errors:
            raise errors[0]
        return result

    def emit(self, event: Event) -> None:
        """Record ``event`` and hand it to its hook (call inside :meth:`operation`)."""
        self.events.append(event)
        if len(self.events) > MAX_EVENTS + MAX_EVENTS // 10:
            # Trimmed in batches: dropping one event per append would copy the list
            # each time.
            del self.events[:-MAX_EVENTS]
        hook = self.hooks["close" if event.type not in ("open", "message") else event.type]
        if hook is None:
            return
        try:
            hook(event)
        except Exception as exc:
            self.hook_errors.append(exc)
            self._pending_errors.append(exc)
