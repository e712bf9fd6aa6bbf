"""Which errors leave a command's outcome unknown, and the record devices keep of them."""

from __future__ import annotations

import pytest

from indi_seestar.devices.outcomes import (
    NO_ANSWER,
    Pending,
    link_named,
    outcome_unknown,
    unknown_message,
)
from indi_seestar.errors import CommandFailed, ConnectionLost, OperationFailed, RequestTimeout


@pytest.mark.parametrize(("exc", "unknown"), [
    (RequestTimeout("scope_goto", 10.0), True),  # written, never answered
    (ConnectionLost("closed by the Seestar"), True),  # dropped after the write
    (ConnectionLost("not connected", may_have_run=False), False),  # never written
    (CommandFailed("scope_goto", 270, "below horizon"), False),  # refused: a known failure
    (OperationFailed("ScopeGoto", "fail"), False),
    (TimeoutError(), True),  # a bound of ours on a reply
])
def test_outcome_unknown(exc: BaseException, unknown: bool) -> None:
    assert outcome_unknown(exc) is unknown


def test_pending_hands_over_once_and_guards_until_a_new_command() -> None:
    pending = Pending()
    assert not pending and not pending.guarding()
    pending.add("goto to RA 1 h")
    pending.add("focuser move to 10")
    assert pending and pending.describe() == "goto to RA 1 h; focuser move to 10"
    assert pending.resolve() == ["goto to RA 1 h", "focuser move to 10"]
    assert not pending and pending.guarding()
    assert pending.resolve() == []
    pending.end_guard()
    assert not pending.guarding()


def test_the_message_says_the_scope_may_still_carry_it_out() -> None:
    text = unknown_message("park")
    assert text.startswith("[WARNING] park: ") and NO_ANSWER in text and "failed" not in text


@pytest.mark.parametrize(("exc", "text"), [
    (ConnectionLost("closed by the Seestar"),
     "lost the link to the Seestar (closed by the Seestar)"),
    (ConnectionLost("lost the link to the Seestar (x)"), "lost the link to the Seestar (x)"),
    (CommandFailed("set_setting", 103, "method not found"), None),
])
def test_a_lost_link_is_named_whatever_step_it_cut(exc: Exception, text: str | None) -> None:
    assert link_named(exc) == (text or str(exc))
