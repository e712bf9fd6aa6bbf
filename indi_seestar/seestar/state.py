"""ScopeState: the snapshot the devices read, rebuilt from polls and updated from events.

Layer: seestar (asyncio engine), pure functions. Must not import indi/, devices/ or sim/.
`from_device_state` merges a `get_device_state` poll; `apply_event` folds one control
event in. Both return a new frozen value (the same object when nothing changed), so
listeners can be told only about real changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..protocol.events import TERMINAL_STATES, EventName, StageState
from ..protocol.results import DeviceState, EquCoord, WideCamera
from ..protocol.rpc import Event

_RUNNING = frozenset({StageState.START, StageState.WORKING, StageState.FRAME_COMPLETE})


@dataclass(frozen=True, slots=True)
class ScopeState:
    """What the engine knows about the scope; None means not known yet."""

    model: str = ""
    firmware: str = ""
    firmware_ver_int: int = 0
    logged_in: bool = False
    is_master: bool | None = None
    serial: str = ""
    # optics and sensor
    focal_length_mm: float = 0.0
    f_number: float = 0.0
    chip_width_px: int = 1080
    chip_height_px: int = 1920
    pixel_size_um: float = 2.9
    cfa: str = "GRBG"
    wide_camera: WideCamera | None = None  # S30 family's second camera
    # mount
    equ_mode: bool = False
    tracking: bool = False
    parked: bool = False
    slewing: bool = False
    goto_centering: bool = False
    ra_hours: float | None = None
    dec_deg: float | None = None
    lat_deg: float | None = None
    lon_east_deg: float | None = None
    # focuser and wheel
    focuser_max_steps: int = 2600
    focuser_position_steps: int | None = None
    focuser_moving: bool = False
    wheel_slot: int | None = None
    wheel_moving: bool = False
    # camera pipeline
    continuous_exposure_ms: int | None = None
    preview_active: bool | None = None
    stacking: bool = False
    stacked_frames: int = 0
    # environment
    temperature_c: float | None = None
    battery_percent: int | None = None
    heater_enabled: bool = False

    @property
    def aperture_mm(self) -> float:
        """Aperture from focal length and f-number (250 mm f/5 -> 50 mm)."""
        return self.focal_length_mm / self.f_number if self.f_number else 0.0


def from_device_state(state: ScopeState, device: DeviceState) -> ScopeState:
    """`state` with everything `get_device_state` reports."""
    return evolve(
        state,
        model=device.product_model,
        firmware=device.firmware_ver_string,
        firmware_ver_int=device.firmware_ver_int,
        is_master=device.is_master if device.is_master is not None else state.is_master,
        serial=device.serial or state.serial,
        focal_length_mm=device.focal_length_mm,
        f_number=device.f_number,
        chip_width_px=device.chip_width_px,
        chip_height_px=device.chip_height_px,
        pixel_size_um=device.pixel_size_um,
        cfa=device.cfa,
        wide_camera=device.wide_camera,
        equ_mode=device.equ_mode,
        tracking=device.tracking,
        parked=device.parked,
        slewing=device.mount_moving,
        lat_deg=device.lat_deg,
        lon_east_deg=device.lon_deg,
        focuser_max_steps=device.focuser_max_steps,
        focuser_position_steps=device.focuser_position_steps,
        focuser_moving=device.focuser_moving,
        continuous_exposure_ms=device.continuous_exposure_ms,
        temperature_c=device.board_temp_c if device.board_temp_c is not None else state.temperature_c,
        heater_enabled=device.heater_enabled,
    )


def with_coord(state: ScopeState, coord: EquCoord) -> ScopeState:
    """`state` with a polled pointing."""
    return evolve(state, ra_hours=coord.ra_hours, dec_deg=coord.dec_deg)


def apply_event(state: ScopeState, event: Event) -> ScopeState:
    """`state` updated by one control event (unknown events change nothing)."""
    handler = _HANDLERS.get(event.name)
    if handler is None:
        return state
    changes = handler(event)
    return evolve(state, **changes) if changes else state


def evolve(state: ScopeState, **changes: Any) -> ScopeState:
    """`state` with `changes`, or the same object when they change nothing."""
    if all(getattr(state, key) == value for key, value in changes.items()):
        return state
    return dataclasses.replace(state, **changes)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _scope_goto(ev: Event) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if ev.state is not None:
        changes["slewing"] = ev.state not in TERMINAL_STATES
    cur = ev.get("cur_ra_dec")
    if isinstance(cur, list) and len(cur) == 2 and all(_num(v) is not None for v in cur):
        changes["ra_hours"], changes["dec_deg"] = float(cur[0]), float(cur[1])
    return changes


def _scope_track(ev: Event) -> dict[str, Any]:
    tracking = ev.get("tracking")
    if isinstance(tracking, bool):
        return {"tracking": tracking}
    if ev.state in (StageState.ON, StageState.OFF):
        return {"tracking": ev.state == StageState.ON}
    return {}


def _park_event(parking: bool) -> Callable[[Event], dict[str, Any]]:
    def handler(ev: Event) -> dict[str, Any]:
        if ev.state == StageState.COMPLETE:
            close = ev.get("close")
            return {"parked": close if isinstance(close, bool) else parking, "slewing": False}
        if ev.state in _RUNNING:
            return {"slewing": True}
        if ev.state in TERMINAL_STATES:
            return {"slewing": False}
        return {}
    return handler


def _mount_mode(ev: Event) -> dict[str, Any]:
    equ = ev.get("equ_mode")
    return {"equ_mode": equ} if isinstance(equ, bool) else {}


def _move_event(position_field: str, moving_field: str,
                *, position_when_complete: bool) -> Callable[[Event], dict[str, Any]]:
    """Handler for FocuserMove/WheelMove: the position (always, or only at the end) and a moving flag."""
    def handler(ev: Event) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        position = _int(ev.get("position"))
        if position is not None and (ev.state == StageState.COMPLETE or not position_when_complete):
            changes[position_field] = position
        if ev.state is not None:
            changes[moving_field] = ev.state not in TERMINAL_STATES
        return changes
    return handler


def _pi_status(ev: Event) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    temp = _num(ev.get("temp"))
    if temp is not None:
        changes["temperature_c"] = temp
    battery = _int(ev.get("battery_capacity"))
    if battery is not None:
        changes["battery_percent"] = battery
    return changes


def _setting(ev: Event) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    exp = ev.get("exp_ms")
    if isinstance(exp, dict) and _num(exp.get("continuous")) is not None:
        changes["continuous_exposure_ms"] = int(exp["continuous"])
    heater = ev.get("heater_enable")
    if isinstance(heater, bool):
        changes["heater_enabled"] = heater
    return changes


def _running_flag(ev: Event, field_name: str) -> dict[str, Any]:
    """`{field_name: True}` while the stage runs, False once it ended, nothing otherwise."""
    if ev.state in _RUNNING:
        return {field_name: True}
    if ev.state in TERMINAL_STATES:
        return {field_name: False}
    return {}


def _view(ev: Event) -> dict[str, Any]:
    if ev.state in TERMINAL_STATES:  # the whole view session ended
        return {"preview_active": False, "stacking": False, "goto_centering": False}
    return {}


def _stack(ev: Event) -> dict[str, Any]:
    changes = _running_flag(ev, "stacking")
    stacked = _int(ev.get("stacked_frame"))
    if stacked is not None:
        changes["stacked_frames"] = stacked
    return changes


def _client(ev: Event) -> dict[str, Any]:
    master = ev.get("is_master")
    return {"is_master": master} if isinstance(master, bool) else {}


_HANDLERS: dict[str, Callable[[Event], dict[str, Any]]] = {
    EventName.SCOPE_GOTO: _scope_goto,
    EventName.SCOPE_TRACK: _scope_track,
    EventName.SCOPE_HOME: _park_event(True),
    EventName.SCOPE_MOVE_TO_HORIZON: _park_event(False),
    EventName.MOUNT_MODE: _mount_mode,
    EventName.FOCUSER_MOVE: _move_event("focuser_position_steps", "focuser_moving",
                                        position_when_complete=False),
    # WheelMove start may carry the target slot: the wheel is only there once complete
    EventName.WHEEL_MOVE: _move_event("wheel_slot", "wheel_moving", position_when_complete=True),
    EventName.PI_STATUS: _pi_status,
    EventName.SETTING: _setting,
    EventName.CONTINUOUS_EXPOSURE: lambda ev: _running_flag(ev, "preview_active"),
    EventName.VIEW: _view,
    EventName.STACK: _stack,
    EventName.AUTO_GOTO: lambda ev: _running_flag(ev, "goto_centering"),
    EventName.CLIENT: _client,
}
