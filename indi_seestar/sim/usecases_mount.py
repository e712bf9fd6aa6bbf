"""Mount use cases of the fake Seestar: gotos, park/unpark, tracking, speed moves, with their events.

Layer: sim. Event shapes and order follow the S30 7.06 recording and seestar-protocol.md §3.4:
ScopeTrack off -> ScopeGoto working (cur_ra_dec, dist_deg, lapse_ms, route) every ~0.3 s ->
ScopeTrack on -> ScopeGoto complete.
"""

from __future__ import annotations

import asyncio

from ..protocol.codes import ErrorCode
from ..protocol.events import EventName
from . import sky
from .core import SimCommandError, SimCore, lapse_ms
from .mount import STEPS_PER_DEG

GOTO_EVENT_PERIOD_S = 0.3
PARK_S = 4.0
MOVE_TO_HORIZON_S = 4.0
#: New-form speed moves {angle, level, dur_sec, percent}: level picks a top rate (old-form
#: steps/s, 240 = 1 deg/s), percent scales it. The real gear table is not documented; this one
#: spans ~1x sidereal to 6 deg/s [unverified].
LEVEL_TOP_STEPS_S = {1: 1.0, 2: 2.0, 3: 4.0, 4: 8.0, 5: 30.0, 6: 120.0, 7: 240.0, 8: 720.0, 9: 1440.0}
#: The mount refuses to move while the arm is folded; the real code is not recorded: we use
#: 207 "fail to operate" for gotos/moves and 502 "mount sync failed" for tracking (§7.3) [unverified].
PARKED_ERROR = ErrorCode.FAIL_TO_OPERATE
MIN_GOTO_ALT_DEG = 0.0



