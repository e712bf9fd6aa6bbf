"""The fake shows the real sky (issue 16): astrometry.net solves the driver's light frames.

Real indiserver + driver + fake + libindi client. At 20 seeded random pointings above 30 degrees
altitude (10 in alt-az mode, 10 on a wedge) the test takes a light frame through CCD_EXPOSURE and
runs Debian's `solve-field` on the FITS the client received, calibrated as a user would with a
dark frame taken through the driver first (astrometry.net's source extractor has no minimum
area, so the S50's ~1800 hot pixels, brighter than mag 12 stars in one pixel, would otherwise
crowd out the stars of sparse fields: measured, a 17-star field at Dec +51 solves with the dark
subtracted and not without), with the Tycho-2 index the Makefile's `sky` target installs. Acceptance 1: at least 18 of 20 solve, each within 30" of the
J2000 pointing in the frame's header (RA/DEC), and the field's rotation is the mount's: in alt-az
mode "up" is the zenith (the parallactic angle), on a wedge it is North. Each mode's pointings are
shared by two rigs, the four taking frames at the same time. Acceptance 2: for every
5th frame the fake's own plate solve of that frame agrees with astrometry.net within 30".
"""

from __future__ import annotations

import concurrent.futures
import math
import random
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits

from indi_seestar import sky
from indi_seestar.sim.tycho import TychoSky
from indi_seestar.sim.plate_solve import solve_now, star_count
from tests.e2e.camera_helpers import FakeFrames, camera_rig, date_obs, expose, open_fits
from tests.e2e.mount_support import separation_deg
from tests.support.indi_harness import until
from tests.support.rig import Rig

pytestmark = [pytest.mark.e2e]

#: Debian astrometry-data-tycho2-07 (quads 22'-30', right for a 0.7 x 1.3 degree field).
INDEX = Path("/usr/share/astrometry/index-tycho2-07.littleendian.fits")
POINTINGS_PER_MODE = 10
MIN_SOLVED = 18
EXPOSURE_S = 1.0
MAX_ERROR_ARCSEC = 30.0
#: Rotation tolerance. Measured: within 0.05 deg at the image centre (--crpix-center); the
#: expectation includes the turn from North of date to J2000 North (0.1-0.4 deg here), and near
#: the zenith the field turns ~0.05 deg/s, so a late exposure on a loaded machine costs a little.
MAX_ROTATION_ERROR_DEG = 0.3
FAKE_SOLVE_EVERY = 5
#: The fake fails a solve (code 251) on a frame with fewer detectable stars than this, as the
#: scope does (sim/plate_solve.py); which pointings are that sparse depends on the hour.
FAKE_SOLVE_MIN_STARS = 10
#: Rigs sharing each mode's pointings, all at once (pointing i goes to rig i % RIGS_PER_MODE).
#: One: with two (four rigs at once, 34-47 s instead of 49-55 s alone) three alt-az frames of
#: one run in a loaded suite did not solve (17 of 20).
RIGS_PER_MODE = 1
SOLVE_TIMEOUT_S = 60.0
SEED = 16


def _skip_reason() -> str | None:
    if shutil.which("solve-field") is None:
        return "astrometry.net's solve-field is not installed (`make sky` installs it with apt)"
    if not INDEX.exists():
        return f"{INDEX} is absent (`make sky` installs astrometry-data-tycho2-07 with apt)"
    return None


@dataclass
class Solution:
    """What solve-field found: J2000 centre and the position angle of the FITS +y axis."""

    ra_deg: float
    dec_deg: float
    up_deg: float


