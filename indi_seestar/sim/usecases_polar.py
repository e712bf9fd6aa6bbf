"""3-point polar alignment of the fake Seestar (EQ mode): steps, then the error, refreshed.

Layer: sim. Shapes follow seestar-protocol.md §3.2 / §8.7: 3PPA events step through start,
move1, delay1, move2, delay2 with `percent`, then `working` events carry `offset` [az, alt]
(degrees) every PA_REFRESH_S while the user turns the wedge's knobs (auto_update), `paused`
while paused; stop ends with 3PPA cancel and EqModePA complete {x, y, total} (degrees).
The order and pace are a model [unverified: no recorded 3PPA session]. The error is the
wedge misalignment the fake is given (`SimState.polar_error_arcmin`, [alt, az]; the knob:
`FakeSeestar.turn_polar_knobs`), measured with POLAR_NOISE_ARCMIN of noise. The arm is not
really moved between the three points [simplification].
"""

from __future__ import annotations

import math

import numpy as np

from ..protocol.codes import ErrorCode
from ..protocol.events import EventName
from .core import SimCommandError, SimCore

PA_TASK = "polar_align"
PA_MOVE_S = 6.0
PA_DELAY_S = 2.0
PA_SOLVE_S = 3.0
PA_REFRESH_S = 2.0
POLAR_NOISE_ARCMIN = 0.2
ARM_POSITIONS = range(1, 6)


class PolarAlign:
    """start_polar_align / pause_polar_align / stop_polar_align."""

    def __init__(self, core: SimCore) -> None:
        self._core = core
        self.paused = False
        self._rng = np.random.default_rng(7)

    def start(self, params: dict) -> None:  # type: ignore[type-arg]
        """Refused (207) in alt-az mode or parked; `restart` false resumes a paused one."""
        st = self._core.state
        mount = st.mount.state()
        if not mount.equ_mode or mount.parked:
            raise SimCommandError.of(ErrorCode.FAIL_TO_OPERATE)
        index = params.get("dec_pos_index", 3)
        if isinstance(index, bool) or index not in ARM_POSITIONS:
            raise SimCommandError.of(ErrorCode.UNEXPECTED_PARAM)
        if params.get("restart") is False and self._core.running(PA_TASK):
            self.paused = False
            return
        self.paused = False
        self._core.spawn(PA_TASK, self._run(int(index)))

    def pause(self) -> None:
        """The refresh stops until start_polar_align {restart: false}."""
        if self._core.running(PA_TASK):
            self.paused = True

    def stop(self) -> None:
        """End it: 3PPA cancel, EqModePA complete with the last error."""
        self._core.cancel(PA_TASK)

    def _measure(self) -> tuple[float, float]:
        """(alt, az) error in degrees as the scope measures it now."""
        alt, az = self._core.state.polar_error_arcmin
        noise = self._rng.normal(0.0, POLAR_NOISE_ARCMIN, 2)
        return (alt + noise[0]) / 60.0, (az + noise[1]) / 60.0

    async def _run(self, index: int) -> None:
        core, bus = self._core, self._core.bus
        route = ["View", "3PPA"]
        bus.emit(EventName.EQ_MODE_PA, state="working", route=["View"])
        alt = az = 0.0
        try:
            for state, percent, seconds in (("start", 0, 0.0), ("move1", 10, PA_MOVE_S),
                                            ("delay1", 35, PA_DELAY_S), ("move2", 45, PA_MOVE_S),
                                            ("delay2", 70, PA_DELAY_S), ("working", 80, PA_SOLVE_S)):
                bus.emit(EventName.THREE_PPA, state=state, state_code=0, auto_move=True, auto_update=True,
                         paused=False, detail={"dec_pos_index": index}, retry_cnt=0, percent=percent,
                         route=route)
                await core.clock.sleep(seconds)
            while True:
                if not self.paused:
                    alt, az = self._measure()
                    bus.emit(EventName.THREE_PPA, state="working", state_code=0, auto_move=True,
                             auto_update=True, paused=False, percent=100,
                             offset=[round(az, 6), round(alt, 6)], equ_offset=[round(az, 6), round(alt, 6)],
                             route=route)
                else:
                    bus.emit(EventName.THREE_PPA, state="working", paused=True, percent=100, route=route)
                await core.clock.sleep(PA_REFRESH_S)
        finally:
            bus.emit(EventName.THREE_PPA, state="cancel", percent=100, route=route)
            bus.emit(EventName.EQ_MODE_PA, state="complete", x=round(az, 6), y=round(alt, 6),
                     total=round(math.hypot(alt, az), 6), route=["View"])
