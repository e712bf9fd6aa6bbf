"""Requests that make images: gain, frames, stacking, focuser, wheel, autofocus, darks, plate solve, batch stacking.

Layer: protocol (sans-I/O). Typed builders: each returns a `methods.Call` (method + params, no id);
the engine assigns ids and the verify marker. Method names come from `methods.Method` only.
Parameter shapes follow seestar-protocol.md and the recorded sessions.
"""

from __future__ import annotations

from .methods import Call, Method


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


# --- services --------------------------------------------------------------


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


# --- batch stacking (§8.9) -------------------------------------------------


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
