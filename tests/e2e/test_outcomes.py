"""Outcomes that match the scope across a frozen, dropped or restarted link (issue 9, items 1-3).

Real indiserver, the driver and the fake; the fake's knobs freeze its link (as SIGSTOP would),
kill it and restart it on the same ports with its state. See docs/outcomes.md.
"""

from __future__ import annotations

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
            until(lambda: len([m for m in messages_since(rig, since) if UNKNOWN_TEXT in m]) >= 2,
                  FREEZE_NOTICED_S, what="both commands reported with an unknown outcome")
            if link_drops:
                wait_message(rig, "lost the connection to the Seestar", since, FREEZE_NOTICED_S)
        finally:
            rig.fake.faults.thaw()
        texts = messages_since(rig, since)
        assert not [m for m in texts if "failed" in m], texts
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
