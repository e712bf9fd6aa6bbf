"""Pulse guiding (issue 5, acceptance 1 and 4) through real indiserver and libindi's client.

Each pulse must report Busy, then Idle with both members zeroed, and move the fake's true
pointing in the commanded sky direction by guide rate x sidereal x length: within 10 % and
within 10 degrees of direction, in alt-az and in EQ mode. By default GUIDE_RATE_WE is an RA-axis
rate, as on every equatorial mount (the pointing's RA moves by rate x length, the sky by that
times cos(dec), which PHD2's declination compensation assumes); with SEESTAR_GUIDE_RA = RA_SKY
east/west pulses move the sky by rate x length whatever the declination. Both are checked.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from tests.e2e.mount_support import (
    SIDEREAL_ARCSEC_S,
    connect_mount,
    fake_stop_time_s,
    fast_thread_switches,
    latest,
    move_type,
    radec_of_altaz,
    sets,
    sky_offset_arcsec,
    switch,
    true_radec,
    wait_end,
    wait_set,
)
from tests.support.indi_harness import until
from tests.support.rig import Rig

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures(fast_thread_switches.__name__)]

NS, WE = "TELESCOPE_TIMED_GUIDE_NS", "TELESCOPE_TIMED_GUIDE_WE"
#: member -> (property, unit sky direction (east, north))
DIRECTIONS = {
    "TIMED_GUIDE_N": (NS, (0.0, 1.0)),
    "TIMED_GUIDE_S": (NS, (0.0, -1.0)),
    "TIMED_GUIDE_E": (WE, (1.0, 0.0)),
    "TIMED_GUIDE_W": (WE, (-1.0, 0.0)),
}
#: 20 lengths from 100 to 2000 ms, spread geometrically (the short ones are the hard ones).
LENGTHS_MS = [round(x) for x in np.geomspace(100, 2000, 20)]
GUIDE_RATE = 0.5


def pulse(rig: Rig, member: str, length_ms: float):
    """Send one pulse as PHD2 does (both members, the unused one 0); return (start update, end update)."""
    prop, _ = DIRECTIONS[member]
    names = ("TIMED_GUIDE_N", "TIMED_GUIDE_S") if prop == NS else ("TIMED_GUIDE_W", "TIMED_GUIDE_E")
    since = rig.client.mark()
    rig.client.send_number(rig.mount, prop, {n: (length_ms if n == member else 0) for n in names})
    end = wait_end(rig, prop, since, timeout_s=30)
    return sets(rig, prop, since), end


def direction_error_deg(measured: tuple[float, float], unit: tuple[float, float]) -> float:
    """Angle between a measured (east, north) offset and the commanded unit direction."""
    cross = measured[0] * unit[1] - measured[1] * unit[0]
    dot = measured[0] * unit[0] + measured[1] * unit[1]
    return abs(math.degrees(math.atan2(cross, dot)))


def expected_arcsec(prop: str, length_ms: float, dec_deg: float, *, ra_axis: bool = True,
                    rate: float = GUIDE_RATE) -> float:
    """Sky displacement of a pulse: rate x sidereal x length, times cos(dec) for an RA-axis rate."""
    sky = rate * SIDEREAL_ARCSEC_S * length_ms / 1000.0
    return sky * math.cos(math.radians(dec_deg)) if prop == WE and ra_axis else sky


def measure(rig: Rig, member: str, length_ms: int, *, ra_axis: bool = True) -> tuple[float, float]:
    """One pulse: check its states; (moved / expected, direction error in degrees)."""
    prop, unit = DIRECTIONS[member]
    before = true_radec(rig)
    updates, end = pulse(rig, member, length_ms)
    after = true_radec(rig)
    assert updates[0].state == "Busy" and updates[0].values[member] == length_ms
    assert [u.state for u in updates[:updates.index(end) + 1]] == ["Busy", "Idle"]
    assert all(v == 0 for v in end.values.values()), end.values
    assert move_type(rig) == "none", "the mount stopped when the pulse reported its end"
    offset = sky_offset_arcsec(before, after)
    expected = expected_arcsec(prop, length_ms, before[1], ra_axis=ra_axis)
    return math.hypot(*offset) / expected, direction_error_deg(offset, unit)


def within(ratio: float, angle_deg: float) -> bool:
    return abs(ratio - 1.0) <= 0.1 and angle_deg <= 10.0


def run_pulses(rig: Rig) -> tuple[list[tuple[str, int, float, float]], list[tuple[str, int, float, float]]]:
    """Every direction x every length: (results, first tries that were re-measured).

    The shortest pulses move the fake for ~50 ms, so 10 % is 5 ms of timing. This machine is
    shared (2 cores, parallel test runs): a pulse hit by a scheduling stall of the driver or of
    the fake's thread is measured once more, and the number of such repeats is bounded below.
    """
    results, repeated = [], []
    for member in DIRECTIONS:
        for length_ms in LENGTHS_MS:
            ratio, angle = measure(rig, member, length_ms)
            if not within(ratio, angle):
                repeated.append((member, length_ms, ratio, angle))
                ratio, angle = measure(rig, member, length_ms)
            results.append((member, length_ms, ratio, angle))
    return results, repeated


def report(label: str, measured, rig: Rig) -> None:
    results, repeated = measured
    ratios = np.array([r[2] for r in results])
    angles = np.array([r[3] for r in results])
    lat = latest(rig, "SEESTAR_MOTION_LATENCY").values
    print(f"\n{label}: {len(results)} pulses, length ratio mean {ratios.mean():.4f} "
          f"min {ratios.min():.4f} max {ratios.max():.4f}, direction error max {angles.max():.2f} deg, "
          f"move RTT {lat['MOVE_RTT_MS']:.2f} ms, stop RTT {lat['STOP_RTT_MS']:.2f} ms, "
          f"re-measured {repeated}")
    worst = [r for r in results if not within(r[2], r[3])]
    assert not worst, f"pulses off by more than 10 % or 10 degrees: {worst}"
    assert len(repeated) <= 4, f"too many pulses needed a second measurement: {repeated}"


@pytest.mark.realtime  # 100 ms pulses to within 10 %: a quiet CPU (tests/conftest.py)
@pytest.mark.parametrize("equ_mode,alt_deg,az_deg", [(False, 50.0, 150.0), (True, 45.0, 200.0)],
                         ids=["altaz", "eq"])
def test_pulses_move_by_rate_times_length_in_the_commanded_direction(tmp_path, equ_mode, alt_deg, az_deg):
    with Rig.start(tmp_path, equ_mode=equ_mode) as rig:
        rig.fake_call(rig.fake.point_at, *radec_of_altaz(rig, alt_deg, az_deg))
        connect_mount(rig)
        assert latest(rig, "GUIDE_RATE").values == {"GUIDE_RATE_WE": GUIDE_RATE, "GUIDE_RATE_NS": GUIDE_RATE}
        assert latest(rig, "TELESCOPE_MOUNT_TYPE").values["EQ_FORK" if equ_mode else "ALTAZ"]
        report("EQ" if equ_mode else "alt-az", run_pulses(rig), rig)


@pytest.mark.realtime  # 1.5 s pulses to within 10 %: at the run's start (2026-12-03) one came 17 % long
def test_guide_rate_scales_the_pulse_and_is_saved(tmp_path):
    with Rig.start(tmp_path) as rig:
        rig.fake_call(rig.fake.point_at, *radec_of_altaz(rig, 60.0, 100.0))
        connect_mount(rig)
        since = rig.client.mark()
        rig.client.send_number(rig.mount, "GUIDE_RATE", {"GUIDE_RATE_WE": 0.9, "GUIDE_RATE_NS": 0.3})
        assert wait_set(rig, "GUIDE_RATE", since).state == "Ok"
        for member, rate in (("TIMED_GUIDE_E", 0.9), ("TIMED_GUIDE_N", 0.3)):
            before = true_radec(rig)
            pulse(rig, member, 1500)
            moved = math.hypot(*sky_offset_arcsec(before, true_radec(rig)))
            prop = DIRECTIONS[member][0]
            assert moved == pytest.approx(expected_arcsec(prop, 1500, before[1], rate=rate), rel=0.1)
        assert switch(rig, "CONFIG_PROCESS", "CONFIG_SAVE").state == "Ok"
        saved = (tmp_path / "home" / ".indi" / "Seestar Mount_config.xml").read_text()
        assert 'name="GUIDE_RATE_WE"' in saved and "0.9" in saved


@pytest.mark.realtime  # 1.5 s and 0.8 s pulses to within 10 %
def test_ra_and_dec_pulses_overlap(tmp_path):
    with Rig.start(tmp_path, equ_mode=True) as rig:
        rig.fake_call(rig.fake.point_at, *radec_of_altaz(rig, 40.0, 170.0))
        connect_mount(rig)
        before = true_radec(rig)
        since = rig.client.mark()
        rig.client.send_number(rig.mount, NS, {"TIMED_GUIDE_N": 1500, "TIMED_GUIDE_S": 0})
        rig.client.send_number(rig.mount, WE, {"TIMED_GUIDE_W": 800, "TIMED_GUIDE_E": 0})
        ns_end = wait_end(rig, NS, since)
        we_end = wait_end(rig, WE, since)
        ns_busy = next(u for u in sets(rig, NS, since) if u.state == "Busy")
        we_busy = next(u for u in sets(rig, WE, since) if u.state == "Busy")
        assert we_busy.t_monotonic < ns_end.t_monotonic, "the WE pulse started while NS ran"
        assert ns_busy.t_monotonic < we_end.t_monotonic
        assert ns_end.state == we_end.state == "Idle"
        east, north = sky_offset_arcsec(before, true_radec(rig))
        assert north == pytest.approx(GUIDE_RATE * SIDEREAL_ARCSEC_S * 1.5, rel=0.1)
        assert east == pytest.approx(-expected_arcsec(WE, 800, before[1]), rel=0.1)


@pytest.mark.realtime  # 1.5 s pulses to within 10 %
def test_ra_rate_mode_sky_ignores_declination(tmp_path):
    """At Dec ~60 (cos = 0.5) the two meanings of GUIDE_RATE_WE differ by a factor of two."""
    with Rig.start(tmp_path, equ_mode=True) as rig:
        rig.fake_call(rig.fake.point_at, *radec_of_altaz(rig, 78.0, 0.5))
        connect_mount(rig)
        assert latest(rig, "SEESTAR_GUIDE_RA").values == {"RA_AXIS": True, "RA_SKY": False}
        dec_deg = true_radec(rig)[1]
        assert 50.0 < dec_deg < 70.0, dec_deg
        for ra_axis in (True, False):
            if not ra_axis:
                assert switch(rig, "SEESTAR_GUIDE_RA", "RA_SKY").state == "Ok"
            for member in ("TIMED_GUIDE_E", "TIMED_GUIDE_W"):
                ratio, angle = measure(rig, member, 1500, ra_axis=ra_axis)
                if not within(ratio, angle):  # one re-measure for a scheduling stall (see above)
                    ratio, angle = measure(rig, member, 1500, ra_axis=ra_axis)
                assert within(ratio, angle), (ra_axis, member, ratio, angle)


def test_a_new_pulse_replaces_the_running_one(tmp_path):
    with Rig.start(tmp_path) as rig:
        rig.fake_call(rig.fake.point_at, *radec_of_altaz(rig, 50.0, 150.0))
        connect_mount(rig)
        before = true_radec(rig)
        since = rig.client.mark()
        rig.client.send_number(rig.mount, NS, {"TIMED_GUIDE_N": 4000, "TIMED_GUIDE_S": 0})
        wait_set(rig, NS, since, lambda u: u.state == "Busy")
        until(lambda: move_type(rig) == "manual", 5)
        rig.client.send_number(rig.mount, NS, {"TIMED_GUIDE_N": 0, "TIMED_GUIDE_S": 200})
        second = wait_set(rig, NS, since, lambda u: u.state == "Busy" and u.values["TIMED_GUIDE_S"] == 200)
        end = wait_set(rig, NS, since, lambda u: u.state != "Busy")
        assert end.t_monotonic > second.t_monotonic, "no Idle for the replaced pulse"
        assert end.state == "Idle" and end.values == {"TIMED_GUIDE_N": 0, "TIMED_GUIDE_S": 0}
        assert end.t_monotonic - second.t_monotonic < 1.5
        _east, north = sky_offset_arcsec(before, true_radec(rig))
        assert north < GUIDE_RATE * SIDEREAL_ARCSEC_S * 4.0 * 0.5, "the long pulse was cut short"
        assert move_type(rig) == "none"


def fake_stop_delay_s(rig: Rig, t_sent: float) -> float:
    """Real seconds from `t_sent` (monotonic) until the fake's speed move had stopped."""
    until(lambda: move_type(rig) == "none", 10, what="the fake mount to stop")
    return rig.fake.clock.real_monotonic_at(fake_stop_time_s(rig)) - t_sent


