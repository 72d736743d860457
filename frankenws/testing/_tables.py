"""The per-family tables of the extension's state, one small class each.

Upstream keeps one Go map per concern (tags, stored information, global store, ping,
queue counter). Each class here owns the dicts of one family and knows the family's
quirks; what happens to a connection's entries when it closes or is renamed is decided
in one place, ``FakeState`` (PROTOCOL.md §10.5), through ``forget`` and ``move``.
None of these classes locks: ``FakeState`` calls them under its lock.

Ids, tags, keys and stored values are ``str`` decoded with ``surrogateescape`` (Go
strings are bytes); global values and message payloads are ``bytes``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TypeVar

from ._clock import Clock, Scheduler, TimerHandle
from ._gojson import JSONValue

__all__ = [
    "GlobalStore",
    "PING_PLACEHOLDER_NS",
    "PingTracker",
    "QueueConfig",
    "QueueCounter",
    "RecordedMessage",
    "StoredInfo",
    "TagIndex",
    "wrap_int64",
]

_NS_PER_S = 1_000_000_000

PING_PLACEHOLDER_NS = 5_000_000
"""What a pong without a pending ping records as round-trip time (PROTOCOL.md §7.4)."""

V = TypeVar("V")


def wrap_int64(value: int) -> int:
    """Two's-complement int64 wrap-around, as Go's integer multiplication does."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def _move(table: dict[str, V], old: str, new: str) -> None:
    # Only when the old id has an entry: otherwise whatever the new id already had
    # (orphan data) stays and becomes the connection's.
    if old in table:
        table[new] = table.pop(old)


class TagIndex:
    """Tags per id; an id whose last tag goes disappears (Go deletes the empty set)."""

    __slots__ = ("_tags",)

    def __init__(self) -> None:
        # Ordered dicts as sets: stable iteration makes test failures reproducible.
        self._tags: dict[str, dict[str, None]] = {}

    def add(self, conn_id: str, tag: str) -> None:
        self._tags.setdefault(conn_id, {})[tag] = None

    def remove(self, conn_id: str, tag: str) -> None:
        tags = self._tags.get(conn_id)
        if tags is not None:
            tags.pop(tag, None)
            if not tags:
                del self._tags[conn_id]

    def of(self, conn_id: str) -> Collection[str] | None:
        """The id's tag set (``None``: it has none)."""
        return self._tags.get(conn_id)

    def ids_with(self, tag: str) -> list[str]:
        return [cid for cid, tags in self._tags.items() if tag in tags]

    def all_tags(self) -> list[str]:
        """Distinct tags over all ids, orphans included."""
        seen: dict[str, None] = {}
        for tags in self._tags.values():
            seen.update(tags)
        return list(seen)

    def forget(self, conn_id: str) -> None:
        self._tags.pop(conn_id, None)

    def move(self, old: str, new: str) -> None:
        _move(self._tags, old, new)


class StoredInfo:
    """Per-id string key/value pairs (``setStoredInformation`` and friends)."""

    __slots__ = ("_info",)

    def __init__(self) -> None:
        self._info: dict[str, dict[str, str]] = {}

    def set(self, conn_id: str, key: str, value: str) -> None:
        self._info.setdefault(conn_id, {})[key] = value

    def get(self, conn_id: str, key: str) -> tuple[str, bool]:
        """``(value, exists)``; the value is ``""`` when absent."""
        info = self._info.get(conn_id)
        if info is None or key not in info:
            return "", False
        return info[key], True

    def delete(self, conn_id: str, key: str) -> bool:
        """True whenever the id had any stored information (upstream's quirk)."""
        info = self._info.get(conn_id)
        if info is None:
            return False
        info.pop(key, None)
        if not info:
            del self._info[conn_id]
        return True

    def has(self, conn_id: str, key: str) -> bool:
        return key in self._info.get(conn_id, {})

    def all(self, conn_id: str) -> dict[str, str]:
        return dict(self._info.get(conn_id, {}))

    def search(
        self, key: str, matcher: Callable[[str], bool], accept: Callable[[str], bool]
    ) -> list[str]:
        """Ids passing ``accept`` whose value under ``key`` satisfies ``matcher``."""
        return [
            conn_id
            for conn_id, info in self._info.items()
            if accept(conn_id) and key in info and matcher(info[key])
        ]

    def forget(self, conn_id: str) -> None:
        self._info.pop(conn_id, None)

    def move(self, old: str, new: str) -> None:
        _move(self._info, old, new)


