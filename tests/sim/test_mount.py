"""Mount: goto event order, park/unpark, EQ mode, speed moves (both forms, both modes), stops."""

from __future__ import annotations

import pytest

from indi_seestar.protocol.methods import Method
from indi_seestar.sim import sky

from .conftest import until


def hours_diff(a: float, b: float) -> float:
    return (a - b + 12.0) % 24.0 - 12.0


async def test_goto_reaches_target_with_recorded_event_order(fake_factory, client_factory):
    fake = await fake_factory(time_factor=20.0, parked=False)
    mount = fake.state.mount
    ra, dec = mount.radec_of_altaz(55.0, 200.0)
    ctl = await client_factory(fake.control_port)
    await ctl.result(Method.SCOPE_GOTO, [ra, dec])
    await ctl.event("ScopeGoto", lambda e: e.state == "complete", timeout_s=10)
    names = [(e.name, e.state) for e in ctl.events if e.name in ("ScopeGoto", "ScopeTrack")]
    assert names[0] == ("ScopeGoto", "working") and ("ScopeTrack", "off") in names[:3]
    assert names[-2:] == [("ScopeTrack", "on"), ("ScopeGoto", "complete")]
    assert sum(1 for n in names if n == ("ScopeGoto", "working")) >= 3
    working = [e for e in ctl.events if e.name == "ScopeGoto" and e.state == "working"]
    assert set(working[1].fields) >= {"lapse_ms", "cur_ra_dec", "dist_deg", "route"}
    assert working[-1].get("dist_deg") < working[0].get("dist_deg")
    true_ra, true_dec = mount.radec()
    assert abs(hours_diff(true_ra, ra)) * 15 < 1e-6 and abs(true_dec - dec) < 1e-6
    coord = await ctl.result(Method.SCOPE_GET_EQU_COORD)
    assert abs(hours_diff(coord["ra"], ra)) < 1e-5 and abs(coord["dec"] - dec) < 1e-5
    state = await ctl.result(Method.GET_DEVICE_STATE, {"keys": ["mount"]})
    assert state["mount"] == {"move_type": "none", "close": False, "tracking": True, "equ_mode": False}
    alt, _az = await ctl.result(Method.SCOPE_GET_HORIZ_COORD)
    assert abs(alt - 55.0) < 0.5


async def test_below_horizon_and_parked_gotos_fail(fake_factory, client_factory):
    fake = await fake_factory(time_factor=20.0, parked=False)
    ctl = await client_factory(fake.control_port)
    ra, dec = fake.state.mount.radec_of_altaz(-20.0, 0.0)
    assert (await ctl.call(Method.SCOPE_GOTO, [ra, dec])).code == 270
    await ctl.result(Method.SCOPE_PARK)
    await ctl.event("ScopeHome", lambda e: e.state == "complete", timeout_s=5)
    assert (await ctl.result(Method.GET_DEVICE_STATE, {"keys": ["mount"]}))["mount"]["close"] is True
    ra, dec = fake.state.mount.radec_of_altaz(50.0, 180.0)
    assert (await ctl.call(Method.SCOPE_GOTO, [ra, dec])).code == 207
    assert (await ctl.call(Method.SCOPE_SPEED_MOVE, {"speed": 240, "angle": 0, "dur_sec": 1})).code == 207
    await ctl.result(Method.SCOPE_MOVE_TO_HORIZON)
    done = await ctl.event("ScopeMoveToHorizon", lambda e: e.state == "complete", timeout_s=5)
    assert done.get("close") is False and fake.state.mount.state().parked is False


async def test_park_switches_to_eq_mode(fake_factory, client_factory):
    fake = await fake_factory(time_factor=20.0, parked=False)
    ctl = await client_factory(fake.control_port)
    await ctl.result(Method.SCOPE_PARK, {"equ_mode": True})
    mode = await ctl.event("MountMode", timeout_s=5)
    assert mode.get("equ_mode") is True
    home = await ctl.event("ScopeHome", lambda e: e.state == "complete")
    assert home.get("close") is True and home.get("equ_mode") is True
    assert (await ctl.result(Method.GET_DEVICE_STATE))["mount"]["equ_mode"] is True


