"""The 41 admin operations as two mixins: one method per route, named after the PHP function.

Each method validates and builds an operation with ``_calls.calls`` and hands it to
``_run``, which the concrete class supplies: :class:`~frankenws.Client` and
:class:`~frankenws.AsyncClient` send it to one admin endpoint; a cluster can fan it
out. Every operation passed to ``_run`` carries the SDK method name it was built for
(``op.name``), so a sender can look up per-route metadata with
``_endpoints.by_name(op.name)``.

The docstrings are written once, on :class:`SyncOperations`, and copied onto
:class:`AsyncOperations` at import. Strictly private.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from types import TracebackType
from typing import TypeVar

from ._calls import Operation, calls
from ._models import QueuedMessage

__all__ = ["AsyncOperations", "SyncOperations"]

T = TypeVar("T")
S = TypeVar("S", bound="SyncOperations")
A = TypeVar("A", bound="AsyncOperations")


class SyncOperations(abc.ABC):
    """The admin operations, answered synchronously. Strictly private."""

    __slots__ = ()

    @abc.abstractmethod
    def _run(self, op: Operation[T]) -> T:
        """Send ``op`` (a single call or a multi-request flow) and return its result."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connections this object holds."""

    def __enter__(self: S) -> S:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def get_clients(self, route: str | None = None) -> list[str]:
        """Ids of every registered connection, optionally only those on ``route``.

        Args:
            route: Keep only connections opened on this path (e.g. ``"/chat"``),
                compared byte for byte.

        Returns:
            The ids, in no particular order (``[]`` when there are none)."""
        return self._run(calls.get_clients(route))

    def get_clients_count(self, route: str | None = None) -> int:
        """Number of registered connections, optionally only those on ``route``."""
        return self._run(calls.get_clients_count(route))

    def send(self, id: str, data: str | bytes, route: str | None = None) -> None:
        """Send one binary frame to connection ``id``.

        The server gives no delivery feedback: an unknown id, a route that does not match
        or a failed write all answer the same way. ``data`` must not be empty (the server
        crashes on an empty body) and at most 16 MiB.

        Args:
            id: The connection id.
            data: The payload; ``str`` is sent as UTF-8.
            route: Only send if the connection's route is exactly this."""
        return self._run(calls.send(id, data, route))

    def send_all(self, data: str | bytes, route: str | None = None) -> int:
        """Send one binary frame to every registered connection (or those on ``route``).

        Returns:
            How many writes succeeded."""
        return self._run(calls.send_all(data, route))

    def kill_connection(self, id: str) -> bool:
        """Close connection ``id`` at once (TCP close, the peer sees code 1006).

        The server cleans up asynchronously, so the id may still be listed for a moment.

        Returns:
            ``True`` if it was open, ``False`` if unknown or already closed."""
        return self._run(calls.kill_connection(id))

    def get_client_ping_time(self, id: str) -> int:
        """The last measured ping round-trip of ``id`` in nanoseconds (``0`` when unknown).

        A value of exactly 5,000,000 is the server's placeholder for a pong that arrived
        without a pending ping."""
        return self._run(calls.get_client_ping_time(id))

    def enable_ping(self, id: str, interval_ms: int = 0) -> bool:
        """Enable ping measurement for ``id``.

        Args:
            interval_ms: ``0`` sends one ping now; ``> 0`` starts periodic pings (the
                server actually pings every 2 x ``interval_ms``).

        Returns:
            Always ``True`` (the server does not check that the id exists)."""
        return self._run(calls.enable_ping(id, interval_ms))

    def disable_ping(self, id: str) -> bool:
        """Disable ping measurement for ``id`` and forget its measurements."""
        return self._run(calls.disable_ping(id))

    def enable_queue_counter(
        self, id: str, max_messages: int = 100, max_time_seconds: int = 3600
    ) -> bool:
        """Start recording the messages sent to ``id``.

        Args:
            max_messages: Keep at most about this many messages (> 0).
            max_time_seconds: Drop messages older than this when a new one arrives (> 0)."""
        return self._run(calls.enable_queue_counter(id, max_messages, max_time_seconds))

    def disable_queue_counter(self, id: str) -> bool:
        """Stop recording messages for ``id`` (counter and messages are kept).

        Returns:
            ``True`` if a queue counter was ever enabled for ``id``."""
        return self._run(calls.disable_queue_counter(id))

    def get_client_message_counter(self, id: str) -> int:
        """Total number of messages recorded for ``id`` since the counter was first enabled."""
        return self._run(calls.get_client_message_counter(id))

    def get_client_message_queue(self, id: str) -> list[QueuedMessage]:
        """The recorded messages of ``id``, oldest first, payloads decoded to bytes."""
        return self._run(calls.get_client_message_queue(id))

    def clear_client_message_queue(self, id: str) -> bool:
        """Empty the recorded messages of ``id`` (the counter is kept).

        Returns:
            ``True`` if a queue counter was ever enabled for ``id``."""
        return self._run(calls.clear_client_message_queue(id))

    def tag_client(self, id: str, tag: str) -> None:
        """Add ``tag`` to connection ``id`` (the server accepts any id, even unknown ones)."""
        return self._run(calls.tag_client(id, tag))

    def untag_client(self, id: str, tag: str) -> None:
        """Remove ``tag`` from connection ``id``."""
        return self._run(calls.untag_client(id, tag))

    def clear_tag_client(self, id: str) -> None:
        """Remove every tag of connection ``id``."""
        return self._run(calls.clear_tag_client(id))

    def get_tags(self) -> list[str]:
        """Every tag in use, over all ids (including ids that are no longer connected)."""
        return self._run(calls.get_tags())

    def get_client_tags(self, id: str) -> list[str]:
        """The tags of connection ``id`` (``[]`` when it has none)."""
        return self._run(calls.get_client_tags(id))

    def get_clients_by_tag(self, tag: str) -> list[str]:
        """Ids holding exactly ``tag`` (including ids that are no longer connected)."""
        return self._run(calls.get_clients_by_tag(tag))

    def get_tag_count(self, tag: str) -> int:
        """Number of ids holding exactly ``tag``."""
        return self._run(calls.get_tag_count(tag))

    def send_to_tag(self, tag: str, data: str | bytes, route: str | None = None) -> int:
        """Send one binary frame to every connection tagged ``tag`` (optionally on ``route``).

        Returns:
            How many writes succeeded."""
        return self._run(calls.send_to_tag(tag, data, route))

    def set_stored_information(self, id: str, key: str, value: str | bytes) -> None:
        """Store ``key = value`` on connection ``id``; ``value`` must not be empty."""
        return self._run(calls.set_stored_information(id, key, value))

    def get_stored_information(self, id: str, key: str) -> str | None:
        """The value stored under ``key`` on ``id``, or ``None`` when there is none."""
        return self._run(calls.get_stored_information(id, key))

    def delete_stored_information(self, id: str, key: str) -> None:
        """Delete ``key`` from connection ``id`` (no error if it was not there).

        The server's own ``deleted`` flag is true whenever the id had any data, so it is
        not returned; use :meth:`has_stored_information` first if you need to know."""
        return self._run(calls.delete_stored_information(id, key))

    def clear_stored_information(self, id: str) -> None:
        """Delete everything stored on connection ``id``."""
        return self._run(calls.clear_stored_information(id))

    def has_stored_information(self, id: str, key: str) -> bool:
        """Whether ``key`` is stored on connection ``id``."""
        return self._run(calls.has_stored_information(id, key))

    def list_stored_information_keys(self, id: str) -> list[str]:
        """The keys stored on connection ``id``."""
        return self._run(calls.list_stored_information_keys(id))

    def get_all_stored_information(self, id: str) -> dict[str, str]:
        """Everything stored on connection ``id`` as a dict."""
        return self._run(calls.get_all_stored_information(id))

    def search_stored_information(
        self,
        key: str,
        op: str,
        value: str | int | float | Sequence[str] = "",
        route: str | None = None,
    ) -> list[str]:
        """Ids whose stored ``key`` matches ``op value``.

        Args:
            key: The stored key; ids without it never match (not even for ``neq``).
            op: A server operator (``eq neq prefix suffix contains ieq iprefix isuffix
                icontains regex``) or one the SDK adds: ``gt gte lt lte`` (numeric),
                ``in`` (one of several values) and ``exists`` (has the key). The added
                ones are compiled to one RE2 search, so they still cost one request
                (bounds with more than 100 digits fall back to comparing locally).
                Anything else raises :class:`InvalidArgument`; the server itself would
                silently match nobody.
            value: The operand: a string; for ``regex`` an RE2 pattern searched
                anywhere; for ``gt``/``gte``/``lt``/``lte`` a number (``3``, ``-2.5``,
                ``"1e3"``; stored values count as numbers only when they are plain
                decimals such as ``"42"`` or ``"-0.5"``); for ``in`` a list of strings
                or ``"a,b,c"``; ignored for ``exists``.
            route: Keep only connections on this route."""
        return self._run(calls.search_stored_information(key, op, value, route))

    def send_to_tag_expression(
        self, expression: str, data: str | bytes, route: str | None = None
    ) -> int:
        """Send to every connection whose tags satisfy ``expression``.

        ``!`` (not), ``&`` (and), ``|`` (or), parentheses and ``*`` wildcards, with the
        usual precedence. Expressions the server evaluates correctly are sent as they
        are (one request); any other one is evaluated here from tag membership (one
        request per distinct tag) and sent to each matching connection. A malformed
        expression raises :class:`InvalidArgument` with the position of the error.

        Returns:
            How many writes succeeded (server-side), or how many connections were sent
            to (local evaluation; ``send`` gives no delivery feedback)."""
        return self._run(calls.send_to_tag_expression(expression, data, route))

    def get_clients_by_tag_expression(self, expression: str) -> list[str]:
        """Ids of registered connections whose tags satisfy ``expression``.

        Same language and evaluation strategy as :meth:`send_to_tag_expression`."""
        return self._run(calls.get_clients_by_tag_expression(expression))

    def list_routes(self) -> list[str]:
        """The distinct routes of the registered connections."""
        return self._run(calls.list_routes())

    def get_clients_by_route(self, route: str) -> list[str]:
        """Ids of the connections opened on ``route`` exactly."""
        return self._run(calls.get_clients_by_route(route))

    def rename_connection(self, current_id: str, new_id: str) -> bool:
        """Re-register connection ``current_id`` as ``new_id``.

        Route, tags and stored information move; ping, queue-counter and ghost state do not.

        Returns:
            ``False`` when ``current_id`` is not registered or ``new_id`` is taken (the
            server does not say which)."""
        return self._run(calls.rename_connection(current_id, new_id))

    def activate_ghost(self, id: str) -> bool:
        """Make ``id`` a ghost: when its socket closes, it stays registered with all its state.

        Returns:
            ``False`` if ``id`` is not registered."""
        return self._run(calls.activate_ghost(id))

    def release_ghost(self, id: str) -> bool:
        """Release ghost ``id``: unregister it and clean up its state (its socket is not closed).

        Returns:
            ``False`` if ``id`` was not a ghost or is no longer registered."""
        return self._run(calls.release_ghost(id))

    def is_ghost(self, id: str) -> bool:
        """Whether the ghost flag is set for ``id``."""
        return self._run(calls.is_ghost(id))

    def global_set(self, key: str, value: str | bytes, expire_seconds: int = 0) -> None:
        """Set a global (not per-connection) value.

        Args:
            value: May be empty.
            expire_seconds: Lifetime in seconds; ``0`` means never expires. Setting a key
                again replaces its expiry too."""
        return self._run(calls.global_set(key, value, expire_seconds))

    def global_get(self, key: str) -> str | None:
        """The global value of ``key``, or ``None`` when missing or expired.

        Non-UTF-8 bytes are decoded with ``surrogateescape`` so that
        ``value.encode("utf-8", "surrogateescape")`` gives the exact bytes back."""
        return self._run(calls.global_get(key))

    def global_has(self, key: str) -> bool:
        """Whether the global ``key`` exists and has not expired."""
        return self._run(calls.global_has(key))

    def global_delete(self, key: str) -> bool:
        """Delete the global ``key``.

        Returns:
            ``False`` if there was no such key."""
        return self._run(calls.global_delete(key))