def solve(path: Path, ra_deg: float, dec_deg: float, config: Path) -> Solution | None:
    """solve-field on one frame, hinted by scale and position; None if it did not solve.

    The options are those Ekos (StellarSolver's "local astrometry.net" solver) always passes:
    scale (-L/-H/-u) and position (-3/-4/-5) hints, --no-plots --no-verify --crpix-center,
    --downsample, and --no-remove-lines --uniformize 0, which skip solve-field's two Python
    helpers (measured: 1.4 s -> 0.3 s of CPU per frame, the solve itself takes ~0.05 s);
    --fits-image skips its image-type probe, another Python start.
    """
    out = subprocess.run(
        ["solve-field", "--config", str(config), "--overwrite", "--no-plots", "--no-verify",
         "--scale-units", "arcsecperpix", "--scale-low", "2.2", "--scale-high", "2.6",
         "--ra", f"{ra_deg:.5f}", "--dec", f"{dec_deg:.5f}", "--radius", "2", "--downsample", "2",
         "--no-remove-lines", "--uniformize", "0", "--fits-image",
         # The rotation at the image centre: near the pole North turns by degrees across the field.
         "--crpix-center",
         "--cpulimit", "30", "--new-fits", "none", "--index-xyls", "none", "--rdls", "none",
         "--match", "none", "--corr", "none", "--solved", "none", "--temp-dir", str(path.parent),
         "--dir", str(path.parent / f"{path.stem}-out"), str(path)],
        capture_output=True, text=True, timeout=SOLVE_TIMEOUT_S, check=False)
    centre = re.search(r"Field center: \(RA,Dec\) = \(([-\d.]+), ([-\d.]+)\) deg", out.stdout)
    angle = re.search(r"Field rotation angle: up is ([-\d.]+) degrees E of N", out.stdout)
    if centre is None or angle is None:
        return None
    path.unlink()  # 8 MB each; the unsolved ones stay for a look
    return Solution(float(centre.group(1)), float(centre.group(2)), float(angle.group(1)))


def _unit(ra_hours: float, dec_deg: float) -> np.ndarray:
    ra, dec = math.radians(ra_hours * 15.0), math.radians(dec_deg)
    return np.array([math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra), math.sin(dec)])


