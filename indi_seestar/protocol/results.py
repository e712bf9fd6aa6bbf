"""Typed views of reply results (get_device_state, coordinates, view state, ...).

Layer: protocol (sans-I/O). Parsing is tolerant of missing keys (firmware differs) and strict
about types: a value of the wrong type raises RemoteProtocolError naming the key.
`parse_result(method, result)` maps every reply to a typed value; unknown methods keep the raw
JSON value in `Generic`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..errors import RemoteProtocolError
from .methods import Method

T = TypeVar("T")

#: Seestar `debayer_pattern` (first two letters) -> the four-letter CFA name INDI uses.
_CFA = {"GR": "GRBG", "RG": "RGGB", "GB": "GBRG", "BG": "BGGR"}


def _checked(key: str, value: Any, kinds: tuple[type, ...]) -> Any:
    """`value` if it is one of `kinds` (an int is accepted for a float); RemoteProtocolError if not."""
    names = "/".join(k.__name__ for k in kinds)
    if isinstance(value, bool) and bool not in kinds:  # bool is an int subclass: not a number here
        raise RemoteProtocolError(f"{key}: expected {names}, got a boolean")
    if float in kinds and int not in kinds and isinstance(value, int):
        value = float(value)
    if not isinstance(value, kinds):
        raise RemoteProtocolError(f"{key}: expected {names}, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):  # Python's json accepts NaN/Infinity
        raise RemoteProtocolError(f"{key}: expected a finite number, got {value}")
    return value


def _get(obj: dict[str, Any], key: str, kind: type[T] | tuple[type, ...], default: T) -> T:
    value = obj.get(key)
    if value is None:
        return default
    return _checked(key, value, kind if isinstance(kind, tuple) else (kind,))  # type: ignore[no-any-return]


def _optional(obj: dict[str, Any], key: str, kind: type) -> Any:
    """Like `_get` with None for a missing key."""
    value = obj.get(key)
    return None if value is None else _checked(key, value, (kind,))


def _obj(obj: dict[str, Any], key: str) -> dict[str, Any]:
    return _get(obj, key, dict, {})


def _pair(obj: dict[str, Any], key: str, default: tuple[float, float]) -> tuple[float, float]:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, list) or len(value) != 2:
        raise RemoteProtocolError(f"{key}: expected a pair of numbers")
    return _checked(key, value[0], (float,)), _checked(key, value[1], (float,))


def _int_pair(obj: dict[str, Any], key: str, default: tuple[int, int]) -> tuple[int, int]:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, list) or len(value) != 2:
        raise RemoteProtocolError(f"{key}: expected a pair of integers")
    return _checked(key, value[0], (int,)), _checked(key, value[1], (int,))


@dataclass(frozen=True, slots=True)
class WideCamera:
    """The `second_camera` section (S30 family): the wide-angle camera's sensor."""

    width_px: int
    height_px: int
    pixel_size_um: float
    cfa: str
    #: `device.can_star_mode_sel_cam`: it streams in star mode (SecondView, 4804). True on the
    #: S30P, false on the S30 (seestar_alp emulator notes; S30 7.06 recording).
    star_mode: bool = False
    #: `setting.second_camera.exp_ms.continuous`: the wide preview's exposure (1000 recorded).
    exposure_ms: int = 1000


@dataclass(frozen=True, slots=True)
class DeviceState:
    """The parts of `get_device_state` the driver uses."""

    product_model: str = ""
    firmware_ver_int: int = 0
    firmware_ver_string: str = ""
    is_verified: bool = False
    #: The scope's serial number (`device.sn`); "" when not reported. Keys its session lock.
    serial: str = ""
    focal_length_mm: float = 0.0
    f_number: float = 0.0
    chip_width_px: int = 1080
    chip_height_px: int = 1920
    pixel_size_um: float = 2.9
    cfa: str = "GRBG"
    focuser_max_steps: int = 2600
    focuser_position_steps: int = 0
    focuser_moving: bool = False
    mount_moving: bool = False
    parked: bool = False
    tracking: bool = False
    equ_mode: bool = False
    lon_deg: float = 0.0
    lat_deg: float = 0.0
    continuous_exposure_ms: int = 500
    heater_enabled: bool = False
    lp_filter: bool = False
    board_temp_c: float | None = None
    is_master: bool | None = None
    wide_camera: WideCamera | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def aperture_mm(self) -> float:
        """Aperture from focal length and f-number (250 mm f/5 -> 50 mm)."""
        return self.focal_length_mm / self.f_number if self.f_number else 0.0


