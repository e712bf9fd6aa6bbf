"""Raw-frame renderer of the fake Seestar: a GRBG Bayer star field with noise, the model's size.

Layer: sim (numpy + stdlib; runs in a worker thread, numpy releases the GIL).

Model, in electrons then ADU (16-bit):
* stars from `StarCatalogue`, gnomonic projection about each pointing sample; flux
  F0 * 10**(-0.4 m) e-/s with F0 = 2e7 e-/s for the S50's 50 mm (scaled by aperture area);
* image orientation: x (column) right, y (row) down; "up" (row 0 side) points at position
  angle `theta_deg` on the sky (North through East), East is counter-clockwise from up
  (sky seen from the front, not mirrored). EQ mode: theta 0 (North up, East left). Alt-az
  mode: theta = position angle of the zenith (up = altitude+), i.e. the parallactic angle;
* Gaussian PSF, sigma = sqrt(SEEING_SIGMA_PX**2 + (DEFOCUS_PX_PER_STEP * |focus - best|)**2);
* GRBG colour response from each star's B-V; the LP slot dims broadband light;
* sky background, dark current, hot pixels, bias; gain g = 10**(gain/200) ADU per electron;
* noise: read noise plus shot noise, sigma_ADU = g * sqrt(read_e**2 + electrons), drawn from a
  pre-generated bank of unit normals at a random offset (cheap per frame); clip at 65535.
The noise-free image and its sigma map are cached per (pointings, focus, wheel, exposure, gain).
A moving mount is sampled at several times within the exposure and the flux split between
the samples (star trails).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from . import sky
from .profile import Profile
from .starfield import StarCatalogue

SEEING_SIGMA_PX = 1.2
DEFOCUS_PX_PER_STEP = 0.04
MAX_SIGMA_PX = 30.0
F0_S50_E_PER_S = 2.0e7
SKY_E_PER_S_PX = 8.0
DARK_E_PER_S_PX = 0.05
HOT_PIXEL_E_PER_S = 400.0
READ_NOISE_E = 2.0
BIAS_ADU = 400.0
FULL_SCALE_ADU = 65535.0
_LP_STAR_FACTOR, _LP_SKY_FACTOR = 0.25, 0.12
_BANK_EXTRA = 1 << 20
_FAST_NOISE_ADU = 64.0
_BASE_CACHE = 6


@dataclass(frozen=True, slots=True)
class Pointing:
    """One sample of the true pointing during an exposure: RA h, Dec deg, up position angle deg."""

    ra_hours: float
    dec_deg: float
    theta_deg: float


@dataclass(frozen=True, slots=True)
class FrameSpec:
    """Everything that decides a frame's pixels (cheap to keep; rendered on demand)."""

    image_id: int
    t_start_s: float
    exposure_s: float
    pointings: tuple[Pointing, ...]
    focus_steps: int
    wheel_slot: int
    dark: bool
    gain: int

    def cache_key(self) -> tuple[object, ...]:
        """Key of the noise-free image: pointings quantised well below a pixel."""
        pts = tuple((round(p.ra_hours, 7), round(p.dec_deg, 6), round(p.theta_deg, 3)) for p in self.pointings)
        starless = self.dark or self.exposure_s <= 0
        return (self.dark, self.wheel_slot, round(self.exposure_s, 6), self.gain,
                0 if starless else self.focus_steps, () if starless else pts)


def gain_adu_per_e(gain: int) -> float:
    """Conversion gain: gain is in 0.1 dB like ZWO cameras (0..400)."""
    return 10.0 ** (gain / 200.0)


def psf_sigma_px(focus_steps: int, best_focus_steps: int) -> float:
    """Gaussian sigma for a focuser position."""
    defocus = DEFOCUS_PX_PER_STEP * abs(focus_steps - best_focus_steps)
    return min(MAX_SIGMA_PX, math.hypot(SEEING_SIGMA_PX, defocus))