class AsyncOperations(abc.ABC):
    """The admin operations, awaited. Same names, signatures and docstrings. Strictly private."""

    __slots__ = ()

    @abc.abstractmethod
    async def _run(self, op: Operation[T]) -> T:
        """Send ``op`` (a single call or a multi-request flow) and return its result."""

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Release the connections this object holds."""

    async def __aenter__(self: A) -> A:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def get_clients(self, route: str | None = None) -> list[str]:
        return await self._run(calls.get_clients(route))

    async def get_clients_count(self, route: str | None = None) -> int:
        return await self._run(calls.get_clients_count(route))

    async def send(self, id: str, data: str | bytes, route: str | None = None) -> None:
        return await self._run(calls.send(id, data, route))

    async def send_all(self, data: str | bytes, route: str | None = None) -> int:
        return await self._run(calls.send_all(data, route))

    async def kill_connection(self, id: str) -> bool:
        return await self._run(calls.kill_connection(id))

    async def get_client_ping_time(self, id: str) -> int:
        return await self._run(calls.get_client_ping_time(id))

    async def enable_ping(self, id: str, interval_ms: int = 0) -> bool:
        return await self._run(calls.enable_ping(id, interval_ms))

    async def disable_ping(self, id: str) -> bool:
        return await self._run(calls.disable_ping(id))

    async def enable_queue_counter(
        self, id: str, max_messages: int = 100, max_time_seconds: int = 3600
    ) -> bool:
        return await self._run(calls.enable_queue_counter(id, max_messages, max_time_seconds))

    async def disable_queue_counter(self, id: str) -> bool:
        return await self._run(calls.disable_queue_counter(id))

    async def get_client_message_counter(self, id: str) -> int:
        return await self._run(calls.get_client_message_counter(id))

    async def get_client_message_queue(self, id: str) -> list[QueuedMessage]:
        return await self._run(calls.get_client_message_queue(id))

    async def clear_client_message_queue(self, id: str) -> bool:
        return await self._run(calls.clear_client_message_queue(id))

    async def tag_client(self, id: str, tag: str) -> None:
        return await self._run(calls.tag_client(id, tag))

    async def untag_client(self, id: str, tag: str) -> None:
        return await self._run(calls.untag_client(id, tag))

    async def clear_tag_client(self, id: str) -> None:
        return await self._run(calls.clear_tag_client(id))

    async def get_tags(self) -> list[str]:
        return await self._run(calls.get_tags())

    async def get_client_tags(self, id: str) -> list[str]:
        return await self._run(calls.get_client_tags(id))

    async def get_clients_by_tag(self, tag: str) -> list[str]:
        return await self._run(calls.get_clients_by_tag(tag))

    async def get_tag_count(self, tag: str) -> int:
        return await self._run(calls.get_tag_count(tag))

    async def send_to_tag(self, tag: str, data: str | bytes, route: str | None = None) -> int:
        return await self._run(calls.send_to_tag(tag, data, route))

    async def set_stored_information(self, id: str, key: str, value: str | bytes) -> None:
        return await self._run(calls.set_stored_information(id, key, value))

    async def get_stored_information(self, id: str, key: str) -> str | None:
        return await self._run(calls.get_stored_information(id, key))

    async def delete_stored_information(self, id: str, key: str) -> None:
        return await self._run(calls.delete_stored_information(id, key))

    async def clear_stored_information(self, id: str) -> None:
        return await self._run(calls.clear_stored_information(id))

    async def has_stored_information(self, id: str, key: str) -> bool:
        return await self._run(calls.has_stored_information(id, key))

    async def list_stored_information_keys(self, id: str) -> list[str]:
        return await self._run(calls.list_stored_information_keys(id))

    async def get_all_stored_information(self, id: str) -> dict[str, str]:
        return await self._run(calls.get_all_stored_information(id))

    async def search_stored_information(
        self,
        key: str,
        op: str,
        value: str | int | float | Sequence[str] = "",
        route: str | None = None,
    ) -> list[str]:
        return await self._run(calls.search_stored_information(key, op, value, route))

    async def send_to_tag_expression(
        self, expression: str, data: str | bytes, route: str | None = None
    ) -> int:
        return await self._run(calls.send_to_tag_expression(expression, data, route))

    async def get_clients_by_tag_expression(self, expression: str) -> list[str]:
        return await self._run(calls.get_clients_by_tag_expression(expression))

    async def list_routes(self) -> list[str]:
        return await self._run(calls.list_routes())

    async def get_clients_by_route(self, route: str) -> list[str]:
        return await self._run(calls.get_clients_by_route(route))

    async def rename_connection(self, current_id: str, new_id: str) -> bool:
        return await self._run(calls.rename_connection(current_id, new_id))

    async def activate_ghost(self, id: str) -> bool:
        return await self._run(calls.activate_ghost(id))

    async def release_ghost(self, id: str) -> bool:
        return await self._run(calls.release_ghost(id))

    async def is_ghost(self, id: str) -> bool:
        return await self._run(calls.is_ghost(id))

    async def global_set(self, key: str, value: str | bytes, expire_seconds: int = 0) -> None:
        return await self._run(calls.global_set(key, value, expire_seconds))

    async def global_get(self, key: str) -> str | None:
        return await self._run(calls.global_get(key))

    async def global_has(self, key: str) -> bool:
        return await self._run(calls.global_has(key))

    async def global_delete(self, key: str) -> bool:
        return await self._run(calls.global_delete(key))


# One docstring per operation, shown on both colours.
for _name, _method in vars(SyncOperations).items():
    _twin = vars(AsyncOperations).get(_name)
    if _twin is not None and _twin.__doc__ is None and _method.__doc__:
        _twin.__doc__ = _method.__doc__
del _name, _method, _twin
