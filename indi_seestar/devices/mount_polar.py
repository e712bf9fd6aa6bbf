"""The scope's own 3-point polar alignment on the mount device (EQ mode only).

Layer: devices. A helper of the Mount (gets it as a ServiceHost). PA_START sends
`start_polar_align {restart, dec_pos_index}` with the arm position of SEESTAR_POLAR_ARM;
3PPA events step through move1/delay1/move2/delay2 (`percent`, shown with the step), then
carry `offset` [az, alt] in degrees, refreshed while the user turns the wedge's knobs: shown
in arc-minutes in SEESTAR_POLAR_ERROR. EqModePA complete {x, y, total} ends it (after a stop),
fail (207) is an Alert. PA_PAUSE pauses the refresh; PA_START while paused resumes it
(restart false). Refused in alt-az mode, parked, slewing or stacking.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import IndiSeestarError, ValueRejected
from ..indi.model import State
from ..protocol.events import EventName, StageState
from ..protocol.rpc import Event
from . import props_services as props
from .service import Procedure, ProcedureHelper, ServiceHost, mount_busy

#: Each refresh is an exposure and a solve (~2-3 s); no event for this long means it died.
GUARD_S = 60.0
_RUNNING = (StageState.START, StageState.WORKING, StageState.MOVE1, StageState.DELAY1,
            StageState.MOVE2, StageState.DELAY2)


class PolarAlignment(ProcedureHelper):
    """SEESTAR_POLAR_ALIGN, SEESTAR_POLAR_ARM, SEESTAR_POLAR_PROGRESS/STEP/ERROR."""

    def __init__(self, host: ServiceHost, add: Any) -> None:
        """`add` is the device's `add` (vectors are registered connected-only)."""
        self.host = host
        name = host.name
        self.switch = add(props.polar_align(name), connected_only=True, on_new=self._on_switch)
        self.arm = add(props.polar_arm(name), connected_only=True)
        self.progress = add(props.polar_progress(name), connected_only=True)
        self.step = add(props.polar_step(name), connected_only=True)
        self.error = add(props.polar_error(name), connected_only=True)
        self.proc = Procedure(host, self.switch, event=(EventName.THREE_PPA, EventName.EQ_MODE_PA),
                              label="polar alignment", start_member="PA_START", stop_member="PA_STOP",
                              guard_s=GUARD_S, running_states=_RUNNING)
        self.proc.on_begin = self._begin
        self.proc.on_event = self._progress
        self.proc.on_end = self._ended
        self.paused = False

    def reset(self) -> None:
        """The session ended."""
        super().reset()
        self.paused = False

    def _on_switch(self, values: dict[str, bool]) -> None:
        client = self.host.client
        if values.get("PA_PAUSE"):
            self._pause()
            return
        if values.get("PA_START") and self.proc.running and self.paused:
            self.switch.reset()
            self.paused = False
            self.host.publish(self.switch, state=State.BUSY, message="[INFO] polar alignment resumed")
            self.host.spawn(self._send(client.start_polar_align(self._arm_index(), restart=False), "resume"))
            return
        index = self._arm_index()
        self.proc.on_switch(values, refuse=self._refusal,
                            start=lambda: client.start_polar_align(index, restart=True),
                            stop=client.stop_polar_align)

    def _pause(self) -> None:
        self.switch.reset()
        if not self.proc.running:
            raise ValueRejected(self.switch.name, "no polar alignment is running")
        self.paused = True
        self.host.publish(self.switch, state=State.BUSY,
                          message="[INFO] polar alignment paused; Start resumes it")
        self.host.spawn(self._send(self.host.client.pause_polar_align(), "pause"))

    async def _send(self, command: Any, what: str) -> None:
        try:
            await command
        except IndiSeestarError as exc:
            self.host.publish(self.switch, state=State.ALERT,
                              message=f"[ERROR] polar alignment {what} failed: {exc}")

    def _arm_index(self) -> int:
        on = self.arm.on_names()
        return int(on[0].split("_")[1]) if on else 3

    def _refusal(self) -> str | None:
        state = self.host.client.state
        if not state.equ_mode:
            return ("polar alignment needs EQ mode (the scope on a wedge); the scope is in "
                    "alt-az mode")
        return mount_busy(state, "polar alignment")

    def _begin(self) -> None:
        self.paused = False
        self.progress["PA_PERCENT"] = 0
        self.step["STEP"] = "start"
        for member in ("PA_ALT_ARCMIN", "PA_AZ_ARCMIN", "PA_TOTAL_ARCMIN"):
            self.error[member] = 0  # not the last run's error
        for vector in (self.progress, self.step, self.error):
            self.host.publish(vector, state=State.BUSY)

    def _progress(self, event: Event) -> None:
        percent = event.get("percent")
        if _number(percent):
            self.progress["PA_PERCENT"] = max(0.0, min(100.0, float(percent)))
            self.host.publish(self.progress, state=State.BUSY)
        if event.name == EventName.THREE_PPA and event.state:
            step = "measuring" if event.get("offset") is not None else str(event.state)
            if event.get("paused") is True:
                step = "paused"
            if step != self.step["STEP"]:
                self.step["STEP"] = step
                self.host.publish(self.step, state=State.BUSY)
        offset = event.get("offset")
        if isinstance(offset, list) and len(offset) == 2 and all(_number(v) for v in offset):
            self._show_error(alt_deg=float(offset[1]), az_deg=float(offset[0]))
        elif event.name == EventName.EQ_MODE_PA and _number(event.get("x")) and _number(event.get("y")):
            self._show_error(alt_deg=float(event.get("y")), az_deg=float(event.get("x")))

    def _show_error(self, *, alt_deg: float, az_deg: float) -> None:
        e = self.error
        e["PA_ALT_ARCMIN"], e["PA_AZ_ARCMIN"] = alt_deg * 60.0, az_deg * 60.0
        e["PA_TOTAL_ARCMIN"] = math.hypot(alt_deg, az_deg) * 60.0
        self.host.publish(e, state=State.BUSY)

    def _ended(self, state: State) -> None:
        self.paused = False
        self.step["STEP"] = "done" if state is State.OK else ("failed" if state is State.ALERT else "stopped")
        self.host.publish(self.step, state=state)
        self.host.publish(self.progress, state=state)
        self.host.publish(self.error, state=State.OK if self.error["PA_TOTAL_ARCMIN"] else state)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
