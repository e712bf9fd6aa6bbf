"""The scope's own ASCOM Alpaca server as a second path, through alpyca (issue 14, §8.10).

Layer: seestar. `AlpacaLink.probe` finds ZWO's server beside the private protocol (a unicast
discovery probe to the scope's address, then the management API) and opens alpyca's Camera,
Telescope and Switch on it; the link then takes single exposures (StartExposure -> ImageReady
-> ImageBytes, decoded by protocol/alpaca.py with the header mistakes of the build it runs),
guide pulses (PulseGuide, completion polled through IsPulseGuiding as libindi's driver does)
and the dew heater. alpyca is blocking (requests): every call runs in a worker thread under a
named timeout. alpyca is optional (Debian has no python3-alpyca): imported lazily, and when it
is missing the link is simply never available (`alpyca_missing()`).
A server that stops answering raises `AlpacaUnavailable` and the link marks itself gone; the
caller falls back to the private protocol.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import socket
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import AlpacaCallFailed, AlpacaUnavailable, BadFrame
from ..protocol import alpaca as wire
from .timeouts import Timeouts

log = logging.getLogger(__name__)

#: Named waits (Timeouts.alpaca_*): each call, finding the server, one ImageBytes download,
#: and ImageReady / IsPulseGuiding beyond the exposure or pulse.
_T = Timeouts()
#: How often ImageReady / IsPulseGuiding are polled once the end is near (each poll is one
#: small HTTP request; 20 ms keeps the added latency small without loading the scope).
POLL_PERIOD_S = 0.02


def alpyca_missing() -> bool:
    """True when the alpyca package is not installed (the Debian package goes without it)."""
    try:
        importlib.import_module("alpaca.camera")
    except ImportError:
        return True
    return False


@dataclass(frozen=True, slots=True)
class AlpacaFrame:
    """One exposure from the Alpaca Camera: (rows, columns) pixels of the region asked."""

    pixels: np.ndarray
    start_monotonic_s: float  # our clock when the exposure began (mid-request)
    ready_monotonic_s: float


async def discover(address: str, port: int,
                   timeout_s: float = _T.alpaca_probe_s) -> list[tuple[str, int]]:
    """Alpaca discovery: "alpacadiscovery1" to address:port (a LAN broadcast address, or the
    scope's own address; tests use 127.0.0.1) -> the (host, HTTP port) of each server that
    answered within `timeout_s` (the first answer ends the wait 50 ms later)."""
    loop = asyncio.get_running_loop()
    found: list[tuple[str, int]] = []
    first = loop.create_future()

    class _Proto(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            http_port = wire.parse_discovery_reply(data)
            if http_port is not None and (addr[0], http_port) not in found:
                found.append((addr[0], http_port))
                if not first.done():
                    first.set_result(None)

    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    transport, _ = await loop.create_datagram_endpoint(_Proto, family=family,
                                                       allow_broadcast=True)
    try:
        transport.sendto(wire.DISCOVERY_MESSAGE, (address, port))
        try:
            await asyncio.wait_for(first, timeout_s)
            await asyncio.sleep(0.05)  # other servers answering the same broadcast
        except TimeoutError:
            pass
    finally:
        transport.close()
    return found


class AlpacaLink:
    """alpyca devices on one ZWO Alpaca server; every method is a coroutine."""

    def __init__(self, address: str, version: str, device_types: set[str],
                 timeouts: Timeouts | None = None) -> None:
        self._t = timeouts or Timeouts()
        self.address = address
        self.version = version
        self.device_types = device_types
        self.quirks = wire.ImageBytesQuirks.for_version(version)
        self.gone: str | None = None
        cam_mod = importlib.import_module("alpaca.camera")
        tel_mod = importlib.import_module("alpaca.telescope")
        sw_mod = importlib.import_module("alpaca.switch")
        self._camera = cam_mod.Camera(address, 0) if "camera" in device_types else None
        self._telescope = tel_mod.Telescope(address, 0) if "telescope" in device_types else None
        self._switch = sw_mod.Switch(address, 0) if "switch" in device_types else None
        self._roi: tuple[int, int, int, int] | None = None
        self._gain: int | None = None
        self._lock = asyncio.Lock()
        self._aborts: set[asyncio.Task[None]] = set()
        self._left_running = False
        #: The last exposure's end -> ImageReady (our seconds): when to poll first next time.
        self._readout_s = 0.0
        self.can_pulse_guide = False
        self.exposures = 0

    @property
    def has_camera(self) -> bool:
        """Exposures can go through the Alpaca Camera."""
        return self._camera is not None and self.gone is None

    @property
    def has_pulse_guide(self) -> bool:
        """Telescope.PulseGuide is there (server 1.1.2-1 and later)."""
        return self._telescope is not None and self.can_pulse_guide and self.gone is None

    @property
    def has_switch(self) -> bool:
        """The dew heater Switch is there."""
        return self._switch is not None and self.gone is None

    # --- finding the server ---------------------------------------------------------------------

    @classmethod
    async def probe(cls, host: str, port: int, discovery_port: int | None = None,
                    timeouts: Timeouts | None = None) -> AlpacaLink:
        """The server at host:port (asking discovery on `discovery_port` for the port first when
        given); AlpacaUnavailable if none."""
        t = timeouts or Timeouts()
        if alpyca_missing():
            raise AlpacaUnavailable("the alpyca package is not installed")
        if discovery_port:
            answers = await discover(host, discovery_port, t.alpaca_probe_s)
            if not answers:
                raise AlpacaUnavailable(f"no Alpaca discovery answer from {host}:{discovery_port}")
            port = answers[0][1]
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        mgmt = importlib.import_module("alpaca.management")

        def ask() -> tuple[str, set[str]]:
            if wire.API_VERSION not in mgmt.apiversions(address):
                raise AlpacaUnavailable(f"{address} does not offer Alpaca API v1")
            desc = mgmt.description(address)
            types = {str(d["DeviceType"]).lower() for d in mgmt.configureddevices(address)
                     if int(d.get("DeviceNumber", 0)) == 0}
            return str(desc.get("ManufacturerVersion", "")), types

        version, types = await _call(ask, t.alpaca_probe_s, f"Alpaca server at {address}")
        link = cls(address, version, types, t)
        if link._telescope is not None:
            try:
                link.can_pulse_guide = bool(await link._run(lambda: link._telescope.CanPulseGuide))
            except AlpacaCallFailed:
                link.can_pulse_guide = False
        for dev in (link._camera, link._telescope, link._switch):
            if dev is not None:
                await link._run(lambda d=dev: setattr(d, "Connected", True))
        log.info("ZWO Alpaca server %s at %s: %s", version, address, ", ".join(sorted(types)))
        return link

    # --- calls ------------------------------------------------------------------------------------

    async def _run(self, fn: Any, timeout_s: float | None = None) -> Any:
        if self.gone is not None:
            raise AlpacaUnavailable(self.gone)
        try:
            return await _call(fn, timeout_s or self._t.alpaca_call_s,
                               f"Alpaca server at {self.address}")
        except AlpacaUnavailable as exc:
            self.gone = str(exc)
            raise

    async def expose(self, exposure_s: float, light: bool, roi: tuple[int, int, int, int],
                     gain: int, time_factor: float = 1.0) -> AlpacaFrame:
        """One exposure of the region roi = (x, y, width, height); AlpacaCallFailed/Unavailable."""
        cam = self._camera
        if cam is None:
            raise AlpacaUnavailable("the Alpaca server has no Camera")
        try:
            return await self._expose(cam, exposure_s, light, roi, gain, time_factor)
        except asyncio.CancelledError:  # CCD_ABORT_EXPOSURE or a new request: stop it there too
            self._left_running = True  # the next exposure or this abort, whichever runs first
            task = asyncio.ensure_future(self._abort_left())
            self._aborts.add(task)
            task.add_done_callback(self._aborts.discard)
            raise

    async def _abort_left(self) -> None:
        async with self._lock:
            await self._abort_if_left()

    async def _abort_if_left(self) -> None:
        """AbortExposure if a cancelled exposure was left running (call with the lock held)."""
        if self._left_running and self._camera is not None and self.gone is None:
            self._left_running = False
            try:
                await self._run(self._camera.AbortExposure)
            except (AlpacaCallFailed, AlpacaUnavailable) as exc:
                log.debug("AbortExposure: %s", exc)

    async def _expose(self, cam: Any, exposure_s: float, light: bool,
                      roi: tuple[int, int, int, int], gain: int, time_factor: float) -> AlpacaFrame:
        async with self._lock:
            await self._abort_if_left()
            if self._roi != roi:
                def set_roi() -> None:
                    cam.NumX, cam.NumY = roi[2], roi[3]
                    cam.StartX, cam.StartY = roi[0], roi[1]
                await self._run(set_roi)
                self._roi = roi
            if self._gain != gain:
                await self._run(lambda: setattr(cam, "Gain", gain))
                self._gain = gain
            t_ask = time.monotonic()
            try:
                await self._run(lambda: cam.StartExposure(exposure_s, light))
            except AlpacaCallFailed as exc:
                if exc.number != wire.AlpacaError.INVALID_STATE:
                    raise
                # an exposure of ours still runs there (its abort raced the start): once more
                self._left_running = True
                await self._abort_if_left()
                t_ask = time.monotonic()
                await self._run(lambda: cam.StartExposure(exposure_s, light))
            start = 0.5 * (t_ask + time.monotonic())
            end = start + exposure_s / time_factor
            margin_s = self._t.alpaca_ready_margin_s
            deadline = end + margin_s
            # first poll when the last readout says the image should be there: one or two
            # polls per frame instead of one every POLL_PERIOD_S through the readout
            first = end + 0.8 * self._readout_s
            while True:
                wait = first - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if await self._run(lambda: cam.ImageReady):
                    break
                if time.monotonic() > deadline:
                    raise AlpacaCallFailed("ImageReady", 0, f"no image {margin_s:g} s "
                                                            "after the exposure ended")
                first = time.monotonic() + POLL_PERIOD_S
            ready = time.monotonic()
            # smoothed, and at most 1 s, so one slow readout does not delay the next frames
            self._readout_s = min(1.0, 0.5 * self._readout_s + 0.5 * max(0.0, ready - end))
            image_s = self._t.alpaca_image_s
            body = await self._run(lambda: _download(cam, image_s), image_s)
            self.exposures += 1
        pixels = wire.decode_imagebytes(body, self.quirks, expected_xy=(roi[2], roi[3]))
        return AlpacaFrame(pixels, start, ready)

    async def pulse_guide(self, direction: wire.GuideDirection, duration_ms: int,
                          time_factor: float = 1.0) -> None:
        """PulseGuide, returning once IsPulseGuiding is false again (libindi #2430 polls it)."""
        tel = self._telescope
        if tel is None:
            raise AlpacaUnavailable("the Alpaca server has no Telescope")
        t0 = time.monotonic()
        guide = importlib.import_module("alpaca.telescope").GuideDirections(int(direction))
        await self._run(lambda: tel.PulseGuide(guide, int(duration_ms)))
        end = t0 + duration_ms / 1000.0 / time_factor
        deadline = end + self._t.alpaca_ready_margin_s
        while True:
            wait = end - time.monotonic()
            if wait > POLL_PERIOD_S:
                await asyncio.sleep(wait - POLL_PERIOD_S / 2)
            if not await self._run(lambda: tel.IsPulseGuiding):
                return
            if time.monotonic() > deadline:
                raise AlpacaCallFailed("IsPulseGuiding", 0, "the pulse never ended")
            await asyncio.sleep(POLL_PERIOD_S)

    async def set_guide_rates(self, ra_deg_s: float, dec_deg_s: float) -> None:
        """GuideRateRightAscension / GuideRateDeclination (deg/s)."""
        tel = self._telescope
        if tel is None:
            raise AlpacaUnavailable("the Alpaca server has no Telescope")

        def put() -> None:
            tel.GuideRateRightAscension = ra_deg_s
            tel.GuideRateDeclination = dec_deg_s
        await self._run(put)

    async def set_dew_heater(self, power_percent: int) -> None:
        """The dew heater Switch (id 0) to 0..100 %."""
        sw = self._switch
        if sw is None:
            raise AlpacaUnavailable("the Alpaca server has no Switch")
        await self._run(lambda: sw.SetSwitchValue(0, float(power_percent)))

    async def dew_heater(self) -> float:
        """The dew heater's power (%)."""
        sw = self._switch
        if sw is None:
            raise AlpacaUnavailable("the Alpaca server has no Switch")
        return float(await self._run(lambda: sw.GetSwitchValue(0)))


def _download(cam: Any, timeout_s: float) -> bytes | bytearray:
    """GET imagearray as ImageBytes through alpyca's own HTTP session (its ImageArray builds
    Python lists of 2 M ints, and cannot know the firmware's header mistakes), read straight
    into one buffer: 2-4 ms of CPU for an S50 frame where `.content` took 10-14 ms."""
    resp = cam.rqs.get(f"{cam.base_url}/imagearray",
                       params={"ClientID": "1", "ClientTransactionID": "1"},
                       headers={"Accept": wire.IMAGEBYTES_MIME}, timeout=timeout_s,
                       stream=True)
    try:
        if resp.status_code != 200:
            raise AlpacaCallFailed("ImageArray", resp.status_code, resp.text[:200])
        if wire.IMAGEBYTES_MIME not in resp.headers.get("content-type", ""):
            body = resp.json()
            if body.get("ErrorNumber"):
                raise AlpacaCallFailed("ImageArray", body["ErrorNumber"],
                                       body.get("ErrorMessage", ""))
            raise BadFrame("the Alpaca Camera sent no ImageBytes")
        length = resp.headers.get("content-length")
        if length is None or resp.headers.get("content-encoding"):
            return resp.content
        buf = bytearray(int(length))
        view, got = memoryview(buf), 0
        while got < len(buf):
            n = resp.raw.readinto(view[got:])
            if not n:
                raise BadFrame(f"ImageBytes cut short at {got} of {len(buf)} bytes")
            got += n
        return buf
    finally:
        resp.close()


async def _call(fn: Any, timeout_s: float, what: str) -> Any:
    """Run a blocking alpyca call in a thread: Alpaca errors typed, transport errors as gone."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(_typed, fn, what), timeout_s)
    except TimeoutError:
        raise AlpacaUnavailable(f"{what} did not answer within {timeout_s:g} s") from None


def _typed(fn: Any, what: str) -> Any:
    try:
        return fn()
    except (AlpacaCallFailed, AlpacaUnavailable, BadFrame):
        raise
    except (OSError, ValueError) as exc:  # requests' ConnectionError/Timeout are OSErrors
        raise AlpacaUnavailable(f"{what}: {type(exc).__name__}: {exc}"[:300]) from None
    except Exception as exc:  # alpyca's ASCOM exceptions (alpaca.exceptions) carry the number
        if type(exc).__module__ != "alpaca.exceptions":
            raise
        number = int(getattr(exc, "number", 0) or 0)
        raise AlpacaCallFailed(what, number, str(getattr(exc, "message", exc))) from None
