"""UDP discovery on port 4720: find scopes, and the "intro" probe sent before each TCP connect.

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
The destination address is always injected (config `discovery_address`); tests use
127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import logging
import socket

from ..errors import RemoteProtocolError
from ..protocol.discovery import DISCOVERY_PORT, DiscoveryReply, encode_probe, parse_reply
from .redact import redact

log = logging.getLogger(__name__)


class _Collector(asyncio.DatagramProtocol):
    """Keeps the parsed replies of one discovery window."""

    def __init__(self, enough: int | None) -> None:
        self.replies: dict[str, DiscoveryReply] = {}
        self.enough = enough
        self.done = asyncio.Event()

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        try:
            reply = parse_reply(data)
        except RemoteProtocolError as exc:
            log.debug("discovery: ignored datagram from %s (%s): %s", addr[0], exc, redact(data, 120))
            return
        if not reply.ip:  # the app takes the address from the datagram's source (§5)
            reply = DiscoveryReply(reply.product_model, reply.serial, str(addr[0]), reply.ssid,
                                   reply.is_verified, reply.tcp_client_num, reply.raw)
        self.replies.setdefault(reply.serial or reply.ip, reply)
        if self.enough is not None and len(self.replies) >= self.enough:
            self.done.set()

    def error_received(self, exc: Exception) -> None:
        log.debug("discovery: socket error %s", exc)


async def discover(address: str, port: int = DISCOVERY_PORT, timeout_s: float = 2.0, *,
                   client_name: str = "indiseestar",
                   max_replies: int | None = None) -> list[DiscoveryReply]:
    """Probe `address` once; the replies collected within `timeout_s` (or the first `max_replies`)."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: _Collector(max_replies), local_addr=("0.0.0.0", 0), family=socket.AF_INET,
        allow_broadcast=True)
    try:
        transport.sendto(encode_probe(client_name), (address, port))
        try:
            async with asyncio.timeout(timeout_s):  # the listening window
                await protocol.done.wait()
        except TimeoutError:
            pass
    finally:
        transport.close()
    return sorted(protocol.replies.values(), key=lambda r: (r.product_model, r.ip))


async def send_intro(host: str, port: int, client_name: str) -> None:
    """Fire-and-forget `scan_iscope` to the scope before a TCP (re)connect (guest mode, §2.6)."""
    loop = asyncio.get_running_loop()
    try:
        transport, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, remote_addr=(host, port), family=socket.AF_INET)
    except OSError as exc:
        log.debug("discovery intro to %s:%d not sent: %s", host, port, exc)
        return
    try:
        transport.sendto(encode_probe(client_name))
    finally:
        transport.close()
