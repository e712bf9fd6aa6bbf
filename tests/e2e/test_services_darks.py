"""The scope's own dark library as SEESTAR_DARKS on the camera (issue 12): built for the chosen
sub exposure and CCD_GAIN, progress in percent, the wheel showing the dark slot and coming back,
what the library covers shown at the end, stop, refused while stacking, app-started runs shown."""

from __future__ import annotations

import pytest

from indi_seestar.protocol import builders_imaging
from indi_seestar.protocol.methods import Method
from tests.e2e.services_support import assert_refused_while_stacking
from tests.support.app import AppConnection
from tests.support.indi_harness import until
from tests.support.rig import Rig

pytestmark = pytest.mark.e2e

TF = 20.0
DARKS, PROGRESS, LIBRARY = "SEESTAR_DARKS", "SEESTAR_DARKS_PROGRESS", "SEESTAR_DARKS_LIBRARY"


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    with Rig.start(tmp_path_factory.mktemp("darks"), time_factor=TF) as rig:
        rig.client.connect_device(rig.camera)
        rig.client.connect_device(rig.wheel)
        yield rig


def _slots(rig: Rig, since: int) -> list[float]:
    return [u.values["FILTER_SLOT_VALUE"]
            for u in rig.client.updates(rig.wheel, "FILTER_SLOT", event="set", since=since)]


def test_darks_are_built_for_the_chosen_exposure_and_gain_with_progress(rig):
    since = rig.client.mark()
    rig.client.send_number(rig.camera, "CCD_GAIN", {"GAIN": 100})
    rig.wait_state(rig.camera, "CCD_GAIN", "Ok", since=since)
    rig.client.send_number(rig.camera, "SEESTAR_DARKS_SETTINGS", {"DARKS_EXPOSURE": 20})
    rig.wait_state(rig.camera, "SEESTAR_DARKS_SETTINGS", "Ok", since=since)
    since = rig.client.mark()
    rig.client.send_switch(rig.camera, DARKS, ["DARKS_START"])
    rig.wait_state(rig.camera, DARKS, "Ok", since=since, timeout_s=60)
    assert rig.states(rig.camera, DARKS, since)[0] == "Busy"
    percents = [u.values["DARKS_PERCENT"] for u in rig.client.updates(rig.camera, PROGRESS, event="set",
                                                                       since=since)]
    assert len(set(percents)) >= 5 and percents == sorted(percents) and percents[-1] == 100
    library = rig.client.updates(rig.camera, LIBRARY, event="set", since=since)[-1].values
    assert library["LIBRARY_EXPOSURE"] == "20" and library["LIBRARY_GAIN"] == "100"
    assert library["LIBRARY_DATE"].startswith("20")
    assert rig.fake_call(lambda: rig.fake.state.settings["exp_ms"]["stack_l"]) == 20000
    assert rig.fake_call(lambda: rig.fake.state.gain) == 100
    # the wheel showed the dark slot (1) and came back to where it was (2)
    until(lambda: _slots(rig, since)[-1:] == [2], 10, what="the wheel to come back")
    assert 1 in _slots(rig, since)


def test_stop_ends_the_darks_and_the_wheel_comes_back(rig):
    since = rig.client.mark()
    rig.client.send_switch(rig.camera, DARKS, ["DARKS_START"])
    rig.client.wait(lambda u: u.device == rig.camera and u.name == PROGRESS and u.event == "set"
                    and u.values["DARKS_PERCENT"] >= 20, timeout_s=30, since=since)
    rig.client.send_switch(rig.camera, DARKS, ["DARKS_STOP"])
    rig.wait_state(rig.camera, DARKS, "Idle", since=since, timeout_s=20)
    assert any("dark library stopped" in m for m in rig.messages(rig.camera, since))
    until(lambda: rig.fake_call(lambda: rig.fake.state.wheel.position) == 1, 10, what="the wheel back")
    until(lambda: _slots(rig, since)[-1:] == [2], 10, what="the wheel device to show it")


def test_darks_are_refused_while_the_scope_stacks(rig):
    assert_refused_while_stacking(rig, rig.camera, DARKS, "DARKS_START", Method.START_CREATE_DARK)


def test_darks_started_by_the_app_are_shown(rig):
    since = rig.client.mark()
    with AppConnection(rig.fake.control_port) as app:
        assert app.call(builders_imaging.start_create_dark()).ok
        rig.wait_state(rig.camera, DARKS, "Busy", since=since, timeout_s=20)
        rig.wait_state(rig.camera, DARKS, "Ok", since=since, timeout_s=60)
    assert any("started by another client" in m for m in rig.messages(rig.camera, since))
