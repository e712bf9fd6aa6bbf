"""Fault matrix (issue 9): the link lost and restored in each phase of each operation.

One rig for the module (real indiserver, driver and fake at time factor 4). For each operation
(goto, park, focuser move, wheel move, exposure, guide pulse), phase ("unanswered": the fake
carries the command out but its reply is withheld; "running": the reply came and the motion
runs) and outage (short: restarted at once; long: down for longer than the operations take),
the fake is killed and restarted on the same ports with its state. Once the link is back,
every relevant property state must equal what the fake reports, nothing may be called
"failed" that may have run, and a motion of unknown outcome must have been announced.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from indi_seestar.protocol.methods import Method
from tests.e2e.camera_helpers import point_high
from tests.e2e.outcome_support import (
    UNKNOWN_TEXT,
    Truth,
    expected_eod_state,
    last,
    messages_since,
    settled,
    truth,
    wait_link_back,
)
from tests.support.indi_harness import until
from tests.support.rig import Rig

#: Mostly asleep on frozen and dropped links (~43 s of a worker, ~2 s of CPU): the waiting lane.
pytestmark = pytest.mark.waiting

TIME_FACTOR = 4.0
#: Real seconds the fake stays down in a long outage: longer than a park (4 s of scope time),
#: a focuser move of 900 steps (3 s) or a pulse, at the time factor; a short one restarts at once.
OUTAGES_S = {"short": 0.0, "long": 1.3}
PHASES = ("unanswered", "running")
#: Scope seconds: its countdown shows it running (the "unanswered" phase of an exposure is the
#: moment it was accepted, before the frame setup was answered).
EXPOSURE_S = 12.0


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    with Rig.start(tmp_path_factory.mktemp("matrix"), time_factor=TIME_FACTOR) as rig:
        rig.connect_all()
        yield rig


@dataclass(frozen=True)
class Op:
    """One operation of the matrix: how to start it and what shows it running."""

    name: str
    method: Method | None  # whose reply is withheld in the "unanswered" phase
    start: Callable[[Rig], None]
    running: Callable[[Rig], bool]
    check: Callable[[Rig, Truth, int], None]  # after the link is back and the fake stood still


def _eod_matches(rig: Rig) -> bool:
    return last(rig, rig.mount, "EQUATORIAL_EOD_COORD").state == expected_eod_state(truth(rig))


def _start_goto(rig: Rig) -> None:
    point_high(rig, 45.0, 150.0)
    ra, dec = rig.fake_call(rig.fake.state.mount.radec_of_altaz, 60.0, 170.0)
    rig.client.send_switch(rig.mount, "ON_COORD_SET", ["TRACK"])
    rig.client.send_number(rig.mount, "EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec})


def _check_mount(rig: Rig, t: Truth, since: int) -> None:
    until(lambda: _eod_matches(rig), 10, what="EQUATORIAL_EOD_COORD as the fake's state says")

    def park_shown() -> bool:
        park = last(rig, rig.mount, "TELESCOPE_PARK")
        return park.state == "Ok" and park.values["PARK"] == truth(rig).parked
    until(park_shown, 10, what="TELESCOPE_PARK as the fake's state says")
    assert last(rig, rig.mount, "TARGET_EOD_COORD").state != "Busy"


def _start_park(rig: Rig) -> None:
    rig.client.send_switch(rig.mount, "TELESCOPE_PARK", ["PARK"])


def _start_focuser(rig: Rig) -> None:
    here = truth(rig).focuser_steps
    rig.client.send_number(rig.focuser, "ABS_FOCUS_POSITION",
                           {"FOCUS_ABSOLUTE_POSITION": here + 900 if here < 1300 else here - 900})


def _check_focuser(rig: Rig, t: Truth, since: int) -> None:
    def shown() -> bool:
        pos = last(rig, rig.focuser, "ABS_FOCUS_POSITION")
        return (pos.state == "Ok"
                and round(pos.values["FOCUS_ABSOLUTE_POSITION"]) == truth(rig).focuser_steps)
    until(shown, 10, what="ABS_FOCUS_POSITION Ok at the fake's position")


def _start_wheel(rig: Rig) -> None:
    slot = truth(rig).wheel_slot
    rig.client.send_number(rig.wheel, "FILTER_SLOT", {"FILTER_SLOT_VALUE": 3 if slot != 2 else 2})


def _check_wheel(rig: Rig, t: Truth, since: int) -> None:
    def shown() -> bool:
        slot = last(rig, rig.wheel, "FILTER_SLOT")
        shown_slot = round(slot.values["FILTER_SLOT_VALUE"])
        return slot.state == "Ok" and shown_slot == truth(rig).wheel_slot + 1
    until(shown, 10, what="FILTER_SLOT Ok at the fake's slot")


def _start_exposure(rig: Rig) -> None:
    rig.client.send_number(rig.camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": EXPOSURE_S})


def _exposing(rig: Rig) -> bool:
    exp = last(rig, rig.camera, "CCD_EXPOSURE")
    return exp.state == "Busy" and 0 < exp.values["CCD_EXPOSURE_VALUE"] < EXPOSURE_S


def _check_exposure(rig: Rig, t: Truth, since: int) -> None:
    assert last(rig, rig.camera, "CCD_EXPOSURE").state == "Alert"
    assert any("lost the link to the Seestar" in m for m in rig.messages(rig.camera, since))


def _start_pulse(rig: Rig) -> None:
    point_high(rig, 45.0, 150.0)
    rig.client.send_number(rig.mount, "TELESCOPE_TIMED_GUIDE_WE",
                           {"TIMED_GUIDE_W": 3000.0, "TIMED_GUIDE_E": 0.0})


def _check_pulse(rig: Rig, t: Truth, since: int) -> None:
    until(lambda: last(rig, rig.mount, "TELESCOPE_TIMED_GUIDE_WE").state == "Idle", 10,
          what="TELESCOPE_TIMED_GUIDE_WE Idle")
    _check_mount(rig, t, since)


OPS = {
    "goto": Op("goto", Method.SCOPE_GOTO, _start_goto, lambda r: truth(r).slewing, _check_mount),
    "park": Op("park", Method.SCOPE_PARK, _start_park, lambda r: truth(r).slewing, _check_mount),
    "focuser": Op("focuser", Method.MOVE_FOCUSER, _start_focuser,
                  lambda r: truth(r).focuser_moving, _check_focuser),
    "wheel": Op("wheel", Method.SET_WHEEL_POSITION, _start_wheel,
                lambda r: truth(r).wheel_moving, _check_wheel),
    "exposure": Op("exposure", None, _start_exposure, _exposing, _check_exposure),
    "pulse": Op("pulse", Method.SCOPE_SPEED_MOVE, _start_pulse, lambda r: truth(r).slewing,
                _check_pulse),
}


def _prepare(rig: Rig) -> None:
    """Unparked, standing still, the driver's session up."""
    settled(rig)
    if truth(rig).parked:  # through the driver, so that it knows
        rig.client.send_switch(rig.mount, "TELESCOPE_PARK", ["UNPARK"])
        until(lambda: not truth(rig).parked, 20, what="the fake to unpark")
        settled(rig)
    until(lambda: not last(rig, rig.mount, "TELESCOPE_PARK").values["PARK"]
          and last(rig, rig.mount, "TELESCOPE_PARK").state == "Ok", 10,
          what="the driver to show the mount unparked")


