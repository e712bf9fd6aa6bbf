"""Focuser and filter wheel as Ekos drives them (indi-standard.md §4.4, §4.5): Busy then Ok with
the final value for every move (also to the current position), Alert with a message and no
motion when out of range, a new move replacing a running one, abort, and wheel changes made by
the scope itself."""

from __future__ import annotations

import pytest

from indi_seestar.protocol import builders_imaging, builders_session
from indi_seestar.protocol.methods import Method
from tests.support.app import AppConnection
from tests.support.indi_harness import until
from tests.support.rig import Rig

pytestmark = pytest.mark.e2e

ABS, REL = "ABS_FOCUS_POSITION", "REL_FOCUS_POSITION"


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    with Rig.start(tmp_path_factory.mktemp("focuser_wheel")) as rig:
        rig.client.connect_device(rig.focuser)
        rig.client.connect_device(rig.wheel)
        yield rig


def _focuser_steps(rig: Rig) -> int:
    return rig.fake_call(lambda: rig.fake.state.focuser.position_steps())


def _focuser_moving(rig: Rig) -> bool:
    return rig.fake_call(lambda: rig.fake.state.focuser.is_moving())


def _wheel(rig: Rig) -> int:
    return rig.fake_call(lambda: rig.fake.state.wheel.position)


def _abs_move(rig: Rig, target: float) -> list[float]:
    """Send ABS_FOCUS_POSITION; return the values of its updates up to Ok (Busy first)."""
    since = rig.client.mark()
    rig.client.send_number(rig.focuser, ABS, {"FOCUS_ABSOLUTE_POSITION": target})
    done = rig.wait_state(rig.focuser, ABS, "Ok", since=since)
    updates = rig.client.updates(rig.focuser, ABS, event="set", since=since)
    assert updates[0].state == "Busy"
    assert [u.state for u in updates].count("Ok") == 1
    return [u.values["FOCUS_ABSOLUTE_POSITION"] for u in updates[: updates.index(done) + 1]]


def test_absolute_moves_end_ok_at_the_target_even_to_the_current_position(rig):
    values = _abs_move(rig, 1700)
    assert values[-1] == 1700 == _focuser_steps(rig)
    values = _abs_move(rig, 1700)  # Ekos must see Busy then Ok, or it waits for ever
    assert values[-1] == 1700 == _focuser_steps(rig)


def test_relative_moves_follow_focus_motion(rig):
    start = _abs_move(rig, 1600)[-1]
    for direction, sign in (("FOCUS_OUTWARD", 1), ("FOCUS_INWARD", -1)):
        since = rig.client.mark()
        rig.client.send_switch(rig.focuser, "FOCUS_MOTION", [direction])
        rig.wait_state(rig.focuser, "FOCUS_MOTION", "Ok", since=since)
        since = rig.client.mark()
        rig.client.send_number(rig.focuser, REL, {"FOCUS_RELATIVE_POSITION": 120})
        rel_done = rig.wait_state(rig.focuser, REL, "Ok", since=since)
        abs_done = rig.wait_state(rig.focuser, ABS, "Ok", since=since)
        assert rig.states(rig.focuser, REL, since)[0] == "Busy"
        assert rig.states(rig.focuser, ABS, since)[0] == "Busy"
        assert rel_done.values["FOCUS_RELATIVE_POSITION"] == 120
        assert abs_done.values["FOCUS_ABSOLUTE_POSITION"] == start + sign * 120 == _focuser_steps(rig)
        start += sign * 120


def test_out_of_range_focuser_requests_alert_and_move_nothing(rig):
    before, requests = _focuser_steps(rig), rig.fake.faults.counters.requests[Method.MOVE_FOCUSER]
    since = rig.client.mark()
    rig.client.send_number(rig.focuser, ABS, {"FOCUS_ABSOLUTE_POSITION": 99999})
    alert = rig.wait_state(rig.focuser, ABS, "Alert", since=since)
    assert alert.values["FOCUS_ABSOLUTE_POSITION"] == before
    assert any("valid range is from 0 to 2600" in m for m in rig.messages(rig.focuser, since))

    since = rig.client.mark()
    rig.client.send_switch(rig.focuser, "FOCUS_MOTION", ["FOCUS_OUTWARD"])
    rig.wait_state(rig.focuser, "FOCUS_MOTION", "Ok", since=since)
    since = rig.client.mark()
    rig.client.send_number(rig.focuser, REL, {"FOCUS_RELATIVE_POSITION": 2600})
    rig.wait_state(rig.focuser, REL, "Alert", since=since)
    assert any("outside 0..2600; nothing moved" in m for m in rig.messages(rig.focuser, since))
    assert _focuser_steps(rig) == before and not _focuser_moving(rig)
    assert rig.fake.faults.counters.requests[Method.MOVE_FOCUSER] == requests


