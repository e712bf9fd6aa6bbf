"""RPC handlers of the fake Seestar for state, settings, login, site/time and the View session.

Layer: sim. Each handler takes a `Call` (admitted params) and returns the reply's `result` or
raises `SimCommandError`; long work is started in the background, never awaited here.
"""

from __future__ import annotations

import copy
import logging
from datetime import datetime, timezone
from typing import Any

from ..protocol import firmware as fw
from ..protocol.auth import verify_signature
from ..protocol.codes import ErrorCode
from ..protocol.events import EventName
from ..protocol.methods import Method
from ..protocol.rpc import NO_PARAMS
from . import shapes
from .core import SimCommandError
from .rpc_server import Call, Handler
from .wiring import Ops

_log = logging.getLogger(__name__)

#: verify_client with a bad signature: the real failure code is not recorded; we answer
#: 207 "fail to operate" [unverified].
LOGIN_FAILED = ErrorCode.FAIL_TO_OPERATE
#: Settings that are not part of the `setting` object but are accepted by set_setting.
_CONNECTION_KEYS = frozenset({"master_cli", "cli_name"})
#: exp_ms.continuous the fake accepts: the real maximum is undocumented (seestar-protocol.md
#: §8.3 A); we model 60 s, the longest sub the firmware itself takes (stack_l, §8.2). 0 runs the
#: preview as fast as it can. Outside the range: 207, like an out-of-range gain [unverified].
CONTINUOUS_EXPOSURE_MS_RANGE = (0, 60000)


def as_object(params: Any) -> dict[str, Any]:
    """Object params (absent -> {}); anything else is a bad param (109)."""
    if params is NO_PARAMS or params is None:
        return {}
    if not isinstance(params, dict):
        raise SimCommandError.of(ErrorCode.UNEXPECTED_PARAM)
    return params


def as_list(params: Any) -> list[Any]:
    """Array params; a scalar (marker-stripped `[x, "verify"]`) counts as a one-element array."""
    if params is NO_PARAMS or params is None:
        return []
    return params if isinstance(params, list) else [params]


def _merge(dst: dict[str, Any], src: dict[str, Any]) -> None:
    for key, value in src.items():
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            _merge(dst[key], value)
        else:
            dst[key] = value


