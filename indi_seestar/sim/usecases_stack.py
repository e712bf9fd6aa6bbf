"""Live-stack knobs and rules of the fake Seestar: sub lengths, cloud, failure codes, drizzle.

Layer: sim (protocol only). ViewOps (usecases_camera) runs the stack loop and consults these;
tests set the knobs on `fake.view.stack_knobs` from the fake's loop (`rig.fake_call`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..protocol.codes import ErrorCode, describe

#: stack_l values the firmware takes (seestar-protocol.md §8.2, SPY raw.py): 10/20/30/60 s, and
#: 2/5 s with expert_mode on. Anything else: 207 "fail to operate" [unverified: the real code
#: for a refused stack_l is not recorded].
STACK_SUB_MS = frozenset({10000, 20000, 30000, 60000})
EXPERT_STACK_SUB_MS = frozenset({2000, 5000})
#: stack_dither values the fake accepts [unverified bounds: the app offers 10..200 px, every 1..50].
DITHER_PIX_RANGE = (1, 500)
DITHER_INTERVAL_RANGE = (1, 100)


@dataclass
class StackKnobs:
    """Fault knobs of the live stack (set from the fake's loop)."""

    #: Reject the next N subs as clouded over (frame_complete with code 263, dropped_frame + 1).
    cloudy_subs: int = 0
    #: End the stack with this firmware code (263, 264, 530...) after `fail_after_subs` subs.
    fail_code: int | None = None
    fail_after_subs: int = 0
    #: Cut the next stacked image on 4800 short (half its ZIP, then the connection is dropped).
    truncate_next_image: bool = False

    def take_cloud(self) -> bool:
        """True if this sub is to be rejected as cloud (consumes one)."""
        if self.cloudy_subs <= 0:
            return False
        self.cloudy_subs -= 1
        return True

    def take_failure(self, subs_done: int) -> tuple[int, str] | None:
        """(code, text) when the stack is to fail now (consumes the knob)."""
        if self.fail_code is None or subs_done < self.fail_after_subs:
            return None
        code, self.fail_code = self.fail_code, None
        return code, _stack_text(code)


def _stack_text(code: int) -> str:
    return describe(code) if code not in (ErrorCode.TOO_FEW_STARS, ErrorCode.TRANSFORM_FAILED) else {
        ErrorCode.TOO_FEW_STARS: "stack error: too few stars",
        ErrorCode.TRANSFORM_FAILED: "stack error: transform failed"}[ErrorCode(code)]


def stack_setting_error(settings: dict[str, Any], params: dict[str, Any]) -> ErrorCode | None:
    """The code a set_setting with these params is refused with (stack keys only), or None."""
    exp = params.get("exp_ms")
    if isinstance(exp, dict) and "stack_l" in exp:
        value = exp["stack_l"]
        expert = bool(params.get("expert_mode", settings.get("expert_mode", False)))
        allowed = STACK_SUB_MS | (EXPERT_STACK_SUB_MS if expert else frozenset())
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) not in allowed:
            return ErrorCode.FAIL_TO_OPERATE
    dither = params.get("stack_dither")
    if isinstance(dither, dict):
        for key, (low, high) in (("pix", DITHER_PIX_RANGE), ("interval", DITHER_INTERVAL_RANGE)):
            value = dither.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or not low <= value <= high):
                return ErrorCode.FAIL_TO_OPERATE
    return None


def drizzled(avg: np.ndarray, drizzle2x: bool) -> np.ndarray:
    """The (960, 540, 3) half-resolution average as the firmware's stack: 1920x1080, or 2x that."""
    factor = 4 if drizzle2x else 2
    return np.repeat(np.repeat(avg, factor, axis=0), factor, axis=1)
