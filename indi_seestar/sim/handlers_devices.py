"""RPC handlers of the fake Seestar for the mount, camera controls, focuser, wheel and extras.

Layer: sim. Result shapes follow the recordings where they exist (get_focuser_position: bare
int) and seestar-protocol.md otherwise; guesses are marked [unverified].
"""

from __future__ import annotations

from typing import Any

from ..protocol.codes import ErrorCode
from ..protocol.methods import Method
from .core import SimCommandError
from .handlers_state import as_list, as_object
from .profile import WHEEL_SLOT_NAMES
from .rpc_server import Call, Handler
from .wiring import Ops

GAIN_RANGE = (0, 400)


def _pair(params: Any) -> tuple[float, float]:
    values = as_list(params)
    if len(values) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise SimCommandError.of(ErrorCode.UNEXPECTED_PARAM)
    return float(values[0]), float(values[1])


def _bool_param(params: Any) -> bool:
    """Bare bool, [bool] (marker form) or {"tracking": bool} (an ALP comment's form)."""
    if isinstance(params, dict):
        params = params.get("tracking", params.get("state"))
    if isinstance(params, list) and len(params) == 1:
        params = params[0]
    if not isinstance(params, bool):
        raise SimCommandError.of(ErrorCode.UNEXPECTED_PARAM)
    return params


