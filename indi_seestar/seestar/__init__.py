"""asyncio engine for the Seestar: connections, image stream, reconnection, login (no INDI here).

Layer: seestar. Imports protocol/, errors and config only; never indi/, devices/ or sim/.
The devices use `SeestarClient` (client.py) and the types re-exported here.
"""

from .client import SeestarClient
from .connection import ConnectionState
from .discover import discover
from .hub import EventExpectation
from .pool import RawFrame, StackedImage
from .sockets import ImageStats
from .state import ScopeState
from .timeouts import Timeouts

__all__ = ["ConnectionState", "EventExpectation", "ImageStats", "RawFrame", "ScopeState",
           "SeestarClient", "StackedImage", "Timeouts", "discover"]
