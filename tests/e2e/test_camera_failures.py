"""Failures end an exposure in Alert with a message, within its bound, and the next one works."""

from __future__ import annotations

import time

import pytest

from tests.e2e.camera_helpers import camera_rig, expose, open_fits, point_high


def settle(rig, since: int, timeout_s: float):  # noqa: ANN001, ANN201
    """The first CCD_EXPOSURE update from `since` that is not Busy."""
    return rig.client.wait(lambda u: u.name == "CCD_EXPOSURE" and u.state != "Busy",
                           timeout_s=timeout_s, since=since)


def messages(rig, since: int) -> list[str]:  # noqa: ANN001
    return [u.message for u in rig.client.updates(rig.camera, event="message", since=since)]


def test_a_refused_command_is_an_alert_with_the_firmware_reason(tmp_path):
    with camera_rig(tmp_path) as rig:
        client = rig.client
        point_high(rig)
        since = client.mark()
        client.send_number(rig.camera, "CCD_GAIN", {"GAIN": 150})
        client.wait(lambda u: u.name == "CCD_GAIN" and u.state == "Ok", timeout_s=10, since=since)
        rig.fake.faults.fail_next("set_control_value", 207, "fail to operate")
        since = client.mark()
        client.send_number(rig.camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 1.0})
        assert settle(rig, since, 15).state == "Alert"
        assert any("set_control_value failed (code 207)" in t for t in messages(rig, since))
        assert not client.updates(rig.camera, "CCD1", event="set", since=since)
        assert open_fits(expose(rig, 1.0).data)[0].header["GAIN"] == 150  # set again, this time


#: The bound's margins in the test below (seestar.*): the bound is the configured one, so smaller
#: margins check the same mechanism sooner. The shipped set-up margin (10 s) is checked against
#: PHD2's watchdog in tests/devices/test_camera_units.py; 3 s is still above the ~1 s the
#: fake's set-up commands take. The timing guarantee is not under test here (test_camera_timing
#: is): a small readout margin lets a 2 s exposure take the first frame after the preview's
#: restart instead of the one after it (~2.5 s instead of ~4.7 s each).
FRAME_SETUP_MARGIN_S = 3.0
FAILURE_READOUT_MARGIN_S = 0.1
CE = "ContinuousExposure"


#: With the 0.1 s margin a preview frame completed just before the driver's restart must reach
#: it within 0.1 s of the stop, or it passes for a new one (Ok, not Alert): at the run's start
#: beside two CPU hogs (2026-12-03) one did not. The busy realtime lane runs it first.
@pytest.mark.realtime_busy
def test_frames_that_never_come_end_in_an_alert_within_the_bound(tmp_path):
    exposure_s = 2.0
    config = {"seestar": {"readout_margin_s": FAILURE_READOUT_MARGIN_S,
                          "frame_setup_margin_s": FRAME_SETUP_MARGIN_S}}
    with camera_rig(tmp_path, config=config) as rig:
        client, fake = rig.client, rig.fake
        point_high(rig)
        expose(rig, exposure_s)
        since = client.mark()
        requested_scope_s = rig.fake_call(fake.clock.now_s)
        sent = time.monotonic()
        client.send_number(rig.camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": exposure_s})

        def restarted() -> bool:  # the driver restarted the preview for this request (>= 1 s)
            stage = fake.state.view.stages.get(CE)
            return (stage is not None and stage.state == "working"
                    and stage.t_start_s >= requested_scope_s)

        client.until(lambda: rig.fake_call(restarted), timeout_s=10)
        # The scope stops exposing while we wait: no frame can have qualified yet (the first
        # one after the restart ends 2 s after it began, which was just now).
        rig.fake_call(fake.view.stop_view, CE)
        bound_s = 2 * exposure_s + FAILURE_READOUT_MARGIN_S + FRAME_SETUP_MARGIN_S
        ended = settle(rig, since, bound_s + 10)
        assert ended.state == "Alert" and ended.t_monotonic - sent < bound_s + 2
        assert any("no answer from the Seestar" in t for t in messages(rig, since))
        # Well within PHD2's watchdog (exposure + 15 s); the next exposure restarts the preview.
        assert ended.t_monotonic - sent < exposure_s + 15
        assert open_fits(expose(rig, exposure_s).data)[0].header["EXPTIME"] == exposure_s