class MountOps:
    """Everything that moves the mount."""

    def __init__(self, core: SimCore) -> None:
        self._core = core
        self._slew_done: asyncio.Event = asyncio.Event()
        self._slew_done.set()

    @property
    def _mount(self):  # type: ignore[no-untyped-def]
        return self._core.state.mount

    def _emit_track(self, on: bool) -> None:
        self._core.bus.emit(EventName.SCOPE_TRACK, state="on" if on else "off", tracking=on, manual=False,
                            route=[])

    # --- goto --------------------------------------------------------------------------------

    def check_goto(self, ra_hours: float, dec_deg: float) -> None:
        """Raise the firmware's error if (ra, dec) cannot be slewed to now."""
        if self._mount.state().parked:
            raise SimCommandError.of(PARKED_ERROR)
        if not (-90.0 <= dec_deg <= 90.0):
            raise SimCommandError.of(ErrorCode.UNEXPECTED_PARAM)
        alt, _az = self._mount.altaz_of(*self._mount.true_target(ra_hours, dec_deg))
        if alt < MIN_GOTO_ALT_DEG:
            raise SimCommandError.of(ErrorCode.BELOW_HORIZON)

    def goto(self, ra_hours: float, dec_deg: float, route: list[str] | None = None) -> None:
        """scope_goto: check, then slew in the background (reported coordinates)."""
        self.check_goto(ra_hours, dec_deg)
        self._core.spawn("slew", self.slew(ra_hours, dec_deg, route or []))

    async def slew(self, ra_hours: float, dec_deg: float, route: list[str]) -> bool:
        """Slew to the reported (ra, dec) emitting ScopeTrack/ScopeGoto; True when it arrived."""
        core, mount = self._core, self._mount
        ra_hours = sky.wrap_hours(ra_hours)
        slew = mount.goto(*mount.true_target(ra_hours, dec_deg))
        self._slew_done.clear()
        t0 = slew.t0_s

        def progress() -> dict[str, object]:
            ra, dec = mount.reported_radec()
            return {"cur_ra_dec": [round(ra, 6), round(dec, 6)],
                    "dist_deg": round(sky.separation_deg(ra, dec, ra_hours, dec_deg), 6)}

        try:
            core.bus.emit(EventName.SCOPE_GOTO, state="working", lapse_ms=0, **progress(), route=route)
            self._emit_track(False)
            while core.clock.now_s() + GOTO_EVENT_PERIOD_S < slew.t_end_s:
                await core.clock.sleep(GOTO_EVENT_PERIOD_S)
                core.bus.emit(EventName.SCOPE_GOTO, state="working", lapse_ms=lapse_ms(core.clock.now_s() - t0),
                              **progress(), route=route)
            await core.clock.sleep_until(slew.t_end_s)
            self._emit_track(True)
            core.bus.emit(EventName.SCOPE_GOTO, state="complete", lapse_ms=lapse_ms(core.clock.now_s() - t0),
                          **progress(), route=route)
            return True
        except asyncio.CancelledError:
            if mount.move_type() != "none":
                mount.stop()
            core.bus.emit(EventName.SCOPE_GOTO, state="cancel", lapse_ms=lapse_ms(core.clock.now_s() - t0),
                          **progress(), route=route)
            raise
        finally:
            self._slew_done.set()

    def abort(self) -> None:
        """scope_move ["none"] / stop ScopeGoto: stop a slew or a speed move where it is."""
        if not self._core.cancel("slew"):
            self._mount.stop()

    # --- park / unpark / mode ----------------------------------------------------------------

    def park(self, equ_mode: bool | None = None) -> None:
        """scope_park: fold the arm (optionally switching EQ/alt-az mode)."""
        self._core.cancel("slew")
        self._core.spawn("park", self._park(equ_mode))

    async def _park(self, equ_mode: bool | None) -> None:
        core, mount = self._core, self._mount
        before = mount.state()
        mode = before.equ_mode if equ_mode is None else bool(equ_mode)
        mount.stop()
        if before.tracking:
            mount.set_tracking(False)
            self._emit_track(False)
        t0 = core.clock.now_s()
        core.bus.emit(EventName.SCOPE_HOME, state="working", lapse_ms=0, close=before.parked, equ_mode=mode,
                      route=[])
        await core.clock.sleep(PARK_S)
        mount.set_parked(True, mode)
        if mode != before.equ_mode:
            core.bus.emit(EventName.MOUNT_MODE, equ_mode=mode)
        core.bus.emit(EventName.SCOPE_HOME, state="complete", lapse_ms=lapse_ms(core.clock.now_s() - t0), close=True,
                      equ_mode=mode, route=[])

    def unpark(self) -> None:
        """scope_move_to_horizon: open the arm."""
        self._core.cancel("park")
        self._core.spawn("unpark", self.open_arm())

    async def open_arm(self) -> None:
        """Open the arm to the horizon, with ScopeMoveToHorizon events (also used by AutoGoto)."""
        core, mount = self._core, self._mount
        t0 = core.clock.now_s()
        core.bus.emit(EventName.SCOPE_MOVE_TO_HORIZON, state="working", lapse_ms=0,
                      close=mount.state().parked, route=[])
        await core.clock.sleep(MOVE_TO_HORIZON_S)
        mount.set_parked(False)
        core.bus.emit(EventName.SCOPE_MOVE_TO_HORIZON, state="complete", lapse_ms=lapse_ms(core.clock.now_s() - t0),
                      close=False, route=[])

    # --- tracking and manual motion ----------------------------------------------------------

    def set_tracking(self, on: bool) -> None:
        """scope_set_track_state."""
        if on and self._mount.state().parked:
            raise SimCommandError.of(ErrorCode.MOUNT_SYNC_FAILED)
        if self._mount.state().tracking != on:
            self._mount.set_tracking(on)
        self._emit_track(on)

    def sync(self, ra_hours: float, dec_deg: float) -> None:
        """scope_sync: the mount now reports (ra, dec) where it points."""
        if self._mount.state().parked:
            raise SimCommandError.of(PARKED_ERROR)
        self._mount.sync(sky.wrap_hours(ra_hours), dec_deg)

    def speed_move(self, rate_deg_s: float, angle_deg: float, duration_s: float) -> None:
        """scope_speed_move: replace the running move; rate 0 stops. No events [unverified]."""
        if rate_deg_s > 0 and self._mount.state().parked:
            raise SimCommandError.of(PARKED_ERROR)
        self._core.cancel("slew")
        self._mount.speed_move(rate_deg_s, angle_deg, duration_s)

    @staticmethod
    def rate_from_params(params: dict[str, object]) -> float:
        """Axis deg/s of either speed-move form: {speed} (steps/s) or {level, percent}."""
        if "percent" in params or "level" in params:
            level = int(params.get("level", 1))  # type: ignore[call-overload]
            percent = float(params.get("percent", 100))  # type: ignore[arg-type]
            top = LEVEL_TOP_STEPS_S[max(1, min(9, level))]
            return max(0.0, top * min(100.0, percent) / 100.0) / STEPS_PER_DEG
        return max(0.0, float(params.get("speed", 0))) / STEPS_PER_DEG  # type: ignore[arg-type]

    async def wait_slew(self) -> None:
        """Wait until no slew runs."""
        await self._slew_done.wait()