async def wait_still(fake) -> None:
    await until(lambda: fake.state.mount.move_type() == "none", 10)


@pytest.mark.parametrize("params,expect_ra_deg,expect_dec_deg", [
    ({"speed": 240, "angle": 0, "dur_sec": 2}, -2.0, 0.0),  # West: RA decreases
    ({"speed": 120, "angle": 90, "dur_sec": 2}, 0.0, 1.0),  # North
    ({"angle": 180, "level": 7, "dur_sec": 2, "percent": 50}, 1.0, 0.0),  # East, new form 0.5 deg/s
    ({"angle": 270, "level": 6, "dur_sec": 1, "percent": 100}, 0.0, -0.5),  # South, 120 steps/s
    ({"speed": 240, "angle": 45, "dur_sec": 1}, -0.70710678, 0.70710678),
])
async def test_speed_move_eq_mode(params, expect_ra_deg, expect_dec_deg, fake_factory, client_factory):
    fake = await fake_factory(time_factor=10.0, parked=False, equ_mode=True)
    fake.point_at(3.0, 40.0)
    ctl = await client_factory(fake.control_port)
    ra0, dec0 = fake.state.mount.radec()
    await ctl.result(Method.SCOPE_SPEED_MOVE, params)
    await wait_still(fake)
    ra1, dec1 = fake.state.mount.radec()
    d_ra_deg, d_dec = hours_diff(ra1, ra0) * 15.0, dec1 - dec0
    assert d_ra_deg == pytest.approx(expect_ra_deg, abs=0.01 * max(abs(expect_ra_deg), 0.5))
    assert d_dec == pytest.approx(expect_dec_deg, abs=0.01 * max(abs(expect_dec_deg), 0.5))


@pytest.mark.parametrize("angle,d_az,d_alt", [(0, 1.0, 0.0), (90, 0.0, 1.0), (180, -1.0, 0.0), (270, 0.0, -1.0)])
async def test_speed_move_altaz_mode(angle, d_az, d_alt, fake_factory, client_factory):
    fake = await fake_factory(time_factor=10.0, parked=False)
    mount = fake.state.mount
    ra, dec = mount.radec_of_altaz(45.0, 150.0)
    fake.point_at(ra, dec, tracking=False)
    ctl = await client_factory(fake.control_port)
    alt0, az0 = mount.altaz()
    await ctl.result(Method.SCOPE_SPEED_MOVE, {"speed": 120, "angle": angle, "dur_sec": 2})
    await wait_still(fake)
    alt1, az1 = mount.altaz()
    assert ((az1 - az0 + 180) % 360 - 180) == pytest.approx(d_az, abs=0.01)
    assert (alt1 - alt0) == pytest.approx(d_alt, abs=0.01)


async def test_speed_zero_stops_and_new_move_replaces(fake_factory, client_factory):
    fake = await fake_factory(time_factor=5.0, parked=False, equ_mode=True)
    fake.point_at(3.0, 10.0)
    mount = fake.state.mount
    ctl = await client_factory(fake.control_port)
    await ctl.result(Method.SCOPE_SPEED_MOVE, {"speed": 240, "angle": 90, "dur_sec": 10})
    first = mount.state().manual
    await until(lambda: mount.radec()[1] > 10.3)
    await ctl.result(Method.SCOPE_SPEED_MOVE, {"speed": 0, "angle": 90, "dur_sec": 1})
    stopped = mount.radec()[1]
    assert mount.move_type() == "none" and 10.3 < stopped < 19.0
    # the stop happened at the moment it was processed: rate x elapsed exactly
    t_stop = mount._times[-1]
    assert stopped - 10.0 == pytest.approx(1.0 * (t_stop - first.t0_s), rel=1e-9)
    await ctl.result(Method.SCOPE_SPEED_MOVE, {"speed": 240, "angle": 90, "dur_sec": 10})
    await ctl.result(Method.SCOPE_SPEED_MOVE, {"speed": 240, "angle": 270, "dur_sec": 1})
    await wait_still(fake)
    assert fake.state.mount.state().manual is None
    await ctl.result(Method.SCOPE_SPEED_MOVE, {"speed": 240, "angle": 90, "dur_sec": 10})
    await ctl.result(Method.SCOPE_MOVE, ["none"])
    assert mount.move_type() == "none"


