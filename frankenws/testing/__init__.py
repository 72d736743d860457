"""A faithful fake of the FrankenPHP WebSocket extension, for tests.

``FakeFrankenPHP`` reproduces the admin API byte for byte, bugs included, on top of an
in-memory model of the extension, and offers virtual WebSocket connections and event
hooks standing in for the PHP worker. ``fake.serve()`` runs it on loopback as a
:class:`LoopbackServer`; ``fake.handle()`` answers one :class:`RawRequest` with a
:class:`RawResponse`, the same records ``fake.calls`` holds.
"""

from ._clock import ManualClock, SystemClock
from ._events import Event
from ._fake import FakeFrankenPHP
from ._http import RawRequest, RawResponse
from ._population import Population
from ._server import LoopbackServer

__all__ = [
    "Event",
    "FakeFrankenPHP",
    "LoopbackServer",
    "ManualClock",
    "Population",
    "RawRequest",
    "RawResponse",
    "SystemClock",
]

# Users meet these types under this package's name, not the private module's.
for _name in __all__:
    globals()[_name].__module__ = "frankenws.testing"
del _name
