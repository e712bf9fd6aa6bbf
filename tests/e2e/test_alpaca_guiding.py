"""Guide pulses through the scope's Alpaca Telescope.PulseGuide (issue 14 acceptance 2).

A PHD2-style calibration (pulses West, East, North, South, each waited for until the vector
is Idle) with `seestar.alpaca: auto`: every pulse reaches the fake as PulseGuide, and the fake
mount moves as GUIDE_RATE says, within 5 %.
"""

from __future__ import annotations

import pytest

pytest.importorskip("alpaca.telescope")

from tests.e2e.guiding_support import guide_pulse  # noqa: E402
from tests.e2e.mount_support import true_radec  # noqa: E402
from tests.support.indi_harness import until  # noqa: E402
from tests.support.rig import Rig  # noqa: E402

SIDEREAL_ARCSEC_S = 15.041
RATE = 0.5  # GUIDE_RATE default, x sidereal


def _axis_offsets_arcsec(before, after):
    """(RA-axis arcsec, Dec arcsec) from before to after."""
    d_ra_h = (after[0] - before[0] + 12.0) % 24.0 - 12.0
    return d_ra_h * 15.0 * 3600.0, (after[1] - before[1]) * 3600.0


def test_calibration_pulses_move_the_fake_as_the_rates_say(tmp_path):
    with Rig.start(tmp_path, alpaca_port=0, config={"seestar": {"alpaca": "auto"}}) as rig:
        rig.connect_all()
        until(lambda: (u := rig.client.updates(rig.mount, "SEESTAR_PATHS"))
              and u[-1].values["PULSE_GUIDE"].startswith("Alpaca"), 10, what="the Alpaca path")
        fake = rig.fake
        ra, dec = rig.fake_call(fake.state.mount.radec_of_altaz, 50.0, 170.0)
        rig.fake_call(fake.point_at, ra, dec)
        step_ms = 1500
        expected = RATE * SIDEREAL_ARCSEC_S * step_ms / 1000.0
        want = {"W": (-expected, 0.0), "E": (expected, 0.0), "N": (0.0, expected),
                "S": (0.0, -expected)}
        calls = len(fake.alpaca.calls)
        for direction in ("W", "E", "N", "S"):
            for _ in range(3):
                before = true_radec(rig)
                guide_pulse(rig, direction, step_ms)
                d_ra, d_dec = _axis_offsets_arcsec(before, true_radec(rig))
                w_ra, w_dec = want[direction]
                for got, exp in ((d_ra, w_ra), (d_dec, w_dec)):
                    assert abs(got - exp) <= 0.05 * expected, (direction, d_ra, d_dec, expected)
        pulses = [c for c in fake.alpaca.calls[calls:] if c == "PUT telescope/pulseguide"]
        assert len(pulses) == 12

        # GUIDE_RATE changes reach the server's guide rates
        mark = rig.client.mark()
        rig.client.send_number(rig.mount, "GUIDE_RATE",
                               {"GUIDE_RATE_WE": 0.9, "GUIDE_RATE_NS": 0.3})
        rig.client.wait(lambda u: u.name == "GUIDE_RATE" and u.event == "set", timeout_s=10,
                        since=mark)
        for direction, rate, axis in (("E", 0.9, 0), ("N", 0.3, 1)):
            before = true_radec(rig)
            guide_pulse(rig, direction, step_ms)
            got = _axis_offsets_arcsec(before, true_radec(rig))[axis]
            exp = rate * SIDEREAL_ARCSEC_S * step_ms / 1000.0
            assert abs(got - exp) <= 0.05 * exp, (direction, got, exp)
