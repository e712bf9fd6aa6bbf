"""The scope's own plate solve on the mount device: SEESTAR_SOLVE and SEESTAR_SOLVE_RESULT.

Layer: devices. A helper of the Mount (gets it as a ServiceHost plus a callback that shows a
new pointing). SOLVE sends `start_solve` (the scope exposes and solves its current view);
PlateSolve events show Busy; `complete` carries `result` {ra_dec, fov, angle, star_number}
(else `get_solve_result` is asked); `fail` carries the firmware's reason (251 "solve failed").
SOLVE_SYNC then syncs the mount to the solved centre in the same step. The result's ra_dec is
taken as JNow, the frame of the scope's own coordinates and of `scope_sync` [unverified: no
recorded solve next to a known J2000 target]; J2000 is computed from it.
Solves inside a centred goto (route/tag AutoGoto) belong to the goto and are not shown here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .. import sky
from ..errors import OperationFailed
from ..indi.model import State
from ..protocol.events import EventName
from ..protocol.rpc import Event
from . import props_services as props
from .service import Procedure, ProcedureHelper, ServiceHost, mount_busy

#: Exposure plus solve take ~3-5 s on the scope; no word for this long means it died.
GUARD_S = 60.0


class PlateSolve(ProcedureHelper):
    """SEESTAR_SOLVE (SOLVE, SOLVE_SYNC, SOLVE_STOP) and SEESTAR_SOLVE_RESULT."""

    def __init__(self, host: ServiceHost, add: Any, show_pointing: Callable[[float, float], None]) -> None:
        """`add` is the device's `add`; `show_pointing(ra_h, dec_deg)` after a sync (JNow)."""
        self.host = host
        self._show_pointing = show_pointing
        self.switch = add(props.plate_solve(host.name), connected_only=True, on_new=self._on_switch)
        self.result = add(props.solve_result(host.name), connected_only=True)
        self.proc = Procedure(host, self.switch, event=EventName.PLATE_SOLVE, label="plate solve",
                              start_member="SOLVE", stop_member="SOLVE_STOP", guard_s=GUARD_S)
        self.proc.accept = _not_a_goto
        self.proc.on_begin = self._clear
        self.proc.on_event = self._collect
        self.proc.on_end = self._ended
        self.proc.after_complete = self._solved
        self._sync = False
        self._found: dict[str, Any] | None = None

    def _on_switch(self, values: dict[str, bool]) -> None:
        sync = bool(values.get("SOLVE_SYNC"))
        client = self.host.client

        async def start() -> None:
            self._sync = sync
            await client.start_solve()

        self.proc.on_switch({"SOLVE": bool(values.get("SOLVE")) or sync,
                             "SOLVE_STOP": bool(values.get("SOLVE_STOP"))},
                            refuse=self._refusal, start=start, stop=client.stop_solve)

    def _refusal(self) -> str | None:
        return mount_busy(self.host.client.state, "plate solve")

    def _clear(self) -> None:
        self._sync, self._found = False, None
        self.host.publish(self.result, state=State.BUSY)

    def _collect(self, event: Event) -> None:
        result = event.get("result")
        if isinstance(result, dict) and _radec(result.get("ra_dec")) is not None:
            self._found = result

    async def _solved(self) -> tuple[State, str | None]:
        client = self.host.client
        found = self._found if self._found is not None else await client.get_solve_result()
        centre = _radec((found or {}).get("ra_dec"))
        if found is None or centre is None:
            raise OperationFailed("plate solve", "the scope reported no solve result")
        ra, dec = centre
        self._show_result(ra, dec, found)
        if not self._sync:
            return State.OK, f"[INFO] solved: RA {ra:.5f} h, Dec {dec:.4f} deg (JNow)"
        await client.sync(ra, dec)
        self._show_pointing(ra, dec)
        return State.OK, f"[INFO] solved and synced the mount to RA {ra:.5f} h, Dec {dec:.4f} deg (JNow)"

    def _show_result(self, ra: float, dec: float, found: dict[str, Any]) -> None:
        ra2000, dec2000 = sky.jnow_to_j2000(ra, dec, datetime.now(UTC))
        r = self.result
        r["RA_JNOW"], r["DEC_JNOW"], r["RA_J2000"], r["DEC_J2000"] = ra, dec, ra2000, dec2000
        angle, fov, stars = found.get("angle"), found.get("fov"), found.get("star_number")
        if _number(angle):
            r["ANGLE_DEG"] = float(angle) % 360.0
        if isinstance(fov, list) and len(fov) == 2 and all(_number(v) for v in fov):
            r["FOV_W_DEG"], r["FOV_H_DEG"] = float(fov[0]), float(fov[1])
        if _number(stars):
            r["STARS"] = float(stars)

    def _ended(self, state: State) -> None:
        self.host.publish(self.result, state=state)


def _not_a_goto(event: Event) -> bool:
    """PlateSolve events of a centred goto (AutoGoto) are the goto's, not a solve of ours."""
    route, tag = event.get("route"), event.get("tag")
    return not ((isinstance(route, list) and EventName.AUTO_GOTO in route)
                or (isinstance(tag, str) and EventName.AUTO_GOTO in tag))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _radec(value: Any) -> tuple[float, float] | None:
    if isinstance(value, list) and len(value) == 2 and all(_number(v) for v in value):
        return float(value[0]) % 24.0, float(value[1])
    return None
