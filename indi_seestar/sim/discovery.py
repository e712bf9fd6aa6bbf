"""UDP discovery (port 4720) of the fake Seestar: answers `scan_iscope` probes (§5).

Layer: sim. Both probe forms are answered (PRX/SRS `{"id":201,"method":"scan_iscope","name":..}`
and ALP `{"id":1,"method":"scan_iscope","params":""}`), unicast to the sender, in the reply
shape of `protocol.discovery`. Anything else is ignored.
"""

from __future__ import annotations

import asyncio
import logging

from ..errors import RemoteProtocolError
from ..protocol.discovery import DiscoveryReply, encode_reply, parse_probe
from .core import SimCore

_log = logging.getLogger(__name__)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, server: DiscoveryServer) -> None:
        self._server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self._server.answer(data, addr)


class DiscoveryServer:
    """The UDP 4720 responder."""

    def __init__(self, core: SimCore, host: str) -> None:
        self._core = core
        self._host = host
        self._proto: _Protocol | None = None
        self.probes = 0

    @property
    def port(self) -> int:
        """The bound port."""
        assert self._proto is not None and self._proto.transport is not None
        return int(self._proto.transport.get_extra_info("sockname")[1])

    async def start(self, port: int) -> None:
        """Bind (host, port); port 0 picks a free one."""
        loop = asyncio.get_running_loop()
        _transport, self._proto = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=(self._host, port))

    async def stop(self) -> None:
        """Close the socket."""
        if self._proto is not None and self._proto.transport is not None:
            self._proto.transport.close()

    def answer(self, data: bytes, addr: tuple[str, int]) -> None:
        """Reply to one probe datagram."""
        try:
            probe = parse_probe(data)
        except RemoteProtocolError:
            return
        core = self._core
        self.probes += 1
        core.faults.counters.connections["discovery"] += 1
        st = core.state
        sn = st.serial
        reply = DiscoveryReply(
            product_model=st.profile.product_model, serial=sn, ip=self._host,
            ssid=f"{st.profile.model}_{sn}", is_verified=True, tcp_client_num=len(st.clients),
            raw={"can_star_mode_sel_cam": False, "serc": 0, "bssid": "00:00:00:00:00:00"},
        )
        if self._proto is not None and self._proto.transport is not None:
            self._proto.transport.sendto(encode_reply(reply, probe.id, core.clock.timestamp()), addr)
