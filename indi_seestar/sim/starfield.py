"""Deterministic star catalogue of the fake Seestar: the same sky position always shows the same stars.

Layer: sim (numpy + stdlib). The sky is cut into cells: declination bands `CELL_DEG` high, each
cut in RA into cells about `CELL_DEG` wide. A cell's stars come from a generator seeded by
(sky_seed, band, cell), so they do not depend on what was asked before. Star counts follow a
power law N(<m) = density * 10**(SLOPE * (m - 14)) per square degree (about 300 stars brighter
than magnitude 14 per square degree, so an S50 field holds ~270 stars, an S30 field ~750).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

CELL_DEG = 1.0
DENSITY_TO_MAG14_PER_SQDEG = 300.0
SLOPE_PER_MAG = 0.35
MAG_LIMIT = 14.5
MAG_BRIGHTEST = 2.0
_SQDEG_PER_SR = (180.0 / math.pi) ** 2
_N_BANDS = int(round(180.0 / CELL_DEG))


@dataclass(frozen=True, slots=True)
class Stars:
    """Parallel arrays: RA hours, Dec degrees, V magnitude, colour index B-V."""

    ra_hours: np.ndarray
    dec_deg: np.ndarray
    mag: np.ndarray
    color_bv: np.ndarray

    def __len__(self) -> int:
        return int(self.mag.size)


def _cells_in_band(band: int) -> int:
    center = -90.0 + (band + 0.5) * CELL_DEG
    return max(1, int(round(360.0 * math.cos(math.radians(center)) / CELL_DEG)))


class StarCatalogue:
    """Stars near any sky position, generated per cell on demand and kept in a bounded cache."""

    def __init__(self, sky_seed: int = 0, max_cached_cells: int = 1024) -> None:
        self._seed = sky_seed
        self._cache: OrderedDict[tuple[int, int], Stars] = OrderedDict()
        self._max = max_cached_cells

    def _cell(self, band: int, index: int) -> Stars:
        key = (band, index)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        rng = np.random.default_rng([self._seed, band, index, 7919])
        n_cells = _cells_in_band(band)
        ra_lo, ra_w = index * 360.0 / n_cells, 360.0 / n_cells
        dec_lo = -90.0 + band * CELL_DEG
        s_lo, s_hi = math.sin(math.radians(dec_lo)), math.sin(math.radians(dec_lo + CELL_DEG))
        area_sqdeg = (s_hi - s_lo) * math.radians(ra_w) * _SQDEG_PER_SR
        mean = DENSITY_TO_MAG14_PER_SQDEG * area_sqdeg * 10 ** (SLOPE_PER_MAG * (MAG_LIMIT - 14.0))
        n = int(rng.poisson(mean))
        ra_deg = ra_lo + ra_w * rng.random(n)
        dec = np.degrees(np.arcsin(s_lo + (s_hi - s_lo) * rng.random(n)))
        mag = MAG_LIMIT + np.log10(1.0 - rng.random(n)) / SLOPE_PER_MAG
        stars = Stars(ra_deg / 15.0, dec, np.maximum(mag, MAG_BRIGHTEST),
                      np.clip(rng.normal(0.65, 0.35, n), -0.2, 2.0))
        self._cache[key] = stars
        if len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return stars

    def near(self, ra_hours: float, dec_deg: float, radius_deg: float) -> Stars:
        """Every star within (about) `radius_deg` of (ra, dec); a superset, cut by the caller."""
        parts: list[Stars] = []
        b_lo = max(0, int(math.floor((dec_deg - radius_deg + 90.0) / CELL_DEG)))
        b_hi = min(_N_BANDS - 1, int(math.floor((dec_deg + radius_deg + 90.0) / CELL_DEG)))
        ra_deg = (ra_hours * 15.0) % 360.0
        for band in range(b_lo, b_hi + 1):
            n_cells = _cells_in_band(band)
            lo, hi = -90.0 + band * CELL_DEG, -90.0 + (band + 1) * CELL_DEG
            worst = max(abs(lo), abs(hi))
            cos_worst = math.cos(math.radians(min(89.999, worst)))
            half_ra = radius_deg / cos_worst if worst < 89.0 else 180.0
            if half_ra >= 180.0 or n_cells == 1:
                indices = range(n_cells)
            else:
                width = 360.0 / n_cells
                first = int(math.floor((ra_deg - half_ra) / width))
                last = int(math.floor((ra_deg + half_ra) / width))
                indices = sorted({i % n_cells for i in range(first, last + 1)})
            parts.extend(self._cell(band, i) for i in indices)
        if not parts:
            empty = np.zeros(0)
            return Stars(empty, empty, empty, empty)
        return Stars(*(np.concatenate([getattr(p, f) for p in parts])
                       for f in ("ra_hours", "dec_deg", "mag", "color_bv")))
