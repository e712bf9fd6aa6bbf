"""The scope's own autofocus on the focuser device: SEESTAR_AUTOFOCUS and its progress.

Layer: devices. A helper of the Focuser (gets it as a ServiceHost). START sends
`start_auto_focuse`; AutoFocus working events carry `result.points` ([position, star size]
pairs, the curve the app plots) and are shown as they come; complete carries
`result.last_point` (the final position); fail carries the firmware's reason (279 "no star is
detected"). The focuser's own position follows the FocuserMove events (focuser.py).
Refused while the scope stacks (the firmware would interrupt the stack).
"""

from __future__ import annotations

from typing import Any

from ..indi.model import State
from ..protocol.events import EventName
from ..protocol.rpc import Event
from . import props_services as props
from .service import Procedure, ProcedureHelper, ServiceHost

#: An autofocus sweeps ~9-30 points of ~1-2 s each; no event for this long means it died.
GUARD_S = 120.0


class Autofocus(ProcedureHelper):
    """SEESTAR_AUTOFOCUS, SEESTAR_AUTOFOCUS_STATUS, SEESTAR_AUTOFOCUS_CURVE."""

    def __init__(self, host: ServiceHost, add: Any) -> None:
        """`add` is the device's `add` (vectors are registered connected-only)."""
        self.host = host
        name = host.name
        self.switch = add(props.autofocus(name), connected_only=True, on_new=self._on_switch)
        self.status = add(props.autofocus_status(name), connected_only=True)
        self.curve = add(props.autofocus_curve(name), connected_only=True)
        self.proc = Procedure(host, self.switch, event=EventName.AUTO_FOCUS, label="autofocus",
                              start_member="AUTOFOCUS_START", stop_member="AUTOFOCUS_STOP",
                              guard_s=GUARD_S)
        self.proc.on_begin = self._clear
        self.proc.on_event = self._progress
        self.proc.on_end = self._ended

    def _on_switch(self, values: dict[str, bool]) -> None:
        client = self.host.client
        self.proc.on_switch(values, refuse=self._refusal, start=client.start_autofocus,
                            stop=client.stop_autofocus)

    def _refusal(self) -> str | None:
        if self.host.client.state.stacking:
            return "the scope is stacking; stop the stack before an autofocus"
        return None

    def _clear(self) -> None:
        for member in ("AF_POINTS", "AF_POSITION", "AF_STAR_SIZE", "AF_BEST_POSITION"):
            self.status[member] = 0
        self.curve["CURVE"] = ""
        self.host.publish(self.status, state=State.BUSY)
        self.host.publish(self.curve, state=State.BUSY)

    def _progress(self, event: Event) -> None:
        result = event.get("result")
        if not isinstance(result, dict):
            return
        points = [p for p in result.get("points") or [] if _point(p) is not None]
        if points:
            last = _point(points[-1])
            assert last is not None
            self.status["AF_POINTS"] = len(points)
            self.status["AF_POSITION"], self.status["AF_STAR_SIZE"] = last
            self.curve["CURVE"] = " ".join(f"{p[0]:.0f}:{p[1]:.2f}" for p in map(_point, points) if p)
            self.host.publish(self.status, state=State.BUSY)
            self.host.publish(self.curve, state=State.BUSY)
        final = _point(result.get("last_point"))
        if final is not None:
            self.status["AF_BEST_POSITION"] = final[0]

    def _ended(self, state: State) -> None:
        self.host.publish(self.status, state=state)
        self.host.publish(self.curve, state=State.OK if state is State.OK else State.IDLE)
        if state is State.OK:
            self.host.message(f"autofocus done at {self.status['AF_BEST_POSITION']:.0f} steps")


def _point(value: Any) -> tuple[float, float] | None:
    """A [position, size] pair of numbers, or None."""
    if (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        return float(value[0]), float(value[1])
    return None
