"""Structured results. Plain frozen dataclasses, no I/O."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

__all__ = ["QueuedMessage", "Response"]


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """One message recorded by the queue counter of a connection.

    Args:
        id: The connection's message counter value when this message was recorded.
        data: The exact payload bytes that were written to the socket.
        route: The route filter given to the send call (``""`` when none), not the
            connection's own route.
        send_type: ``"direct"``, ``"tag"``, ``"tagExpression"`` or ``"all"``.
        send_target: The client id, tag, expression or ``"all"``.
        timestamp: When it was recorded (UTC, second precision).
    """

    id: int
    data: bytes
    route: str
    send_type: str
    send_target: str
    timestamp: datetime

    @classmethod
    def from_json(cls, obj: Any) -> QueuedMessage:
        """Build from one element of the ``messages`` array; raises on a bad shape."""
        if not isinstance(obj, dict):
            raise TypeError("message is not an object")
        try:
            data = base64.b64decode(obj["data"], validate=True)
        except (binascii.Error, TypeError) as exc:
            raise TypeError(f"message data is not base64: {exc}") from exc
        ident, stamp = obj["id"], obj["timestamp"]
        for name, value in (("id", ident), ("timestamp", stamp)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"message {name} is not an integer")
        texts = (obj["route"], obj["sendType"], obj["sendTarget"])
        if not all(isinstance(t, str) for t in texts):
            raise TypeError("message route/sendType/sendTarget are not strings")
        return cls(
            id=ident,
            data=data,
            route=obj["route"],
            send_type=obj["sendType"],
            send_target=obj["sendTarget"],
            timestamp=datetime.fromtimestamp(stamp, tz=timezone.utc),
        )


@dataclass(frozen=True, slots=True)
class Response:
    """An admin server's answer, as :meth:`Client.request` returns it.

    Args:
        status: The HTTP status code.
        headers: The response headers, names lower-cased.
        body: The body bytes, exactly as sent.
        url: The URL that was requested (without credentials), for messages.
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
