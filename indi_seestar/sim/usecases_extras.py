"""Focuser, filter wheel, plate solve, autofocus, dark library and PiStatus of the fake Seestar.

Layer: sim. Event shapes follow seestar-protocol.md §3.2 and the S30 7.06 recording (PlateSolve,
WheelMove); AutoFocus result points are [position, star size] pairs as the app plots them.
"""

from __future__ import annotations

import asyncio
import math

import numpy as np

from ..protocol.codes import ErrorCode
from ..protocol.events import EventName
from . import power
from .core import SimCommandError, SimCore, lapse_ms
from .motors import WHEEL_MOVE_S
from .plate_solve import solve_now
from .render import psf_sigma_px

FOCUSER_EVENT_PERIOD_S = 0.2
#: The focuser refuses targets outside 0..max_step; the real code is not recorded, we use
#: 207 "fail to operate" [unverified].
FOCUS_RANGE_ERROR = ErrorCode.FAIL_TO_OPERATE
DARK_LIBRARY_S = 60.0
AF_STEPS = 9
AF_SPAN_STEPS = 320
#: Sweeps shifted toward the falling side before giving up on finding the minimum.
AF_MAX_SWEEPS = 4
#: Relative scatter of a measured star size (seeing, few stars) [model].
AF_SIZE_NOISE = 0.03
AF_EXPOSURE_S = 1.0
PI_STATUS_PERIOD_S = 5.0
MIN_REAL_PI_STATUS_S = 1.0



