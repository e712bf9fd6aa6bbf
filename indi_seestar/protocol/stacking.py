"""The live stack's settings and events as typed values (sans-I/O).

Layer: protocol. Settings live in the `setting` object (`get_setting`, seestar-protocol.md
§8.2, §8.4): exp_ms.stack_l, stack_dither {pix, interval, enable}, stack_lenhance (LP filter,
moves the wheel, so it is sent alone), stack {dbe, star_correction, drizzle2x,
save_discrete_frame}, expert_mode (allows 2 s and 5 s subs). Stack events (§3.2) carry
stacked_frame, dropped_frame, total_frame, lapse_ms, frame_errcode, error/code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from . import builders_session
from .codes import describe
from .methods import Call

#: Sub lengths (s) the firmware takes (§8.2); the expert ones need expert_mode.
SUB_LENGTHS_S = (10, 20, 30, 60)
EXPERT_SUB_LENGTHS_S = (2, 5)


@dataclass(frozen=True, slots=True)
class StackSettings:
    """What the app may set for a live stack (firmware defaults as the field defaults)."""

    sub_s: int = 10
    expert_mode: bool = False
    dither_enabled: bool = True
    dither_pix: int = 100
    dither_every: int = 5
    lp_filter: bool = False
    dbe: bool = False
    star_correction: bool = True
    drizzle2x: bool = False
    save_subs: bool = False

    def allowed_subs_s(self) -> tuple[int, ...]:
        """Sub lengths this firmware state accepts."""
        return (EXPERT_SUB_LENGTHS_S if self.expert_mode else ()) + SUB_LENGTHS_S

    def replace(self, **changes: Any) -> StackSettings:
        """A copy with `changes`."""
        return dataclasses.replace(self, **changes)


def _obj(setting: dict[str, Any], key: str) -> dict[str, Any]:
    value = setting.get(key)
    return value if isinstance(value, dict) else {}


def _int(obj: dict[str, Any], key: str, default: int) -> int:
    value = obj.get(key)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _bool(obj: dict[str, Any], key: str, default: bool) -> bool:
    value = obj.get(key)
    return value if isinstance(value, bool) else default


def parse_stack_settings(setting: Any) -> StackSettings:
    """The stack settings from a `get_setting` result (missing keys: firmware defaults)."""
    s = setting if isinstance(setting, dict) else {}
    d = StackSettings()
    exp, dither, stack = _obj(s, "exp_ms"), _obj(s, "stack_dither"), _obj(s, "stack")
    return StackSettings(
        sub_s=round(_int(exp, "stack_l", d.sub_s * 1000) / 1000),
        expert_mode=_bool(s, "expert_mode", d.expert_mode),
        dither_enabled=_bool(dither, "enable", d.dither_enabled),
        dither_pix=_int(dither, "pix", d.dither_pix),
        dither_every=_int(dither, "interval", d.dither_every),
        lp_filter=_bool(s, "stack_lenhance", d.lp_filter),
        dbe=_bool(stack, "dbe", d.dbe),
        star_correction=_bool(stack, "star_correction", d.star_correction),
        drizzle2x=_bool(stack, "drizzle2x", d.drizzle2x),
        save_subs=_bool(stack, "save_discrete_frame", d.save_subs),
    )


def settings_calls(old: StackSettings, new: StackSettings) -> list[Call]:
    """The set_setting calls that turn `old` into `new` (stack_lenhance alone: it moves the wheel)."""
    params: dict[str, Any] = {}
    if new.sub_s != old.sub_s:
        params["exp_ms"] = {"stack_l": int(new.sub_s * 1000)}
    dither = {k: v for k, v, was in (("enable", new.dither_enabled, old.dither_enabled),
                                     ("pix", new.dither_pix, old.dither_pix),
                                     ("interval", new.dither_every, old.dither_every)) if v != was}
    if dither:
        params["stack_dither"] = dither
    stack = {k: v for k, v, was in (("dbe", new.dbe, old.dbe),
                                    ("star_correction", new.star_correction, old.star_correction),
                                    ("drizzle2x", new.drizzle2x, old.drizzle2x),
                                    ("save_discrete_frame", new.save_subs, old.save_subs)) if v != was}
    if stack:
        params["stack"] = stack
    calls = [builders_session.set_setting(**params)] if params else []
    if new.lp_filter != old.lp_filter:
        calls.append(builders_session.set_setting(stack_lenhance=new.lp_filter))
    return calls


@dataclass(frozen=True, slots=True)
class StackProgress:
    """One Stack event's counters (None: the event did not say)."""

    state: str
    stacked: int | None
    dropped: int | None
    total: int | None
    lapse_ms: int | None
    code: int | None
    error: str


def parse_stack_event(fields: dict[str, Any]) -> StackProgress:
    """A Stack event's fields as a StackProgress."""
    def num(key: str) -> int | None:
        value = fields.get(key)
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    code = num("code")
    if code is None and fields.get("state") == "fail":
        code = num("frame_errcode")
    return StackProgress(state=str(fields.get("state", "")), stacked=num("stacked_frame"),
                         dropped=num("dropped_frame"), total=num("total_frame"),
                         lapse_ms=num("lapse_ms"), code=code, error=str(fields.get("error", "")))


def failure_text(code: int | None, error: str) -> str:
    """"code N: meaning" for a stack failure, the firmware's text first when it gave one."""
    if code is None:
        return error or "the stack failed"
    return f"code {code}: {error or describe(code)}"