@pytest.mark.parametrize("how", ["abort", "disconnect"])
def test_abort_and_disconnect_stop_a_pulse_at_once(tmp_path, how):
    with Rig.start(tmp_path) as rig:
        rig.fake_call(rig.fake.point_at, *radec_of_altaz(rig, 50.0, 150.0))
        connect_mount(rig)
        since = rig.client.mark()
        rig.client.send_number(rig.mount, WE, {"TIMED_GUIDE_W": 0, "TIMED_GUIDE_E": 20000})
        wait_set(rig, WE, since, lambda u: u.state == "Busy")
        until(lambda: move_type(rig) == "manual", 5)
        t_sent = time.monotonic()
        if how == "abort":
            rig.client.send_switch(rig.mount, "TELESCOPE_ABORT_MOTION", ["ABORT"])
            end = wait_set(rig, WE, since, lambda u: u.state != "Busy")
            assert end.state == "Idle" and end.values == {"TIMED_GUIDE_W": 0, "TIMED_GUIDE_E": 0}
            assert wait_set(rig, "TELESCOPE_ABORT_MOTION", since, lambda u: u.state != "Busy").state == "Ok"
        else:
            rig.client.disconnectDevice(rig.mount)
            wait_set(rig, "CONNECTION", since, lambda u: u.values["DISCONNECT"])
        delay = fake_stop_delay_s(rig, t_sent)
        print(f"\n{how}: the fake stopped {delay * 1000:.1f} ms after the client sent it")
        assert delay < 0.5
