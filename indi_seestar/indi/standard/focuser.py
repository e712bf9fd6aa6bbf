"""Standard focuser and filter wheel properties (libindi Focuser/FilterInterface) (layer indi/).

Must not import protocol/, seestar/, devices/ or sim/.
"""

from __future__ import annotations

from collections.abc import Sequence

from indi_seestar.indi.model import NumberVector, SwitchVector, TextVector
from indi_seestar.indi.standard._build import (
    FILTER_WHEEL,
    MAIN_CONTROL,
    abort_button,
    choice,
    numbers,
    one_number,
    texts,
)


def abs_focus_position(
    device: str,
    *,
    min_steps: float = 0,
    max_steps: float = 100000,
    value_steps: float = 0,
    step_steps: float = 1000,
) -> NumberVector:
    """ABS_FOCUS_POSITION: FOCUS_ABSOLUTE_POSITION (steps, min..max)."""
    member = one_number(
        "FOCUS_ABSOLUTE_POSITION", "Steps", "%.f", min_steps, max_steps, step_steps, value_steps
    )
    return numbers(device, "ABS_FOCUS_POSITION", "Absolute Position", MAIN_CONTROL, [member])


def rel_focus_position(
    device: str, *, max_steps: float = 100000, value_steps: float = 0
) -> NumberVector:
    """REL_FOCUS_POSITION: FOCUS_RELATIVE_POSITION (steps; direction from FOCUS_MOTION)."""
    member = one_number("FOCUS_RELATIVE_POSITION", "Steps", "%.f", 0, max_steps, 1000, value_steps)
    return numbers(device, "REL_FOCUS_POSITION", "Relative Position", MAIN_CONTROL, [member])


def focus_motion(device: str) -> SwitchVector:
    """FOCUS_MOTION: FOCUS_INWARD (On), FOCUS_OUTWARD."""
    options = [("FOCUS_INWARD", "Focus In"), ("FOCUS_OUTWARD", "Focus Out")]
    return choice(device, "FOCUS_MOTION", "Direction", MAIN_CONTROL, options, 0)


def focus_abort_motion(device: str) -> SwitchVector:
    """FOCUS_ABORT_MOTION (AtMostOne button): ABORT."""
    return abort_button(device, "FOCUS_ABORT_MOTION", "Abort Motion", MAIN_CONTROL)


def focus_max(
    device: str, value_steps: float, *, min_steps: float = 1e3, max_steps: float = 1e6
) -> NumberVector:
    """FOCUS_MAX: FOCUS_MAX_VALUE (steps)."""
    member = one_number("FOCUS_MAX_VALUE", "Steps", "%.f", min_steps, max_steps, 1e4, value_steps)
    return numbers(device, "FOCUS_MAX", "Max. Position", MAIN_CONTROL, [member])


def filter_slot(device: str, count: int, value: int = 1) -> NumberVector:
    """FILTER_SLOT: FILTER_SLOT_VALUE (1..count)."""
    member = one_number("FILTER_SLOT_VALUE", "Filter", "%.f", 1, count, 1, value)
    return numbers(device, "FILTER_SLOT", "Filter Slot", FILTER_WHEEL, [member])


def filter_name(device: str, names: Sequence[str]) -> TextVector:
    """FILTER_NAME: FILTER_SLOT_NAME_1..N labelled Filter#i (N must equal FILTER_SLOT max)."""
    members = [(f"FILTER_SLOT_NAME_{i}", f"Filter#{i}", n) for i, n in enumerate(names, start=1)]
    return texts(device, "FILTER_NAME", "Filter", FILTER_WHEEL, members, timeout_s=0)