@dataclass(slots=True)
class _GlobalEntry:
    value: bytes
    expires_ns: int | None


class GlobalStore:
    """The global key/value store with Go's expiry rules (PROTOCOL.md §6.9)."""

    __slots__ = ("_clock", "_entries")

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._entries: dict[str, _GlobalEntry] = {}

    def set(self, key: str, value: bytes, expire_seconds: int = 0) -> None:
        """Store ``value``; ``expire_seconds`` of lifetime when positive.

        Go computes ``time.Now().Add(time.Duration(exp) * time.Second)``: the
        multiplication wraps around int64 beyond 9 223 372 036 s, giving an arbitrary
        (often past) expiry.
        """
        expires = None
        if expire_seconds > 0:
            expires = self._clock.monotonic_ns() + wrap_int64(expire_seconds * _NS_PER_S)
        self._entries[key] = _GlobalEntry(bytes(value), expires)

    def get(self, key: str) -> bytes | None:
        """The value, or None when missing or expired (an expired entry is purged)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_ns is not None and self._clock.monotonic_ns() > entry.expires_ns:
            del self._entries[key]
            return None
        return entry.value

    def has(self, key: str) -> bool:
        """Present and not expired; never purges. (Go: ``Now().Before(expiresAt)``.)"""
        entry = self._entries.get(key)
        if entry is None:
            return False
        return entry.expires_ns is None or self._clock.monotonic_ns() < entry.expires_ns

    def delete(self, key: str) -> bool:
        """Whether an entry existed, an expired but unpurged one included."""
        return self._entries.pop(key, None) is not None


class PingTracker:
    """Ping measurement per id: enabled flag, last RTT, pending ping, periodic timer.

    Args:
        scheduler: runs the periodic pings' timers (replaceable at any time).
        guard: the state's operation context; every timer step runs inside it.
    """

    __slots__ = (
        "_clock",
        "_guard",
        "enabled",
        "interval_ms",
        "last_ns",
        "pending_ns",
        "scheduler",
        "timers",
    )

    def __init__(
        self,
        clock: Clock,
        scheduler: Scheduler,
        guard: Callable[[], AbstractContextManager[None]],
    ) -> None:
        self._clock = clock
        self.scheduler = scheduler
        self._guard = guard
        self.enabled: dict[str, bool] = {}
        self.last_ns: dict[str, int] = {}
        self.pending_ns: dict[str, int] = {}
        self.interval_ms: dict[str, int] = {}
        self.timers: dict[str, tuple[object, TimerHandle]] = {}

    def is_enabled(self, conn_id: str) -> bool:
        return self.enabled.get(conn_id, False)

    def client_pinged(self, conn_id: str) -> bool:
        """A ping from the client; True means: answer with a pong.

        Upstream replaces the library's automatic pong: only ids with ping enabled get
        one, and the client's ping overwrites the pending timestamp.
        """
        if not self.is_enabled(conn_id):
            return False
        self.pending_ns[conn_id] = self._clock.monotonic_ns()
        return True

    def pong(self, conn_id: str) -> None:
        """A pong from the client: record the round trip (or the 5 ms placeholder)."""
        if not self.is_enabled(conn_id):
            return
        pending = self.pending_ns.pop(conn_id, None)
        if pending is None:
            self.last_ns[conn_id] = PING_PLACEHOLDER_NS
        else:
            self.last_ns[conn_id] = self._clock.monotonic_ns() - pending

    def start_periodic(self, conn_id: str, delay_s: float, fire: Callable[[str], bool]) -> None:
        """Call ``fire(conn_id)`` periodically until it returns False or is replaced.

        Upstream re-arms through a restart that itself waits one interval, so the
        pings come at I, 3I, 5I, ...
        """
        self.stop_periodic(conn_id)
        self._arm(conn_id, object(), delay_s, fire, fire_next=True)

    def _arm(
        self,
        conn_id: str,
        token: object,
        delay_s: float,
        fire: Callable[[str], bool],
        *,
        fire_next: bool,
    ) -> None:
        def step() -> None:
            with self._guard():
                if not self.is_current(conn_id, token):
                    return
                if fire_next and not fire(conn_id):
                    del self.timers[conn_id]
                    return
                self._arm(conn_id, token, delay_s, fire, fire_next=not fire_next)

        self.timers[conn_id] = (token, self.scheduler.call_later(delay_s, step))

    def stop_periodic(self, conn_id: str) -> None:
        timer = self.timers.pop(conn_id, None)
        if timer is not None:
            timer[1].cancel()

    def is_current(self, conn_id: str, token: object) -> bool:
        """Whether ``token`` is still the id's live periodic timer."""
        timer = self.timers.get(conn_id)
        return timer is not None and timer[0] is token

    def disable(self, conn_id: str) -> None:
        self.enabled[conn_id] = False
        self.stop_periodic(conn_id)
        self.last_ns.pop(conn_id, None)
        self.pending_ns.pop(conn_id, None)
        self.interval_ms.pop(conn_id, None)

    def forget(self, conn_id: str) -> None:
        """The close path: flag and times go, the interval and timer entry stay."""
        self.enabled.pop(conn_id, None)
        self.last_ns.pop(conn_id, None)
        self.pending_ns.pop(conn_id, None)


