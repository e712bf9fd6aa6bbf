"""Method builders: the params shapes of the reference and the recorded sessions; the rule that
method-name strings live only in protocol/methods.py."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import indi_seestar
from indi_seestar.protocol import builders_imaging, builders_mount, builders_session, rpc
from indi_seestar.protocol.methods import Call, Method, Stage

from .support import Session, public_builders

M = Method
NO = rpc.NO_PARAMS

# (builder, args, method, params): every builder, with the shapes of seestar-protocol.md §7-§9.
CASES: list[tuple[Callable[..., Call], tuple[Any, ...], Method, Any]] = [
    (builders_session.get_device_state, (), M.GET_DEVICE_STATE, NO),
    (builders_session.get_device_state, (["mount", "focuser"],), M.GET_DEVICE_STATE, {"keys": ["mount", "focuser"]}),
    (builders_session.get_device_state, ([],), M.GET_DEVICE_STATE, NO),
    (builders_session.get_setting, (), M.GET_SETTING, NO),
    (builders_session.set_setting, (), M.SET_SETTING, {}),
    (builders_session.set_continuous_exposure_ms, (2000,), M.SET_SETTING, {"exp_ms": {"continuous": 2000}}),
    (builders_session.claim_master, (), M.SET_SETTING, {"master_cli": True}),
    (builders_session.claim_master, ("indihost",), M.SET_SETTING, {"master_cli": True, "cli_name": "indihost"}),
    (builders_session.get_view_state, (), M.GET_VIEW_STATE, NO),
    (builders_session.test_connection, (), M.TEST_CONNECTION, NO),
    (builders_session.get_verify_str, (), M.GET_VERIFY_STR, NO),
    (builders_session.verify_client, ("c2lnbg==", "challenge"), M.VERIFY_CLIENT,
     {"sign": "c2lnbg==", "data": "challenge"}),
    (builders_session.pi_is_verified, (), M.PI_IS_VERIFIED, NO),
    (builders_mount.scope_get_equ_coord, (), M.SCOPE_GET_EQU_COORD, NO),
    (builders_mount.scope_get_horiz_coord, (), M.SCOPE_GET_HORIZ_COORD, NO),
    (builders_mount.scope_goto, (8, -20), M.SCOPE_GOTO, [8.0, -20.0]),
    (builders_mount.start_view_goto, (8.5, 19.5, "M44"), M.ISCOPE_START_VIEW,
     {"mode": "star", "target_ra_dec": [8.5, 19.5], "target_name": "M44", "lp_filter": False}),
    (builders_mount.start_view_goto, (8.5, 19.5, "M44", True), M.ISCOPE_START_VIEW,
     {"mode": "star", "target_ra_dec": [8.5, 19.5], "target_name": "M44", "lp_filter": True}),
    (builders_mount.start_view_star, (), M.ISCOPE_START_VIEW, {"mode": "star"}),
    (builders_mount.stop_view, (), M.ISCOPE_STOP_VIEW, NO),
    (builders_mount.stop_view, (Stage.AUTO_GOTO,), M.ISCOPE_STOP_VIEW, {"stage": "AutoGoto"}),
    (builders_mount.stop_view, (Stage.CONTINUOUS_EXPOSURE,), M.ISCOPE_STOP_VIEW, {"stage": "ContinuousExposure"}),
    (builders_mount.scope_sync, (1, 2.5), M.SCOPE_SYNC, [1.0, 2.5]),
    (builders_mount.scope_park, (), M.SCOPE_PARK, NO),
    (builders_mount.scope_park, (True,), M.SCOPE_PARK, {"equ_mode": True}),
    (builders_mount.scope_park, (False,), M.SCOPE_PARK, {"equ_mode": False}),
    (builders_mount.scope_move_to_horizon, (), M.SCOPE_MOVE_TO_HORIZON, NO),
    (builders_mount.scope_set_track_state, (True,), M.SCOPE_SET_TRACK_STATE, True),
    (builders_mount.scope_set_track_state, (0,), M.SCOPE_SET_TRACK_STATE, False),
    (builders_mount.scope_speed_move, (240, 450, 3), M.SCOPE_SPEED_MOVE, {"speed": 240, "angle": 90, "dur_sec": 3}),
    (builders_mount.scope_speed_move, (0, -90, 1), M.SCOPE_SPEED_MOVE, {"speed": 0, "angle": 270, "dur_sec": 1}),
    (builders_mount.scope_speed_move_level, (2, 180, 3, 50), M.SCOPE_SPEED_MOVE,
     {"angle": 180, "level": 2, "dur_sec": 3, "percent": 50}),
    (builders_mount.scope_abort_slew, (), M.SCOPE_MOVE, ["none"]),
    (builders_imaging.set_gain, (80,), M.SET_CONTROL_VALUE, ["gain", 80]),
    (builders_imaging.begin_streaming, (), M.BEGIN_STREAMING, NO),
    (builders_imaging.stop_streaming, (), M.STOP_STREAMING, NO),
    (builders_imaging.get_current_img, (), M.GET_CURRENT_IMG, NO),
    (builders_imaging.get_stacked_img, (), M.GET_STACKED_IMG, NO),
    (builders_imaging.set_batch_stack_setting, ("MyWorks/M 42_sub", ["MyWorks/M 42_sub/Light_a.fit"]),
     M.SET_BATCH_STACK_SETTING, {"path": "MyWorks/M 42_sub", "files": [{"name": "MyWorks/M 42_sub/Light_a.fit"}]}),
    (builders_imaging.start_batch_stack, (), M.START_BATCH_STACK, NO),
    (builders_imaging.stop_batch_stack, (), M.STOP_BATCH_STACK, NO),
    (builders_imaging.clear_batch_stack, (), M.CLEAR_BATCH_STACK, NO),
    (builders_session.clear_app_state, ("BatchStack",), M.CLEAR_APP_STATE, {"name": "BatchStack"}),
    (builders_session.get_app_state, (), M.GET_APP_STATE, NO),
    (builders_imaging.start_stack, (), M.ISCOPE_START_STACK, {"restart": True}),
    (builders_imaging.start_stack, (False,), M.ISCOPE_START_STACK, {"restart": False}),
    (builders_imaging.move_focuser, (1580,), M.MOVE_FOCUSER, {"step": 1580, "ret_step": True}),
    (builders_imaging.get_focuser_position, (), M.GET_FOCUSER_POSITION, NO),
    (builders_imaging.stop_focuser, (), M.STOP_FOCUSER, NO),
    (builders_imaging.set_wheel_position, (2,), M.SET_WHEEL_POSITION, [2]),
    (builders_imaging.get_wheel_position, (), M.GET_WHEEL_POSITION, NO),
    (builders_imaging.start_auto_focus, (), M.START_AUTO_FOCUS, NO),
    (builders_imaging.stop_auto_focus, (), M.STOP_AUTO_FOCUS, NO),
    (builders_imaging.start_create_dark, (), M.START_CREATE_DARK, NO),
    (builders_imaging.stop_create_dark, (), M.STOP_CREATE_DARK, NO),
    (builders_imaging.start_solve, (), M.START_SOLVE, NO),
    (builders_imaging.stop_solve, (), M.STOP_SOLVE, NO),
    (builders_session.driver_control_settings, (), M.SET_SETTING, {"stack_after_goto": False, "auto_af": False}),
    (builders_imaging.get_solve_result, (), M.GET_SOLVE_RESULT, NO),
    (builders_session.set_dew_heater, (90,), M.PI_OUTPUT_SET2, {"heater": {"state": True, "value": 90}}),
    (builders_session.set_dew_heater, (0,), M.PI_OUTPUT_SET2, {"heater": {"state": False, "value": 0}}),
    (builders_session.set_dew_heater, (150,), M.PI_OUTPUT_SET2, {"heater": {"state": True, "value": 100}}),
    (builders_session.set_dew_heater, (-5,), M.PI_OUTPUT_SET2, {"heater": {"state": False, "value": 0}}),
    (builders_session.set_user_location, (52, 13.4), M.SET_USER_LOCATION, {"lat": 52.0, "lon": 13.4, "force": True}),
    (builders_session.pi_set_time, (datetime(2026, 3, 31, 20, 34, 6),), M.PI_SET_TIME,
     {"year": 2026, "mon": 3, "day": 31, "hour": 20, "min": 34, "sec": 6, "time_zone": "UTC"}),
    (builders_mount.scope_goto, (8, -20, True), M.SCOPE_GOTO, {"ra": 8.0, "dec": -20.0}),
    (builders_mount.scope_sync, (1, 2.5, True), M.SCOPE_SYNC, {"ra": 1.0, "dec": 2.5}),
    (builders_session.set_dark_mode, (True,), M.SET_SETTING, {"dark_mode": True}),
    (builders_session.pi_reboot, (), M.PI_REBOOT, NO),
    (builders_session.pi_shutdown, (), M.PI_SHUTDOWN, NO),
    (builders_mount.start_polar_align, (3,), M.START_POLAR_ALIGN, {"restart": True, "dec_pos_index": 3}),
    (builders_mount.start_polar_align, (1, False), M.START_POLAR_ALIGN, {"restart": False, "dec_pos_index": 1}),
    (builders_mount.stop_polar_align, (), M.STOP_POLAR_ALIGN, NO),
    (builders_mount.pause_polar_align, (), M.PAUSE_POLAR_ALIGN, NO),
]


@pytest.mark.parametrize("builder, args, method, params", CASES,
                         ids=[f"{c[0].__name__}{c[1]!r}" for c in CASES])
def test_builder_produces_the_documented_shape(builder: Callable[..., Call], args: tuple[Any, ...],
                                               method: Method, params: Any) -> None:
    call = builder(*args)
    assert isinstance(call, Call)
    assert call.method is method
    assert call.params == params
    assert type(call.params) is type(params)  # a bare bool stays a bool, a list a list...
    if isinstance(params, dict):
        assert list(call.params) == list(params)  # key order as the app/ALP send it
    if params is not NO:
        json.dumps(call.params, allow_nan=False)


def test_every_builder_is_covered_by_the_table() -> None:
    builders = {name for name, _ in public_builders()}
    assert builders == {case[0].__name__ for case in CASES}


def test_set_setting_keeps_keyword_order() -> None:
    call = builders_session.set_setting(stack_lenhance=True, auto_af=False)
    assert list(call.params) == ["stack_lenhance", "auto_af"]


def test_pi_set_time_sends_utc_fields_for_an_aware_datetime() -> None:
    paris_summer = timezone(timedelta(hours=2))
    call = builders_session.pi_set_time(datetime(2026, 7, 1, 0, 30, 5, tzinfo=paris_summer))
    assert call.params == {"year": 2026, "mon": 6, "day": 30, "hour": 22, "min": 30, "sec": 5,
                           "time_zone": "UTC"}
    assert builders_session.pi_set_time(datetime(2026, 7, 1, 0, 30, 5, tzinfo=UTC)) == \
        builders_session.pi_set_time(datetime(2026, 7, 1, 0, 30, 5))


# On the wire with the marker policy (fw > 2582), as §7.3, §7.5, §9 and ALP show them.
@pytest.mark.parametrize("call, params", [
    (builders_imaging.set_wheel_position(2), [2, "verify"]),
    (builders_mount.scope_set_track_state(True), [True, "verify"]),
    (builders_mount.scope_goto(8.5, 19.5), [8.5, 19.5, "verify"]),
    (builders_imaging.set_gain(80), ["gain", 80, "verify"]),
    (builders_imaging.get_focuser_position(), ["verify"]),
    (builders_imaging.move_focuser(1580), {"step": 1580, "ret_step": True}),
    # a bare object, unmarked: `[{...}, "verify"]` is answered 107 from 7.06 on (#748, #758)
    (builders_session.pi_set_time(datetime(2026, 1, 2, 3, 4, 5)),
     {"year": 2026, "mon": 1, "day": 2, "hour": 3, "min": 4, "sec": 5, "time_zone": "UTC"}),
    (builders_mount.scope_goto(8.5, 19.5, keyed=True), {"ra": 8.5, "dec": 19.5}),
    (builders_session.get_verify_str(), rpc.NO_PARAMS),
    (builders_session.verify_client("s", "d"), {"sign": "s", "data": "d"}),
    (builders_session.pi_is_verified(), rpc.NO_PARAMS),
])
def test_builders_on_the_wire_with_the_marker(call: Call, params: Any) -> None:
    line = rpc.encode_request(rpc.Request(10001, call.method, call.params), rpc.VerifyPolicy.MARKER)
    obj = json.loads(line)
    assert obj["method"] == call.method.value
    assert obj.get("params", rpc.NO_PARAMS) == params


def recorded_params(session: Session, method: Method) -> list[Any]:
    found = []
    for line in session.lines:
        if line.direction == "client":
            obj = json.loads(line.raw)
            if obj["method"] == method:
                found.append(obj.get("params", rpc.NO_PARAMS))
    return found


@pytest.mark.parametrize("call", [
    builders_session.get_device_state(), builders_session.get_setting(), builders_session.get_view_state(),
    builders_imaging.get_focuser_position(), builders_mount.stop_view(),
    builders_mount.start_view_goto(8.691286104794766, 19.514886908101506, "M44"),
    builders_mount.start_view_star(), builders_imaging.start_stack(), builders_session.claim_master(),
    builders_session.set_setting(stack_lenhance=False),
], ids=lambda c: f"{c.method.value}:{c.params}")
def test_builders_match_what_the_recorded_clients_sent(sessions: list[Session], call: Call) -> None:
    """Same params, same key order; only the object verify key differs (we leave objects unmarked)."""
    ours = json.loads(rpc.encode_request(rpc.Request(1, call.method, call.params),
                                         rpc.VerifyPolicy.MARKER)).get("params", rpc.NO_PARAMS)
    recorded = [p for s in sessions for p in recorded_params(s, call.method)]
    assert recorded, f"no recorded {call.method}"
    if isinstance(ours, dict):
        recorded = [{k: v for k, v in p.items() if k != "verify"} for p in recorded if isinstance(p, dict)]
        matching = [p for p in recorded if list(p.items()) == list(ours.items())]
    else:
        matching = [p for p in recorded if p == ours]
    assert matching, (ours, recorded[:3])


# --- method-name strings appear only in protocol/methods.py ----------------------------------

PACKAGE = Path(indi_seestar.__file__).resolve().parent
METHODS_PY = PACKAGE / "protocol" / "methods.py"


def docstring_nodes(tree: ast.AST) -> set[int]:
    nodes = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                nodes.add(id(body[0].value))
    return nodes


def method_literals(source: str, names: set[str]) -> list[tuple[int, str]]:
    """(line, text) of every string constant (docstrings excluded) that is a method name."""
    tree = ast.parse(source)
    skip = docstring_nodes(tree)
    return sorted((node.lineno, node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and node.value in names and id(node) not in skip)


def test_the_literal_scanner_sees_strings_but_not_docstrings_or_comments() -> None:
    source = ('"""scope_goto in a module docstring."""\n'
              "def f():\n"
              '    """scope_goto in a docstring."""\n'
              "    # scope_goto in a comment\n"
              '    return {"m": "scope_goto", "n": f"{1}x", "o": "scope_goto is not exact"}\n'
              'X = ("a", "get_device_state")\n')
    assert method_literals(source, {"scope_goto", "get_device_state"}) == [(5, "scope_goto"),
                                                                         (6, "get_device_state")]


def test_method_name_strings_appear_only_in_protocol_methods() -> None:
    names = {m.value for m in Method}
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.resolve() == METHODS_PY:
            continue
        for line, text in method_literals(path.read_text(encoding="utf-8"), names):
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {text!r}")
    assert offenders == [], "use protocol.methods.Method instead of these literals"
    assert METHODS_PY.is_file() and method_literals(METHODS_PY.read_text(), names)
