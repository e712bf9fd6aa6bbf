"""Commands: how SeestarClient's operation groups send one control command and check its reply.

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
The base of the facade's mixins (client_mount.py, client_extras.py); SeestarClient sets the
attributes declared here.
"""

from __future__ import annotations

from ..protocol.methods import Call
from ..protocol.rpc import Reply
from .snapshot import Snapshot
from .supervisor import Supervisor
from .timeouts import Timeouts


class Commands:
    """Sends control commands on the supervised session; the facade's groups derive from it."""

    _supervisor: Supervisor
    _t: Timeouts
    _snapshot: Snapshot

    async def _call(self, call: Call, timeout_s: float | None = None) -> Reply:
        return await self._supervisor.call(call, self._t.request_s if timeout_s is None else timeout_s)

    async def _send(self, call: Call, timeout_s: float | None = None) -> Reply:
        reply = await self._call(call, timeout_s)
        raise_for_reply(reply)
        return reply


def raise_for_reply(reply: Reply) -> None:
    """CommandFailed (method, code, firmware text) unless the reply reports success."""
    if not reply.ok:
        raise reply.failure()
