"""Typed reply results: tolerant of missing keys, strict about types (RemoteProtocolError)."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest

from indi_seestar.errors import RemoteProtocolError
from indi_seestar.protocol import results, rpc
from indi_seestar.protocol.methods import Method

from .support import Session


def first_result(sessions: list[Session], method: Method, model: str | None = None) -> Any:
    for session in sessions:
        if model and session.manifest["telescope_model"] != model:
            continue
        for line in session.lines:
            if line.direction == "telescope":
                obj = json.loads(line.raw)
                if obj.get("method") == method and obj.get("code") == 0:
                    return obj["result"]
    pytest.fail(f"no recorded {method} result")


# --- the real session results ----------------------------------------------------------------

def test_s30_device_state(sessions: list[Session]) -> None:
    state = results.parse_device_state(first_result(sessions, Method.GET_DEVICE_STATE, "Seestar S30"))
    assert (state.product_model, state.firmware_ver_int, state.firmware_ver_string) == ("Seestar S30", 2706, "7.06")
    assert (state.focal_length_mm, state.f_number, state.aperture_mm) == (150.0, 5.0, 30.0)
    assert (state.chip_width_px, state.chip_height_px, state.pixel_size_um, state.cfa) == (1080, 1920, 2.9, "GRBG")
    assert (state.focuser_max_steps, state.focuser_position_steps, state.focuser_moving) == (2600, 1236, False)
    assert (state.mount_moving, state.parked, state.tracking, state.equ_mode) == (False, False, True, False)
    assert (state.continuous_exposure_ms, state.heater_enabled, state.lp_filter) == (500, False, False)
    # The S30's wide camera: recorded, but not usable in star mode (can_star_mode_sel_cam false).
    assert state.wide_camera == results.WideCamera(1920, 1080, 2.7, "RGGB", False, 1000)
    assert state.board_temp_c == pytest.approx(45.3, abs=1e-3)
    assert state.is_verified is True and state.is_master is None  # no client section on fw 7.06 here


def test_s50_device_state(sessions: list[Session]) -> None:
    state = results.parse_device_state(first_result(sessions, Method.GET_DEVICE_STATE, "Seestar S50"))
    assert (state.product_model, state.firmware_ver_int) == ("Seestar S50", 2670)
    assert (state.focal_length_mm, state.aperture_mm) == (250.0, 50.0)
    assert (state.parked, state.tracking, state.equ_mode) == (True, False, True)
    assert (state.focuser_position_steps, state.cfa) == (1517, "GRBG")
    assert (state.lon_deg, state.lat_deg) == (0.0, 0.0)  # sanitised recording
    assert state.wide_camera is None  # no second_camera section on the S50


def test_view_state(sessions: list[Session]) -> None:
    view = results.parse_view_state(first_result(sessions, Method.GET_VIEW_STATE, "Seestar S30"))
    assert (view.state, view.mode, view.stage, view.stage_state) == ("cancel", "none", "ContinuousExposure", "cancel")
    assert (view.target_name, view.gain) == ("M 44", 200)


def test_focuser_position(sessions: list[Session]) -> None:
    result = first_result(sessions, Method.GET_FOCUSER_POSITION)
    assert results.parse_result(Method.GET_FOCUSER_POSITION, result) == 1517


def test_test_connection_and_others_stay_generic(sessions: list[Session]) -> None:
    result = first_result(sessions, Method.TEST_CONNECTION)
    assert results.parse_result("test_connection", result) == results.Generic("test_connection", "server connected!")
    station = first_result(sessions, Method.PI_STATION_STATE)
    assert results.parse_result(Method.PI_STATION_STATE, station).value == station


def test_every_real_device_state_survives_any_one_field_of_a_wrong_type(sessions: list[Session]) -> None:
    """Replace each parsed field in turn by a value of another type: RemoteProtocolError, nothing else."""
    base = first_result(sessions, Method.GET_DEVICE_STATE, "Seestar S30")
    paths = [("device", "product_model"), ("device", "firmware_ver_int"), ("device", "firmware_ver_string"),
             ("device", "is_verified"), ("device", "focal_len"), ("device", "fnumber"),
             ("camera", "chip_size"), ("camera", "pixel_size_um"), ("camera", "debayer_pattern"),
             ("focuser", "max_step"), ("focuser", "step"), ("focuser", "state"), ("mount", "move_type"),
             ("mount", "close"), ("mount", "tracking"), ("mount", "equ_mode"), ("setting", "heater_enable"),
             ("setting", "stack_lenhance"), ("setting", "exp_ms"), ("pi_status", "temp"),
             ("location_lon_lat",), ("device",), ("camera",), ("focuser",), ("mount",), ("setting",),
             ("pi_status",)]
    for path in paths:
        for wrong in ("text", True, [1, 2, 3], {"a": 1}, 1.5):
            result = copy.deepcopy(base)
            target = result
            for key in path[:-1]:
                target = target[key]
            original = target[path[-1]]
            if type(wrong) is type(original) or (isinstance(original, float) and type(wrong) is int):
                continue
            if isinstance(original, dict) and isinstance(wrong, dict):
                continue
            target[path[-1]] = wrong
            with pytest.raises(RemoteProtocolError):
                results.parse_device_state(result)
                pytest.fail(f"{path} = {wrong!r} was accepted")


# --- synthetic results -----------------------------------------------------------------------

def test_empty_device_state_gives_defaults() -> None:
    state = results.parse_device_state({})
    assert state == results.DeviceState()
    assert state.aperture_mm == 0.0
    assert results.parse_device_state({"device": None, "mount": None}) == results.DeviceState()


@pytest.mark.parametrize("pattern, cfa", [("GR", "GRBG"), ("RG", "RGGB"), ("GB", "GBRG"), ("BG", "BGGR"),
                                          ("rggb", "RGGB"), ("XY", "GRBG")])
def test_cfa_from_debayer_pattern(pattern: str, cfa: str) -> None:
    assert results.parse_device_state({"camera": {"debayer_pattern": pattern}}).cfa == cfa


def test_ints_are_accepted_for_floats() -> None:
    state = results.parse_device_state({"device": {"focal_len": 250, "fnumber": 5},
                                        "location_lon_lat": [13, 52], "pi_status": {"temp": 40}})
    assert (state.focal_length_mm, state.f_number, state.lon_deg, state.lat_deg) == (250.0, 5.0, 13.0, 52.0)
    assert state.board_temp_c == 40.0 and isinstance(state.board_temp_c, float)


def test_chip_size_is_read_as_width_height() -> None:
    state = results.parse_device_state({"camera": {"chip_size": [3840, 2160]}})
    assert (state.chip_width_px, state.chip_height_px) == (3840, 2160)


@pytest.mark.parametrize("result", [
    {"device": {"focal_len": "250"}},
    {"device": {"firmware_ver_int": 2706.0}},
    {"device": {"firmware_ver_int": True}},
    {"device": {"is_verified": 1}},
    {"device": "S50"},
    {"mount": {"close": "yes"}},
    {"focuser": {"step": "1500"}},
    {"focuser": {"max_step": False}},
    {"camera": {"chip_size": "1080x1920"}},
    {"camera": {"chip_size": [1080]}},
    {"camera": {"chip_size": [True, 1920]}},
    {"camera": {"chip_size": [1080.5, 1920]}},
    {"camera": {"debayer_pattern": 5}},
    {"location_lon_lat": [1, 2, 3]},
    {"location_lon_lat": ["1", "2"]},
    {"location_lon_lat": [True, 2]},
    {"setting": {"exp_ms": {"continuous": "500"}}},
    {"setting": {"exp_ms": {"continuous": True}}},
    {"setting": {"exp_ms": {"continuous": math.inf}}},
    {"setting": {"exp_ms": {"continuous": math.nan}}},
    {"setting": {"exp_ms": 500}},
    {"pi_status": {"temp": "hot"}},
    {"pi_status": {"temp": True}},
    {"client": {"is_master": "yes"}},
    {"client": []},
])
def test_device_state_field_of_the_wrong_type(result: dict) -> None:
    with pytest.raises(RemoteProtocolError):
        results.parse_device_state(result)


@pytest.mark.parametrize("result", [None, [], "state", 3])
def test_device_state_must_be_an_object(result: Any) -> None:
    with pytest.raises(RemoteProtocolError):
        results.parse_device_state(result)


def test_equ_coord() -> None:
    assert results.parse_equ_coord({"ra": 17.093056, "dec": 34.349722}) == results.EquCoord(17.093056, 34.349722)
    assert results.parse_equ_coord({"ra": 17, "dec": -5}) == results.EquCoord(17.0, -5.0)
    assert results.parse_result(Method.SCOPE_GET_EQU_COORD, {}) == results.EquCoord(0.0, 0.0)
    for bad in ([17.0, 34.0], None, {"ra": "17h"}, {"dec": False}):
        with pytest.raises(RemoteProtocolError):
            results.parse_equ_coord(bad)


def test_horiz_coord() -> None:
    assert results.parse_horiz_coord([45.5, 180]) == results.HorizCoord(45.5, 180.0)
    for bad in ([1], [1, 2, 3], {"alt": 1, "az": 2}, ["1", "2"], [True, 1], "x"):
        with pytest.raises(RemoteProtocolError):
            results.parse_horiz_coord(bad)


def test_view_state_synthetic() -> None:
    view = results.parse_view_state({"View": {"state": "working", "mode": "star", "stage": "Stack",
                                              "Stack": {"state": "frame_complete", "stacked_frame": 3},
                                              "target_name": "M 31", "gain": 80}})
    assert (view.state, view.mode, view.stage, view.stage_state, view.target_name, view.gain) == \
        ("working", "star", "Stack", "frame_complete", "M 31", 80)
    assert results.parse_view_state({}) == results.ViewState()
    assert results.parse_view_state({"View": {"stage": "Stack"}}).stage_state == ""


@pytest.mark.parametrize("result", [
    None, [], {"View": []}, {"View": {"state": 1}}, {"View": {"stage": ["Stack"]}},
    {"View": {"gain": "80"}}, {"View": {"gain": True}}, {"View": {"stage": "Stack", "Stack": {"state": 5}}},
    {"View": {"target_name": 44}},
])
def test_view_state_wrong_types(result: Any) -> None:
    with pytest.raises(RemoteProtocolError):
        results.parse_view_state(result)


@pytest.mark.parametrize("result, value", [(1517, 1517), (1517.0, 1517), ({"step": 1580}, 1580), (0, 0)])
def test_parse_int(result: Any, value: int) -> None:
    assert results.parse_int("get_focuser_position", result) == value
    assert results.parse_result(Method.GET_WHEEL_POSITION, result) == value


@pytest.mark.parametrize("result", [True, "1517", None, [1517], {"pos": 1}, {"step": "1"},
                                    math.inf, -math.inf, math.nan, {"step": math.nan}])
def test_parse_int_rejects(result: Any) -> None:
    with pytest.raises(RemoteProtocolError, match="get_focuser_position"):
        results.parse_int("get_focuser_position", result)


def test_non_finite_numbers_from_the_wire_are_protocol_errors() -> None:
    """Python's json accepts NaN/Infinity, so the decoder lets them through to the parsers."""
    (reply,) = rpc.RpcDecoder().feed(
        b'{"jsonrpc":"2.0","method":"get_focuser_position","result":Infinity,"code":0,"id":1}\r\n')
    assert isinstance(reply, rpc.Reply)
    with pytest.raises(RemoteProtocolError):
        results.parse_result(reply.method, reply.result)


def test_parse_result_dispatch() -> None:
    assert isinstance(results.parse_result("get_device_state", {}), results.DeviceState)
    assert isinstance(results.parse_result(Method.GET_VIEW_STATE, {}), results.ViewState)
    assert isinstance(results.parse_result(Method.SCOPE_GET_HORIZ_COORD, [1, 2]), results.HorizCoord)
    assert results.parse_result("iscope_start_view", 0) == results.Generic("iscope_start_view", 0)
    assert results.parse_result("no_such_method", {"x": 1}) == results.Generic("no_such_method", {"x": 1})
    assert results.parse_result(None, 5) == results.Generic("", 5)
