"""The real sky of the fake Seestar: Tycho-2 stars (J2000) topped up with faint seeded stars.

Layer: sim (numpy + stdlib). Reads the compact file `tycho_build` writes (memory-mapped, sorted
by declination, so a field is a binary search plus an RA cut). Tycho-2 as astrometry.net's
index carries it thins out below VT ~11 (1.87 M stars, about 23 in an S50 field at high
galactic latitude), so stars fainter than `FILLER_FROM_MAG` come from the seeded
`StarCatalogue` as before: solvers match the bright real ones, guiders and the star count see
a sky as dense as today's. `open_sky` falls back to the seeded field alone (with a log line)
when the file is absent or unreadable.
"""

from __future__ import annotations

import logging
import math
import sys
from pathlib import Path

import numpy as np

from .starfield import StarCatalogue, Stars

#: Units of the compact file's integer RA (2**32 a turn) and Dec (2**31 per 180 degrees).
RA_UNITS_PER_DEG = 2.0 ** 32 / 360.0
DEC_UNITS_PER_DEG = 2.0 ** 31 / 180.0
#: Faint filler stars start here (fainter than Tycho-2's useful depth).
FILLER_FROM_MAG = 12.5
DEFAULT_FILE_NAME = "tycho2-sky.npy"
_log = logging.getLogger(__name__)


def default_catalogue_path() -> Path:
    """Where the Makefile's `sky` target puts the compact file: <venv>/share/indi_seestar/."""
    return Path(sys.prefix) / "share" / "indi_seestar" / DEFAULT_FILE_NAME


class TychoSky:
    """Catalogue stars near a position (J2000) plus the seeded faint filler; `near` like StarCatalogue."""

    def __init__(self, packed: np.ndarray, filler: StarCatalogue) -> None:
        if packed.ndim != 2 or packed.shape[0] != 4:
            raise ValueError(f"expected a (4, N) star array, got {packed.shape}")
        self._packed = packed
        self._dec_units = packed[1]
        self._filler = filler
        self.star_count = int(packed.shape[1])

    @classmethod
    def open(cls, path: Path, filler: StarCatalogue) -> TychoSky:
        """Memory-map the compact file (OSError/ValueError if missing or malformed)."""
        packed = np.load(path, mmap_mode="r", allow_pickle=False)
        if packed.dtype != np.int32:
            raise ValueError(f"{path}: dtype {packed.dtype}, expected int32")
        return cls(packed, filler)

    def catalogue_near(self, ra_hours: float, dec_deg: float, radius_deg: float) -> Stars:
        """Tycho-2 stars within (about) `radius_deg`: a superset, cut by the caller."""
        lo, hi = max(-90.0, dec_deg - radius_deg), min(90.0, dec_deg + radius_deg)
        i0, i1 = np.searchsorted(self._dec_units, [math.floor(lo * DEC_UNITS_PER_DEG),
                                                   math.ceil(hi * DEC_UNITS_PER_DEG)])
        rows = np.asarray(self._packed[:, i0:i1])
        ra_deg = rows[0].view(np.uint32) / RA_UNITS_PER_DEG
        worst = max(abs(lo), abs(hi))
        if worst < 89.0:
            half_ra = radius_deg / math.cos(math.radians(worst))
            d_ra = (ra_deg - ra_hours * 15.0 + 180.0) % 360.0 - 180.0
            keep = np.abs(d_ra) <= half_ra
            rows, ra_deg = rows[:, keep], ra_deg[keep]
        return Stars(ra_deg / 15.0, rows[1] / DEC_UNITS_PER_DEG, rows[2] / 1000.0, rows[3] / 1000.0)

    def near(self, ra_hours: float, dec_deg: float, radius_deg: float) -> Stars:
        """Every star within (about) `radius_deg` of (ra, dec): catalogue plus faint filler."""
        real = self.catalogue_near(ra_hours, dec_deg, radius_deg)
        faint = self._filler.near(ra_hours, dec_deg, radius_deg)
        cut = faint.mag >= FILLER_FROM_MAG
        return Stars(*(np.concatenate([getattr(real, f), getattr(faint, f)[cut]])
                       for f in ("ra_hours", "dec_deg", "mag", "color_bv")))


def open_sky(path: Path | None, sky_seed: int) -> StarCatalogue | TychoSky:
    """The real sky from `path`, or the seeded random field (logged) when there is none."""
    filler = StarCatalogue(sky_seed)
    if path is None:
        _log.info("no star catalogue configured: the fake shows a seeded random star field")
        return filler
    try:
        sky = TychoSky.open(path, filler)
    except (OSError, ValueError) as exc:
        _log.warning("star catalogue %s not usable (%s): the fake shows a seeded random star field "
                     "(`make sky` installs the catalogue)", path, exc)
        return filler
    _log.info("star catalogue %s: %d Tycho-2 stars", path, sky.star_count)
    return sky
