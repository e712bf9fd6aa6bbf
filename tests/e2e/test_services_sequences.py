"""Start-up and shut-down sequences on "Seestar Power" (issue 12, acceptance 5 and 6): from a
parked, unset fake the start-up ends with the arm up and time and site set, every step
reported; stopping midway leaves nothing moving; the shut-down parks; bad requests are Alerts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from indi_seestar.protocol.methods import Method
from tests.support.indi_harness import until
from tests.support.rig import Rig

pytestmark = pytest.mark.e2e

TF = 10.0
START, STATUS = "SEESTAR_STARTUP", "SEESTAR_SEQUENCE_STATUS"


@pytest.fixture
def rig(tmp_path):
    with Rig.start(tmp_path, time_factor=TF, parked=True) as rig:
        rig.client.connect_device(rig.mount)
        rig.client.connect_device(rig.power)
        yield rig


def _unset(rig: Rig) -> None:
    """A scope that lost its clock and site (as after a battery change)."""
    def unset() -> None:
        rig.fake.state.clock.set_utc(datetime(2020, 1, 1, tzinfo=UTC))
        rig.fake.state.mount.set_site(0.0, 0.0)
    rig.fake_call(unset)


def _nothing_moves(rig: Rig) -> bool:
    def check() -> bool:
        st, core = rig.fake.state, rig.fake.core
        return (str(st.mount.move_type()) == "none" and not st.focuser.is_moving()
                and not st.wheel.is_moving()
                and not any(core.running(t) for t in ("unpark", "park", "slew", "autofocus", "dark")))
    return rig.fake_call(check)


def test_startup_from_a_parked_unset_scope_raises_the_arm_and_sets_time_and_site(rig):
    _unset(rig)
    site = rig.client.updates(rig.mount, "GEOGRAPHIC_COORD")[-1].values
    since = rig.client.mark()
    rig.client.send_switch(rig.power, START, ["STARTUP_START"])
    rig.wait_state(rig.power, START, "Ok", since=since, timeout_s=60)
    assert rig.states(rig.power, START, since)[0] == "Busy"
    assert not rig.fake_call(lambda: rig.fake.state.mount.state().parked)
    fake_utc = rig.fake_call(lambda: rig.fake.state.clock.utc())
    assert abs((fake_utc - datetime.now(UTC)).total_seconds()) < 30
    ms = rig.fake_call(lambda: rig.fake.state.mount.state())
    assert ms.lat_deg == pytest.approx(site["LAT"], abs=1e-6)
    assert ms.lon_deg % 360.0 == pytest.approx(site["LONG"] % 360.0, abs=1e-6)
    steps = [u.values["STEP"] for u in rig.client.updates(rig.power, STATUS, event="set", since=since)]
    assert ["time", "site", "arm", "calibration", "done"] == list(dict.fromkeys(steps))
    done = rig.client.updates(rig.power, STATUS, event="set", since=since)[-1].values["DONE"]
    assert "arm: raised" in done and "site: lat" in done and "calibration: skipped" in done
    for label in ("time", "site", "arm", "calibration"):
        assert any(m.startswith(f"[INFO] start-up: {label}:") or f"start-up: {label}:" in m
                   for m in rig.messages(rig.power, since))
    assert rig.client.updates(rig.power, "SEESTAR_SEQUENCE_PROGRESS", event="set")[-1].values == {
        "STEP_NUMBER": 4, "STEP_COUNT": 4}


def test_stopping_the_startup_during_the_darks_leaves_nothing_moving(rig):
    since = rig.client.mark()
    rig.client.send_switch(rig.power, "SEESTAR_STARTUP_OPTIONS", ["WITH_DARKS"])
    rig.wait_state(rig.power, "SEESTAR_STARTUP_OPTIONS", "Ok", since=since)
    rig.client.send_switch(rig.power, START, ["STARTUP_START"])
    rig.client.wait(lambda u: u.device == rig.power and u.name == STATUS and u.event == "set"
                    and u.values["STEP"] == "dark library", timeout_s=60, since=since)
    until(lambda: rig.fake_call(lambda: rig.fake.core.running("dark")), 10, what="the darks")
    rig.client.send_switch(rig.power, START, ["STARTUP_STOP"])
    rig.wait_state(rig.power, START, "Idle", since=since, timeout_s=30)
    assert any("stopped; nothing moves" in m for m in rig.messages(rig.power, since))
    until(lambda: _nothing_moves(rig), 10, what="the scope to stand still")
    assert rig.client.updates(rig.power, STATUS, event="set")[-1].values["STEP"] == "stopped at dark library"


def test_stopping_while_the_arm_rises_waits_until_it_stands_still(rig):
    since = rig.client.mark()
    rig.client.send_switch(rig.power, START, ["STARTUP_START"])
    rig.client.wait(lambda u: u.device == rig.power and u.name == STATUS and u.event == "set"
                    and u.values["STEP"] == "arm", timeout_s=30, since=since)
    rig.client.send_switch(rig.power, START, ["STARTUP_STOP"])
    rig.wait_state(rig.power, START, "Idle", since=since, timeout_s=60)
    assert _nothing_moves(rig)
    assert rig.fake.faults.counters.requests[Method.START_CREATE_DARK] == 0


def test_shutdown_sequence_parks_and_turns_the_heater_off(rig):
    since = rig.client.mark()
    rig.client.send_switch(rig.power, START, ["STARTUP_START"])
    rig.wait_state(rig.power, START, "Ok", since=since, timeout_s=60)
    rig.fake_call(lambda: setattr(rig.fake.state, "heater_value", 80))
    since = rig.client.mark()
    rig.client.send_switch(rig.power, "SEESTAR_SHUTDOWN_SEQ", ["SHUTDOWN_SEQ_START"])
    rig.wait_state(rig.power, "SEESTAR_SHUTDOWN_SEQ", "Ok", since=since, timeout_s=60)
    assert rig.fake_call(lambda: rig.fake.state.mount.state().parked)
    assert rig.fake_call(lambda: rig.fake.state.heater_value) == 0
    assert rig.fake.faults.counters.requests[Method.PI_SHUTDOWN] == 0  # not asked for


def test_bad_sequence_requests_are_alerts(rig):
    since = rig.client.mark()
    rig.client.send_switch(rig.power, START, ["STARTUP_STOP"])
    rig.wait_state(rig.power, START, "Alert", since=since)
    assert any("not running" in m for m in rig.messages(rig.power, since))
    rig.client.send_switch(rig.power, START, ["STARTUP_START"])
    rig.wait_state(rig.power, START, "Busy", since=since)
    mark = rig.client.mark()
    rig.client.send_switch(rig.power, "SEESTAR_SHUTDOWN_SEQ", ["SHUTDOWN_SEQ_START"])
    rig.wait_state(rig.power, "SEESTAR_SHUTDOWN_SEQ", "Alert", since=mark)
    assert any("start-up sequence is running" in m for m in rig.messages(rig.power, mark))
    rig.wait_state(rig.power, START, "Ok", since=since, timeout_s=60)
