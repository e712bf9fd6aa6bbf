"""Seestar RPC method names and typed request builders: the ONLY module where method strings appear.

Layer: protocol (sans-I/O). Must not import asyncio, sockets, seestar/, indi/, devices/ or sim/.
A builder returns a `Call` (method + params, no id); the engine assigns ids and the verify marker.
Parameter shapes follow seestar-protocol.md and the recorded sessions.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ._params import NO_PARAMS


class Method(enum.StrEnum):
    """Every firmware method this project sends or the fake answers."""

    # state
    GET_DEVICE_STATE = "get_device_state"
    GET_SETTING = "get_setting"
    SET_SETTING = "set_setting"
    GET_VIEW_STATE = "get_view_state"
    GET_APP_STATE = "iscope_get_app_state"
    PI_STATION_STATE = "pi_station_state"
    TEST_CONNECTION = "test_connection"
    PLAY_SOUND = "play_sound"
    # login (§6)
    GET_VERIFY_STR = "get_verify_str"
    VERIFY_CLIENT = "verify_client"
    PI_IS_VERIFIED = "pi_is_verified"
    # discovery (UDP 4720)
    SCAN_ISCOPE = "scan_iscope"
    # mount
    SCOPE_GET_EQU_COORD = "scope_get_equ_coord"
    SCOPE_GET_HORIZ_COORD = "scope_get_horiz_coord"
    SCOPE_GOTO = "scope_goto"
    SCOPE_SYNC = "scope_sync"
    SCOPE_PARK = "scope_park"
    SCOPE_MOVE_TO_HORIZON = "scope_move_to_horizon"
    SCOPE_SET_TRACK_STATE = "scope_set_track_state"
    SCOPE_GET_TRACK_STATE = "scope_get_track_state"
    SCOPE_SPEED_MOVE = "scope_speed_move"
    SCOPE_MOVE = "scope_move"
    # view / imaging
    ISCOPE_START_VIEW = "iscope_start_view"
    ISCOPE_STOP_VIEW = "iscope_stop_view"
    ISCOPE_START_STACK = "iscope_start_stack"
    SET_SEQUENCE_SETTING = "set_sequence_setting"
    SET_CONTROL_VALUE = "set_control_value"
    GET_CONTROL_VALUE = "get_control_value"
    # image port (4800)
    BEGIN_STREAMING = "begin_streaming"
    STOP_STREAMING = "stop_streaming"
    GET_CURRENT_IMG = "get_current_img"
    GET_STACKED_IMG = "get_stacked_img"
    # focuser and wheel
    MOVE_FOCUSER = "move_focuser"
    GET_FOCUSER_POSITION = "get_focuser_position"
    STOP_FOCUSER = "stop_focuser"
    SET_WHEEL_POSITION = "set_wheel_position"
    GET_WHEEL_POSITION = "get_wheel_position"
    GET_WHEEL_STATE = "get_wheel_state"
    GET_WHEEL_SLOT_NAME = "get_wheel_slot_name"
    # extras
    START_AUTO_FOCUS = "start_auto_focuse"  # sic: the firmware's spelling (§10 quirk 1)
    STOP_AUTO_FOCUS = "stop_auto_focuse"  # sic
    START_CREATE_DARK = "start_create_dark"
    STOP_CREATE_DARK = "stop_create_dark"
    START_SOLVE = "start_solve"
    STOP_SOLVE = "stop_solve"
    GET_SOLVE_RESULT = "get_solve_result"
    GET_LAST_SOLVE_RESULT = "get_last_solve_result"
    START_POLAR_ALIGN = "start_polar_align"
    STOP_POLAR_ALIGN = "stop_polar_align"
    PAUSE_POLAR_ALIGN = "pause_polar_align"
    PI_OUTPUT_SET2 = "pi_output_set2"
    PI_REBOOT = "pi_reboot"
    PI_SHUTDOWN = "pi_shutdown"
    SET_USER_LOCATION = "set_user_location"
    GET_USER_LOCATION = "get_user_location"
    PI_SET_TIME = "pi_set_time"
    PI_GET_TIME = "pi_get_time"
    # batch (on-board re-)stacking (§8.9, seeds/seestarpy-batch-stack.txt)
    SET_BATCH_STACK_SETTING = "set_batch_stack_setting"
    GET_BATCH_STACK_SETTING = "get_batch_stack_setting"
    START_BATCH_STACK = "start_batch_stack"
    STOP_BATCH_STACK = "stop_batch_stack"
    CLEAR_BATCH_STACK = "clear_batch_stack"
    CLEAR_APP_STATE = "clear_app_state"
    # new in firmware 7.75 (app 3.2.0); params and results unknown (docs/firmware.md)
    GET_FACTORY_TEST_STATE = "get_factory_test_state"
    GET_PHONE_LIST = "get_phone_list"
    GET_PHOTOMETRY_IMG = "get_photometry_img"
    MOVE_SLEEP_SEC = "move_sleep_sec"
    REMOTE_REBIND_DEVICE_USER = "remote_rebind_device_user"
    SCOPE_GET_TEST_DATE = "scope_get_test_date"


#: The login handshake (§6.2): never carries the verify marker.
LOGIN_METHODS = frozenset({Method.GET_VERIFY_STR, Method.VERIFY_CLIENT, Method.PI_IS_VERIFIED})


class Stage(enum.StrEnum):
    """View stages that `iscope_stop_view` can stop."""

    AUTO_GOTO = "AutoGoto"
    STACK = "Stack"
    CONTINUOUS_EXPOSURE = "ContinuousExposure"
    AUTO_FOCUS = "AutoFocus"
    DARK_LIBRARY = "DarkLibrary"
    PLATE_SOLVE = "PlateSolve"
    SCOPE_GOTO = "ScopeGoto"


@dataclass(frozen=True, slots=True)
class Call:
    """A method and its params, before an id and the verify marker are added."""

    method: Method
    params: Any = NO_PARAMS


# --- state -----------------------------------------------------------------


def get_device_state(keys: list[str] | None = None) -> Call:
    """Full device snapshot, or only the top-level `keys`."""
    return Call(Method.GET_DEVICE_STATE, {"keys": keys} if keys else NO_PARAMS)


def get_setting() -> Call:
    """The settings object."""
    return Call(Method.GET_SETTING)


def set_setting(**settings: Any) -> Call:
    """Change settings (object params; fw 6.70/7.06 refuse a `verify` key inside)."""
    return Call(Method.SET_SETTING, dict(settings))


def set_continuous_exposure_ms(exposure_ms: int) -> Call:
    """Length of each live-preview (ContinuousExposure) frame."""
    return set_setting(exp_ms={"continuous": int(exposure_ms)})


def claim_master(client_name: str | None = None) -> Call:
    """Ask to become the controlling (master) client; optionally label ourselves."""
    settings: dict[str, Any] = {"master_cli": True}
    if client_name:
        settings["cli_name"] = client_name
    return set_setting(**settings)


def driver_control_settings() -> Call:
    """Stop gotos from starting dark frames, autofocus and stacking on their own (§10 quirk 10)."""
    return set_setting(stack_after_goto=False, auto_af=False)


def get_view_state() -> Call:
    """The View session state (mode, stage, nested stage states)."""
    return Call(Method.GET_VIEW_STATE)


def test_connection() -> Call:
    """Heartbeat; answered with "server connected!"."""
    return Call(Method.TEST_CONNECTION)


# --- login -----------------------------------------------------------------


def get_verify_str() -> Call:
    """Ask for the login challenge (fw 7.18+)."""
    return Call(Method.GET_VERIFY_STR)


def verify_client(signature_b64: str, challenge: str) -> Call:
    """Answer the login challenge with its signature."""
    return Call(Method.VERIFY_CLIENT, {"sign": signature_b64, "data": challenge})


def pi_is_verified() -> Call:
    """Whether this connection is logged in (answered even unauthenticated)."""
    return Call(Method.PI_IS_VERIFIED)


# --- mount -----------------------------------------------------------------


def scope_get_equ_coord() -> Call:
    """Current pointing, JNow: result {ra (hours), dec (degrees)}."""
    return Call(Method.SCOPE_GET_EQU_COORD)


def scope_get_horiz_coord() -> Call:
    """Current pointing as [alt, az] degrees."""
    return Call(Method.SCOPE_GET_HORIZ_COORD)


def _coords(ra_hours: float, dec_deg: float, keyed: bool) -> Any:
    """`{"ra", "dec"}` (fw 7.75+, docs/firmware.md fact 1) or the older `[ra, dec]`."""
    if keyed:
        return {"ra": float(ra_hours), "dec": float(dec_deg)}
    return [float(ra_hours), float(dec_deg)]


def scope_goto(ra_hours: float, dec_deg: float, keyed: bool = False) -> Call:
    """Raw slew without plate solving; ends with ScopeGoto complete."""
    return Call(Method.SCOPE_GOTO, _coords(ra_hours, dec_deg, keyed))


def start_view_goto(ra_hours: float, dec_deg: float, target_name: str, lp_filter: bool = False) -> Call:
    """Plate-solve-centred goto in star mode; ends with AutoGoto complete/fail."""
    return Call(
        Method.ISCOPE_START_VIEW,
        {
            "mode": "star",
            "target_ra_dec": [float(ra_hours), float(dec_deg)],
            "target_name": target_name,
            "lp_filter": bool(lp_filter),
        },
    )


def start_view_star() -> Call:
    """Star mode without a target: the live preview (ContinuousExposure) where the scope points."""
    return Call(Method.ISCOPE_START_VIEW, {"mode": "star"})


def stop_view(stage: Stage | None = None) -> Call:
    """Stop one stage, or the whole view when `stage` is None."""
    return Call(Method.ISCOPE_STOP_VIEW, {"stage": str(stage)} if stage else NO_PARAMS)


def scope_sync(ra_hours: float, dec_deg: float, keyed: bool = False) -> Call:
    """Tell the mount it points at (ra, dec) JNow."""
    return Call(Method.SCOPE_SYNC, _coords(ra_hours, dec_deg, keyed))


def scope_park(equ_mode: bool | None = None) -> Call:
    """Fold the arm (park); with `equ_mode` also switch mount mode."""
    return Call(Method.SCOPE_PARK, {"equ_mode": equ_mode} if equ_mode is not None else NO_PARAMS)


def scope_move_to_horizon() -> Call:
    """Open the arm (unpark)."""
    return Call(Method.SCOPE_MOVE_TO_HORIZON)


def scope_set_track_state(tracking: bool) -> Call:
    """Sidereal tracking on or off (bare boolean param)."""
    return Call(Method.SCOPE_SET_TRACK_STATE, bool(tracking))


def scope_speed_move(speed: int, angle_deg: int, duration_s: int) -> Call:
    """Joystick move, old form {speed, angle, dur_sec}; speed 0 stops. 240 ~ 1 deg/s."""
    return Call(
        Method.SCOPE_SPEED_MOVE,
        {"speed": int(speed), "angle": int(angle_deg) % 360, "dur_sec": int(duration_s)},
    )


def scope_speed_move_level(level: int, angle_deg: int, duration_s: int, percent: int) -> Call:
    """Joystick move, new form {angle, level, dur_sec, percent}; percent 0 stops."""
    return Call(
        Method.SCOPE_SPEED_MOVE,
        {"angle": int(angle_deg) % 360, "level": int(level), "dur_sec": int(duration_s), "percent": int(percent)},
    )


def scope_abort_slew() -> Call:
    """The app's "abort slew": scope_move ["none"]."""
    return Call(Method.SCOPE_MOVE, ["none"])


