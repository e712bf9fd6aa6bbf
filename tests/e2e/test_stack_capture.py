"""Ekos Capture on the Seestar Stack device: N exposures give N stacked images (issue 11, 4); the
camera's raw exposures are refused, with the reason, while the scope stacks."""

from __future__ import annotations

import time

from tests.e2e.camera_helpers import open_fits, point_high
from tests.e2e.stack_helpers import STACK, stack_rig


def test_an_ekos_like_sequence_gets_one_stacked_image_per_exposure(tmp_path):
    exposure_s, count = 30.0, 3
    with stack_rig(tmp_path, time_factor=20.0) as rig:  # a 30 s exposure takes 1.5 s
        client = rig.client
        point_high(rig)
        # what Ekos sets before a sequence job
        for name, on in (("UPLOAD_MODE", ["UPLOAD_CLIENT"]), ("CCD_FRAME_TYPE", ["FRAME_LIGHT"]),
                         ("CCD_TRANSFER_FORMAT", ["FORMAT_FITS"]), ("CCD_CAPTURE_FORMAT", ["INDI_RGB"])):
            since = client.mark()
            client.send_switch(STACK, name, on)
            rig.wait_state(STACK, name, "Ok", since=since)
        since = client.mark()
        client.send_number(STACK, "CCD_BINNING", {"HOR_BIN": 1, "VER_BIN": 1})
        rig.wait_state(STACK, "CCD_BINNING", "Ok", since=since)
        first_mark = client.mark()
        for _ in range(count):
            since = client.mark()
            client.send_number(STACK, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": exposure_s})
            blob = client.wait(lambda u: u.device == STACK and u.name == "CCD1" and u.event == "set",
                               timeout_s=exposure_s / 10 + 60, since=since)
            ok = rig.wait_state(STACK, "CCD_EXPOSURE", "Ok", since=since, timeout_s=30)
            assert ok.t_monotonic >= blob.t_monotonic and ok.values["CCD_EXPOSURE_VALUE"] == 0
            busy = [u for u in client.updates(STACK, "CCD_EXPOSURE", event="set", since=since) if u.state == "Busy"]
            assert len(busy) >= 2 and busy[-1].values["CCD_EXPOSURE_VALUE"] < exposure_s  # counted down
            header = open_fits(client.last_blobs(1)[0])[0].header
            assert header["NAXIS3"] == 3 and 1 <= header["STACKCNT"] <= 4
            assert header["EXPTIME"] == 10 * header["STACKCNT"]
            # the scope's stack is stopped at the end of each exposure
            client.until(lambda: not rig.fake_call(lambda: rig.fake.state.stack.running), 10)
        assert len(client.updates(STACK, "CCD1", event="set", since=first_mark)) == count


def test_raw_exposures_are_refused_with_the_reason_while_the_scope_stacks(tmp_path):
    with stack_rig(tmp_path) as rig:
        client = rig.client
        point_high(rig)
        since = client.mark()
        client.send_switch(STACK, "SEESTAR_STACK", ["STACK_NEW"])
        client.wait(lambda u: u.device == STACK and u.name == "SEESTAR_STACK_STATE"
                    and u.values["STACKED"] >= 1, timeout_s=30, since=since)
        since = client.mark()
        client.send_number(rig.camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 1.0})
        rig.wait_state(rig.camera, "CCD_EXPOSURE", "Alert", since=since, timeout_s=20)
        text = " ".join(rig.messages(rig.camera, since))
        assert "stack" in text.lower(), text
        assert rig.fake_call(lambda: rig.fake.state.stack.running)  # the stack goes on
        time.sleep(0.2)
        assert not client.updates(rig.camera, "CCD1", event="set", since=since)


def test_stacked_images_saved_on_the_host_and_one_on_demand(tmp_path):
    with stack_rig(tmp_path) as rig:
        client = rig.client
        point_high(rig)
        folder = tmp_path / "stacks"
        since = client.mark()
        client.send_text(STACK, "UPLOAD_SETTINGS", {"UPLOAD_DIR": str(folder), "UPLOAD_PREFIX": "M42_XXX"})
        rig.wait_state(STACK, "UPLOAD_SETTINGS", "Ok", since=since)
        since = client.mark()
        client.send_switch(STACK, "UPLOAD_MODE", ["UPLOAD_LOCAL"])
        rig.wait_state(STACK, "UPLOAD_MODE", "Ok", since=since)
        since = client.mark()
        client.send_number(STACK, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": 20.0})
        saved = rig.wait_state(STACK, "CCD_FILE_PATH", "Ok", since=since, timeout_s=60)
        ok = rig.wait_state(STACK, "CCD_EXPOSURE", "Ok", since=since, timeout_s=30)
        assert saved.t_monotonic <= ok.t_monotonic
        path = saved.values["FILE_PATH"]
        assert path == str(folder / "M42_001.fits")
        header = open_fits((folder / "M42_001.fits").read_bytes())[0].header
        assert header["NAXIS3"] == 3 and header["STACKCNT"] >= 1
        assert not client.updates(STACK, "CCD1", event="set", since=since)
        # one image on demand, of the stack as it stands on the scope (stopped, kept)
        since = client.mark()
        client.send_switch(STACK, "SEESTAR_STACK_FETCH", ["FETCH"])
        rig.wait_state(STACK, "SEESTAR_STACK_FETCH", "Ok", since=since, timeout_s=30)
        again = rig.wait_state(STACK, "CCD_FILE_PATH", "Ok", since=since, timeout_s=10)
        assert again.values["FILE_PATH"] == str(folder / "M42_002.fits")
        assert open_fits((folder / "M42_002.fits").read_bytes())[0].header["STACKCNT"] == header["STACKCNT"]
