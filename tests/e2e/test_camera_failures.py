"""Failures end an exposure in Alert with a message, within its bound, and the next one works."""

from __future__ import annotations

import time

from indi_seestar.devices.camera_exposure import FRAME_SETUP_MARGIN_S
from tests.e2e.camera_helpers import READOUT_MARGIN_S, camera_rig, expose, open_fits, point_high


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


def test_frames_that_never_come_end_in_an_alert_within_the_bound(tmp_path):
    exposure_s = 2.0
    with camera_rig(tmp_path) as rig:
        client = rig.client
        point_high(rig)
        expose(rig, exposure_s)
        since = client.mark()
        sent = time.monotonic()
        client.send_number(rig.camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": exposure_s})
        client.wait(lambda u: u.name == "CCD_EXPOSURE" and u.state == "Busy"
                    and u.values["CCD_EXPOSURE_VALUE"] < exposure_s, timeout_s=10, since=since)
        # The scope stops exposing while we wait (no frame can have qualified yet: the
        # earliest ends 2 s after the request and is taken 1.5 s after that).
        rig.fake_call(rig.fake.view.stop_view, "ContinuousExposure")
        bound_s = 2 * exposure_s + READOUT_MARGIN_S + FRAME_SETUP_MARGIN_S
        ended = settle(rig, since, bound_s + 10)
        assert ended.state == "Alert" and ended.t_monotonic - sent < bound_s + 2
        assert any("no answer from the Seestar" in t for t in messages(rig, since))
        # Well within PHD2's watchdog (exposure + 15 s); the next exposure restarts the preview.
        assert ended.t_monotonic - sent < exposure_s + 15
        assert open_fits(expose(rig, exposure_s).data)[0].header["EXPTIME"] == exposure_s