def parse_device_state(result: Any) -> DeviceState:
    """Typed view of a `get_device_state` result."""
    if not isinstance(result, dict):
        raise RemoteProtocolError("get_device_state: result is not an object")
    device, camera = _obj(result, "device"), _obj(result, "camera")
    focuser, mount = _obj(result, "focuser"), _obj(result, "mount")
    setting, pi_status, client = _obj(result, "setting"), _obj(result, "pi_status"), _obj(result, "client")
    width, height = _int_pair(camera, "chip_size", (1080, 1920))
    lon, lat = _pair(result, "location_lon_lat", (0.0, 0.0))
    exp_ms = _obj(setting, "exp_ms")
    return DeviceState(
        product_model=_get(device, "product_model", str, ""),
        firmware_ver_int=_get(device, "firmware_ver_int", int, 0),
        firmware_ver_string=_get(device, "firmware_ver_string", str, ""),
        is_verified=_get(device, "is_verified", bool, False),
        serial=_get(device, "sn", str, ""),
        focal_length_mm=_get(device, "focal_len", float, 0.0),
        f_number=_get(device, "fnumber", float, 0.0),
        chip_width_px=width,
        chip_height_px=height,
        pixel_size_um=_get(camera, "pixel_size_um", float, 2.9),
        cfa=_CFA.get(_get(camera, "debayer_pattern", str, "GR")[:2].upper(), "GRBG"),
        focuser_max_steps=_get(focuser, "max_step", int, 2600),
        focuser_position_steps=_get(focuser, "step", int, 0),
        focuser_moving=_get(focuser, "state", str, "idle") != "idle",
        mount_moving=_get(mount, "move_type", str, "none") != "none",
        parked=_get(mount, "close", bool, False),
        tracking=_get(mount, "tracking", bool, False),
        equ_mode=_get(mount, "equ_mode", bool, False),
        lon_deg=lon,
        lat_deg=lat,
        continuous_exposure_ms=int(_get(exp_ms, "continuous", (int, float), 500)),
        heater_enabled=_get(setting, "heater_enable", bool, False),
        lp_filter=_get(setting, "stack_lenhance", bool, False),
        board_temp_c=_optional(pi_status, "temp", float),
        is_master=_optional(client, "is_master", bool),
        wide_camera=_wide_camera(result, device),
        raw=result,
    )


def _wide_camera(result: dict[str, Any], device: dict[str, Any]) -> WideCamera | None:
    """The `second_camera` section, None when the scope has no wide camera."""
    second = result.get("second_camera")
    if second is None:
        return None
    second = _obj(result, "second_camera")
    width, height = _int_pair(second, "chip_size", (1920, 1080))
    settings = _obj(_obj(_obj(result, "setting"), "second_camera"), "exp_ms")
    return WideCamera(width, height, _get(second, "pixel_size_um", float, 2.7),
                      _CFA.get(_get(second, "debayer_pattern", str, "RG")[:2].upper(), "RGGB"),
                      _get(device, "can_star_mode_sel_cam", bool, False),
                      int(_get(settings, "continuous", (int, float), 1000)))


@dataclass(frozen=True, slots=True)
class EquCoord:
    """Pointing, JNow."""

    ra_hours: float
    dec_deg: float


def parse_equ_coord(result: Any) -> EquCoord:
    """`scope_get_equ_coord` -> {ra: hours, dec: degrees}."""
    if not isinstance(result, dict):
        raise RemoteProtocolError("scope_get_equ_coord: result is not an object")
    return EquCoord(_get(result, "ra", float, 0.0), _get(result, "dec", float, 0.0))


@dataclass(frozen=True, slots=True)
class HorizCoord:
    """Pointing, horizontal."""

    alt_deg: float
    az_deg: float


def parse_horiz_coord(result: Any) -> HorizCoord:
    """`scope_get_horiz_coord` -> [alt, az] degrees."""
    alt, az = _pair({"v": result}, "v", (0.0, 0.0))
    return HorizCoord(alt, az)


@dataclass(frozen=True, slots=True)
class ViewState:
    """`get_view_state`: the View session and its current stage."""

    state: str = "idle"
    mode: str = "none"
    stage: str = ""
    stage_state: str = ""
    target_name: str = ""
    gain: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def parse_view_state(result: Any) -> ViewState:
    """Typed view of a `get_view_state` result (`{"View": {...}}`)."""
    if not isinstance(result, dict):
        raise RemoteProtocolError("get_view_state: result is not an object")
    view = _obj(result, "View")
    stage = _get(view, "stage", str, "")
    stage_obj = _obj(view, stage) if stage else {}
    return ViewState(
        state=_get(view, "state", str, "idle"),
        mode=_get(view, "mode", str, "none"),
        stage=stage,
        stage_state=_get(stage_obj, "state", str, ""),
        target_name=_get(view, "target_name", str, ""),
        gain=_optional(view, "gain", int),
        raw=result,
    )


def parse_int(method: str, result: Any) -> int:
    """A bare integer result (focuser position, wheel slot), also `{step: n}`."""
    if isinstance(result, dict) and "step" in result:
        result = result["step"]
    if isinstance(result, bool) or not isinstance(result, (int, float)):
        raise RemoteProtocolError(f"{method}: expected an integer result")
    if isinstance(result, float) and not math.isfinite(result):
        raise RemoteProtocolError(f"{method}: expected an integer result, got {result}")
    return int(result)


@dataclass(frozen=True, slots=True)
class Generic:
    """A result we keep as raw JSON."""

    method: str
    value: Any


def parse_result(method: str | None, result: Any) -> Any:
    """The typed value for a reply's result; RemoteProtocolError when its shape is wrong."""
    match method:
        case Method.GET_DEVICE_STATE:
            return parse_device_state(result)
        case Method.SCOPE_GET_EQU_COORD:
            return parse_equ_coord(result)
        case Method.SCOPE_GET_HORIZ_COORD:
            return parse_horiz_coord(result)
        case Method.GET_VIEW_STATE:
            return parse_view_state(result)
        case Method.GET_FOCUSER_POSITION | Method.GET_WHEEL_POSITION:
            return parse_int(method, result)
        case _:
            return Generic(method or "", result)
