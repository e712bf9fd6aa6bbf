"""Outcomes that match the scope across a frozen, dropped or restarted link (issue 9, items 1-3).

Real indiserver, the driver and the fake; the fake's knobs freeze its link (as SIGSTOP would),
kill it and restart it on the same ports with its state. See docs/outcomes.md.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.camera_helpers import point_high
from tests.e2e.outcome_support import (
    UNKNOWN_TEXT,
    expected_eod_state,
    last,
    messages_since,
    settled,
    truth,
    wait_link_back,
    wait_message,
)
from tests.support.indi_harness import until
from tests.support.rig import Rig

#: Mostly asleep on frozen and dropped links (~39 s of a worker, ~1 s of CPU): the waiting lane.
pytestmark = pytest.mark.waiting

#: A freeze is noticed after the heartbeats go unanswered (~11 s with the engine's defaults).
FREEZE_NOTICED_S = 30.0


@pytest.mark.parametrize("link_drops", [True, False], ids=["link-dropped", "reply-late"])
def test_commands_sent_into_a_frozen_link_are_unknown_not_failed_and_not_carried_out_unannounced(
        tmp_path, link_drops):
    """Item 1: a goto (SLEW, tracking off) and a focuser move sent while the scope is frozen,
    thawed once the link was declared dead (as in the issue) or once the replies were late."""
    with Rig.start(tmp_path) as rig:
        rig.connect_all()
        point_high(rig, 35.0, 120.0)
        ra, dec = rig.fake_call(rig.fake.state.mount.radec_of_altaz, 70.0, 230.0)
        start_focus = truth(rig).focuser_steps
        since = rig.client.mark()
        rig.client.send_switch(rig.mount, "ON_COORD_SET", ["SLEW"])
        rig.fake.faults.freeze()
        try:
            rig.client.send_number(rig.mount, "EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec})
            rig.client.send_number(rig.focuser, "ABS_FOCUS_POSITION",
                                   {"FOCUS_ABSOLUTE_POSITION": 2000 if start_focus < 1500 else 500})
            rig.wait_state(rig.mount, "EQUATORIAL_EOD_COORD", "Alert", since=since,
                           timeout_s=FREEZE_NOTICED_S)
            rig.wait_state(rig.focuser, "ABS_FOCUS_POSITION", "Alert", since=since,
                           timeout_s=FREEZE_NOTICED_S)
            if link_drops:
                wait_message(rig, "lost the connection to the Seestar", since, FREEZE_NOTICED_S)
        finally:
            rig.fake.faults.thaw()
        texts = messages_since(rig, since)
        assert not [m for m in texts if "failed" in m], texts
        assert len([m for m in texts if UNKNOWN_TEXT in m]) == 2, texts
        # The goto ran on the scope after the thaw: it is stopped and announced, not finished.
        try:
            stopped = rig.client.wait(lambda u: u.device == rig.mount
                                      and "stopped it" in (u.message or ""), timeout_s=30,
                                      since=since)
        except AssertionError:
            print("\n".join(messages_since(rig, since)))
            print(rig.stderr_text()[-6000:])
            raise
        assert "goto" in stopped.message
        t = settled(rig)
        assert abs(t.ra_hours - ra) * 15 > 1.0 or abs(t.dec_deg - dec) > 1.0, "the goto completed"
        assert not t.tracking  # SLEW was chosen: nothing turned tracking on
        until(lambda: last(rig, rig.mount, "EQUATORIAL_EOD_COORD").state == expected_eod_state(t),
              10, what="EQUATORIAL_EOD_COORD derived from the scope")
        assert last(rig, rig.mount, "TARGET_EOD_COORD").state != "Busy"
        until(lambda: last(rig, rig.focuser, "ABS_FOCUS_POSITION").state == "Ok"
              and round(last(rig, rig.focuser, "ABS_FOCUS_POSITION")
                        .values["FOCUS_ABSOLUTE_POSITION"]) == truth(rig).focuser_steps,
              10, what="the focuser's real position")


def test_no_stale_busy_while_the_link_is_down_nor_after_reconnecting_to_a_parked_mount(tmp_path):
    """Item 2: a goto cut by a dropped link; the scope parks meanwhile; the link comes back."""
    with Rig.start(tmp_path, time_factor=2.0) as rig:
        rig.connect_all()
        point_high(rig, 35.0, 120.0)
        ra, dec = rig.fake_call(rig.fake.state.mount.radec_of_altaz, 70.0, 230.0)
        since = rig.client.mark()
        rig.client.send_number(rig.mount, "EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec})
        until(lambda: truth(rig).slewing, 10, what="the slew to start")
        rig.fake.faults.kill()
        try:
            lost = rig.wait_state(rig.mount, "EQUATORIAL_EOD_COORD", "Alert", since=since,
                                  timeout_s=10)
            rig.fake_call(rig.fake.mount_ops.park)  # the user parks it with the app meanwhile
            until(lambda: truth(rig).parked and not truth(rig).slewing, 20, what="the park")
            # Longer than a pointing poll: the old code re-derived Busy from stale events here.
            down = rig.client.mark()
            until(lambda: time.monotonic() - lost.t_monotonic > 3.0, 5, interval_s=0.05)
        finally:
            rig.fake.faults.restart()
        back = wait_link_back(rig, since)
        during = [u.state for u in rig.client.updates(rig.mount, "EQUATORIAL_EOD_COORD", since=down)
                  if u.event == "set" and u.t_monotonic < back.t_monotonic]
        assert "Busy" not in during, during
        until(lambda: last(rig, rig.mount, "TELESCOPE_PARK").values.get("PARK")
              and last(rig, rig.mount, "TELESCOPE_PARK").state == "Ok", 10,
              what="TELESCOPE_PARK showing the parked mount")
        until(lambda: last(rig, rig.mount, "EQUATORIAL_EOD_COORD").state == "Idle", 10,
              what="EQUATORIAL_EOD_COORD Idle (parked)")
        assert last(rig, rig.mount, "TARGET_EOD_COORD").state == "Idle"
        assert any(UNKNOWN_TEXT in m and "goto" in m for m in messages_since(rig, since))
        after = rig.client.updates(rig.mount, "EQUATORIAL_EOD_COORD", since=rig.client.mark())
        until(lambda: time.monotonic() - back.t_monotonic > 2.0, 5, interval_s=0.05)
        assert all(u.state == "Idle" for u in after if u.event == "set")


def test_an_exposure_ends_at_once_naming_the_lost_link(tmp_path):
    """Item 3: the fake killed during a 5 s exposure (with a 0.5 s readout margin)."""
    margin_s = 0.5
    with Rig.start(tmp_path, config={"seestar": {"readout_margin_s": margin_s}}) as rig:
        rig.connect_all()
        since = rig.client.mark()
        rig.client.send_number(rig.camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 5.0})
        rig.client.wait(lambda u: u.device == rig.camera and u.name == "CCD_EXPOSURE"
                        and u.state == "Busy" and 0 < u.values["CCD_EXPOSURE_VALUE"] < 4.5,
                        timeout_s=15, since=since)
        t_kill = time.monotonic()
        rig.fake.faults.kill()
        try:
            alert = rig.wait_state(rig.camera, "CCD_EXPOSURE", "Alert", since=since, timeout_s=15)
        finally:
            rig.fake.faults.restart()
        late_s = alert.t_monotonic - t_kill
        print(f"CCD_EXPOSURE Alert {late_s:.3f} s after the kill")
        assert late_s < margin_s + 0.5, f"Alert {late_s:.2f} s after the kill"
        text = " ".join(rig.messages(rig.camera, since))
        assert "lost the link to the Seestar" in text, text
        assert "another request" not in text
        wait_link_back(rig, since)
        again = rig.client.mark()
        rig.client.send_number(rig.camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 0.5})
        rig.wait_state(rig.camera, "CCD_EXPOSURE", "Ok", since=again, timeout_s=20)
