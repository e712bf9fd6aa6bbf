"""Abort, replacement, and refused values (acceptance 5 and 6)."""

from __future__ import annotations

import time

from tests.e2e.camera_helpers import READOUT_MARGIN_S, FakeFrames, camera_rig, expose, open_fits, point_high

FACTOR = 10.0  # 20 s exposures take 2 s
#: seestar.stream_idle_s in the abort test (shipped: 5 s): the same idle stop, sooner.
STREAM_IDLE_S = 1.0


def exposure_updates(rig, since: int):  # noqa: ANN001, ANN201
    return rig.client.updates(rig.camera, "CCD_EXPOSURE", since=since)


def test_abort_during_an_exposure_sends_nothing_and_the_next_one_works(tmp_path):
    config = {"seestar": {"readout_margin_s": READOUT_MARGIN_S, "stream_idle_s": STREAM_IDLE_S}}
    with camera_rig(tmp_path, time_factor=FACTOR, config=config) as rig:
        client, fake = rig.client, rig.fake
        point_high(rig)
        since = client.mark()
        client.send_number(rig.camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 20.0})
        client.wait(lambda u: u.name == "CCD_EXPOSURE" and u.state == "Busy"
                    and u.values["CCD_EXPOSURE_VALUE"] < 20.0, timeout_s=15, since=since)
        aborted_at = time.monotonic()
        client.send_switch(rig.camera, "CCD_ABORT_EXPOSURE", ["ABORT"])
        ended = client.wait(lambda u: u.name == "CCD_EXPOSURE" and u.state in ("Idle", "Alert"),
                            timeout_s=5, since=since)
        assert ended.t_monotonic - aborted_at < 1.0
        abort = client.wait(lambda u: u.name == "CCD_ABORT_EXPOSURE", timeout_s=5, since=since)
        assert abort.state == "Ok" and abort.values == {"ABORT": False}
        # Nothing comes for it, even once the exposure it asked for would have ended twice over.
        completed = rig.fake_call(lambda: fake.camera.frames_completed)
        client.until(lambda: rig.fake_call(lambda: fake.camera.frames_completed) >= completed + 2,
                     timeout_s=15)
        assert not client.updates(rig.camera, "CCD1", event="set", since=since)
        assert [u.state for u in exposure_updates(rig, since)][-1] in ("Idle", "Alert")
        requests = fake.faults.counters.requests
        client.until(lambda: requests["stop_streaming"] >= 1, timeout_s=20)  # idle since the abort
        stops = requests["stop_streaming"]
        shot = expose(rig, 2.0)
        assert open_fits(shot.data)[0].header["EXPTIME"] == 2.0
        assert exposure_updates(rig, shot.since)[-1].state == "Ok"
        # Idle: the scope stops pushing preview frames; the next exposure turns them on again.
        client.until(lambda: requests["stop_streaming"] >= stops + 1, timeout_s=20)
        streams = requests["begin_streaming"]
        assert open_fits(expose(rig, 2.0).data)[0].header["EXPTIME"] == 2.0
        assert requests["begin_streaming"] == streams + 1


def test_a_new_exposure_replaces_the_running_one(tmp_path):
    with camera_rig(tmp_path, time_factor=FACTOR) as rig:
        client = rig.client
        point_high(rig)
        since = client.mark()
        client.send_number(rig.camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 30.0})
        client.wait(lambda u: u.name == "CCD_EXPOSURE" and u.state == "Busy", timeout_s=10,
                    since=since)
        shot = expose(rig, 3.0)
        assert open_fits(shot.data)[0].header["EXPTIME"] == 3.0
        # 30 s at x10 would end 3 s (real) after its request; only the 3 s frame ever comes.
        client.until(lambda: time.monotonic() - client.updates(since=since)[0].t_monotonic > 6,
                     timeout_s=15)
        assert len(client.updates(rig.camera, "CCD1", event="set", since=since)) == 1


def test_out_of_range_exposure_or_gain_is_refused_and_nothing_starts(tmp_path):
    with camera_rig(tmp_path) as rig:
        client, fake = rig.client, rig.fake
        frames = FakeFrames(rig)
        point_high(rig)
        settings_before = fake.faults.counters.requests["set_setting"]
        for seconds in (0.0001, 61.0):
            since = client.mark()
            client.send_number(rig.camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": seconds})
            reply = client.wait(lambda u: u.name == "CCD_EXPOSURE" and u.event == "set",
                                timeout_s=10, since=since)
            assert reply.state == "Alert"
            texts = [u.message for u in client.updates(rig.camera, event="message", since=since)]
            assert any("valid range is from 0.001 to 60" in t for t in texts), texts
            assert [u.state for u in exposure_updates(rig, since)] == ["Alert"]
        since = client.mark()
        client.send_number(rig.camera, "CCD_GAIN", {"GAIN": 401})
        reply = client.wait(lambda u: u.name == "CCD_GAIN" and u.event == "set", timeout_s=10,
                            since=since)
        assert reply.state == "Alert" and reply.values == {"GAIN": 80}
        texts = [u.message for u in client.updates(rig.camera, event="message", since=since)]
        assert any("valid range is from 0 to 400" in t for t in texts), texts
        assert fake.faults.counters.requests["set_setting"] == settings_before
        assert not client.updates(rig.camera, "CCD1", event="set")

        # A gain in range is what the next frame is taken with.
        since = client.mark()
        client.send_number(rig.camera, "CCD_GAIN", {"GAIN": 120})
        client.wait(lambda u: u.name == "CCD_GAIN" and u.state == "Ok", timeout_s=10, since=since)
        hdu = open_fits(expose(rig, 1.0).data)[0]
        spec, _ = frames.source_of(hdu.data)
        assert spec.gain == hdu.header["GAIN"] == 120
        frames.close()
