"""What the clients people run do (issue 13), through the real indiserver and libindi's client.

KStars/Ekos 3.6 (libindi 1.9 client side) and 2.x clients: the configuration load at the
first connection, FITS_HEADER written both ways, SCOPE_INFO from an optical train, compressed
frames for remote use, and the CCD_CONTROLS gain alias.
"""

from __future__ import annotations

import numpy as np

from tests.e2e.camera_helpers import FakeFrames, camera_rig, expose, open_fits
from tests.support.indi_harness import until
from tests.support.rig import Rig


def _set_and_wait(rig: Rig, name: str, values: dict[str, str]) -> str:
    """send_text and wait for the driver's answer; returns its state."""
    mark = rig.client.mark()
    rig.client.send_text(rig.camera, name, values)
    answer = rig.client.wait(lambda u: u.device == rig.camera and u.name == name
                             and u.event == "set", timeout_s=10, since=mark)
    return answer.state


def test_ekos_connection_sequence_on_a_fresh_home_gives_no_alert(tmp_path):
    with Rig.start(tmp_path) as rig:
        client = rig.client
        mark = client.mark()
        for device in rig.all_devices:
            client.connect_device(device, timeout_s=30)
            # Ekos: CONFIG_LOAD right after connecting, when CONFIG_PROCESS is Idle
            assert client.updates(device, "CONFIG_PROCESS")[-1].state == "Idle"
            client.send_switch(device, "CONFIG_PROCESS", ["CONFIG_LOAD"])
        answers = [client.wait(lambda u, d=d: u.device == d and u.name == "CONFIG_PROCESS"
                               and u.event == "set", timeout_s=10, since=mark)
                   for d in rig.all_devices]
        assert [a.state for a in answers] == ["Ok"] * len(rig.all_devices)
        assert all(not any(a.values.values()) for a in answers)
        def texts() -> list[str]:
            return [m for d in rig.all_devices for m in rig.messages(d, mark)]

        # libindi records a set's message just after the set itself
        until(lambda: sum("No previous configuration found" in m for m in texts())
              == len(rig.all_devices), 10, what="one INFO message per device")
        seen = texts()
        assert not [m for m in seen if "[ERROR]" in m]
        assert all("[INFO]" in m for m in seen if "No previous configuration" in m)


def test_fits_header_the_kstars_36_way_and_the_2x_way_both_reach_the_file(tmp_path):
    with camera_rig(tmp_path) as rig:
        client, cam = rig.client, rig.camera
        mark = client.mark()
        # KStars 3.6.2 (ISD::CCD::setFITSHeader): its two elements by name, the vector's
        # other elements sent as its copy holds them (empty)
        assert _set_and_wait(rig, "FITS_HEADER",
                             {"FITS_OBSERVER": "Ada Lovelace", "FITS_OBJECT": "M 31"}) == "Ok"
        # libindi 2.x / KStars >= 3.7 (setFITSHeaders): elements 0-2, one record per message
        for name, value in (("TELESCOP", "Seestar S50"), ("SITENAME", "Back garden")):
            assert _set_and_wait(rig, "FITS_HEADER", {"KEYWORD_NAME": name,
                                                      "KEYWORD_VALUE": value,
                                                      "KEYWORD_COMMENT": ""}) == "Ok"
        # an all-empty message (KStars 3.6 with nothing set) is ignored quietly
        assert _set_and_wait(rig, "FITS_HEADER", {"FITS_OBSERVER": "", "FITS_OBJECT": ""}) == "Ok"
        assert not [m for m in rig.messages(cam, mark) if "[ERROR]" in m]

        header = open_fits(expose(rig, 0.5).data)[0].header
        assert header["OBSERVER"] == "Ada Lovelace" and header["OBJECT"] == "M 31"
        assert header["TELESCOP"] == "Seestar S50" and header["SITENAME"] == "Back garden"
        # the 2.x way replaces a 1.9-way record of the same keyword
        assert _set_and_wait(rig, "FITS_HEADER", {"KEYWORD_NAME": "OBJECT",
                                                  "KEYWORD_VALUE": "M 33",
                                                  "KEYWORD_COMMENT": ""}) == "Ok"
        assert open_fits(expose(rig, 0.5).data)[0].header["OBJECT"] == "M 33"