def register(table: dict[Method, Handler], ops: Ops) -> None:
    """Add this module's handlers to `table`."""
    st = ops.core.state

    def equ_coord(call: Call) -> Any:
        ra, dec = st.mount.reported_radec()
        return {"ra": round(ra, 6), "dec": round(dec, 6)}

    def horiz_coord(call: Call) -> Any:
        ra, dec = st.mount.reported_radec()
        alt, az = st.mount.altaz_of(*st.mount.true_target(ra, dec))
        return [round(alt, 6), round(az, 6)]

    def goto(call: Call) -> Any:
        ra, dec = _pair(call.params)
        ops.mount.goto(ra % 24.0, dec)
        return 0

    def sync(call: Call) -> Any:
        ops.mount.sync(*_pair(call.params))
        return 0

    def park(call: Call) -> Any:
        equ = as_object(call.params).get("equ_mode")
        ops.mount.park(bool(equ) if equ is not None else None)
        return 0

    def speed_move(call: Call) -> Any:
        params = as_object(call.params)
        rate = ops.mount.rate_from_params(params)
        ops.mount.speed_move(rate, float(params.get("angle", 0)), float(int(params.get("dur_sec", 3))))
        return 0

    def scope_move(call: Call) -> Any:
        # The app's "abort slew" is scope_move ["none"]; ASIAIR-style directions are not modelled.
        if as_list(call.params)[:1] == ["none"]:
            ops.mount.abort()
            return 0
        raise SimCommandError.of(ErrorCode.UNEXPECTED_PARAM)

    def set_control_value(call: Call) -> Any:
        values = as_list(call.params)
        if len(values) != 2 or str(values[0]).lower() != "gain" or isinstance(values[1], bool):
            raise SimCommandError.of(ErrorCode.UNEXPECTED_PARAM)
        gain = int(values[1])
        if not GAIN_RANGE[0] <= gain <= GAIN_RANGE[1]:
            # Out-of-range gain: the real code is not recorded [unverified].
            raise SimCommandError.of(ErrorCode.FAIL_TO_OPERATE)
        st.gain = gain
        return 0

    def get_control_value(call: Call) -> Any:
        values = as_list(call.params)
        if values[:1] and str(values[0]).lower() == "gain":
            return {"name": "gain", "value": st.gain}  # shape [unverified]
        raise SimCommandError.of(ErrorCode.UNEXPECTED_PARAM)

    def move_focuser(call: Call) -> Any:
        params = as_object(call.params)
        step = params["step"]
        if isinstance(step, bool) or not isinstance(step, (int, float)):
            raise SimCommandError.of(ErrorCode.UNEXPECTED_PARAM)
        ops.extras.move_focuser(int(step))
        return {"step": int(step)} if params.get("ret_step") else 0  # shape [unverified]

    def focuser_position(call: Call) -> Any:
        pos = st.focuser.position_steps()
        if isinstance(call.params, dict) and call.params.get("ret_obj"):
            return {"step": pos}
        return pos

    def set_wheel(call: Call) -> Any:
        values = as_list(call.params)
        if len(values) != 1 or isinstance(values[0], bool) or not isinstance(values[0], int):
            raise SimCommandError.of(ErrorCode.UNEXPECTED_PARAM)
        ops.extras.set_wheel(values[0])
        return 0

    def solve_result(call: Call) -> Any:
        if st.last_solve is None:
            raise SimCommandError.of(ErrorCode.NO_SOLVE_DATA)
        return dict(st.last_solve)

    def heater(call: Call) -> Any:
        h = as_object(as_object(call.params).get("heater"))
        value = int(h.get("value", 0))
        on = bool(h.get("state", value > 0))
        st.heater_value = max(0, min(100, value)) if on else 0
        st.settings["heater_enable"] = on
        # setting.heater as seestar-protocol.md §8.8 describes it; not in the 6.70/7.06
        # recordings, so only shown once the heater was set [unverified]
        st.settings["heater"] = {"state": on, "value": st.heater_value}
        return 0

    def start_autofocus(call: Call) -> Any:
        ops.extras.start_autofocus()
        return 0

    table.update({
        Method.SCOPE_GET_EQU_COORD: equ_coord,
        Method.SCOPE_GET_HORIZ_COORD: horiz_coord,
        Method.SCOPE_GOTO: goto,
        Method.SCOPE_SYNC: sync,
        Method.SCOPE_PARK: park,
        Method.SCOPE_MOVE_TO_HORIZON: lambda call: ops.mount.unpark() or 0,
        Method.SCOPE_SET_TRACK_STATE: lambda call: ops.mount.set_tracking(_bool_param(call.params)) or 0,
        Method.SCOPE_GET_TRACK_STATE: lambda call: st.mount.state().tracking,
        Method.SCOPE_SPEED_MOVE: speed_move,
        Method.SCOPE_MOVE: scope_move,
        Method.SET_CONTROL_VALUE: set_control_value,
        Method.GET_CONTROL_VALUE: get_control_value,
        Method.MOVE_FOCUSER: move_focuser,
        Method.GET_FOCUSER_POSITION: focuser_position,
        Method.STOP_FOCUSER: lambda call: ops.extras.stop_focuser() or 0,
        Method.SET_WHEEL_POSITION: set_wheel,
        Method.GET_WHEEL_POSITION: lambda call: st.wheel.position,
        Method.GET_WHEEL_STATE: lambda call: {"id": st.wheel.position,
                                              "state": "moving" if st.wheel.is_moving() else "idle",
                                              "unidirection": False},
        Method.GET_WHEEL_SLOT_NAME: lambda call: list(WHEEL_SLOT_NAMES),
        Method.START_AUTO_FOCUS: start_autofocus,
        Method.STOP_AUTO_FOCUS: lambda call: ops.extras.stop_autofocus() or 0,
        Method.START_CREATE_DARK: lambda call: ops.extras.start_dark() or 0,
        Method.STOP_CREATE_DARK: lambda call: ops.extras.stop_dark() or 0,
        Method.START_SOLVE: lambda call: ops.extras.start_solve() or 0,
        Method.STOP_SOLVE: lambda call: int(ops.core.cancel("solve") and 0),
        Method.GET_SOLVE_RESULT: solve_result,
        Method.GET_LAST_SOLVE_RESULT: solve_result,
        Method.START_POLAR_ALIGN: lambda call: ops.polar.start(as_object(call.params)) or 0,
        Method.STOP_POLAR_ALIGN: lambda call: ops.polar.stop() or 0,
        Method.PAUSE_POLAR_ALIGN: lambda call: ops.polar.pause() or 0,
        Method.PI_OUTPUT_SET2: heater,
        # reboot / shutdown are accepted and counted; the fake keeps running [simplification]
        Method.PI_REBOOT: lambda call: 0,
        Method.PI_SHUTDOWN: lambda call: 0,
    })
