"""The fake's ASCOM Alpaca server (ZWO's "Seestar Alpaca", §8.10): HTTP API and UDP discovery.

Layer: sim. Management API (/management/apiversions, /management/v1/description,
/management/v1/configureddevices), Alpaca discovery ("alpacadiscovery1" -> {"AlpacaPort"}
unicast back to the sender, on the fake's own loopback address only), and the device API
/api/v1/{type}/0/{method} over the devices of sim/alpaca_devices.py, sharing the fake's state.
Knobs: `version` (the server build, which decides PulseGuide and the ImageBytes header
mistakes) and `set_gone(True)` (the server stops answering: connections closed at once,
discovery silent), as when the Alpaca service dies on the scope. `calls` is the trace tests read.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from ..protocol import alpaca as wire
from .alpaca_devices import (AlpacaFault, FakeAlpacaDevice, FakeCamera, FakeFilterWheel,
                             FakeFocuser, FakeSwitch)
from .alpaca_telescope import FakeTelescope
from .alpaca_http import HttpServer, Reply
from .camera import Camera
from .core import SimCore
from .usecases_extras import ExtrasOps
from .usecases_mount import MountOps

_log = logging.getLogger(__name__)

#: The newest ZWO server build seen (firmware-2026-notes item 4).
DEFAULT_VERSION = "1.2.0-3"


class _Discovery(asyncio.DatagramProtocol):
    def __init__(self, server: AlpacaServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if data.strip().lower() == wire.DISCOVERY_MESSAGE and not self.server.gone \
                and self.transport is not None:
            self.server.discovery_probes += 1
            self.transport.sendto(wire.discovery_reply(self.server.port), addr)


class AlpacaServer:
    """HTTP + discovery of the fake's Alpaca devices."""

    def __init__(self, core: SimCore, camera: Camera, mount_ops: MountOps, extras: ExtrasOps,
                 host: str, version: str = DEFAULT_VERSION) -> None:
        self._core = core
        self._host = host
        self.version = version
        ver = lambda: self.version  # noqa: E731 - the devices read the knob live
        self.telescope = FakeTelescope(core, ver, mount_ops)
        self.camera = FakeCamera(core, ver, camera)
        self.devices: dict[str, FakeAlpacaDevice] = {
            d.device_type: d for d in (self.telescope, self.camera, FakeFocuser(core, ver, extras),
                                       FakeFilterWheel(core, ver, extras), FakeSwitch(core, ver))}
        self._http = HttpServer(self._handle, core.adopt)
        self._udp: _Discovery | None = None
        self._server_tid = 0
        self.gone = False
        self.discovery_probes = 0
        #: Every device API call answered: "GET camera/imageready", "PUT telescope/pulseguide" ...
        self.calls: list[str] = []

    # --- life cycle ----------------------------------------------------------------------------

    async def start(self, port: int, discovery_port: int) -> None:
        """Bind HTTP (port) and discovery (UDP discovery_port); 0 = a free port."""
        await self._http.start(self._host, port)
        loop = asyncio.get_running_loop()
        _t, self._udp = await loop.create_datagram_endpoint(
            lambda: _Discovery(self), local_addr=(self._host, discovery_port))

    async def stop(self) -> None:
        """Close both."""
        await self._http.stop()
        if self._udp is not None and self._udp.transport is not None:
            self._udp.transport.close()

    @property
    def port(self) -> int:
        """The HTTP port (32323 on a scope)."""
        return self._http.port

    @property
    def discovery_port(self) -> int:
        """The UDP discovery port (32227)."""
        assert self._udp is not None and self._udp.transport is not None
        return int(self._udp.transport.get_extra_info("sockname")[1])

    def set_gone(self, gone: bool = True) -> int:
        """Knob: the server dies (True: open connections closed, new ones refused) or comes back."""
        self.gone = gone
        self._http.refuse = gone
        return self._http.drop_all() if gone else 0

    # --- requests --------------------------------------------------------------------------------

    async def _handle(self, verb: str, path: str, params: dict[str, str],
                      headers: dict[str, str]) -> Reply:
        parts = [p for p in path.lower().split("/") if p]
        client_tid = wire.int_param(params, "ClientTransactionID") or 0
        self._server_tid += 1
        if parts[:1] == ["management"]:
            return self._management(parts, client_tid)
        if len(parts) != 5 or parts[:2] != ["api", "v1"] or verb not in ("GET", "PUT"):
            return Reply(400, "text/plain", [f"bad request {verb} {path}".encode()])
        _api, _v, dtype, number, method = parts
        device = self.devices.get(dtype)
        if device is None or number != "0":
            return Reply(404, "text/plain", [f"no device {dtype}/{number}".encode()])
        self.calls.append(f"{verb} {dtype}/{method}")
        if self._core.trace is not None:
            self._core.trace.record("alpaca", call=f"{verb} {dtype}/{method}")
        if dtype == "camera" and method == "imagearray" and verb == "GET":
            return await self._image(params, headers, client_tid)
        try:
            value = await device.call(verb, method, params)
        except AlpacaFault as fault:
            return self._json(None, client_tid, fault.number, fault.message)
        return self._json(value if verb == "GET" else None, client_tid)

    def _json(self, value: Any, client_tid: int, error: int = 0, message: str = "") -> Reply:
        body = wire.response(value, error=error, message=message, client_tid=client_tid,
                             server_tid=self._server_tid)
        return Reply(200, "application/json", [body])

    def _management(self, parts: list[str], client_tid: int) -> Reply:
        if parts == ["management", "apiversions"]:
            return self._json([wire.API_VERSION], client_tid)
        if parts == ["management", "v1", "description"]:
            return self._json({"ServerName": "Seestar Alpaca", "Manufacturer": "ZWO",
                               "ManufacturerVersion": self.version, "Location": "Seestar"},
                              client_tid)
        if parts == ["management", "v1", "configureddevices"]:
            serial = self._core.state.serial
            return self._json([{"DeviceName": d.name, "DeviceType": d.device_type.capitalize()
                                if d.device_type != "filterwheel" else "FilterWheel",
                                "DeviceNumber": 0, "UniqueID": f"{serial}-{d.device_type}"}
                               for d in self.devices.values()], client_tid)
        return Reply(404, "text/plain", [b"unknown management call"])

    async def _image(self, params: dict[str, str], headers: dict[str, str],
                     client_tid: int) -> Reply:
        try:
            pixels = self.camera.image()
        except AlpacaFault as fault:
            return self._json(None, client_tid, fault.number, fault.message)
        if wire.IMAGEBYTES_MIME in headers.get("accept", "").lower():
            quirks = wire.ImageBytesQuirks.for_version(self.version)
            parts = await self._core.in_worker(
                lambda: wire.encode_imagebytes(pixels, client_tid=client_tid,
                                               server_tid=self._server_tid, quirks=quirks))
            return Reply(200, wire.IMAGEBYTES_MIME, parts)
        value = pixels.T.tolist()  # ImageArray JSON: [x][y]
        body = json.dumps({"Type": 2, "Rank": 2, "Value": value, "ClientTransactionID": client_tid,
                           "ServerTransactionID": self._server_tid, "ErrorNumber": 0,
                           "ErrorMessage": ""}).encode()
        return Reply(200, "application/json", [body])
