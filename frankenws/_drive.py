"""Running an operation: the one driver behind every sender.

Both clients and the bulk engine's HTTP/1.1 lane hand an operation and their own
``send`` to :func:`drive` or :func:`drive_async`. Like httpx's auth-flow driver, a
request that fails is thrown into the flow, so the flow's cleanup runs (and its
requests are sent) before the original error propagates, and the flow is always
closed. Strictly private.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from ._calls import Call, Flow, Operation
from ._decode import decode_response
from ._models import Response

__all__ = ["drive", "drive_async"]

T = TypeVar("T")


class _Stepper(Generic[T]):
    """Where an operation stands: the next call to send, or the result. Strictly private."""

    __slots__ = ("_result", "_steps", "call")

    def __init__(self, op: Flow[T]) -> None:
        self._steps = op.start()
        self.call: Call[Any] | None = None
        self._advance(self._steps.send, None)

    def _advance(self, step: Callable[[Any], Call[Any]], value: Any) -> None:
        try:
            self.call = step(value)
        except StopIteration as done:
            self.call = None
            self._result: T = done.value

    def answer(self, response: Response) -> None:
        """Feed the current call's response in (a decoding error is thrown in instead)."""
        assert self.call is not None
        try:
            value = decode_response(self.call, response)
        except Exception as exc:
            self.fail(exc)
        else:
            self._advance(self._steps.send, value)

    def fail(self, exc: Exception) -> None:
        """Throw the current call's failure into the flow; it re-raises unless it recovers."""
        self._advance(self._steps.throw, exc)

    @property
    def result(self) -> T:
        return self._result

    def close(self) -> None:
        self._steps.close()


def drive(op: Operation[T], send: Callable[[Call[Any]], Response]) -> T:
    """Run ``op`` with a blocking ``send``."""
    if isinstance(op, Call):
        return decode_response(op, send(op))
    stepper = _Stepper(op)
    try:
        while stepper.call is not None:
            try:
                response = send(stepper.call)
            except Exception as exc:
                stepper.fail(exc)
            else:
                stepper.answer(response)
        return stepper.result
    finally:
        stepper.close()


async def drive_async(op: Operation[T], send: Callable[[Call[Any]], Awaitable[Response]]) -> T:
    """Run ``op`` with an awaitable ``send``."""
    if isinstance(op, Call):
        return decode_response(op, await send(op))
    stepper = _Stepper(op)
    try:
        while stepper.call is not None:
            try:
                response = await send(stepper.call)
            except Exception as exc:
                stepper.fail(exc)
            else:
                stepper.answer(response)
        return stepper.result
    finally:
        stepper.close()