# --- imaging ---------------------------------------------------------------


def set_gain(gain: int) -> Call:
    """Sensor gain 0..400 (>= 80 selects high conversion gain on the IMX462)."""
    return Call(Method.SET_CONTROL_VALUE, ["gain", int(gain)])


def begin_streaming() -> Call:
    """(4800) push every preview frame."""
    return Call(Method.BEGIN_STREAMING)


def stop_streaming() -> Call:
    """(4800) stop pushing preview frames."""
    return Call(Method.STOP_STREAMING)


def get_current_img() -> Call:
    """(4800) one frame with the current preview."""
    return Call(Method.GET_CURRENT_IMG)


def get_stacked_img() -> Call:
    """(4800) one ZIP frame with the current live stack (RGB)."""
    return Call(Method.GET_STACKED_IMG)


def start_stack(restart: bool = True) -> Call:
    """Start (or continue, restart=False) live stacking."""
    return Call(Method.ISCOPE_START_STACK, {"restart": bool(restart)})


# --- focuser and wheel -----------------------------------------------------


def move_focuser(position_steps: int) -> Call:
    """Absolute focuser move; ends with FocuserMove complete."""
    return Call(Method.MOVE_FOCUSER, {"step": int(position_steps), "ret_step": True})


def get_focuser_position() -> Call:
    """Focuser position in steps (bare integer result)."""
    return Call(Method.GET_FOCUSER_POSITION)