def test_scope_info_from_an_optical_train_is_kept_with_one_warning(tmp_path):
    with camera_rig(tmp_path) as rig:
        client, cam = rig.client, rig.camera
        mark = client.mark()
        for answers in (1, 2):  # Ekos sends the train at connection and again with each job
            client.send_number(cam, "SCOPE_INFO", {"FOCAL_LENGTH": 300, "APERTURE": 60})
            # the driver's answer comes after the warning the request may cause
            until(lambda n=answers: len([u for u in client.updates(cam, "SCOPE_INFO", "set", mark)
                                         if u.state == "Ok"]) >= n, 10, what="SCOPE_INFO answers")
        warnings = [m for m in rig.messages(cam, mark) if "SCOPE_INFO" in m]
        assert len(warnings) == 1 and "[WARNING]" in warnings[0]
        assert "250 mm" in warnings[0] and "50 mm" in warnings[0] and "300 mm" in warnings[0]
        header = open_fits(expose(rig, 0.5).data)[0].header
        assert header["FOCALLEN"] == 300 and header["APTDIA"] == 60  # the client's, as libindi


def test_a_compressed_frame_opens_in_astropy_with_the_pixels_the_scope_sent(tmp_path):
    with camera_rig(tmp_path) as rig:
        client, cam = rig.client, rig.camera
        frames = FakeFrames(rig)
        raw = expose(rig, 0.5)
        assert raw.blob.values["CCD1"].format == ".fits"
        raw_image = open_fits(raw.data)[0].data
        assert np.array_equal(raw_image, frames.source_of(raw_image)[1])

        mark = client.mark()
        client.send_switch(cam, "CCD_COMPRESSION", ["INDI_ENABLED"])
        rig.wait_state(cam, "CCD_COMPRESSION", "Ok", since=mark)
        packed = expose(rig, 0.5)
        info = packed.blob.values["CCD1"]
        assert info.format == ".fits.fz" and info.size == len(packed.data)
        hdul = open_fits(packed.data)
        # fpack's layout: an empty primary HDU, then the tile-compressed image (Rice, lossless)
        assert len(hdul) == 2 and hdul[0].data is None
        assert type(hdul[1]).__name__ == "CompImageHDU" and hdul[1].compression_type == "RICE_1"
        image = hdul[1].data
        assert image.dtype == np.uint16 and image.shape == raw_image.shape
        assert np.array_equal(image, frames.source_of(image)[1])  # lossless
        assert hdul[1].header["INSTRUME"] == cam and hdul[1].header["EXPTIME"] == 0.5
        assert len(packed.data) <= 0.6 * len(raw.data)


def test_ccd_controls_gain_follows_ccd_gain_both_ways(tmp_path):
    with camera_rig(tmp_path) as rig:
        client, cam = rig.client, rig.camera
        assert client.updates(cam, "CCD_CONTROLS")[-1].values["Gain"] == \
            client.updates(cam, "CCD_GAIN")[-1].values["GAIN"]

        def last(name: str, member: str, since: int) -> float:
            update = client.wait(lambda u: u.device == cam and u.name == name
                                 and u.event == "set", timeout_s=10, since=since)
            return update.values[member]

        mark = client.mark()
        client.send_number(cam, "CCD_GAIN", {"GAIN": 150})
        assert (last("CCD_GAIN", "GAIN", mark), last("CCD_CONTROLS", "Gain", mark)) == (150, 150)
        mark = client.mark()
        client.send_number(cam, "CCD_CONTROLS", {"Gain": 42})
        assert (last("CCD_GAIN", "GAIN", mark), last("CCD_CONTROLS", "Gain", mark)) == (42, 42)
        # the scope gets it: the FITS says GAIN 42
        assert open_fits(expose(rig, 0.5).data)[0].header["GAIN"] == 42
