"""Pure parts of the mount device: sky->axis frames, quantised commands, segment plans, status."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from indi_seestar import sky
from indi_seestar.devices.motion_plan import (
    ARCSEC_PER_STEP,
    Hold,
    Pulse,
    SkyAxis,
    advance,
    altaz_frame,
    eq_frame,
    plan,
    quantise,
)
from indi_seestar.devices.mount_site import (
    Pointing,
    Site,
    axis_frame,
    parse_offset_hours,
    parse_utc,
)
from indi_seestar.devices.mount_status import Activity, ScopeFlags, derive
from indi_seestar.errors import ValueRejected
from indi_seestar.indi.model import State

UTC_NOW = datetime(2026, 3, 20, 22, 0, 0, tzinfo=UTC)
SITE = Site(48.1, 11.6)


def numeric_axes(ra_h: float, dec: float, east_arcsec: float, north_arcsec: float) -> tuple[float, float]:
    """(d_az, d_alt) arcsec of axis angle for a small sky offset, straight from sky.py."""
    alt0, az0 = sky.equatorial_to_horizontal(ra_h, dec, UTC_NOW, SITE.lat_deg, SITE.lon_east_deg)
    ra1 = ra_h + east_arcsec / 3600.0 / 15.0 / math.cos(math.radians(dec))
    alt1, az1 = sky.equatorial_to_horizontal(ra1, dec + north_arcsec / 3600.0, UTC_NOW, SITE.lat_deg,
                                             SITE.lon_east_deg)
    return ((az1 - az0 + 180.0) % 360.0 - 180.0) * 3600.0, (alt1 - alt0) * 3600.0


@pytest.mark.parametrize("ha_h,dec", [(-3.0, 20.0), (2.0, 60.0), (0.5, 10.0), (-1.0, 75.0), (4.0, -10.0)])
def test_altaz_frame_matches_the_sky_through_the_parallactic_angle(ha_h, dec):
    lst = sky.local_sidereal_time_hours(UTC_NOW, SITE.lon_east_deg)
    ra = (lst - ha_h) % 24.0
    frame = axis_frame(False, Pointing(ra, dec, UTC_NOW), SITE)
    for east, north in ((10.0, 0.0), (0.0, 10.0), (-7.0, 5.0)):
        expected = numeric_axes(ra, dec, east, north)
        assert frame.to_axes(east, north) == pytest.approx(expected, abs=0.02)
        assert frame.to_sky(*frame.to_axes(east, north)) == pytest.approx((east, north), abs=1e-9)


def test_eq_frame_west_is_hour_angle_plus_and_compensates_cos_dec():
    frame = eq_frame(60.0)
    assert frame.to_axes(-1.0, 0.0) == pytest.approx((2.0, 0.0))  # West: HA+, 1/cos(60)
    assert frame.to_axes(0.0, 3.0) == pytest.approx((0.0, 3.0))
    assert axis_frame(True, Pointing(1.0, 60.0, UTC_NOW), SITE) == frame
    assert eq_frame(89.9).to_axes(-1.0, 0.0)[0] == pytest.approx(20.0)  # capped near the pole


def test_quantise_whole_steps_at_least_as_fast_for_pulses_nearest_for_holds():
    assert quantise(0.0, 7.5).speed_steps == 1 and quantise(0.0, 7.5).angle_deg == 90
    assert quantise(16.0, 0.0).speed_steps == 2
    assert quantise(16.0, 0.0, at_least=False).speed_steps == 1
    assert quantise(-15.0, 0.0).angle_deg == 180
    assert quantise(0.0, -1e6).speed_steps == 1440 and quantise(0.0, -1e6).angle_deg == 270
    rates = quantise(10.0, 10.0).axis_rates()
    assert rates[0] == pytest.approx(rates[1]) and math.hypot(*rates) == pytest.approx(ARCSEC_PER_STEP)


def simulate(commands, frame, until_done=True):
    """Run plans like the controller does (exact timing); return delivered (east, north) and segments."""
    now, delivered, segments = 0.0, [0.0, 0.0], []
    while True:
        segment = plan(commands, frame, now)
        if segment is None:
            return delivered, segments
        segments.append(segment)
        dt = segment.run_s
        assert math.isfinite(dt)
        delivered[0] += segment.sky_rates[0] * dt
        delivered[1] += segment.sky_rates[1] * dt
        commands = {a: advance(c, segment.rate_along(a) * dt) for a, c in commands.items()}
        now += dt


@pytest.mark.parametrize("frame", [eq_frame(40.0), altaz_frame(50.0, 35.0), altaz_frame(20.0, -120.0)])
def test_overlapping_pulses_deliver_each_axis_its_displacement_in_time(frame):
    commands = {SkyAxis.NS: Pulse(11.3, 1.5, 1.5), SkyAxis.WE: Pulse(-6.0, 0.8, 0.8)}
    delivered, segments = simulate(commands, frame)
    assert delivered[1] == pytest.approx(11.3, abs=0.25)  # angle rounding: <1 % cross-talk
    assert delivered[0] == pytest.approx(-6.0, abs=0.25)
    assert 2 <= len(segments) <= 3
    assert sum(s.run_s for s in segments) <= 1.5 + 1e-9


def test_a_slow_guide_pulse_runs_at_one_step_for_part_of_its_length():
    rate = 0.5 * 15.041
    delivered, segments = simulate({SkyAxis.NS: Pulse(rate * 0.1, 0.1, 0.1)}, eq_frame(0.0))
    assert delivered[1] == pytest.approx(rate * 0.1)
    assert [s.command.speed_steps for s in segments] == [1]
    assert segments[0].run_s == pytest.approx(rate * 0.1 / 15.0)


def test_a_hold_runs_until_released_at_the_slew_rate():
    segment = plan({SkyAxis.WE: Hold(-120.0)}, eq_frame(0.0), 0.0)
    assert segment is not None and segment.run_s == math.inf
    assert segment.command.speed_steps == 8 and segment.command.angle_deg == 0  # West = HA+
    assert plan({}, eq_frame(0.0), 0.0) is None


def test_status_table():
    idle = ScopeFlags(parked=False, tracking=False, slewing=False)
    tracking = ScopeFlags(parked=False, tracking=True, slewing=False)
    parked = ScopeFlags(parked=True, tracking=False, slewing=False)
    assert derive(Activity.IDLE, idle, manual_motion=False).eod is State.IDLE
    assert derive(Activity.IDLE, tracking, manual_motion=False).eod is State.OK
    assert derive(Activity.IDLE, tracking, manual_motion=True).eod is State.BUSY
    assert derive(Activity.SLEWING, tracking, manual_motion=False).eod is State.BUSY
    assert derive(Activity.IDLE, ScopeFlags(False, False, True), manual_motion=False).eod is State.BUSY
    p = derive(Activity.IDLE, parked, manual_motion=False)
    assert (p.eod, p.park, p.parked_switch, p.tracking) == (State.IDLE, State.OK, True, False)
    parking = derive(Activity.PARKING, tracking, manual_motion=False)
    assert (parking.eod, parking.park, parking.parked_switch) == (State.BUSY, State.BUSY, True)
    unparking = derive(Activity.UNPARKING, parked, manual_motion=False)
    assert (unparking.park, unparking.parked_switch) == (State.BUSY, False)


def test_time_utc_parsing():
    assert parse_utc("2026-03-20T22:00:00") == UTC_NOW
    assert parse_utc("2026-03-20T23:00:00+01:00") == UTC_NOW
    assert parse_offset_hours("-5.5") == -5.5 and parse_offset_hours("+5:30") == 5.5
    for bad in ("yesterday", "2026-13-01T00:00:00"):
        with pytest.raises(ValueRejected):
            parse_utc(bad)
    with pytest.raises(ValueRejected):
        parse_offset_hours("20")
