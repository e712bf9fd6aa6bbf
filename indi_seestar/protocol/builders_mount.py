"""Requests that point the scope: coordinates, view gotos, sync, park, tracking, joystick, polar alignment.

Layer: protocol (sans-I/O). Typed builders: each returns a `methods.Call` (method + params, no id);
the engine assigns ids and the verify marker. Method names come from `methods.Method` only.
Parameter shapes follow seestar-protocol.md and the recorded sessions.
"""

from __future__ import annotations

from typing import Any

from ._params import NO_PARAMS
from .methods import Call, Method, Stage


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


# --- polar alignment -------------------------------------------------------


def start_polar_align(dec_pos_index: int = 3, restart: bool = True) -> Call:
    """3-point polar alignment (EQ mode); dec_pos_index 1..5 chooses the arm position (3 = zenith)."""
    return Call(Method.START_POLAR_ALIGN, {"restart": bool(restart), "dec_pos_index": int(dec_pos_index)})


def stop_polar_align() -> Call:
    """End the polar alignment."""
    return Call(Method.STOP_POLAR_ALIGN)


def pause_polar_align() -> Call:
    """Pause the polar alignment's refresh (resume with start_polar_align restart=False)."""
    return Call(Method.PAUSE_POLAR_ALIGN)
