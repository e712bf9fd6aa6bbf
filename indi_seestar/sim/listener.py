"""What the fake's two TCP channels (4700 control, 4800 image) share: listen, admit, stop.

Layer: sim (imports nothing of the driver). A connection is admitted only once the fault gate
is open (a frozen fake: the kernel accepted it, the firmware has not yet), and not while the
server is stopping, refusing (fault knob) or full.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .core import SimCore


class Listener:
    """A listening socket and its connections; subclasses serve one connection in `_serve`."""

    #: How many clients the channel takes at once (the firmware's limit).
    max_clients: int = 8
    #: The asyncio stream reader's buffer limit (bytes).
    read_limit: int = 1 << 16

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._closing = False  # stop() began: a connection accepted now is closed at once
        self.connections: dict[int, Any] = {}

    @property
    def port(self) -> int:
        """The bound port."""
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, host: str, port: int) -> None:
        """Listen on (host, port); port 0 picks a free one (again after stop(): a restart)."""
        self._closing = False
        self._server = await asyncio.start_server(self._serve, host, port, limit=self.read_limit)

    async def stop(self) -> None:
        """Close the listener and every connection."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections.values()):
            self._close_connection(conn)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, core: SimCore, channel: str, writer: asyncio.StreamWriter) -> bool:
        """Count and adopt the new connection; False (it is closed) when it must not be served."""
        core.faults.counters.connections[channel] += 1
        handler = asyncio.current_task()
        if handler is not None:
            # Python 3.11's wait_closed does not wait for the handlers: the core's close() ends
            # them, or one could outlive the fake's loop ("Task was destroyed but it is pending").
            core.adopt(handler)
        await core.faults.gate.wait_open()
        if self._closing or core.faults.refusing or len(self.connections) >= self.max_clients:
            writer.transport.abort()
            return False
        return True

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    def _close_connection(self, conn: Any) -> None:
        raise NotImplementedError
