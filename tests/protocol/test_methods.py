"""Method builders: the params shapes of the reference and the recorded sessions; the rule that
method-name strings live only in protocol/methods.py."""

from __future__ import annotations

import ast
import inspect
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import indi_seestar
from indi_seestar.protocol import methods, rpc
from indi_seestar.protocol.methods import Call, Method, Stage

from .support import Session

M = Method
NO = rpc.NO_PARAMS

# (builder, args, method, params): every builder, with the shapes of seestar-protocol.md §7-§9.
CASES: list[tuple[Callable[..., Call], tuple[Any, ...], Method, Any]] = [
    (methods.get_device_state, (), M.GET_DEVICE_STATE, NO),
    (methods.get_device_state, (["mount", "focuser"],), M.GET_DEVICE_STATE, {"keys": ["mount", "focuser"]}),
    (methods.get_device_state, ([],), M.GET_DEVICE_STATE, NO),
    (methods.get_setting, (), M.GET_SETTING, NO),
    (methods.set_setting, (), M.SET_SETTING, {}),
    (methods.set_continuous_exposure_ms, (2000,), M.SET_SETTING, {"exp_ms": {"continuous": 2000}}),
    (methods.claim_master, (), M.SET_SETTING, {"master_cli": True}),
    (methods.claim_master, ("indihost",), M.SET_SETTING, {"master_cli": True, "cli_name": "indihost"}),
    (methods.get_view_state, (), M.GET_VIEW_STATE, NO),
    (methods.test_connection, (), M.TEST_CONNECTION, NO),
    (methods.get_verify_str, (), M.GET_VERIFY_STR, NO),
    (methods.verify_client, ("c2lnbg==", "challenge"), M.VERIFY_CLIENT, {"sign": "c2lnbg==", "data": "challenge"}),
    (methods.pi_is_verified, (), M.PI_IS_VERIFIED, NO),
    (methods.scope_get_equ_coord, (), M.SCOPE_GET_EQU_COORD, NO),
    (methods.scope_get_horiz_coord, (), M.SCOPE_GET_HORIZ_COORD, NO),
    (methods.scope_goto, (8, -20), M.SCOPE_GOTO, [8.0, -20.0]),
    (methods.start_view_goto, (8.5, 19.5, "M44"), M.ISCOPE_START_VIEW,
     {"mode": "star", "target_ra_dec": [8.5, 19.5], "target_name": "M44", "lp_filter": False}),
    (methods.start_view_goto, (8.5, 19.5, "M44", True), M.ISCOPE_START_VIEW,
     {"mode": "star", "target_ra_dec": [8.5, 19.5], "target_name": "M44", "lp_filter": True}),
    (methods.start_view_star, (), M.ISCOPE_START_VIEW, {"mode": "star"}),
    (methods.stop_view, (), M.ISCOPE_STOP_VIEW, NO),
    (methods.stop_view, (Stage.AUTO_GOTO,), M.ISCOPE_STOP_VIEW, {"stage": "AutoGoto"}),
    (methods.stop_view, (Stage.CONTINUOUS_EXPOSURE,), M.ISCOPE_STOP_VIEW, {"stage": "ContinuousExposure"}),
    (methods.scope_sync, (1, 2.5), M.SCOPE_SYNC, [1.0, 2.5]),
    (methods.scope_park, (), M.SCOPE_PARK, NO),
    (methods.scope_park, (True,), M.SCOPE_PARK, {"equ_mode": True}),
    (methods.scope_park, (False,), M.SCOPE_PARK, {"equ_mode": False}),
    (methods.scope_move_to_horizon, (), M.SCOPE_MOVE_TO_HORIZON, NO),
    (methods.scope_set_track_state, (True,), M.SCOPE_SET_TRACK_STATE, True),
    (methods.scope_set_track_state, (0,), M.SCOPE_SET_TRACK_STATE, False),
    (methods.scope_speed_move, (240, 450, 3), M.SCOPE_SPEED_MOVE, {"speed": 240, "angle": 90, "dur_sec": 3}),
    (methods.scope_speed_move, (0, -90, 1), M.SCOPE_SPEED_MOVE, {"speed": 0, "angle": 270, "dur_sec": 1}),
    (methods.scope_speed_move_level, (2, 180, 3, 50), M.SCOPE_SPEED_MOVE,
     {"angle": 180, "level": 2, "dur_sec": 3, "percent": 50}),
    (methods.scope_abort_slew, (), M.SCOPE_MOVE, ["none"]),
    (methods.set_gain, (80,), M.SET_CONTROL_VALUE, ["gain", 80]),
    (methods.begin_streaming, (), M.BEGIN_STREAMING, NO),
    (methods.stop_streaming, (), M.STOP_STREAMING, NO),
    (methods.get_current_img, (), M.GET_CURRENT_IMG, NO),
    (methods.get_stacked_img, (), M.GET_STACKED_IMG, NO),
    (methods.set_batch_stack_setting, ("MyWorks/M 42_sub", ["MyWorks/M 42_sub/Light_a.fit"]),
     M.SET_BATCH_STACK_SETTING, {"path": "MyWorks/M 42_sub", "files": [{"name": "MyWorks/M 42_sub/Light_a.fit"}]}),
    (methods.start_batch_stack, (), M.START_BATCH_STACK, NO),
    (methods.stop_batch_stack, (), M.STOP_BATCH_STACK, NO),
    (methods.clear_batch_stack, (), M.CLEAR_BATCH_STACK, NO),
    (methods.clear_app_state, ("BatchStack",), M.CLEAR_APP_STATE, {"name": "BatchStack"}),
    (methods.get_app_state, (), M.GET_APP_STATE, NO),
    (methods.start_stack, (), M.ISCOPE_START_STACK, {"restart": True}),
    (methods.start_stack, (False,), M.ISCOPE_START_STACK, {"restart": False}),
    (methods.move_focuser, (1580,), M.MOVE_FOCUSER, {"step": 1580, "ret_step": True}),
    (methods.get_focuser_position, (), M.GET_FOCUSER_POSITION, NO),
    (methods.stop_focuser, (), M.STOP_FOCUSER, NO),
    (methods.set_wheel_position, (2,), M.SET_WHEEL_POSITION, [2]),
    (methods.get_wheel_position, (), M.GET_WHEEL_POSITION, NO),
    (methods.start_auto_focus, (), M.START_AUTO_FOCUS, NO),
    (methods.stop_auto_focus, (), M.STOP_AUTO_FOCUS, NO),
    (methods.start_create_dark, (), M.START_CREATE_DARK, NO),
    (methods.stop_create_dark, (), M.STOP_CREATE_DARK, NO),
    (methods.start_solve, (), M.START_SOLVE, NO),
    (methods.stop_solve, (), M.STOP_SOLVE, NO),
    (methods.driver_control_settings, (), M.SET_SETTING, {"stack_after_goto": False, "auto_af": False}),
    (methods.get_solve_result, (), M.GET_SOLVE_RESULT, NO),
    (methods.set_dew_heater, (90,), M.PI_OUTPUT_SET2, {"heater": {"state": True, "value": 90}}),
    (methods.set_dew_heater, (0,), M.PI_OUTPUT_SET2, {"heater": {"state": False, "value": 0}}),
    (methods.set_dew_heater, (150,), M.PI_OUTPUT_SET2, {"heater": {"state": True, "value": 100}}),
    (methods.set_dew_heater, (-5,), M.PI_OUTPUT_SET2, {"heater": {"state": False, "value": 0}}),
    (methods.set_user_location, (52, 13.4), M.SET_USER_LOCATION, {"lat": 52.0, "lon": 13.4, "force": True}),
    (methods.pi_set_time, (datetime(2026, 3, 31, 20, 34, 6),), M.PI_SET_TIME,
     {"year": 2026, "mon": 3, "day": 31, "hour": 20, "min": 34, "sec": 6, "time_zone": "UTC"}),
    (methods.scope_goto, (8, -20, True), M.SCOPE_GOTO, {"ra": 8.0, "dec": -20.0}),
    (methods.scope_sync, (1, 2.5, True), M.SCOPE_SYNC, {"ra": 1.0, "dec": 2.5}),
    (methods.set_dark_mode, (True,), M.SET_SETTING, {"dark_mode": True}),
    (methods.pi_reboot, (), M.PI_REBOOT, NO),
    (methods.pi_shutdown, (), M.PI_SHUTDOWN, NO),
    (methods.start_polar_align, (3,), M.START_POLAR_ALIGN, {"restart": True, "dec_pos_index": 3}),
    (methods.start_polar_align, (1, False), M.START_POLAR_ALIGN, {"restart": False, "dec_pos_index": 1}),
    (methods.stop_polar_align, (), M.STOP_POLAR_ALIGN, NO),
    (methods.pause_polar_align, (), M.PAUSE_POLAR_ALIGN, NO),
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
    builders = {name for name, fn in inspect.getmembers(methods, inspect.isfunction)
                if fn.__module__ == methods.__name__ and not name.startswith("_")}
    assert builders == {case[0].__name__ for case in CASES}


def test_set_setting_keeps_keyword_order() -> None:
    call = methods.set_setting(stack_lenhance=True, auto_af=False)
    assert list(call.params) == ["stack_lenhance", "auto_af"]


def test_pi_set_time_sends_utc_fields_for_an_aware_datetime() -> None:
    paris_summer = timezone(timedelta(hours=2))
    call = methods.pi_set_time(datetime(2026, 7, 1, 0, 30, 5, tzinfo=paris_summer))
    assert call.params == {"year": 2026, "mon": 6, "day": 30, "hour": 22, "min": 30, "sec": 5,
                           "time_zone": "UTC"}
    assert methods.pi_set_time(datetime(2026, 7, 1, 0, 30, 5, tzinfo=UTC)) == \
        methods.pi_set_time(datetime(2026, 7, 1, 0, 30, 5))


# On the wire with the marker policy (fw > 2582), as §7.3, §7.5, §9 and ALP show them.
@pytest.mark.parametrize("call, params", [
    (methods.set_wheel_position(2), [2, "verify"]),
    (methods.scope_set_track_state(True), [True, "verify"]),
    (methods.scope_goto(8.5, 19.5), [8.5, 19.5, "verify"]),
    (methods.set_gain(80), ["gain", 80, "verify"]),
    (methods.get_focuser_position(), ["verify"]),
    (methods.move_focuser(1580), {"step": 1580, "ret_step": True}),
    # a bare object, unmarked: `[{...}, "verify"]` is answered 107 from 7.06 on (#748, #758)
    (methods.pi_set_time(datetime(2026, 1, 2, 3, 4, 5)),
     {"year": 2026, "mon": 1, "day": 2, "hour": 3, "min": 4, "sec": 5, "time_zone": "UTC"}),
    (methods.scope_goto(8.5, 19.5, keyed=True), {"ra": 8.5, "dec": 19.5}),
    (methods.get_verify_str(), rpc.NO_PARAMS),
    (methods.verify_client("s", "d"), {"sign": "s", "data": "d"}),
    (methods.pi_is_verified(), rpc.NO_PARAMS),
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
    methods.get_device_state(), methods.get_setting(), methods.get_view_state(),
    methods.get_focuser_position(), methods.stop_view(),
    methods.start_view_goto(8.691286104794766, 19.514886908101506, "M44"),
    methods.start_view_star(), methods.start_stack(), methods.claim_master(),
    methods.set_setting(stack_lenhance=False),
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
