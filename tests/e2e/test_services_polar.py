"""The scope's own 3-point polar alignment as SEESTAR_POLAR_ALIGN on the mount (issue 12,
acceptance 3 and 6): in EQ mode the error the fake's wedge is given is reported within 10 %
and falls as the knobs are turned; pause and resume; the arm position is sent; refused in
alt-az mode with a message and nothing sent."""

from __future__ import annotations

import math

import pytest

from indi_seestar.protocol.methods import Method
from tests.support.indi_harness import until
from tests.support.rig import Rig

pytestmark = pytest.mark.e2e

TF = 10.0
PA, ERROR, STEP = "SEESTAR_POLAR_ALIGN", "SEESTAR_POLAR_ERROR", "SEESTAR_POLAR_STEP"


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    with Rig.start(tmp_path_factory.mktemp("polar"), time_factor=TF, equ_mode=True) as rig:
        rig.client.connect_device(rig.mount)
        yield rig


def _errors(rig: Rig, since: int) -> list[dict[str, float]]:
    return [u.values for u in rig.client.updates(rig.mount, ERROR, event="set", since=since)
            if u.values["PA_TOTAL_ARCMIN"] > 0]


def _wait_error(rig: Rig, since: int, predicate, timeout_s: float = 30.0) -> dict[str, float]:
    return rig.client.wait(lambda u: u.device == rig.mount and u.name == ERROR and u.event == "set"
                           and u.values["PA_TOTAL_ARCMIN"] > 0 and predicate(u.values),
                           timeout_s=timeout_s, since=since).values


def test_reports_the_wedge_error_and_it_falls_as_the_knobs_are_turned(rig):
    rig.fake_call(lambda: setattr(rig.fake.state, "polar_error_arcmin", (30.0, -45.0)))
    since = rig.client.mark()
    rig.client.send_switch(rig.mount, "SEESTAR_POLAR_ARM", ["ARM_2"])
    rig.wait_state(rig.mount, "SEESTAR_POLAR_ARM", "Ok", since=since)
    rig.client.send_switch(rig.mount, PA, ["PA_START"])
    rig.wait_state(rig.mount, PA, "Busy", since=since)
    first = _wait_error(rig, since, lambda v: True)
    assert first["PA_ALT_ARCMIN"] == pytest.approx(30.0, rel=0.10)
    assert first["PA_AZ_ARCMIN"] == pytest.approx(-45.0, rel=0.10)
    assert first["PA_TOTAL_ARCMIN"] == pytest.approx(math.hypot(30.0, 45.0), rel=0.10)
    steps = [u.values["STEP"] for u in rig.client.updates(rig.mount, STEP, event="set", since=since)]
    assert {"move1", "delay1", "move2", "delay2", "measuring"} <= set(steps)
    # the user turns the knobs: the error falls
    totals = [first["PA_TOTAL_ARCMIN"]]
    for d_alt, d_az in ((-10.0, 15.0), (-15.0, 25.0)):
        mark = rig.client.mark()
        rig.fake_call(rig.fake.turn_polar_knobs, d_alt, d_az)
        alt, az = rig.fake_call(lambda: rig.fake.state.polar_error_arcmin)
        seen = _wait_error(rig, mark, lambda v, alt=alt, az=az: abs(v["PA_TOTAL_ARCMIN"]
                                                                    - math.hypot(alt, az)) < 1.0)
        totals.append(seen["PA_TOTAL_ARCMIN"])
    assert totals == sorted(totals, reverse=True) and totals[-1] < totals[0] / 3
    since = rig.client.mark()
    rig.client.send_switch(rig.mount, PA, ["PA_STOP"])
    rig.wait_state(rig.mount, PA, "Idle", since=since)
    assert rig.states(rig.mount, PA, since)[0] == "Busy"
    until(lambda: not rig.fake_call(lambda: rig.fake.core.running("polar_align")), 5,
          what="the scope to stop the alignment")


def test_pause_holds_the_error_and_start_resumes(rig):
    rig.fake_call(lambda: setattr(rig.fake.state, "polar_error_arcmin", (12.0, 20.0)))
    since = rig.client.mark()
    rig.client.send_switch(rig.mount, PA, ["PA_START"])
    _wait_error(rig, since, lambda v: True)
    since = rig.client.mark()
    rig.client.send_switch(rig.mount, PA, ["PA_PAUSE"])
    rig.client.wait(lambda u: u.device == rig.mount and u.name == STEP and u.event == "set"
                    and u.values["STEP"] == "paused", timeout_s=20, since=since)
    paused = rig.client.mark()
    rig.fake_call(rig.fake.turn_polar_knobs, -12.0, -20.0)
    resumes = rig.fake.faults.counters.requests[Method.START_POLAR_ALIGN]
    rig.client.send_switch(rig.mount, PA, ["PA_START"])
    seen = _wait_error(rig, paused, lambda v: v["PA_TOTAL_ARCMIN"] < 2.0)
    assert seen["PA_TOTAL_ARCMIN"] < 2.0
    assert rig.fake.faults.counters.requests[Method.START_POLAR_ALIGN] == resumes + 1
    since = rig.client.mark()
    rig.client.send_switch(rig.mount, PA, ["PA_STOP"])
    rig.wait_state(rig.mount, PA, "Idle", since=since)


def test_pause_without_an_alignment_is_an_alert(rig):
    since = rig.client.mark()
    rig.client.send_switch(rig.mount, PA, ["PA_PAUSE"])
    rig.wait_state(rig.mount, PA, "Alert", since=since)
    assert any("no polar alignment is running" in m for m in rig.messages(rig.mount, since))


def test_polar_alignment_is_refused_in_alt_az_mode(tmp_path):
    with Rig.start(tmp_path, time_factor=TF) as rig:
        rig.client.connect_device(rig.mount)
        since = rig.client.mark()
        rig.client.send_switch(rig.mount, PA, ["PA_START"])
        rig.wait_state(rig.mount, PA, "Alert", since=since)
        assert any("needs EQ mode" in m for m in rig.messages(rig.mount, since))
        assert rig.fake.faults.counters.requests[Method.START_POLAR_ALIGN] == 0
        assert not rig.client.updates(rig.mount, ERROR, event="set", since=since)


def test_a_polar_alignment_started_by_the_app_is_shown(rig):
    from indi_seestar.protocol import builders_mount
    from tests.support.app import AppConnection

    rig.fake_call(lambda: setattr(rig.fake.state, "polar_error_arcmin", (6.0, 8.0)))
    since = rig.client.mark()
    with AppConnection(rig.fake.control_port) as app:
        assert app.call(builders_mount.start_polar_align(3)).ok
        seen = _wait_error(rig, since, lambda v: True)
        assert seen["PA_TOTAL_ARCMIN"] == pytest.approx(10.0, rel=0.10)
        assert any("started by another client" in m for m in rig.messages(rig.mount, since))
        assert app.call(builders_mount.stop_polar_align()).ok
    rig.wait_state(rig.mount, PA, "Idle", since=since)
