"""Validation of client new* values against a vector, libindi semantics (layer indi/).

Pure: raw member texts in, typed values out, or ValueRejected. Nothing is changed here.
Must not import protocol/, seestar/, devices/ or sim/.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from indi_seestar.errors import ValueRejected
from indi_seestar.indi.model import Kind, NumberMember, Perm, Rule, SwitchVector, Vector
from indi_seestar.indi.wire import parse_sexagesimal
from indi_seestar.text import excerpt

MAX_TEXT_CHARS = 64 * 1024  # a longer text value is refused (Alert), not truncated
MAX_NAME_CHARS = 64  # libindi's MAXINDINAME; a longer name is echoed only as an excerpt


def coerce_new_values(vector: Vector, raw: Mapping[str, str]) -> dict[str, Any]:
    """Typed values for the known members in `raw`; unknown names are ignored.

    Numbers: float (sexagesimal accepted) within [min, max] when min < max, whole for an
    integral member (format without a fraction, model.NumberMember.integral), only the members
    sent. Switches: the complete resulting {member: bool} after applying the rule. Texts: str,
    only the members sent. Raises ValueRejected if nothing is known, the vector is read-only,
    or a value is invalid.
    """
    known = {k: v for k, v in raw.items() if k in vector}
    if not known:
        sent = _names(raw) or "no element"
        raise ValueRejected(vector.name, f"{sent}: not an element of this property")
    if vector.perm is Perm.RO or vector.kind in (Kind.LIGHT, Kind.BLOB):
        raise ValueRejected(vector.name, "property is read-only")
    if vector.kind is Kind.NUMBER:
        return _numbers(vector, known)
    if vector.kind is Kind.SWITCH:
        assert isinstance(vector, SwitchVector)
        return _switches(vector, known)
    return _texts(vector, known)


def shown_name(name: str) -> str:
    """A property or element name a client sent: as is if it looks like one, else an excerpt."""
    return name if name.isidentifier() and len(name) <= MAX_NAME_CHARS else excerpt(name)


def _names(raw: Mapping[str, str], shown: int = 3) -> str:
    """The element names a client sent, each shown_name(), at most `shown` of them."""
    names = [shown_name(n) for n in raw]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _numbers(vector: Vector, known: Mapping[str, str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, text in known.items():
        try:
            value = parse_sexagesimal(text)
        except ValueError:
            raise ValueRejected(vector.name, f"{name}: {excerpt(text)} is not a number") from None
        m = vector.member(name)
        assert isinstance(m, NumberMember)
        if m.min < m.max and not m.min <= value <= m.max:
            raise ValueRejected(
                vector.name,
                f"invalid range for {m.label} ({name}): valid range is from {m.min:g} "
                f"to {m.max:g}, requested value is {value:g}",
            )
        if m.integral and not value.is_integer():
            raise ValueRejected(
                vector.name,
                f"{m.label} ({name}) takes whole numbers only, requested value is {value:g}; "
                "nothing changed",
            )
        out[name] = value
    return out


def _switch_state(vector: Vector, name: str, text: str) -> bool:
    if text == "On":
        return True
    if text == "Off":
        return False
    raise ValueRejected(vector.name, f"{name}: switch value must be On or Off, not {excerpt(text)}")


def _switches(vector: SwitchVector, known: Mapping[str, str]) -> dict[str, bool]:
    sent = {name: _switch_state(vector, name, text) for name, text in known.items()}
    turned_on = [name for name, on in sent.items() if on]
    if vector.rule is Rule.ONE_OF_MANY:
        result = {name: sent.get(name, False) for name in vector}
        if len(turned_on) != 1:
            problem = "no switch is on" if not turned_on else "more than one switch is on"
            raise ValueRejected(vector.name, f"exactly one switch must be on, {problem}")
        return result
    result: dict[str, bool] = {m.name: m.value for m in vector.members} | sent
    if vector.rule is Rule.AT_MOST_ONE and sum(result.values()) > 1:
        if len(turned_on) != 1:
            raise ValueRejected(vector.name, "at most one switch may be on")
        result = {name: name == turned_on[0] for name in vector}
    return result


def _texts(vector: Vector, known: Mapping[str, str]) -> dict[str, str]:
    for name, text in known.items():
        if len(text) > MAX_TEXT_CHARS:
            raise ValueRejected(
                vector.name, f"{name}: text of {len(text)} characters exceeds {MAX_TEXT_CHARS}"
            )
    return dict(known)
