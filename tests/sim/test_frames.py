"""Raw frames on 4800: streaming, star content, dark slot, stacked images, current image."""

from __future__ import annotations

import numpy as np

from indi_seestar.protocol.frames import DataType, ImageType, decode_stack_zip
from indi_seestar.protocol.methods import Method

from .conftest import until

#: Waits for frames the fake renders (a stacked RGB image, a wide-camera frame): seconds
#: on a loaded 2-core machine; this only bounds how long a failure takes to report.
FAILURE_TIMEOUT_S = 60.0


def star_peaks(img: np.ndarray, sigmas: float = 15.0) -> int:
    """Count extended bright peaks: green 2x2 bins, 3x3 median (isolated hot pixels vanish)."""
    binned = img[0::2, 0::2].astype(np.float32) + img[1::2, 1::2]
    box = np.median(np.lib.stride_tricks.sliding_window_view(binned, (3, 3)), axis=(-1, -2))
    med = float(np.median(box))
    noise = 1.4826 * float(np.median(np.abs(box - med))) + 1e-3
    pad = np.pad(box, 2, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(pad, (5, 5))
    peak = (box == windows.max(axis=(-1, -2))) & (box > med + sigmas * noise)
    return int(peak.sum())


async def test_streaming_gives_raw_frames_with_stars(fake_factory, client_factory):
    fake = await fake_factory(time_factor=20.0, parked=False)
    # The Pleiades: 54-65 peaks in a 0.5 s frame at any hour; the field at (5.6 h, +22) gave
    # 7-27 as the alt-az field turned with the hour (8 and 9 in two runs today).
    fake.point_at(3.79, 24.12)
    img_client = await client_factory(fake.image_port, "image")
    img_client.send(Method.BEGIN_STREAMING, 21)
    fake.start_preview()
    frames = await img_client.wait_raw(3)
    for img in frames:
        assert img.shape == (1920, 1080) and img.dtype == np.uint16
        assert star_peaks(img) >= 10
    headers = [f.header for f in img_client.raw_frames()[:3]]
    assert all(h.frame_id == 21 and h.img_type == ImageType.PREVIEW and h.data_type == DataType.RAW
               and h.can_debayer == 1 for h in headers)
    ids = [h.image_id for h in headers]
    assert ids == sorted(ids) and len(set(ids)) == 3


async def test_dark_slot_gives_no_stars(fake_factory, client_factory):
    fake = await fake_factory(time_factor=20.0, parked=False)
    fake.point_at(5.6, 22.0)
    fake.state.wheel.position = 0
    img_client = await client_factory(fake.image_port, "image")
    img_client.send(Method.BEGIN_STREAMING, 21)
    fake.start_preview()
    (img,) = await img_client.wait_raw(1)
    assert star_peaks(img) == 0


async def test_current_img_ack_then_frame(fake_factory, client_factory):
    fake = await fake_factory(time_factor=50.0, parked=False)
    img_client = await client_factory(fake.image_port, "image")
    img_client.send(Method.GET_CURRENT_IMG, 7)
    await until(lambda: img_client.frames)
    ack = img_client.frames[0].header
    assert (ack.size, ack.width, ack.height, ack.frame_id) == (0, 0, 0, 7)
    fake.start_preview()
    await until(lambda: fake.camera.latest is not None)
    img_client.send(Method.GET_CURRENT_IMG, 8)
    (img,) = await img_client.wait_raw(1)
    assert img.shape == (1920, 1080)
    assert img_client.raw_frames()[0].header.frame_id == 8


async def test_test_connection_status_frame(fake_factory, client_factory):
    fake = await fake_factory()
    img_client = await client_factory(fake.image_port, "image")
    img_client.send(Method.TEST_CONNECTION, 2)
    await until(lambda: img_client.frames)
    frame = img_client.frames[0]
    assert (frame.header.width, frame.header.height, frame.header.frame_id) == (0, 0, 2)
    assert bytes(frame.payload) == b"server connected!"


async def test_stacked_img_is_rgb(fake_factory, client_factory):
    fake = await fake_factory(time_factor=50.0, parked=False)
    fake.point_at(5.6, 22.0)
    ctl = await client_factory(fake.control_port)
    img_client = await client_factory(fake.image_port, "image")
    img_client.send(Method.GET_STACKED_IMG, 23)
    await until(lambda: img_client.frames)
    assert img_client.frames[0].header.size == 0
    await ctl.result(Method.SET_SETTING, {"exp_ms": {"stack_l": 2000}})
    await ctl.result(Method.ISCOPE_START_STACK, {"restart": True})
    await ctl.event("Stack", lambda e: e.state == "frame_complete", timeout_s=10)
    img_client.send(Method.GET_STACKED_IMG, 23)
    await until(lambda: len(img_client.frames) >= 2, FAILURE_TIMEOUT_S)
    frame = img_client.frames[1]
    assert frame.header.img_type == ImageType.STACKED and frame.header.data_type == DataType.COMPRESSED
    rgb = decode_stack_zip(frame.payload, frame.header.width, frame.header.height)
    assert rgb.shape == (1920, 1080, 3) and rgb.dtype == np.uint16
    assert rgb.max() > rgb.mean() * 5


async def test_stack_events_and_stop_sequence(fake_factory, client_factory):
    fake = await fake_factory(time_factor=50.0, parked=False)
    fake.point_at(5.6, 22.0)
    ctl = await client_factory(fake.control_port)
    await ctl.result(Method.SET_SETTING, {"exp_ms": {"stack_l": 2000}})
    await ctl.result(Method.ISCOPE_START_STACK, {"restart": True})
    assert (await ctl.call(Method.ISCOPE_START_STACK, {"restart": True})).code == 259
    done = await ctl.event("Stack", lambda e: e.state == "frame_complete", timeout_s=10)
    assert set(done.fields) >= {"frame_type", "stacked_frame", "dropped_frame", "total_frame", "error", "code"}
    view = (await ctl.result(Method.GET_VIEW_STATE))["View"]
    assert view["stage"] == "Stack" and set(view["Stack"]) >= {"state", "lapse_ms", "stacked_frame"}
    start = len(ctl.events)
    await ctl.result(Method.ISCOPE_STOP_VIEW, {"stage": "Stack"})
    seq = [(e.name, e.state) for e in ctl.events[start:]]
    # events of the 40 ms frame in flight (or a status tick) may come before the stop's own
    stop_seq = [("Exposure", "fail"), ("Stack", "cancel"), ("SaveImage", "complete")]
    assert stop_seq[0] in seq, seq
    first = seq.index(stop_seq[0])
    assert not set(seq[:first]) & set(stop_seq) and seq[first:first + 3] == stop_seq, seq
    stop_events = ctl.events[start + first:]
    assert stop_events[0].get("code") == 514 and "jpg_name" in stop_events[1].fields
    await ctl.event("ContinuousExposure", lambda e: e.state == "working", start=start)


async def test_wheel_focuser_autofocus_and_dark(fake_factory, client_factory):
    fake = await fake_factory(time_factor=100.0, parked=False)
    fake.point_at(*fake.state.mount.radec_of_altaz(50.0, 120.0))  # no star below the horizon
    ctl = await client_factory(fake.control_port)
    assert await ctl.result(Method.GET_WHEEL_SLOT_NAME) == ["Dark", "IR", "LP"]
    await ctl.result(Method.SET_SETTING, {"stack_lenhance": True})
    assert (await ctl.event("WheelMove", lambda e: e.state == "complete")).get("position") == 2
    assert await ctl.result(Method.GET_WHEEL_POSITION) == 2
    assert (await ctl.call(Method.MOVE_FOCUSER, {"step": 9999, "ret_step": True})).code != 0
    fake.start_preview()
    fake.state.focuser.move_to(fake.state.best_focus_steps + 120)
    await until(lambda: not fake.state.focuser.is_moving())
    await ctl.result(Method.START_AUTO_FOCUS)
    af = await ctl.event("AutoFocus", lambda e: e.state in ("complete", "fail"), timeout_s=20)
    assert af.state == "complete"
    assert abs(fake.state.focuser.position_steps() - fake.state.best_focus_steps) <= 20
    await ctl.result(Method.START_CREATE_DARK)
    dark = await ctl.event("DarkLibrary", lambda e: e.state == "complete", timeout_s=20)
    assert dark.get("percent") == 100 and fake.state.wheel.position == 2
    assert (await ctl.call(Method.GET_SOLVE_RESULT)).code == 215
    await ctl.result(Method.START_SOLVE)
    await ctl.event("PlateSolve", lambda e: e.state == "complete" and "result" in e.fields, timeout_s=10)
    assert set(await ctl.result(Method.GET_LAST_SOLVE_RESULT)) >= {"ra_dec", "fov", "angle"}
    await ctl.result(Method.PI_OUTPUT_SET2, {"heater": {"state": True, "value": 90}})
    assert (await ctl.result(Method.GET_SETTING))["heater_enable"] is True
    await ctl.result(Method.SET_CONTROL_VALUE, ["gain", 120])
    assert (await ctl.call(Method.SET_CONTROL_VALUE, ["gain", 401])).code != 0
    assert fake.state.gain == 120


async def test_autofocus_fails_279_when_dark(fake_factory, client_factory):
    fake = await fake_factory(time_factor=100.0)  # parked: the arm covers the lens
    ctl = await client_factory(fake.control_port)
    await ctl.result(Method.START_AUTO_FOCUS)
    fail = await ctl.event("AutoFocus", lambda e: e.state == "fail", timeout_s=10)
    assert (fail.get("code"), fail.get("error")) == (279, "no star is detected")
