"""Shared pieces of the standard property factories: groups, interface bits, builders (layer indi/).

Must not import protocol/, seestar/, devices/ or sim/.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntFlag

from indi_seestar.indi.model import (
    NumberMember,
    NumberVector,
    Perm,
    Rule,
    SwitchMember,
    SwitchVector,
    TextMember,
    TextVector,
)

MAIN_CONTROL = "Main Control"
CONNECTION_GROUP = "Connection"
MOTION = "Motion Control"
SITE = "Site Management"
OPTIONS = "Options"
GENERAL_INFO = "General Info"
IMAGE_SETTINGS = "Image Settings"
IMAGE_INFO = "Image Info"
FILTER_WHEEL = "Filter Wheel"
CONTROLS = "Controls"

SEXAGESIMAL = "%010.6m"  # hh:mm:ss display


class Interface(IntFlag):
    """DRIVER_INTERFACE bits (a device's interface is their sum, sent as a decimal string)."""

    GENERAL = 0
    TELESCOPE = 1
    CCD = 2
    GUIDER = 4
    FOCUSER = 8
    FILTER = 16
    DOME = 32
    GPS = 64
    WEATHER = 128
    AO = 256
    DUSTCAP = 512
    LIGHTBOX = 1024
    DETECTOR = 2048
    ROTATOR = 4096
    SPECTROGRAPH = 8192
    CORRELATOR = 16384
    AUX = 32768


def numbers(
    device: str,
    name: str,
    label: str,
    group: str,
    members: list[NumberMember],
    *,
    perm: Perm = Perm.RW,
    timeout_s: float = 60,
) -> NumberVector:
    """A number vector, state Idle."""
    return NumberVector(device, name, label, group, members, perm=perm, timeout_s=timeout_s)


def switches(
    device: str,
    name: str,
    label: str,
    group: str,
    rule: Rule,
    members: Sequence[tuple[str, str, bool]],
    *,
    perm: Perm = Perm.RW,
    timeout_s: float = 60,
) -> SwitchVector:
    """A switch vector from (name, label, on) triples, state Idle."""
    items = [SwitchMember(n, lab, on) for n, lab, on in members]
    return SwitchVector(
        device, name, label, group, items, perm=perm, timeout_s=timeout_s, rule=rule
    )


def texts(
    device: str,
    name: str,
    label: str,
    group: str,
    members: Sequence[tuple[str, str, str]],
    *,
    perm: Perm = Perm.RW,
    timeout_s: float = 60,
) -> TextVector:
    """A text vector from (name, label, value) triples, state Idle."""
    items = [TextMember(n, lab, value) for n, lab, value in members]
    return TextVector(device, name, label, group, items, perm=perm, timeout_s=timeout_s)


def one_number(
    name: str, label: str, fmt: str, min_: float, max_: float, step: float, value: float,
    *, whole_numbers: bool | None = None,
) -> NumberMember:
    """A number member, arguments in libindi's fill() order; `whole_numbers` overrides what
    the format implies (a `%.f` duration in ms still takes fractions)."""
    return NumberMember(name, label, fmt, min_, max_, step, value, whole_numbers)


def enable_disable(
    device: str,
    name: str,
    label: str,
    group: str,
    enabled: bool,
    names: tuple[str, str] = ("ENABLE", "DISABLE"),
) -> SwitchVector:
    """Two-member OneOfMany toggle, enable member first."""
    members = [
        (names[0], "Enable" if names[0] == "ENABLE" else "Enabled", enabled),
        (names[1], "Disable" if names[1] == "DISABLE" else "Disabled", not enabled),
    ]
    return switches(device, name, label, group, Rule.ONE_OF_MANY, members, timeout_s=0)


def abort_button(device: str, name: str, label: str, group: str) -> SwitchVector:
    """AtMostOne vector with the single member ABORT."""
    return switches(device, name, label, group, Rule.AT_MOST_ONE, [("ABORT", "Abort", False)])


def choice(
    device: str,
    name: str,
    label: str,
    group: str,
    options: Sequence[tuple[str, str]],
    current: int,
    *,
    timeout_s: float = 60,
) -> SwitchVector:
    """OneOfMany vector from (name, label) options with option `current` On."""
    members = [(n, lab, i == current) for i, (n, lab) in enumerate(options)]
    return switches(device, name, label, group, Rule.ONE_OF_MANY, members, timeout_s=timeout_s)
