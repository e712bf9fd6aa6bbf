"""The live-stack tracker folds the firmware's events in (devices/stack_live.py, pure).

The recorded S30 7.06 stack (../shared/seestar-sessions/s30_fw706_small, skipped when absent):
only the stage flavour of Exposure (exp_ms, route [View, Stack]) tells the sub length.
"""

from __future__ import annotations

import pytest

from indi_seestar.devices.stack_live import Change, StackTracker
from indi_seestar.protocol.rpc import Event, RpcDecoder
from tests.protocol.support import load_session, session_names


def _event(name: str, **fields) -> Event:  # noqa: ANN003
    return Event(name, None, fields)


def test_counts_new_subs_stop_and_failure():
    t = StackTracker(sub_s=30.0)
    assert t.apply(_event("Stack", state="working", stacked_frame=0, dropped_frame=0, lapse_ms=0)) is Change.STARTED
    assert t.apply(_event("Exposure", state="working", exp_ms=10000.0, route=["View", "Stack"])) is Change.NONE
    assert t.sub_s == 10.0 and t.first_sub_utc is not None
    assert t.apply(_event("Stack", state="working", stacked_frame=1, dropped_frame=0, lapse_ms=18757)) \
        is Change.NEW_SUB
    assert t.apply(_event("Stack", state="frame_complete", stacked_frame=1, dropped_frame=0, total_frame=1,
                          lapse_ms=5110, code=0)) is Change.COUNTS
    assert (t.stacked, t.integration_s, t.elapsed_s) == (1, 10.0, 18.757)
    assert t.apply(_event("Stack", state="fail", frame_errcode=530, error="star trails", code=530)) is Change.FAILED
    assert t.failure == "code 530: star trails" and not t.running
    t.running = True  # a new stack, followed from its events
    assert t.apply(_event("Stack", state="cancel", stacked_frame=4, dropped_frame=1)) is Change.STOPPED


def test_the_recorded_s30_stack():
    if "s30_fw706_small" not in session_names():
        pytest.skip("recorded sessions not found")
    session = load_session("s30_fw706_small")
    decoder, t = RpcDecoder(), StackTracker(sub_s=60.0)
    new_subs = 0
    for line in session.lines:
        if line.direction != "telescope":
            continue
        for message in decoder.feed(line.raw + b"\r\n"):
            if isinstance(message, Event):
                new_subs += t.apply(message) is Change.NEW_SUB
    assert t.sub_s == 10.0  # from exp_ms alone: this firmware sends no page-flavour Exposure
    assert t.stacked >= 4 and new_subs == t.stacked
