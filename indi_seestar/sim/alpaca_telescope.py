"""The fake Alpaca server's Telescope: ZWO's, with PulseGuide moving the shared mount.

Layer: sim. Equatorial slews and sync only (tracking must be on, else 1279), park/unpark,
tracking, guide rates; PulseGuide from server 1.1.2-1 (1024 before), refused with 1279 when
parked, not tracking or slewing. A pulse moves the fake's mount (the one the private protocol
reports) at the guide rate on top of tracking, from the call to exactly its end on the fake's
clock; RA and Dec pulses overlap; a new pulse on an axis replaces the running one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..protocol.alpaca import PULSE_GUIDE_FROM, GuideDirection, parse_version
from .alpaca_devices import (FakeAlpacaDevice, invalid_state, invalid_value, need_bool,
                             need_float, need_int, not_implemented)
from .core import SimCore
from .usecases_mount import MountOps

#: Sidereal rate (arcsec/s); ZWO's web UI sets the guide rate, 0.5x sidereal by default [U].
SIDEREAL_ARCSEC_S = 15.041
DEFAULT_GUIDE_RATE_DEG_S = 0.5 * SIDEREAL_ARCSEC_S / 3600.0


class FakeTelescope(FakeAlpacaDevice):
    """Equatorial slews/sync, park/unpark, tracking, PulseGuide (from 1.1.2-1); alt-az mount."""

    device_type, name = "telescope", "Seestar Telescope"

    def __init__(self, core: SimCore, version: Callable[[], str], mount_ops: MountOps) -> None:
        super().__init__(core, version)
        self._ops = mount_ops
        self.guide_rate_deg_s = [DEFAULT_GUIDE_RATE_DEG_S, DEFAULT_GUIDE_RATE_DEG_S]
        #: Guide pulses under way per axis (0 = RA, 1 = Dec): (rate arcsec/s, task).
        self._pulses: dict[int, tuple[float, asyncio.Task[None]]] = {}
        m = core.state.mount
        self.gets.update({
            "rightascension": lambda: m.reported_radec()[0],
            "declination": lambda: m.reported_radec()[1],
            "altitude": lambda: m.altaz()[0], "azimuth": lambda: m.altaz()[1],
            "tracking": lambda: m.state().tracking, "atpark": lambda: m.state().parked,
            "athome": lambda: False, "slewing": lambda: self._core.running("slew"),
            "alignmentmode": lambda: 0, "equatorialsystem": lambda: 1,
            "canpulseguide": self._can_pulse, "ispulseguiding": lambda: bool(self._pulses),
            "guideraterightascension": lambda: self.guide_rate_deg_s[0],
            "guideratedeclination": lambda: self.guide_rate_deg_s[1],
            "canpark": lambda: True, "canunpark": lambda: True, "cansetpark": lambda: False,
            "canslew": lambda: True, "canslewasync": lambda: True, "cansync": lambda: True,
            "canslewaltaz": lambda: False, "canslewaltazasync": lambda: False,
            "cansyncaltaz": lambda: False, "cansettracking": lambda: True,
            "cansetguiderates": lambda: True, "trackingrate": lambda: 0,
            "trackingrates": lambda: [0], "sitelatitude": lambda: m.state().lat_deg,
            "sitelongitude": lambda: m.state().lon_deg,
        })
        self.puts.update({
            "tracking": self._put_tracking, "park": lambda p: self._ops.park(),
            "unpark": lambda p: self._ops.unpark(), "pulseguide": self._pulse_guide,
            "guideraterightascension": lambda p: self._set_rate(0, p, "GuideRateRightAscension"),
            "guideratedeclination": lambda p: self._set_rate(1, p, "GuideRateDeclination"),
            "slewtocoordinatesasync": self._slew, "synctocoordinates": self._sync,
            "abortslew": lambda p: self._ops.abort(),
        })

    def _can_pulse(self) -> bool:
        v = parse_version(self._version())
        return not v or v >= PULSE_GUIDE_FROM

    def _put_tracking(self, params: dict[str, str]) -> None:
        on = need_bool(params, "Tracking")
        if on and self._core.state.mount.state().parked:
            raise invalid_state("the mount is parked")
        self._ops.set_tracking(on)

    def _set_rate(self, axis: int, params: dict[str, str], name: str) -> None:
        rate = need_float(params, name)
        if not 0.0 < rate <= 4 * SIDEREAL_ARCSEC_S / 3600.0:
            raise invalid_value(f"{name} {rate}")
        self.guide_rate_deg_s[axis] = rate

    def _radec(self, params: dict[str, str]) -> tuple[float, float]:
        ra, dec = need_float(params, "RightAscension"), need_float(params, "Declination")
        if not (0.0 <= ra < 24.0 and -90.0 <= dec <= 90.0):
            raise invalid_value(f"RA {ra} Dec {dec}")
        return ra, dec

    def _slew(self, params: dict[str, str]) -> None:
        ra, dec = self._radec(params)
        st = self._core.state.mount.state()
        if st.parked or not st.tracking:  # GOTO_ERROR_1279_FIX: tracking must be on
            raise invalid_state("the mount is parked or not tracking")
        self._ops.goto(ra, dec)

    def _sync(self, params: dict[str, str]) -> None:
        ra, dec = self._radec(params)
        st = self._core.state.mount.state()
        if st.parked or not st.tracking:
            raise invalid_state("the mount is parked or not tracking")
        self._ops.sync(ra, dec)

    def _pulse_guide(self, params: dict[str, str]) -> None:
        if not self._can_pulse():
            raise not_implemented("PulseGuide")
        direction, duration_ms = need_int(params, "Direction"), need_int(params, "Duration")
        if direction not in tuple(GuideDirection) or not 0 <= duration_ms <= 10_000:
            raise invalid_value(f"Direction {direction} Duration {duration_ms}")
        st = self._core.state.mount.state()
        if st.parked or not st.tracking or self._core.running("slew"):
            raise invalid_state("PulseGuide needs the mount tracking (not parked or slewing)")
        d = GuideDirection(direction)
        axis = 0 if d in (GuideDirection.EAST, GuideDirection.WEST) else 1
        sign = 1.0 if d in (GuideDirection.EAST, GuideDirection.NORTH) else -1.0
        rate = sign * self.guide_rate_deg_s[axis] * 3600.0
        old = self._pulses.pop(axis, None)
        t0 = self._core.clock.now_s()
        if old is not None:
            old[1].cancel()
        self._apply(t0)
        task = self._core.spawn_loose(self._pulse_end(axis, t0 + duration_ms / 1000.0))
        self._pulses[axis] = (rate, task)
        self._apply(t0)
        if self._core.trace is not None:
            self._core.trace.record("alpaca_pulse", direction=d.name, duration_ms=duration_ms)

    def _apply(self, t_s: float) -> None:
        rates = [0.0, 0.0]
        for axis, (rate, _task) in self._pulses.items():
            rates[axis] = rate
        self._core.state.mount.guide(rates[0], rates[1], t_s)

    async def _pulse_end(self, axis: int, t_end_s: float) -> None:
        await self._core.clock.sleep_until(t_end_s)
        entry = self._pulses.get(axis)
        if entry is not None and entry[1] is asyncio.current_task():
            del self._pulses[axis]
            self._apply(t_end_s)  # exact end: the history from t_end on is re-anchored
