"""Frame content follows the true pointing: slews and guide moves shift the stars by the
pointing change / plate scale; defocus widens stars; the time factor shortens exposures."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from indi_seestar.protocol.methods import Method

from .conftest import until


def linear_green(img: np.ndarray) -> np.ndarray:
    """Green 2x2 bins, 3x3 median (removes the fixed hot pixels), background subtracted."""
    g = img[0::2, 0::2].astype(np.float64) + img[1::2, 1::2]
    g = np.pad(np.median(np.lib.stride_tricks.sliding_window_view(g, (3, 3)), axis=(-1, -2)), 1, mode="edge")
    return g - np.median(g)


def green(img: np.ndarray) -> np.ndarray:
    """Star mask for correlation: significant pixels only, log-compressed (no star dominates)."""
    g = linear_green(img)
    noise = 1.4826 * float(np.median(np.abs(g)))
    return np.where(g > 5 * noise, np.log1p(np.clip(g, 0, None) / noise), 0.0)


def shift_px(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(dx, dy) full-resolution pixels by which the stars of `a` moved to reach `b`."""
    fa, fb = np.fft.rfft2(green(a)), np.fft.rfft2(green(b))
    corr = np.fft.irfft2(np.conj(fa) * fb, s=green(a).shape)
    iy, ix = np.unravel_index(int(np.argmax(corr)), corr.shape)

    def refine(c_m: float, c_0: float, c_p: float) -> float:
        denom = c_m - 2 * c_0 + c_p
        return 0.5 * (c_m - c_p) / denom if denom else 0.0

    h, w = corr.shape
    dy = iy + refine(corr[(iy - 1) % h, ix], corr[iy, ix], corr[(iy + 1) % h, ix])
    dx = ix + refine(corr[iy, (ix - 1) % w], corr[iy, ix], corr[iy, (ix + 1) % w])
    dy = dy - h if dy > h / 2 else dy
    dx = dx - w if dx > w / 2 else dx
    return 2 * dx, 2 * dy


async def streaming_fake(fake_factory, client_factory, **kw):
    fake = await fake_factory(time_factor=kw.pop("time_factor", 20.0), parked=False, **kw)
    ctl = await client_factory(fake.control_port)
    img = await client_factory(fake.image_port, "image")
    img.send(Method.BEGIN_STREAMING, 21)
    return fake, ctl, img


async def frame_after(fake, img) -> np.ndarray:
    """A frame whose whole exposure is later than now (by image id: the one in progress is skipped)."""
    from indi_seestar.protocol.frames import decode_raw
    first_id = fake.state.image_id + 2

    def newer():
        return next((f for f in img.raw_frames() if f.header.image_id >= first_id), None)

    frame = await until(newer, 10)
    return decode_raw(frame.payload, frame.header.width, frame.header.height)


async def test_goto_shifts_stars_by_pointing_change(fake_factory, client_factory):
    fake, ctl, img = await streaming_fake(fake_factory, client_factory, equ_mode=True)
    ra, dec = fake.state.mount.radec_of_altaz(55.0, 160.0)  # high at any hour (gotos check it)
    fake.point_at(ra, dec)
    fake.start_preview()
    before = await frame_after(fake, img)
    await ctl.result(Method.SCOPE_GOTO, [ra + 0.004, dec + 0.05])  # 0.05 deg North, ~0.05 East
    await ctl.event("ScopeGoto", lambda e: e.state == "complete", timeout_s=10)
    after = await frame_after(fake, img)
    scale_deg = fake.profile.plate_scale_arcsec_px / 3600
    dx, dy = shift_px(before, after)
    # EQ mode: North up, East left. Pointing North -> stars move down; pointing East -> stars move right.
    assert dy == pytest.approx(0.05 / scale_deg, abs=1.0)
    assert dx == pytest.approx(0.004 * 15 * math.cos(math.radians(dec)) / scale_deg, abs=1.5)