def register(table: dict[Method, Handler], ops: Ops) -> None:
    """Add this module's handlers to `table`."""
    core, st = ops.core, ops.core.state

    def get_device_state(call: Call) -> Any:
        keys = as_object(call.params).get("keys")
        return shapes.device_state(st, call.client, keys if isinstance(keys, list) else None)

    def app_state(call: Call) -> Any:
        state: dict[str, Any] = {**shapes.view_state(st), "selected_cam": "View"}
        if ops.second_view is not None:  # S30P (seestarpy-s30 wide.py: SecondView app state)
            state["SecondView"] = ops.second_view.app_state()
        return state

    def set_setting(call: Call) -> Any:
        params = as_object(call.params)
        unknown = [k for k in params if k not in st.settings and k not in _CONNECTION_KEYS]
        if unknown:
            raise SimCommandError.of(ErrorCode.UNEXPECTED_PARAM)
        check_continuous(params.get("exp_ms"))
        old_exp = st.continuous_exposure_ms
        for key, value in params.items():
            if key == "master_cli":
                claim_master(call, bool(value))
            elif key == "cli_name":
                call.client.name = str(value)
            elif isinstance(value, dict) and isinstance(st.settings.get(key), dict):
                _merge(st.settings[key], value)
            else:
                st.settings[key] = copy.deepcopy(value)
        if "stack_lenhance" in params:
            lenhance_moves_wheel(params)
        if st.continuous_exposure_ms != old_exp:
            ops.view.restart_exposure()
        return 0

    def check_continuous(exp_ms: Any) -> None:
        value = exp_ms.get("continuous") if isinstance(exp_ms, dict) else None
        if value is None:
            return
        low, high = CONTINUOUS_EXPOSURE_MS_RANGE
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise SimCommandError.of(ErrorCode.FAIL_TO_OPERATE)

    def lenhance_moves_wheel(params: dict[str, Any]) -> None:
        # stack_lenhance moves the wheel by itself: true -> LP (2), false -> IR-cut (1).
        ops.extras.set_wheel(2 if params["stack_lenhance"] else 1)

    def refused_setting(params: dict[str, Any]) -> None:
        # S30 7.06 recording: set_setting {"stack_lenhance": false, "verify": true} is answered
        # 109, yet a WheelMove start -> complete follows. We take the value as applied.
        if "stack_lenhance" in params:
            st.settings["stack_lenhance"] = bool(params["stack_lenhance"])
            lenhance_moves_wheel(params)

    ops.control.on_refused_setting = refused_setting

    def claim_master(call: Call, claim: bool) -> None:
        for info in st.clients.values():
            if claim:
                info.is_master = info is call.client
            elif info is call.client:
                info.is_master = False
        for conn in ops.control.connections.values():
            conn.send(core.bus.line(EventName.CLIENT, is_master=conn.info.is_master,
                                    master_index=st.master_index(),
                                    connected=[c.name for c in st.clients.values()]))

    def get_verify_str(call: Call) -> Any:
        if not st.profile.has_login:
            raise SimCommandError.of(ErrorCode.METHOD_NOT_FOUND)
        return {"str": ops.control.new_challenge(call.connection)}

    def verify_client(call: Call) -> Any:
        if not st.profile.has_login:
            raise SimCommandError.of(ErrorCode.METHOD_NOT_FOUND)
        core.faults.counters.login_attempts += 1
        params = as_object(call.params)
        sign, data = params.get("sign"), params.get("data")
        challenge = call.connection.challenge
        key = ops.control.verify_key
        ok = (key is not None and isinstance(sign, str) and isinstance(data, str) and challenge is not None
              and data == challenge and verify_signature(key, data, sign))
        if not ok:
            if key is None:
                _log.warning("verify_client refused: the fake was started without a public key")
            raise SimCommandError.of(LOGIN_FAILED)
        call.client.verified = True
        core.faults.counters.login_successes += 1
        return 0

    def pi_is_verified(call: Call) -> Any:
        return bool(call.client.verified) if st.profile.has_login else True

    def set_user_location(call: Call) -> Any:
        params = as_object(call.params)
        lat, lon = float(params["lat"]), float(params["lon"])
        if not (-90 <= lat <= 90 and -180 <= lon <= 360):
            raise SimCommandError.of(ErrorCode.UNEXPECTED_PARAM)
        st.mount.set_site(lat, lon if lon <= 180 else lon - 360)
        return 0

    def get_user_location(call: Call) -> Any:
        ms = st.mount.state()
        return [ms.lon_deg, ms.lat_deg]

    def pi_set_time(call: Call) -> Any:
        obj = as_object(call.params)  # [obj] was unwrapped (or refused) by the admission rules
        when = datetime(int(obj["year"]), int(obj["mon"]), int(obj["day"]), int(obj["hour"]), int(obj["min"]),
                        int(obj.get("sec", 0)), tzinfo=timezone.utc)
        st.clock.set_utc(when)
        return 0

    def start_view(call: Call) -> Any:
        params = as_object(call.params)
        mode = str(params.get("mode", "star"))
        target = params.get("target_ra_dec")
        if target is not None:
            if not (isinstance(target, list) and len(target) == 2):
                raise SimCommandError.of(ErrorCode.UNEXPECTED_PARAM)
            target = (float(target[0]) % 24.0, float(target[1]))
        if "lp_filter" in params and bool(params["lp_filter"]) != st.lp_filter:
            st.settings["stack_lenhance"] = bool(params["lp_filter"])
            ops.extras.set_wheel(2 if params["lp_filter"] else 1)
        ops.view.start_view(mode, target, params.get("target_name"))
        return 0

    def stop_view(call: Call) -> Any:
        stage = as_object(call.params).get("stage")
        ops.view.stop_view(str(stage) if stage is not None else None)
        return 0

    def start_stack(call: Call) -> Any:
        ops.view.start_stack(bool(as_object(call.params).get("restart", True)))
        return 0

    def play_sound(call: Call) -> Any:
        # S30 7.06 answers 255 "file not exist" for the app's sounds (recorded); S50 plays them.
        if st.profile.model == "S30":
            raise SimCommandError.of(ErrorCode.FILE_NOT_EXIST)
        return 0

    table.update({
        Method.GET_DEVICE_STATE: get_device_state,
        Method.GET_SETTING: lambda call: copy.deepcopy(st.settings),
        Method.SET_SETTING: set_setting,
        Method.GET_VIEW_STATE: lambda call: shapes.view_state(st),
        Method.GET_APP_STATE: app_state,
        Method.PI_STATION_STATE: lambda call: shapes.station(),
        Method.TEST_CONNECTION: lambda call: "server connected!",
        Method.PLAY_SOUND: play_sound,
        Method.GET_VERIFY_STR: get_verify_str,
        Method.VERIFY_CLIENT: verify_client,
        Method.PI_IS_VERIFIED: pi_is_verified,
        Method.SET_USER_LOCATION: set_user_location,
        Method.GET_USER_LOCATION: get_user_location,
        Method.PI_SET_TIME: pi_set_time,
        Method.PI_GET_TIME: lambda call: shapes.pi_time(st),
        Method.ISCOPE_START_VIEW: start_view,
        Method.ISCOPE_STOP_VIEW: stop_view,
        Method.ISCOPE_START_STACK: start_stack,
        Method.SET_SEQUENCE_SETTING: lambda call: 0,
    })
    # The six methods 7.75 added (older profiles answer 103: rpc_server checks has_method).
    # Their params and results are unknown (docs/firmware.md fact 4): the fake only models
    # that they exist, answering code 0 with result 0 to whatever params come.
    for method in fw.METHODS_FROM:
        table[method] = lambda call: 0
