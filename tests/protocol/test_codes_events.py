"""Firmware codes (§2.9) and event vocabulary (§3)."""

from __future__ import annotations

import pytest

from indi_seestar.protocol import codes
from indi_seestar.protocol.events import TERMINAL_STATES, EventName, StageState


@pytest.mark.parametrize("code, text", [
    (103, "method not found"), (107, "expected object param"), (109, "unexpected param"),
    (210, "not supported"), (215, "no solve data"), (255, "file not exist"),
    (259, "stack is already running"), (279, "no star is detected"), (501, "mount goto failed"),
    (514, "interrupt"), (530, "star trails"),
])
def test_describe_known_codes(code: int, text: str) -> None:
    assert codes.describe(code) == text
    assert codes.ErrorCode(code) == code


@pytest.mark.parametrize("code", [0, -1, 1279, 999999])
def test_describe_unknown_codes(code: int) -> None:
    assert codes.describe(code) == f"unknown code {code}"


def test_every_known_code_has_a_text() -> None:
    for code in codes.ErrorCode:
        assert not codes.describe(code).startswith("unknown")


def test_terminal_states() -> None:
    assert TERMINAL_STATES == {"complete", "fail", "cancel"}
    assert StageState.WORKING not in TERMINAL_STATES
    assert StageState.FRAME_COMPLETE not in TERMINAL_STATES  # one sub stacked, the stack goes on


def test_event_names_are_the_firmware_spellings() -> None:
    assert EventName.FOCUSER_MOVE == "FocuserMove"
    assert EventName("ScopeGoto") is EventName.SCOPE_GOTO
    assert EventName.EQ_MODE_PA == "EqModePA"
    assert len({e.value for e in EventName}) == len(EventName)
