"""A faithful fake of the FrankenPHP WebSocket extension, for tests.

``FakeFrankenPHP`` reproduces the admin API byte for byte, bugs included, on top of an
in-memory model of the extension, and offers virtual WebSocket connections and event
hooks standing in for the PHP worker.
"""

from ._clock import ManualClock, SystemClock
from ._events import Event
from ._fake import FakeFrankenPHP
from ._population import Population

__all__ = ["Event", "FakeFrankenPHP", "ManualClock", "Population", "SystemClock"]