def stop_focuser() -> Call:
    """Stop a focuser move."""
    return Call(Method.STOP_FOCUSER)


def set_wheel_position(slot: int) -> Call:
    """Wheel slot 0 Dark, 1 IR-cut, 2 LP; ends with WheelMove complete."""
    return Call(Method.SET_WHEEL_POSITION, [int(slot)])


def get_wheel_position() -> Call:
    """Current wheel slot (bare integer result)."""
    return Call(Method.GET_WHEEL_POSITION)


# --- extras ----------------------------------------------------------------


def start_auto_focus() -> Call:
    """Firmware autofocus (needs a star view)."""
    return Call(Method.START_AUTO_FOCUS)


def stop_auto_focus() -> Call:
    """Stop firmware autofocus."""
    return Call(Method.STOP_AUTO_FOCUS)


def start_create_dark() -> Call:
    """Build the dark library (wheel to Dark and back)."""
    return Call(Method.START_CREATE_DARK)


def stop_create_dark() -> Call:
    """Stop building the dark library."""
    return Call(Method.STOP_CREATE_DARK)


def start_solve() -> Call:
    """Plate-solve the current view; PlateSolve events carry the result."""
    return Call(Method.START_SOLVE)


def stop_solve() -> Call:
    """Stop a running plate solve."""
    return Call(Method.STOP_SOLVE)