@dataclass(slots=True)
class QueueConfig:
    """The queue counter's settings for one ID."""

    enabled: bool
    max_messages: int
    max_time_seconds: int


@dataclass(frozen=True, slots=True)
class RecordedMessage:
    """One send the queue counter recorded (PROTOCOL.md §7.5)."""

    id: int
    data: bytes
    route: str
    """The route filter given to the send call (``""`` if none)."""
    timestamp: int
    """Unix seconds."""
    send_type: str
    send_target: str
    monotonic_ns: int = field(repr=False, compare=False)
    """When it was recorded, for the ``maxTime`` trimming."""

    def to_json(self) -> dict[str, JSONValue]:
        """The admin API's JSON object (keys are sorted by the encoder)."""
        return {
            "data": base64.b64encode(self.data).decode("ascii"),
            "id": self.id,
            "route": self.route,
            "sendTarget": self.send_target,
            "sendType": self.send_type,
            "timestamp": self.timestamp,
        }


class QueueCounter:
    """The per-id sent-message log. Nothing here is ever removed by a close or rename."""

    __slots__ = ("_clock", "_config", "_counter", "_messages")

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._config: dict[str, QueueConfig] = {}
        self._counter: dict[str, int] = {}
        self._messages: dict[str, list[RecordedMessage]] = {}

    def enable(self, conn_id: str, max_messages: int, max_time_seconds: int) -> None:
        """Replace the config; keep an existing counter and message list."""
        self._config[conn_id] = QueueConfig(True, max_messages, max_time_seconds)
        self._counter.setdefault(conn_id, 0)
        self._messages.setdefault(conn_id, [])

    def disable(self, conn_id: str) -> bool:
        config = self._config.get(conn_id)
        if config is None:
            return False
        config.enabled = False
        return True

    def counter(self, conn_id: str) -> int:
        return self._counter.get(conn_id, 0)

    def messages(self, conn_id: str) -> list[RecordedMessage]:
        return list(self._messages.get(conn_id, []))

    def clear(self, conn_id: str) -> bool:
        messages = self._messages.get(conn_id)
        if messages is None:
            return False
        messages.clear()
        return True

    def record(self, conn_id: str, data: bytes, route: str, send_type: str, target: str) -> None:
        """Log one successful send to ``conn_id`` if its counter is enabled."""
        config = self._config.get(conn_id)
        if config is None or not config.enabled:
            return
        counter = self._counter.get(conn_id, 0) + 1
        self._counter[conn_id] = counter
        messages = self._messages.setdefault(conn_id, [])
        now_mono = self._clock.monotonic_ns()
        messages.append(
            RecordedMessage(
                id=counter,
                data=bytes(data),
                route=route,
                timestamp=self._clock.time_ns() // _NS_PER_S,
                send_type=send_type,
                send_target=target,
                monotonic_ns=now_mono,
            )
        )
        # One message at most is dropped per recording: a list that was longer
        # before a re-enable with a smaller limit never shrinks below that length.
        if config.max_messages > 0 and len(messages) > config.max_messages:
            del messages[0]
        if config.max_time_seconds > 0:
            cutoff = now_mono + wrap_int64(-wrap_int64(config.max_time_seconds * _NS_PER_S))
            messages[:] = [m for m in messages if m.monotonic_ns > cutoff]