@pytest.mark.parametrize("angle,axis,sign", [(90, "y", 1), (0, "x", -1), (180, "x", 1), (270, "y", -1)])
async def test_guide_move_shifts_stars(angle, axis, sign, fake_factory, client_factory):
    fake, ctl, img = await streaming_fake(fake_factory, client_factory, equ_mode=True, time_factor=10.0)
    fake.point_at(6.0, 20.0)
    await ctl.result(Method.SET_SETTING, {"exp_ms": {"continuous": 200}})
    fake.start_preview()
    before = await frame_after(fake, img)
    await ctl.result(Method.SCOPE_SPEED_MOVE, {"speed": 24, "angle": angle, "dur_sec": 1})  # 0.1 deg/s
    await until(lambda: fake.state.mount.move_type() == "none", 10)
    after = await frame_after(fake, img)
    scale_deg = fake.profile.plate_scale_arcsec_px / 3600
    expected = 0.1 / scale_deg * (math.cos(math.radians(20.0)) if axis == "x" else 1.0)
    dx, dy = shift_px(before, after)
    moved, other = (dx, dy) if axis == "x" else (dy, dx)
    assert moved == pytest.approx(sign * expected, rel=0.02)
    assert abs(other) < 1.5


async def test_altaz_frames_are_rotated_by_parallactic_angle(fake_factory):
    fake = await fake_factory(parked=False)
    mount = fake.state.mount
    ra, dec = mount.radec_of_altaz(40.0, 250.0)  # West of the meridian: zenith lies East of North
    fake.point_at(ra, dec)
    theta = fake.camera.theta_deg(fake.clock.now_s())
    assert 0.0 < theta < 180.0
    await fake.stop()
    eq = await fake_factory(parked=False, equ_mode=True)
    eq.point_at(ra, dec)
    assert eq.camera.theta_deg(eq.clock.now_s()) == 0.0


async def test_defocus_widens_stars(fake_factory, client_factory):
    fake, ctl, img = await streaming_fake(fake_factory, client_factory)
    fake.point_at(6.0, 30.0)
    fake.start_preview()
    sharp = linear_green(await frame_after(fake, img))
    pos = await ctl.result(Method.GET_FOCUSER_POSITION)
    await ctl.result(Method.MOVE_FOCUSER, {"step": pos + 300, "ret_step": True})
    done = await ctl.event("FocuserMove", lambda e: e.state == "complete", timeout_s=10)
    assert done.get("position") == pos + 300
    blurred = linear_green(await frame_after(fake, img))
    assert sharp.max() > 4 * blurred.max()
    assert sharp.sum() == pytest.approx(blurred.sum(), rel=0.3)


@pytest.mark.realtime  # a frame period on the wall clock: a quiet CPU (tests/conftest.py)
async def test_time_factor_shortens_exposures(fake_factory, client_factory):
    fake, ctl, img = await streaming_fake(fake_factory, client_factory, time_factor=10.0)
    await ctl.result(Method.SET_SETTING, {"exp_ms": {"continuous": 5000}})
    fake.start_preview()
    await img.wait_raw(5, timeout_s=15)
    # 5 s exposures at F=10 take 0.5 s real, far from the unscaled 5 s. The mean period over
    # four frames: a late arrival (loaded CI, reader and fake share the GIL) shortens the next
    # gap as much as it lengthens its own, so only the two ends' jitter remains, divided by 4.
    period_s = (img.arrivals[-1] - img.arrivals[-5]) / 4
    assert 0.4 < period_s < 1.5


async def test_changing_exposure_restarts_at_once(fake_factory, client_factory):
    fake, ctl, img = await streaming_fake(fake_factory, client_factory, time_factor=1.0)
    await ctl.result(Method.SET_SETTING, {"exp_ms": {"continuous": 60000}})
    fake.start_preview()
    await until(lambda: fake.state.view.stage == "ContinuousExposure")
    t0 = time.monotonic()
    await ctl.result(Method.SET_SETTING, {"exp_ms": {"continuous": 200}})
    await img.wait_raw(1, timeout_s=5)
    assert time.monotonic() - t0 < 2.0