def get_solve_result() -> Call:
    """Result of the last solve (215 when there is none)."""
    return Call(Method.GET_SOLVE_RESULT)


def set_dew_heater(power_percent: int) -> Call:
    """Dew heater power 0..100 (0 = off)."""
    power = max(0, min(100, int(power_percent)))
    return Call(Method.PI_OUTPUT_SET2, {"heater": {"state": power > 0, "value": power}})


def start_polar_align(dec_pos_index: int = 3, restart: bool = True) -> Call:
    """3-point polar alignment (EQ mode); dec_pos_index 1..5 chooses the arm position (3 = zenith)."""
    return Call(Method.START_POLAR_ALIGN, {"restart": bool(restart), "dec_pos_index": int(dec_pos_index)})


def stop_polar_align() -> Call:
    """End the polar alignment."""
    return Call(Method.STOP_POLAR_ALIGN)


def pause_polar_align() -> Call:
    """Pause the polar alignment's refresh (resume with start_polar_align restart=False)."""
    return Call(Method.PAUSE_POLAR_ALIGN)


def set_dark_mode(dark: bool) -> Call:
    """The scope's LEDs off (dark mode) or on."""
    return set_setting(dark_mode=bool(dark))


def pi_reboot() -> Call:
    """Reboot the scope (ALP parks it first)."""
    return Call(Method.PI_REBOOT)


def pi_shutdown() -> Call:
    """Shut the scope down (ALP parks it first)."""
    return Call(Method.PI_SHUTDOWN)


def set_user_location(lat_deg: float, lon_deg: float) -> Call:
    """Site latitude and longitude (east positive, -180..180)."""
    return Call(Method.SET_USER_LOCATION, {"lat": float(lat_deg), "lon": float(lon_deg), "force": True})


def pi_set_time(utc: datetime, time_zone: str = "UTC") -> Call:
    """Set the scope's clock: a bare object on every firmware.

    The list-wrapped form `[{...}]` gets the verify marker appended, and `[{...}, "verify"]`
    is answered 107 "expected object param" from 7.06 on (recorded; seestar_alp #748 on 7.75,
    #758 on 8.46), which leaves the clock unset and the mount unable to slew.
    A naive `utc` is taken as UTC; an aware one is converted to UTC first.
    """
    if utc.tzinfo is not None:
        utc = utc.astimezone(UTC)
    return Call(
        Method.PI_SET_TIME,
        {
            "year": utc.year,
            "mon": utc.month,
            "day": utc.day,
            "hour": utc.hour,
            "min": utc.minute,
            "sec": utc.second,
            "time_zone": time_zone,
        },
    )


# --- batch stacking (§8.9) ---------------------------------------------------


def set_batch_stack_setting(path: str, names: list[str]) -> Call:
    """Choose the subs of the next batch stack: folder `path`, file `names` (full paths from 7.75)."""
    return Call(Method.SET_BATCH_STACK_SETTING, {"path": path, "files": [{"name": n} for n in names]})


def start_batch_stack() -> Call:
    """Start the batch stack chosen with set_batch_stack_setting; BatchStack events follow."""
    return Call(Method.START_BATCH_STACK)


def stop_batch_stack() -> Call:
    """Stop a running batch stack."""
    return Call(Method.STOP_BATCH_STACK)


def clear_batch_stack() -> Call:
    """Reset the batch stack state (7.75's own call)."""
    return Call(Method.CLEAR_BATCH_STACK)


def clear_app_state(name: str) -> Call:
    """Reset one app state, e.g. "BatchStack" (what app 3.0.2 sends after a batch stack)."""
    return Call(Method.CLEAR_APP_STATE, {"name": name})


def get_app_state() -> Call:
    """`iscope_get_app_state`: the app-level states (BatchStack progress among them)."""
    return Call(Method.GET_APP_STATE)
