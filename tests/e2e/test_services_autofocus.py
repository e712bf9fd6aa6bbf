"""The scope's own autofocus as SEESTAR_AUTOFOCUS on the focuser (issue 12, acceptance 1 and 6):
Busy with progress (points, curve), Ok near the fake's best focus from 300 steps out, Alert
with the firmware's reason when it sees no star, refused while stacking, stop, and an autofocus
started by the phone app shown as it runs."""

from __future__ import annotations

import pytest

from indi_seestar.protocol import builders_imaging
from indi_seestar.protocol.methods import Method
from tests.e2e.services_support import assert_refused_while_stacking
from tests.support.app import AppConnection
from tests.support.indi_harness import until
from tests.support.rig import Rig

pytestmark = pytest.mark.e2e

TF = 10.0
AF, STATUS, CURVE = "SEESTAR_AUTOFOCUS", "SEESTAR_AUTOFOCUS_STATUS", "SEESTAR_AUTOFOCUS_CURVE"
ABS = "ABS_FOCUS_POSITION"


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    with Rig.start(tmp_path_factory.mktemp("autofocus"), time_factor=TF) as rig:
        rig.client.connect_device(rig.focuser)
        yield rig


def _best(rig: Rig) -> int:
    return rig.fake_call(lambda: rig.fake.state.best_focus_steps)


def _steps(rig: Rig) -> int:
    return rig.fake_call(lambda: rig.fake.state.focuser.position_steps())


def _move(rig: Rig, target: int) -> None:
    since = rig.client.mark()
    rig.client.send_number(rig.focuser, ABS, {"FOCUS_ABSOLUTE_POSITION": target})
    rig.wait_state(rig.focuser, ABS, "Ok", since=since)


def _point_at_altitude(rig: Rig, alt_deg: float) -> None:
    def point() -> None:
        mount = rig.fake.state.mount
        mount.set_pointing(*mount.radec_of_altaz(alt_deg, 180.0), tracking=False)
    rig.fake_call(point)


def test_autofocus_from_300_steps_out_ends_near_best_focus_with_progress(rig):
    best = _best(rig)
    _move(rig, best + 300)
    since = rig.client.mark()
    rig.client.send_switch(rig.focuser, AF, ["AUTOFOCUS_START"])
    done = rig.wait_state(rig.focuser, AF, "Ok", since=since, timeout_s=60)
    states = rig.states(rig.focuser, AF, since)
    assert states[0] == "Busy" and states.count("Ok") == 1
    progress = [u for u in rig.client.updates(rig.focuser, STATUS, event="set", since=since)
                if u.state == "Busy" and u.values["AF_POINTS"] > 0]
    assert len(progress) >= 9
    assert [u.values["AF_POINTS"] for u in progress] == sorted(u.values["AF_POINTS"] for u in progress)
    curve = rig.client.updates(rig.focuser, CURVE, event="set", since=since)[-1].values["CURVE"]
    pairs = [tuple(map(float, p.split(":"))) for p in curve.split()]
    assert len(pairs) >= 9 and min(size for _, size in pairs) < max(size for _, size in pairs)
    final = rig.client.updates(rig.focuser, STATUS, event="set", since=since)[-1]
    assert final.state == "Ok"
    assert abs(final.values["AF_BEST_POSITION"] - best) <= 50
    assert done.values == {"AUTOFOCUS_START": False, "AUTOFOCUS_STOP": False}
    # the focuser followed the moves as they happened, and ends where the scope is
    positions = [u.values["FOCUS_ABSOLUTE_POSITION"]
                 for u in rig.client.updates(rig.focuser, ABS, event="set", since=since)]
    assert len(set(positions)) >= 9
    until(lambda: rig.client.updates(rig.focuser, ABS, event="set")[-1].values[
        "FOCUS_ABSOLUTE_POSITION"] == _steps(rig), 10, what="the focuser to show the final position")
    assert abs(_steps(rig) - best) <= 50


def test_no_star_pointing_at_the_ground_gives_alert_with_the_firmware_reason(rig):
    _point_at_altitude(rig, -20.0)
    try:
        before = _steps(rig)
        since = rig.client.mark()
        rig.client.send_switch(rig.focuser, AF, ["AUTOFOCUS_START"])
        rig.wait_state(rig.focuser, AF, "Alert", since=since, timeout_s=30)
        assert any("no star is detected" in m and "279" in m for m in rig.messages(rig.focuser, since))
        assert _steps(rig) == before  # nothing moved
    finally:
        _point_at_altitude(rig, 50.0)


def test_autofocus_is_refused_while_the_scope_stacks(rig):
    assert_refused_while_stacking(rig, rig.focuser, AF, "AUTOFOCUS_START", Method.START_AUTO_FOCUS)


def test_stop_ends_the_autofocus_and_the_focuser_stands_still(rig):
    _move(rig, _best(rig) + 200)
    since = rig.client.mark()
    rig.client.send_switch(rig.focuser, AF, ["AUTOFOCUS_START"])
    rig.client.wait(lambda u: u.device == rig.focuser and u.name == STATUS and u.event == "set"
                    and u.values["AF_POINTS"] >= 2, timeout_s=30, since=since)
    rig.client.send_switch(rig.focuser, AF, ["AUTOFOCUS_STOP"])
    rig.wait_state(rig.focuser, AF, "Idle", since=since, timeout_s=20)
    assert any("autofocus stopped" in m for m in rig.messages(rig.focuser, since))
    until(lambda: not rig.fake_call(lambda: rig.fake.state.focuser.is_moving()), 5,
          what="the focuser to stand still")
    assert not rig.fake_call(lambda: rig.fake.core.running("autofocus"))


def test_stop_without_a_running_autofocus_is_an_alert(rig):
    since = rig.client.mark()
    rig.client.send_switch(rig.focuser, AF, ["AUTOFOCUS_STOP"])
    rig.wait_state(rig.focuser, AF, "Alert", since=since)
    assert any("no autofocus is running" in m for m in rig.messages(rig.focuser, since))


def test_an_autofocus_started_by_the_app_is_shown_as_it_runs(rig):
    best = _best(rig)
    _move(rig, best + 100)
    since = rig.client.mark()
    with AppConnection(rig.fake.control_port) as app:
        assert app.call(builders_imaging.start_auto_focus()).ok
        rig.wait_state(rig.focuser, AF, "Busy", since=since, timeout_s=20)
        rig.wait_state(rig.focuser, AF, "Ok", since=since, timeout_s=60)
    assert any("started by another client" in m for m in rig.messages(rig.focuser, since))
    final = rig.client.updates(rig.focuser, STATUS, event="set", since=since)[-1]
    assert abs(final.values["AF_BEST_POSITION"] - best) <= 50


def test_a_start_the_firmware_refuses_is_an_alert_and_nothing_moves(rig):
    before = _steps(rig)
    rig.fake.faults.fail_next(Method.START_AUTO_FOCUS, 207)
    since = rig.client.mark()
    rig.client.send_switch(rig.focuser, AF, ["AUTOFOCUS_START"])
    rig.wait_state(rig.focuser, AF, "Alert", since=since)
    assert rig.states(rig.focuser, AF, since) == ["Busy", "Alert"]
    assert any("autofocus start failed" in m and "207" in m for m in rig.messages(rig.focuser, since))
    assert _steps(rig) == before and not rig.fake_call(lambda: rig.fake.core.running("autofocus"))
    # and the next start works again
    since = rig.client.mark()
    rig.client.send_switch(rig.focuser, AF, ["AUTOFOCUS_START"])
    rig.wait_state(rig.focuser, AF, "Ok", since=since, timeout_s=60)