class ExtrasOps:
    """Focuser, wheel, solve, autofocus, darks, PiStatus."""

    def __init__(self, core: SimCore, view_ops) -> None:  # type: ignore[no-untyped-def]
        self._core = core
        self._view = view_ops

    # --- focuser -----------------------------------------------------------------------------

    def move_focuser(self, target_steps: int) -> None:
        """move_focuser: absolute; FocuserMove working ... complete (also for a zero move)."""
        foc = self._core.state.focuser
        if not 0 <= target_steps <= foc.max_steps:
            raise SimCommandError.of(FOCUS_RANGE_ERROR)
        self._core.spawn("focuser", self.focus_to(target_steps))

    async def focus_to(self, target_steps: int) -> None:
        """Move the focuser and wait, with FocuserMove events."""
        core, foc = self._core, self._core.state.focuser
        t0 = core.clock.now_s()
        duration = foc.move_to(target_steps)
        try:
            while core.clock.now_s() - t0 + FOCUSER_EVENT_PERIOD_S < duration:
                core.bus.emit(EventName.FOCUSER_MOVE, state="working", position=foc.position_steps(),
                              lapse_ms=lapse_ms(core.clock.now_s() - t0), route=[])
                await core.clock.sleep(FOCUSER_EVENT_PERIOD_S)
            await core.clock.sleep_until(t0 + duration)
        finally:
            pos = foc.stop() if foc.is_moving() else foc.position_steps()
            core.state.settings["focal_pos"] = pos
            core.bus.emit(EventName.FOCUSER_MOVE, state="complete", position=pos,
                          lapse_ms=lapse_ms(core.clock.now_s() - t0), route=[])

    def stop_focuser(self) -> None:
        """stop_focuser: the running move ends where it is (complete event)."""
        self._core.cancel("focuser")

    # --- wheel -------------------------------------------------------------------------------

    def set_wheel(self, slot: int) -> None:
        """set_wheel_position: WheelMove start -> complete {position} after ~0.6 s."""
        if slot not in (0, 1, 2):
            raise SimCommandError.of(ErrorCode.UNEXPECTED_PARAM)
        self._core.spawn("wheel", self.wheel_to(slot))

    async def wheel_to(self, slot: int) -> None:
        """Move the wheel and wait, with WheelMove events."""
        core, wheel = self._core, self._core.state.wheel
        wheel.target = slot
        core.bus.emit(EventName.WHEEL_MOVE, state="start")
        try:
            await core.clock.sleep(WHEEL_MOVE_S)
            wheel.position = slot
        finally:
            wheel.target = None
        core.bus.emit(EventName.WHEEL_MOVE, state="complete", position=wheel.position)

    # --- plate solve -------------------------------------------------------------------------

    def start_solve(self) -> None:
        """start_solve: expose 1 s (or use the latest frame) and solve it."""
        self._core.spawn("solve", self._solve())

    async def _solve(self) -> None:
        spec = await self._view.exposure(1.0, ["View"], tag="Exposure-PlateSolve")
        await solve_now(self._core, spec, ["View"], tag="Exposure-PlateSolve")

    # --- autofocus ---------------------------------------------------------------------------

    def start_autofocus(self) -> None:
        """start_auto_focuse: sweep, fit, move to best; fail 279 without stars."""
        self._core.spawn("autofocus", self._autofocus())

    def stop_autofocus(self) -> None:
        """stop_auto_focuse."""
        if self._core.cancel("autofocus"):
            self._core.bus.emit(EventName.AUTO_FOCUS, state="cancel", route=["View"])

    async def _autofocus(self) -> None:
        core, st, bus = self._core, self._core.state, self._core.bus
        t0 = core.clock.now_s()
        bus.emit(EventName.AUTO_FOCUS, state="start", lapse_ms=0, route=["View"])
        if not self._sees_stars():
            await core.clock.sleep(AF_EXPOSURE_S * 2)
            bus.emit(EventName.AUTO_FOCUS, state="fail", lapse_ms=lapse_ms(core.clock.now_s() - t0),
                     error="no star is detected", code=int(ErrorCode.NO_STAR_DETECTED), route=["View"])
            return
        points: list[list[float]] = []
        centre = st.focuser.position_steps()
        rng = np.random.default_rng([st.next_image_id(), 4242])
        for _sweep in range(AF_MAX_SWEEPS):
            sweep: list[list[float]] = []
            for i in range(AF_STEPS):
                pos = centre - AF_SPAN_STEPS // 2 + i * AF_SPAN_STEPS // (AF_STEPS - 1)
                pos = int(max(0, min(st.focuser.max_steps, pos)))
                await self.focus_to(pos)
                await core.clock.sleep(AF_EXPOSURE_S)
                size = round(2.355 * psf_sigma_px(pos, st.best_focus_steps) * (1 + rng.normal(0, AF_SIZE_NOISE)), 3)
                sweep.append([pos, size])
                points.append([pos, size])
                bus.emit(EventName.AUTO_FOCUS, state="working", lapse_ms=lapse_ms(core.clock.now_s() - t0),
                         result={"x_scale": 1.0, "y_scale": 1.0, "points": list(points), "status_flag": 0},
                         route=["View"])
            sizes = [p[1] for p in sweep]
            low = int(np.argmin(sizes))
            if 0 < low < AF_STEPS - 1:  # the minimum is inside the sweep: fit it
                break
            # the curve still falls at an edge: sweep again further that way
            centre = int(sweep[low][0]) + (AF_SPAN_STEPS // 2 if low else -AF_SPAN_STEPS // 2)
        xs = np.array([p[0] for p in sweep], dtype=float)
        ys = np.array([p[1] for p in sweep], dtype=float)
        a, b, _c = np.polyfit(xs, ys ** 2, 2)
        best = int(round(-b / (2 * a))) if a > 0 else int(xs[int(np.argmin(ys))])
        best = max(int(xs.min()), min(int(xs.max()), best))
        await self.focus_to(best)
        bus.emit(EventName.AUTO_FOCUS, state="complete", lapse_ms=lapse_ms(core.clock.now_s() - t0),
                 result={"last_point": [best, round(2.355 * psf_sigma_px(best, st.best_focus_steps), 3)]},
                 route=["View"])

    def _sees_stars(self) -> bool:
        """Stars in the view: wheel open, arm up and the scope above the horizon."""
        st = self._core.state
        if st.wheel.position == 0 or st.mount.state().parked:
            return False
        alt, _az = st.mount.altaz()
        return alt > 0.0

    # --- dark library ------------------------------------------------------------------------

    def start_dark(self) -> None:
        """start_create_dark: wheel to Dark, percent 0..100, wheel back, ~60 s."""
        self._core.spawn("dark", self._dark())

    def stop_dark(self) -> None:
        """stop_create_dark."""
        self._core.cancel("dark")

    async def _dark(self) -> None:
        core, st, bus = self._core, self._core.state, self._core.bus
        back = st.wheel.position if st.wheel.position != 0 else 1
        route = ["View"]
        bus.emit(EventName.DARK_LIBRARY, state="working", percent=0, route=route)
        try:
            await self.wheel_to(0)
            for pct in range(10, 101, 10):
                await core.clock.sleep(DARK_LIBRARY_S / 10)
                bus.emit(EventName.DARK_LIBRARY, state="working", percent=pct, route=route)
        except asyncio.CancelledError:
            bus.emit(EventName.DARK_LIBRARY, state="cancel", route=route)
            core.spawn_loose(self.wheel_to(back))
            raise
        await self.wheel_to(back)
        bus.emit(EventName.DARK_LIBRARY, state="complete", percent=100, route=route)

    # --- PiStatus ----------------------------------------------------------------------------

    async def pi_status_loop(self) -> None:
        """PiStatus about every 5 scope seconds (at least 1 real second apart): the board
        temperature each time, the battery fields when the charge's whole percent changed."""
        core, st = self._core, self._core.state
        k = 0
        last_s = core.clock.now_s()
        while True:
            await asyncio.sleep(max(core.clock.real_s(PI_STATUS_PERIOD_S), MIN_REAL_PI_STATUS_S))
            k += 1
            now_s = core.clock.now_s()
            changed = power.advance_battery(st, now_s - last_s)
            last_s = now_s
            st.board_temp_c = round(45.0 + 2.0 * math.sin(k / 7.0) + (3.0 if st.heater_value else 0.0), 6)
            fields = power.battery_fields(st) if changed else {}
            core.bus.emit(EventName.PI_STATUS, temp=st.board_temp_c, **fields)