def test_a_new_move_replaces_the_running_one(rig):
    _abs_move(rig, 1000)
    since = rig.client.mark()
    rig.client.send_number(rig.focuser, ABS, {"FOCUS_ABSOLUTE_POSITION": 2500})
    rig.wait_state(rig.focuser, ABS, "Busy", since=since)
    until(lambda: _focuser_steps(rig) > 1100, 10, what="the first move to be under way")
    rig.client.send_number(rig.focuser, ABS, {"FOCUS_ABSOLUTE_POSITION": 1300})
    done = rig.wait_state(rig.focuser, ABS, "Ok", since=since)
    assert done.values["FOCUS_ABSOLUTE_POSITION"] == 1300 == _focuser_steps(rig)
    assert rig.states(rig.focuser, ABS, since).count("Ok") == 1  # no Ok for the replaced move
    assert not _focuser_moving(rig)


def test_abort_stops_the_focuser_where_it_is(rig):
    _abs_move(rig, 1000)
    since = rig.client.mark()
    rig.client.send_number(rig.focuser, ABS, {"FOCUS_ABSOLUTE_POSITION": 2500})
    until(lambda: _focuser_steps(rig) > 1100, 10, what="the move to be under way")
    rig.client.send_switch(rig.focuser, "FOCUS_ABORT_MOTION", ["ABORT"])
    aborted = rig.wait_state(rig.focuser, "FOCUS_ABORT_MOTION", "Ok", since=since)
    assert aborted.values == {"ABORT": False}
    assert not _focuser_moving(rig)
    stopped = _focuser_steps(rig)
    assert 1100 < stopped < 2500
    last = rig.client.updates(rig.focuser, ABS, event="set")[-1]
    assert last.state != "Busy" and last.values["FOCUS_ABSOLUTE_POSITION"] == stopped


def test_a_focuser_move_made_by_another_client_is_reported(rig):
    _abs_move(rig, 1000)
    since = rig.client.mark()
    with AppConnection(rig.fake.control_port) as app:
        assert app.call(builders_imaging.move_focuser(1400)).ok
        done = rig.wait_state(rig.focuser, ABS, "Ok", since=since)
    assert done.values["FOCUS_ABSOLUTE_POSITION"] == 1400 == _focuser_steps(rig)
    assert rig.states(rig.focuser, ABS, since)[0] == "Busy"


def test_wheel_changes_show_busy_then_ok_with_the_new_slot(rig):
    for slot in (3, 3, 2, 1):  # the repeated slot must also end with Ok
        since = rig.client.mark()
        rig.client.send_number(rig.wheel, "FILTER_SLOT", {"FILTER_SLOT_VALUE": slot})
        done = rig.wait_state(rig.wheel, "FILTER_SLOT", "Ok", since=since)
        assert rig.states(rig.wheel, "FILTER_SLOT", since)[0] == "Busy"
        assert done.values["FILTER_SLOT_VALUE"] == slot
        assert _wheel(rig) == slot - 1


def test_out_of_range_slot_alerts_and_moves_nothing(rig):
    before, requests = _wheel(rig), rig.fake.faults.counters.requests[Method.SET_WHEEL_POSITION]
    since = rig.client.mark()
    rig.client.send_number(rig.wheel, "FILTER_SLOT", {"FILTER_SLOT_VALUE": 4})
    alert = rig.wait_state(rig.wheel, "FILTER_SLOT", "Alert", since=since)
    assert alert.values["FILTER_SLOT_VALUE"] == before + 1
    assert any("valid range is from 1 to 3" in m for m in rig.messages(rig.wheel, since))
    assert _wheel(rig) == before
    assert rig.fake.faults.counters.requests[Method.SET_WHEEL_POSITION] == requests


def test_a_wheel_change_made_by_the_scope_is_reported(rig):
    since = rig.client.mark()
    rig.client.send_number(rig.wheel, "FILTER_SLOT", {"FILTER_SLOT_VALUE": 2})
    rig.wait_state(rig.wheel, "FILTER_SLOT", "Ok", since=since)
    with AppConnection(rig.fake.control_port) as app:
        for lp, slot in ((True, 3), (False, 2)):  # the app's LP toggle moves the wheel itself
            since = rig.client.mark()
            assert app.call(builders_session.set_setting(stack_lenhance=lp)).ok
            done = rig.wait_state(rig.wheel, "FILTER_SLOT", "Ok", since=since)
            assert done.values["FILTER_SLOT_VALUE"] == slot == _wheel(rig) + 1
            assert rig.states(rig.wheel, "FILTER_SLOT", since)[0] == "Busy"


def test_filter_names_can_be_renamed_but_not_to_anything(rig):
    since = rig.client.mark()
    rig.client.send_text(rig.wheel, "FILTER_NAME", {"FILTER_SLOT_NAME_3": "  Dual  band  "})
    done = rig.wait_state(rig.wheel, "FILTER_NAME", "Ok", since=since)
    assert done.values == {"FILTER_SLOT_NAME_1": "Dark", "FILTER_SLOT_NAME_2": "IR",
                           "FILTER_SLOT_NAME_3": "Dual band"}
    since = rig.client.mark()
    rig.client.send_text(rig.wheel, "FILTER_NAME", {"FILTER_SLOT_NAME_1": "x" * 65})
    alert = rig.wait_state(rig.wheel, "FILTER_NAME", "Alert", since=since)
    assert alert.values["FILTER_SLOT_NAME_1"] == "Dark"
    assert any("at most 64 characters" in m for m in rig.messages(rig.wheel, since))