def _cfa_masks(size: int) -> dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(R, G, B) 0/1 masks of a size x size stamp for each (row parity, column parity) origin."""
    out = {}
    yy, xx = np.mgrid[0:size, 0:size]
    for py in (0, 1):
        for px in (0, 1):
            ry, rx = (yy + py) % 2, (xx + px) % 2
            red = ((ry == 0) & (rx == 1)).astype(np.float32)  # GRBG: row 0 = G R, row 1 = B G
            blue = ((ry == 1) & (rx == 0)).astype(np.float32)
            out[(py, px)] = (red, 1.0 - red - blue, blue)
    return out


class Renderer:
    """Renders `FrameSpec`s; one instance per fake, used from one worker thread at a time."""

    def __init__(self, profile: Profile, catalogue: StarCatalogue, best_focus_steps: int, seed: int = 1) -> None:
        self.profile = profile
        self.catalogue = catalogue
        self.best_focus_steps = best_focus_steps
        self.height, self.width = profile.height_px, profile.width_px
        self._scale_rad = math.radians(profile.plate_scale_arcsec_px / 3600.0)
        self._f0 = F0_S50_E_PER_S * (profile.aperture_mm / 50.0) ** 2
        rng = np.random.default_rng([seed, 4242])
        n = self.height * self.width
        self._bank = rng.standard_normal(n + _BANK_EXTRA, dtype=np.float32)
        self._hot_idx = rng.choice(n, size=profile.hot_pixel_count // 4, replace=False)
        self._hot_rate = (HOT_PIXEL_E_PER_S * rng.random(self._hot_idx.size)).astype(np.float32)
        self._rng = np.random.default_rng([seed, 777])
        self._cache: OrderedDict[tuple[object, ...], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()
        self.renders = 0
        self.cache_misses = 0
        #: Benchmarks (`indi_seestar_sim --fast-frames`): each frame is a cached noise-free
        #: frame plus a random slice of small non-negative noise (one uint16 add, ~1 ms instead
        #: of ~6-15 ms), so the fake is never what limits the driver's frame rate. Not a
        #: faithful model: the noise ignores the signal, and the frame is re-rendered only when
        #: the exposure settings change (not when the pointing moves).
        self.fast_noise = False
        self._fast_frame: tuple[tuple[object, ...], np.ndarray] | None = None
        self._fast_bank: np.ndarray | None = None

    # --- geometry ------------------------------------------------------------------------

    def project(self, p: Pointing, ra_hours: np.ndarray, dec_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pixel (x, y) of sky points for pointing `p`, and a mask of points in front of the lens."""
        xi, eta, cos_c = sky.gnomonic(p.ra_hours, p.dec_deg, ra_hours, dec_deg)
        th = math.radians(p.theta_deg)
        right = -xi * math.cos(th) + eta * math.sin(th)
        up = xi * math.sin(th) + eta * math.cos(th)
        x = (self.width - 1) / 2.0 + right / self._scale_rad
        y = (self.height - 1) / 2.0 - up / self._scale_rad
        return x, y, cos_c > 0.5

    # --- rendering -----------------------------------------------------------------------

    def render(self, spec: FrameSpec) -> np.ndarray:
        """The frame as (height, width) uint16, noise included (thread-safe)."""
        with self._lock:
            self.renders += 1
            off = int(self._rng.integers(0, _BANK_EXTRA))
            if self.fast_noise:
                return self._fast(spec, off)
            base, sigma = self._base(spec)
            n = base.size
            work = np.multiply(self._bank[off:off + n].reshape(base.shape), sigma)
            work += base
            np.clip(work, 0.0, FULL_SCALE_ADU, out=work)
            return work.astype(np.uint16)

    def _fast(self, spec: FrameSpec, off: int) -> np.ndarray:
        """fast_noise: a noise-free frame plus a slice of small uint16 noise. The frame is kept
        while the exposure settings stay the same (the pointing may drift: not re-rendered)."""
        key = spec.cache_key()[:5]  # dark, wheel, exposure, gain, focus: not the pointing
        if self._fast_frame is None or self._fast_frame[0] != key:
            base = self._base(spec)[0]
            self._fast_frame = (key, np.clip(base, 0.0, FULL_SCALE_ADU - _FAST_NOISE_ADU)
                                .astype(np.uint16))
        if self._fast_bank is None:
            self._fast_bank = (np.abs(self._bank) * (_FAST_NOISE_ADU / 4.0)).clip(
                0, _FAST_NOISE_ADU).astype(np.uint16)
        clean = self._fast_frame[1]
        return np.add(clean, self._fast_bank[off:off + clean.size].reshape(clean.shape))

    def noise_free(self, spec: FrameSpec) -> np.ndarray:
        """The expected ADU image (float32) without noise (for tests and the stacker)."""
        with self._lock:
            return self._base(spec)[0].copy()

    def _base(self, spec: FrameSpec) -> tuple[np.ndarray, np.ndarray]:
        key = spec.cache_key()
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        self.cache_misses += 1
        t = max(0.0, spec.exposure_s)
        electrons = np.full((self.height, self.width), DARK_E_PER_S_PX * t, dtype=np.float32)
        if not spec.dark:
            sky_factor = _LP_SKY_FACTOR if spec.wheel_slot == 2 else 1.0
            electrons += np.float32(SKY_E_PER_S_PX * t * sky_factor)
            if t > 0:
                self._add_stars(electrons, spec)
        flat = electrons.reshape(-1)
        flat[self._hot_idx] += self._hot_rate * np.float32(t)
        g = np.float32(gain_adu_per_e(spec.gain))
        sigma = np.sqrt(electrons + np.float32(READ_NOISE_E ** 2)) * g
        base = electrons * g + np.float32(BIAS_ADU)
        self._cache[key] = (base, sigma)
        if len(self._cache) > _BASE_CACHE:
            self._cache.popitem(last=False)
        return base, sigma

    def _add_stars(self, img: np.ndarray, spec: FrameSpec) -> None:
        sigma_px = psf_sigma_px(spec.focus_steps, self.best_focus_steps)
        radius = int(min(60, math.ceil(3.5 * sigma_px) + 1))
        size = 2 * radius + 1
        masks = _cfa_masks(size)
        star_factor = _LP_STAR_FACTOR if spec.wheel_slot == 2 else 1.0
        per_sample_s = spec.exposure_s / len(spec.pointings)
        offsets = np.arange(-radius, radius + 1, dtype=np.float32)
        for p in spec.pointings:
            stars = self.catalogue.near(p.ra_hours, p.dec_deg, self.profile.field_radius_deg + 0.05)
            if not len(stars):
                continue
            x, y, front = self.project(p, stars.ra_hours, stars.dec_deg)
            keep = front & (x > -radius) & (x < self.width + radius) & (y > -radius) & (y < self.height + radius)
            x, y = x[keep], y[keep]
            flux = (self._f0 * per_sample_s * star_factor) * 10.0 ** (-0.4 * stars.mag[keep])
            # Stars whose peak is far below the per-pixel noise are invisible: skip them.
            floor_e = 0.05 * math.sqrt(READ_NOISE_E ** 2 + SKY_E_PER_S_PX * spec.exposure_s)
            bright = flux / (2.0 * math.pi * sigma_px ** 2) > floor_e
            x, y, flux = x[bright], y[bright], flux[bright]
            bv = stars.color_bv[keep][bright]
            red, blue = 0.7 + 0.4 * bv, np.maximum(0.2, 1.2 - 0.5 * bv)
            if spec.wheel_slot == 2:
                red, blue = red * 1.6, blue * 0.8
            norm = (red + 2.0 + blue) / 4.0
            self._splat(img, x, y, flux, red / norm, 1.0 / norm, blue / norm, sigma_px, radius, offsets, masks)

    def _splat(self, img: np.ndarray, x: np.ndarray, y: np.ndarray, flux: np.ndarray, wr: np.ndarray,
               wg: np.ndarray, wb: np.ndarray, sigma_px: float, radius: int, offsets: np.ndarray,
               masks: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
        """Add Gaussian stamps (pixel-centre sampled, unit sum) with CFA weights into `img`."""
        cx, cy = np.rint(x).astype(np.int64), np.rint(y).astype(np.int64)
        gx = np.exp(-((cx[:, None] + offsets[None, :] - x[:, None]) ** 2) / (2.0 * sigma_px ** 2))
        gy = np.exp(-((cy[:, None] + offsets[None, :] - y[:, None]) ** 2) / (2.0 * sigma_px ** 2))
        gx /= gx.sum(axis=1, keepdims=True)
        gy /= gy.sum(axis=1, keepdims=True)
        gx *= flux[:, None]
        h, w = img.shape
        for i in range(cx.size):
            x0, y0 = int(cx[i]) - radius, int(cy[i]) - radius
            red, green, blue = masks[(y0 & 1, x0 & 1)]
            stamp = np.outer(gy[i], gx[i]).astype(np.float32)
            stamp *= red * wr[i] + green * wg[i] + blue * wb[i]
            ys, xs = max(0, y0), max(0, x0)
            ye, xe = min(h, y0 + stamp.shape[0]), min(w, x0 + stamp.shape[1])
            if ye > ys and xe > xs:
                img[ys:ye, xs:xe] += stamp[ys - y0:ye - y0, xs - x0:xe - x0]


def debayer_half(raw: np.ndarray) -> np.ndarray:
    """GRBG mosaic -> (h/2, w/2, 3) float32 RGB by 2x2 super-pixels."""
    r = raw[0::2, 1::2].astype(np.float32)
    g = (raw[0::2, 0::2].astype(np.float32) + raw[1::2, 1::2]) * 0.5
    b = raw[1::2, 0::2].astype(np.float32)
    return np.stack([r, g, b], axis=-1)