@pytest.mark.parametrize("outage", OUTAGES_S)
@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("name", OPS)
def test_link_lost_and_restored(rig: Rig, name: str, phase: str, outage: str) -> None:
    op = OPS[name]
    _prepare(rig)
    since = rig.client.mark()
    if phase == "unanswered" and op.method is None:
        op.start(rig)
        rig.wait_state(rig.camera, "CCD_EXPOSURE", "Busy", since=since, timeout_s=10)
    elif phase == "unanswered" and op.method is not None:
        rig.fake.faults.delay_next_reply(op.method, 60.0)
        requests = rig.fake.faults.counters.requests[str(op.method)]
        op.start(rig)
        until(lambda: rig.fake.faults.counters.requests[str(op.method)] > requests, 10,
              what=f"the fake to receive {op.method}")
    else:
        op.start(rig)
        until(lambda: op.running(rig), 10, what=f"the {name} to run")
    rig.fake.faults.kill()
    try:
        rig.client.wait(lambda u: "lost the connection to the Seestar" in (u.message or ""),
                        timeout_s=10, since=since)
        down_until = time.monotonic() + OUTAGES_S[outage]
        until(lambda: time.monotonic() >= down_until, OUTAGES_S[outage] + 5, interval_s=0.02)
    finally:
        rig.fake.faults.restart()
    rig.fake.faults.delay_next_reply(op.method or Method.TEST_CONNECTION, 0.0)
    wait_link_back(rig, since)
    t = settled(rig)
    try:
        op.check(rig, t, since)
    except AssertionError:
        print("\n".join(messages_since(rig, since)))
        print(rig.stderr_text()[-5000:])
        raise
    texts = messages_since(rig, since)
    if name != "exposure":  # an exposure is not a motion: it fails, naming the link
        assert not [m for m in texts if "failed" in m], texts
    unknown = [m for m in texts if UNKNOWN_TEXT in m]
    if unknown:  # told "unknown": what happened is announced once the link is back
        assert [m for m in texts if "the link is back" in m or "stopped it" in m], texts