def _east_north(origin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors East and North of the tangent plane at `origin`."""
    east = np.cross(np.array([0.0, 0.0, 1.0]), origin)
    east /= np.linalg.norm(east)
    return east, np.cross(origin, east)


def _position_angle_deg(origin: np.ndarray, target: np.ndarray) -> float:
    """Position angle (North through East) of direction `target` seen from `origin`."""
    east, north = _east_north(origin)
    return math.degrees(math.atan2(float(target @ east), float(target @ north)))


def j2000_position_angle(ra_now_hours: float, dec_now_deg: float, pa_now_deg: float, utc: Any) -> float:
    """A direction at position angle `pa_now_deg` (JNow) from a JNow place, measured in J2000."""
    origin = _unit(ra_now_hours, dec_now_deg)
    east, north = _east_north(origin)
    step = math.radians(0.05)
    pa = math.radians(pa_now_deg)
    probe = origin + step * (math.sin(pa) * east + math.cos(pa) * north)
    probe /= np.linalg.norm(probe)
    probe_ra = math.degrees(math.atan2(probe[1], probe[0])) / 15.0 % 24.0
    probe_dec = math.degrees(math.asin(probe[2]))
    a = _unit(*sky.jnow_to_j2000(ra_now_hours, dec_now_deg, utc))
    b = _unit(*sky.jnow_to_j2000(probe_ra, probe_dec, utc))
    return _position_angle_deg(a, b)


def angle_diff_deg(a: float, b: float) -> float:
    """|a - b| folded into [0, 180]."""
    return abs((a - b + 180.0) % 360.0 - 180.0)


@dataclass
class Frame:
    """One light frame: its header's pointing, the expected "up" angle, the fake's solve."""

    label: str
    ra_deg: float
    dec_deg: float
    expected_up_deg: float
    parallactic_deg: float
    fake_solve_j2000: tuple[float, float] | None
    solution: concurrent.futures.Future[Solution | None]


def _point(rig: Rig, alt_deg: float, az_deg: float) -> None:
    """Point the fake at (alt, az), tracking, and wait until the driver reports that place."""
    ra, dec = rig.fake_call(rig.fake.state.mount.radec_of_altaz, alt_deg, az_deg)
    rig.fake_call(rig.fake.point_at, ra, dec)

    def reported() -> bool:
        eod = [u for u in rig.client.updates(rig.mount, "EQUATORIAL_EOD_COORD") if u.event == "set"]
        if not eod:
            return False
        values = eod[-1].values
        return separation_deg((values["RA"], values["DEC"]), (ra, dec)) < 0.02

    until(reported, 30, what="the driver's EQUATORIAL_EOD_COORD at the new pointing")


def _fake_solve(rig: Rig, frames: FakeFrames, image: Any, utc: Any,
                pool: Any) -> concurrent.futures.Future[tuple[float, float] | None]:
    """The fake's plate solve of the frame `image` came from, as J2000, or None where the frame
    has too few stars for it (it takes the scope's 2.7 s: it runs in `pool` while the next
    frames are taken)."""
    spec, _full = frames.source_of(image)  # now, while the fake still has the frame

    def run() -> tuple[float, float] | None:
        stars = int(rig.fake_call(star_count, rig.fake.core, spec))
        result = rig.sim.run(solve_now(rig.fake.core, spec, ["View"], tag="Exposure-PlateSolve"))
        if stars < FAKE_SOLVE_MIN_STARS:
            assert result is None, f"the fake solved a frame of {stars} stars"
            return None
        assert result is not None, f"the fake's plate solve failed on a frame of {stars} stars"
        return sky.jnow_to_j2000(result[0], result[1], utc)

    return pool.submit(run)


def _select(rig: Rig, name: str, member: str) -> None:
    """Send a OneOfMany switch of the camera and wait for its Ok."""
    since = rig.client.mark()
    rig.client.send_switch(rig.camera, name, [member])
    rig.client.wait(lambda u: u.name == name and u.state == "Ok", timeout_s=10, since=since)


def _dark(rig: Rig) -> np.ndarray:
    """A dark frame of EXPOSURE_S through the driver (the wheel's dark slot)."""
    _select(rig, "CCD_FRAME_TYPE", "FRAME_DARK")
    dark = open_fits(expose(rig, EXPOSURE_S).data)[0].data.astype(np.float32)
    _select(rig, "CCD_FRAME_TYPE", "FRAME_LIGHT")
    return dark


def _take_frames(rig: Rig, mode: str, pointings: list[tuple[int, float, float]], config: Path,
                 pool: Any) -> list[Frame]:
    frames = FakeFrames(rig)
    out = []
    fake_solves: dict[int, concurrent.futures.Future[tuple[float, float]]] = {}
    fake_pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        dark = _dark(rig)
        for i, alt, az in pointings:
            _point(rig, alt, az)
            shot = expose(rig, EXPOSURE_S)
            hdul = open_fits(shot.data)
            header, image = hdul[0].header, hdul[0].data
            assert header["IMAGETYP"].strip().lower().startswith("light")
            ra_deg, dec_deg = float(header["RA"]), float(header["DEC"])
            mid = date_obs(header) + timedelta(seconds=float(header["EXPTIME"]) / 2.0)
            site = rig.fake_call(rig.fake.state.mount.state)
            lat, lon = site.lat_deg, site.lon_deg
            ra_now, dec_now = sky.j2000_to_jnow(ra_deg / 15.0, dec_deg, mid)
            q = sky.parallactic_angle_deg(ra_now, dec_now, mid, lat, lon)
            # Image "up" (row 0, ROWORDER TOP-DOWN) is the zenith in alt-az mode and North of
            # date on a wedge, both measured in JNow; astrometry.net measures in J2000, and its
            # "up" is the FITS +y axis (the last row), the other way.
            up_j2000 = j2000_position_angle(ra_now, dec_now, q if mode == "altaz" else 0.0, mid)
            expected_up = (up_j2000 + 180.0) % 360.0
            if i % FAKE_SOLVE_EVERY == 0:
                fake_solves[len(out)] = _fake_solve(rig, frames, image, mid, fake_pool)
            path = rig.tmp_path / f"{mode}-{i:02d}.fits"
            calibrated = image.astype(np.float32) - dark
            fits.PrimaryHDU(calibrated).writeto(path)
            out.append(Frame(f"{mode} #{i} alt {alt:.1f} az {az:.1f}", ra_deg, dec_deg, expected_up, q,
                             None, pool.submit(solve, path, ra_deg, dec_deg, config)))
        for k, solved in fake_solves.items():  # before the rig (and its fake) goes
            out[k].fake_solve_j2000 = solved.result(timeout=SOLVE_TIMEOUT_S)
    finally:
        fake_pool.shutdown(wait=True)
        frames.close()
    return out


def test_astrometry_net_solves_the_drivers_light_frames(tmp_path: Path) -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    config = tmp_path / "astrometry.cfg"
    config.write_text(f"cpulimit 30\nindex {INDEX}\n")
    rng = random.Random(SEED)
    modes = ("altaz", "eq")
    pointings = {mode: [(i, rng.uniform(30.0, 85.0), rng.uniform(0.0, 360.0))
                        for i in range(POINTINGS_PER_MODE)] for mode in modes}
    shares = [(mode, part) for mode in modes for part in range(RIGS_PER_MODE)]

    def run_share(mode: str, part: int) -> list[Frame]:
        (tmp_path / f"{mode}{part}").mkdir()
        with camera_rig(tmp_path / f"{mode}{part}", equ_mode=(mode == "eq")) as rig:
            if not isinstance(rig.fake.renderer.catalogue, TychoSky):
                pytest.skip("the fake has no Tycho-2 star file (`make sky` builds it)")
            return _take_frames(rig, mode, pointings[mode][part::RIGS_PER_MODE], config, pool)

    # Independent rigs (own fake, indiserver, driver, client) take their share of the pointings
    # at the same time, each waiting mostly on its fake's 1 s exposures.
    with (concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool,
          concurrent.futures.ThreadPoolExecutor(max_workers=len(shares)) as rigs):
        runs = [rigs.submit(run_share, mode, part) for mode, part in shares]
        frames = [f for run in runs for f in run.result()]
        results = [(f, f.solution.result(timeout=SOLVE_TIMEOUT_S * 2)) for f in frames]
    solved = compared = 0
    for f, s in results:
        if s is None:
            print(f"\n{f.label}: not solved")
            continue
        error = separation_deg((s.ra_deg / 15.0, s.dec_deg), (f.ra_deg / 15.0, f.dec_deg)) * 3600.0
        turn = angle_diff_deg(s.up_deg, f.expected_up_deg)
        line = f"\n{f.label}: error {error:.1f}\", up {s.up_deg:.2f} (expected {f.expected_up_deg:.2f})"
        if f.fake_solve_j2000 is not None:
            fake_error = separation_deg(f.fake_solve_j2000, (s.ra_deg / 15.0, s.dec_deg)) * 3600.0
            line += f", fake's solve {fake_error:.1f}\" from astrometry.net"
            assert fake_error <= MAX_ERROR_ARCSEC, line
            compared += 1
        print(line)
        assert error <= MAX_ERROR_ARCSEC, line
        assert turn <= MAX_ROTATION_ERROR_DEG, line
        solved += 1
    assert solved >= MIN_SOLVED, f"{solved} of {len(frames)} frames solved"
    assert compared >= 1, "no frame solved by both the fake and astrometry.net"
    turning = [f for f in frames if f.label.startswith("altaz") and abs(f.parallactic_deg) > 10.0]
    assert len(turning) >= POINTINGS_PER_MODE // 2, "the alt-az pointings should turn the field visibly"


PACE_EXPOSURE_S = 0.5
PACE_WINDOW_S = 6.0


#: A wall-time claim (the fake renders and sends each 0.5 s frame before the next one ends):
#: beside two CPU hogs (2026-12-03) one frame in ~12 was dropped; in the busy realtime lane.
@pytest.mark.realtime_busy
def test_preview_frames_of_the_real_sky_stream_at_the_scopes_pace(tmp_path: Path) -> None:
    """Acceptance 4: with the driver connected, 0.5 s previews of a turning (alt-az) real-sky
    field, each one a new render, reach the driver's 4800 stream one per exposure, none dropped."""
    with camera_rig(tmp_path) as rig:
        if not isinstance(rig.fake.renderer.catalogue, TychoSky):
            pytest.skip("the fake has no Tycho-2 catalogue (`make sky` builds it)")
        _point(rig, 75.0, 100.0)  # high in the east: the field turns fastest there
        expose(rig, PACE_EXPOSURE_S)  # the preview now runs at 0.5 s

        def counts() -> tuple[int, int, int, int]:
            conns = list(rig.fake.image.connections.values())
            return (rig.fake.camera.frames_completed, sum(c.frames_sent for c in conns),
                    sum(c.frames_dropped for c in conns), rig.fake.renderer.cache_misses)

        done0, sent0, dropped0, misses0 = rig.fake_call(counts)
        t0 = time.monotonic()
        shots = 0
        while time.monotonic() - t0 < PACE_WINDOW_S:  # a client taking frames back to back
            expose(rig, PACE_EXPOSURE_S)
            shots += 1
        done1, sent1, dropped1, misses1 = rig.fake_call(counts)
        elapsed = time.monotonic() - t0
        print(f"\n{done1 - done0} frames completed, {sent1 - sent0} sent, {dropped1 - dropped0} dropped, "
              f"{misses1 - misses0} rendered anew in {elapsed:.1f} s; {shots} exposures delivered")
        expected = elapsed / PACE_EXPOSURE_S
        assert done1 - done0 >= 0.85 * expected, "the fake's preview fell behind its exposure"
        assert sent1 - sent0 >= done1 - done0 - 1, "frames were not streamed as they completed"
        assert dropped1 - dropped0 == 0
        assert misses1 - misses0 >= 0.8 * (done1 - done0), "each turned frame should be a new render"
