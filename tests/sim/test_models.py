"""The fake's models (--model S50|S30|S50P|S30P): what get_device_state reports, the frames'
geometry and encoding on 4800, and the S30P's wide camera on its own image port (4804)."""

from __future__ import annotations

import numpy as np
import pytest

from indi_seestar.protocol.frames import DataType, inflate_bayer_into
from indi_seestar.protocol.methods import Method

from .conftest import until

#: Waits for frames the fake renders (a stacked RGB image, a wide-camera frame): seconds
#: on a loaded 2-core machine; this only bounds how long a failure takes to report.
FAILURE_TIMEOUT_S = 60.0

#: model: (product_model, chip_size, pixel um, debayer, focal mm, fnumber, second_camera, zip)
EXPECTED = {
    "S50": ("Seestar S50", [1080, 1920], 2.9, "GR", 250.0, 5.0, False, False),
    "S30": ("Seestar S30", [1080, 1920], 2.9, "GR", 150.0, 5.0, True, True),
    "S50P": ("Seestar S50P", [2180, 3856], 2.9, "GR", 260.0, 5.2, False, False),
    "S30P": ("Seestar S30P", [2180, 3856], 2.9, "GR", 160.0, 5.3, True, True),
}


def pixels_of(frame) -> np.ndarray:  # noqa: ANN001
    """A 4800 preview's pixels, raw or ZIP (data_type 3)."""
    h = frame.header
    if h.data_type == DataType.COMPRESSED:
        out = bytearray(h.width * h.height * 2)
        inflate_bayer_into(frame.payload, memoryview(out))
        return np.frombuffer(out, dtype="<u2").reshape(h.height, h.width)
    return np.frombuffer(frame.payload, dtype="<u2").reshape(h.height, h.width)


@pytest.mark.parametrize("model", list(EXPECTED))
async def test_device_state_and_frames_follow_the_model(model, fake_factory, client_factory):
    product, chip, pixel, cfa, focal, fnum, second, zipped = EXPECTED[model]
    fake = await fake_factory(model=model, time_factor=20.0, parked=False)
    ctl = await client_factory(fake.control_port)
    state = await ctl.result(Method.GET_DEVICE_STATE)
    device, camera = state["device"], state["camera"]
    assert (device["product_model"], device["focal_len"], device["fnumber"]) == (product, focal, fnum)
    assert (camera["chip_size"], camera["pixel_size_um"], camera["debayer_pattern"]) == (chip, pixel, cfa)
    assert ("second_camera" in state) is second
    assert device["can_star_mode_sel_cam"] is (model == "S30P")
    assert (fake.wide_image_port is not None) is (model == "S30P")

    img = await client_factory(fake.image_port, "image")
    img.send(Method.BEGIN_STREAMING, 21)
    await ctl.call(Method.ISCOPE_START_VIEW, {"mode": "star"})
    await until(lambda: len(img.raw_frames()) >= 1, 15)
    frame = img.raw_frames()[0]
    assert (frame.header.width, frame.header.height) == tuple(chip)
    assert (frame.header.data_type == DataType.COMPRESSED) is zipped
    assert np.array_equal(pixels_of(frame), fake.camera.rendered(frame.header.image_id))


async def test_the_s30p_wide_camera_streams_on_its_port_while_second_view_runs(fake_factory,
                                                                              client_factory):
    fake = await fake_factory(model="S30P", time_factor=20.0, parked=False)
    ctl = await client_factory(fake.control_port)
    wide = await client_factory(fake.wide_image_port, "image")
    wide.send(Method.BEGIN_STREAMING, 21)
    await ctl.call(Method.ISCOPE_START_VIEW, {"mode": "star"})
    app = await ctl.result(Method.GET_APP_STATE)
    assert app["SecondView"] == {"state": "idle"}  # wide_cam is off: no wide frames
    assert (await ctl.call(Method.SET_SETTING, {"wide_cam": True})).code == 0
    await until(lambda: len(wide.raw_frames()) >= 2, FAILURE_TIMEOUT_S)
    app = await ctl.result(Method.GET_APP_STATE)
    assert app["SecondView"]["stage"] == "ContinuousExposure"
    frame = wide.raw_frames()[-1]
    assert (frame.header.width, frame.header.height) == (1920, 1080)  # second_camera chip_size
    pixels = pixels_of(frame)
    assert np.array_equal(pixels, fake.second_view.camera.rendered(frame.header.image_id))
    assert pixels.std() > 0
    # The View stopped: SecondView stops too.
    await ctl.call(Method.ISCOPE_STOP_VIEW, {})
    await until(lambda: not fake.second_view.working, 5)
