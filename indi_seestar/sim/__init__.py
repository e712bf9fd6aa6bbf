"""The fake Seestar: the real wire protocol on loopback sockets (imports protocol/ only).

`FakeSeestar` (in-process, asyncio) and `SimThread` (background thread) are the entry points;
`indi_seestar_sim` is the command line.
"""

from .fake import FakeSeestar, SimThread

__all__ = ["FakeSeestar", "SimThread"]