async def test_tracking_fixes_radec_and_off_fixes_altaz(fake_factory, client_factory):
    fake = await fake_factory(time_factor=600.0, parked=False)
    mount = fake.state.mount
    ra, dec = mount.radec_of_altaz(40.0, 120.0)
    fake.point_at(ra, dec, tracking=True)
    ctl = await client_factory(fake.control_port)
    t0 = fake.clock.now_s()
    await until(lambda: fake.clock.now_s() - t0 > 60)
    assert mount.radec() == pytest.approx((ra, dec))
    await ctl.result(Method.SCOPE_SET_TRACK_STATE, False)
    assert (await ctl.event("ScopeTrack", lambda e: e.state == "off")).get("tracking") is False
    alt0, az0 = mount.altaz()
    ra_off = mount.radec()[0]
    t1 = fake.clock.now_s()
    await until(lambda: fake.clock.now_s() - t1 > 120)
    assert mount.altaz() == pytest.approx((alt0, az0), abs=1e-6)
    assert hours_diff(mount.radec()[0], ra_off) * 3600 == pytest.approx(fake.clock.now_s() - t1, rel=0.05)
    assert await ctl.result(Method.SCOPE_GET_TRACK_STATE) is False


async def test_autogoto_sequence_and_cancel(fake_factory, client_factory):
    fake = await fake_factory(time_factor=20.0, parked=True)
    ctl = await client_factory(fake.control_port)
    await ctl.result(Method.SET_SETTING, {"stack_after_goto": False})
    ra, dec = fake.state.mount.radec_of_altaz(60.0, 100.0)
    await ctl.result(Method.ISCOPE_START_VIEW, {"mode": "star", "target_ra_dec": [ra, dec], "target_name": "T"})
    await ctl.event("AutoGoto", lambda e: e.state == "complete" and "lapse_ms" in e.fields, timeout_s=10)
    seq = [(e.name, e.state) for e in ctl.events if e.name in
           ("View", "AutoGoto", "ScopeGoto", "Exposure", "PlateSolve", "ScopeMoveToHorizon")]
    order = ["View", "AutoGoto", "ScopeMoveToHorizon", "ScopeGoto", "Exposure", "PlateSolve"]
    firsts = [next(i for i, (n, _s) in enumerate(seq) if n == name) for name in order]
    assert firsts == sorted(firsts)
    assert seq[-1] == ("AutoGoto", "complete")
    solve = next(e for e in ctl.events if e.name == "PlateSolve" and e.state == "complete" and "result" in e.fields)
    assert set(solve.get("result")) == {"ra_dec", "fov", "focal_len", "angle", "image_id", "star_number", "duration_ms"}
    assert sky.separation_deg(*solve.get("result")["ra_dec"], ra, dec) < 0.01
    exposure = next(e for e in ctl.events if e.name == "Exposure" and e.get("tag") == "Exposure-AutoGoto")
    assert exposure.get("exp_us") == 2_000_000
    await ctl.event("ContinuousExposure", lambda e: e.state == "working")
    # a second goto, stopped while it runs
    ra2, dec2 = fake.state.mount.radec_of_altaz(30.0, 250.0)
    start = len(ctl.events)
    await ctl.result(Method.ISCOPE_START_VIEW, {"mode": "star", "target_ra_dec": [ra2, dec2], "target_name": "U"})
    await ctl.event("ScopeGoto", lambda e: e.state == "working", start=start)
    await ctl.result(Method.ISCOPE_STOP_VIEW, {"stage": "AutoGoto"})
    cancel = await ctl.event("AutoGoto", lambda e: e.state == "cancel", start=start)
    assert cancel.get("code") == 253
    assert fake.state.mount.move_type() == "none"
    await until(lambda: fake.state.view.stage == "ContinuousExposure")
    view = (await ctl.result(Method.GET_VIEW_STATE))["View"]
    assert view["stage"] == "ContinuousExposure" and view["target_name"] == "U"
