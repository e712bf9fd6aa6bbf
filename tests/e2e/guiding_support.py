"""A small PHD2-like guider for the end-to-end tests: star centroids on CCD1 frames, pulses, fits.

Our own code, written for the tests (not PHD2's): the frame is the camera's raw Bayer image; a
2x2 superpixel sum removes the colour pattern; a star is followed from frame to frame with an
intensity-weighted centroid over the background. Positions are in unbinned pixels of the
region read out. Pulses go through the mount's TELESCOPE_TIMED_GUIDE_NS/WE, one axis after the
other as PHD2 sends them, each waited for until it reports its end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tests.e2e.camera_helpers import FakeFrames, expose, open_fits
from tests.e2e.mount_support import fake_stop_time_s, wait_end
from tests.support.rig import Rig

#: The region read out (centre of the 1080 x 1920 chip) and the exposure of each frame.
ROI = {"X": 284, "Y": 704, "WIDTH": 512, "HEIGHT": 512}
EXPOSURE_S = 0.5
#: Half size (superpixels) of the box a star is searched for around its last position: a step
#: moves it at most ~4 (a 2.5 s pulse at ~1.6 superpixels/s).
SEARCH_HALF = 12
#: Half size (superpixels) of the centroid box.
CENTROID_HALF = 5
#: How far (superpixels) the star may wander from where it was picked: the calibration's travel
#: (5 x 2 s at ~1.6 superpixels/s = ~16) and room for the drift.
TRAVEL = 26
#: A guide star is picked this far from the region's edges, so it never walks out of it.
EDGE = SEARCH_HALF + TRAVEL
#: Rendered frames the fake keeps to be matched with a received one (~7 s of 0.5 s previews at
#: the tests' time factor 3, ~170 MB): a frame can take seconds to reach a loaded client.
KEPT_FRAMES = 40
#: Frames taken at most to get one begun after the mount stopped (see FrameStarts).
FRESH_TRIES = 4

MEMBERS = {"N": ("TELESCOPE_TIMED_GUIDE_NS", "TIMED_GUIDE_N", ("TIMED_GUIDE_N", "TIMED_GUIDE_S")),
           "S": ("TELESCOPE_TIMED_GUIDE_NS", "TIMED_GUIDE_S", ("TIMED_GUIDE_N", "TIMED_GUIDE_S")),
           "W": ("TELESCOPE_TIMED_GUIDE_WE", "TIMED_GUIDE_W", ("TIMED_GUIDE_W", "TIMED_GUIDE_E")),
           "E": ("TELESCOPE_TIMED_GUIDE_WE", "TIMED_GUIDE_E", ("TIMED_GUIDE_W", "TIMED_GUIDE_E"))}


def set_camera_number(rig: Rig, name: str, values: dict[str, float]) -> None:
    """Send a camera number vector and wait for its Ok."""
    since = rig.client.mark()
    rig.client.send_number(rig.camera, name, values)
    reply = rig.client.wait(lambda u: u.device == rig.camera and u.name == name and u.event == "set",
                            timeout_s=20, since=since)
    assert reply.state == "Ok", (name, reply.state)


def raw_frame(rig: Rig) -> np.ndarray:
    """One exposure of the region: the raw pixels as the client received them."""
    return np.asarray(open_fits(expose(rig, EXPOSURE_S).data)[0].data)


def reduce(raw: np.ndarray) -> np.ndarray:
    """2x2 superpixels, 3x3 median filtered, background subtracted."""
    raw = raw.astype(np.float64)
    h, w = raw.shape
    sp = raw[: h // 2 * 2, : w // 2 * 2].reshape(h // 2, 2, w // 2, 2).sum(axis=(1, 3))
    sp = median3(sp)
    return sp - np.median(sp)


def median3(image: np.ndarray) -> np.ndarray:
    """3x3 median filter (edges replicated): removes hot pixels, which do not move with the sky.

    Without it a hot pixel brighter than the guide star inside the search box captures the
    tracker (seen in CI: a calibration axis measured 0 px/s, its centroid frozen on one pixel).
    """
    padded = np.pad(image, 1, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3))
    return np.median(windows, axis=(-2, -1))


def _noise(image: np.ndarray) -> float:
    mad = np.median(np.abs(image - np.median(image)))
    return float(1.4826 * mad) or 1.0


def centroid(image: np.ndarray, near: tuple[float, float]) -> tuple[float, float, float]:
    """(x, y, flux) of the star nearest the brightest peak around `near` (superpixels)."""
    x0, y0 = round(near[0]), round(near[1])
    box = image[y0 - SEARCH_HALF: y0 + SEARCH_HALF + 1, x0 - SEARCH_HALF: x0 + SEARCH_HALF + 1]
    py, px = np.unravel_index(int(np.argmax(box)), box.shape)
    cx, cy = float(x0 - SEARCH_HALF + px), float(y0 - SEARCH_HALF + py)
    threshold = 3.0 * _noise(image)
    for _ in range(3):
        xi, yi = round(cx), round(cy)
        cut = image[yi - CENTROID_HALF: yi + CENTROID_HALF + 1, xi - CENTROID_HALF: xi + CENTROID_HALF + 1]
        weights = np.clip(cut - threshold, 0.0, None)
        total = float(weights.sum())
        assert total > 0, "the star was lost"
        ys, xs = np.mgrid[-CENTROID_HALF: CENTROID_HALF + 1, -CENTROID_HALF: CENTROID_HALF + 1]
        cx, cy = xi + float((weights * xs).sum()) / total, yi + float((weights * ys).sum()) / total
    return cx, cy, total


def pick_star(image: np.ndarray) -> tuple[float, float]:
    """A bright, isolated, unsaturated star away from the edges (superpixels)."""
    noise = _noise(image)
    h, w = image.shape
    inner = image[EDGE: h - EDGE, EDGE: w - EDGE]
    order = np.argsort(inner, axis=None)[::-1]
    for flat in order[:2000]:
        y, x = np.unravel_index(int(flat), inner.shape)
        y, x = y + EDGE, x + EDGE
        peak = image[y, x]
        if peak > 4 * 60000 * 0.8 or peak < 20 * noise:
            continue  # saturated, or too faint
        patch = image[y - 1: y + 2, x - 1: x + 2]
        if np.count_nonzero(patch > 5 * noise) < 5:
            continue  # a hot pixel, not a star
        around = image[y - 12: y + 13, x - 12: x + 13].copy()
        around[12 - 3: 12 + 4, 12 - 3: 12 + 4] = 0
        if around.max() > 0.3 * peak:
            continue  # a neighbour would confuse the centroid
        reach = EDGE  # every pixel a search box can see while the star wanders
        wide = image[y - reach: y + reach + 1, x - reach: x + reach + 1].copy()
        wide[reach - 3: reach + 4, reach - 3: reach + 4] = 0
        if wide.max() > 0.7 * peak:
            continue  # a star about as bright could capture the tracker (seen: an axis at 2x)
        return float(x), float(y)
    raise NoStar("no usable star in the region")


class NoStar(AssertionError):
    """No usable star in the region."""


class FrameStarts:
    """Scope time each received frame's exposure began, read from the fake's record of its frames.

    The driver picks the first preview frame whose exposure began after the request, judged from
    when its first byte came in minus the readout margin. A margin shorter than the fake's render
    and transfer time on a loaded machine can let through a frame begun a little before the
    request, i.e. before the last pulse had ended: such a frame is retaken (and counted), as is
    one too old to be found among the fake's recent frames, so every centroid the claims rest
    on is of a frame shown to be taken wholly after the mount stopped.
    """

    def __init__(self, rig: Rig) -> None:
        self._rig = rig
        self._frames = FakeFrames(rig)
        rig.fake_call(setattr, rig.fake.camera, "rendered_kept", KEPT_FRAMES)
        self.retaken = 0

    def start_s(self, raw: np.ndarray) -> float | None:
        """Scope time the exposure of `raw` (the ROI as received) began: of the fake's recent
        frames whose region is `raw`, the earliest; None when it is older than all of them."""
        specs, camera = self._frames.specs, self._rig.fake.camera
        y, x = ROI["Y"], ROI["X"]
        h, w = raw.shape

        def find() -> list[float]:
            return [spec.t_start_s for image_id, spec in list(specs.items())
                    if (full := camera.rendered(image_id)) is not None
                    and np.array_equal(full[y: y + h, x: x + w], raw)]

        starts = self._rig.fake_call(find)
        return min(starts) if starts else None

    def fresh(self, rig: Rig) -> np.ndarray:
        """A frame whose exposure began after the mount's last move had stopped."""
        stopped_s = fake_stop_time_s(rig)
        for _ in range(FRESH_TRIES):
            raw = raw_frame(rig)
            start_s = self.start_s(raw)
            if start_s is not None and start_s >= stopped_s:
                return raw
            self.retaken += 1  # begun too early, or too old to be told (a very loaded machine)
        raise AssertionError(f"{FRESH_TRIES} frames in a row not shown to begin after the mount stopped")


def frame(rig: Rig, starts: FrameStarts) -> np.ndarray:
    """One reduced exposure of the region begun after the mount's last move (see FrameStarts)."""
    return reduce(starts.fresh(rig))


class StarTracker:
    """Follows one star from frame to frame; positions in unbinned pixels."""

    def __init__(self, rig: Rig) -> None:
        self._rig = rig
        self.starts = FrameStarts(rig)
        image = frame(rig, self.starts)
        self._last = pick_star(image)
        self._last = centroid(image, self._last)[:2]

    @property
    def position_px(self) -> tuple[float, float]:
        """The last centroid in unbinned pixels."""
        return 2.0 * self._last[0] + 0.5, 2.0 * self._last[1] + 0.5

    def measure(self) -> tuple[float, float]:
        """Take a frame and return the star's new position (unbinned pixels)."""
        image = frame(self._rig, self.starts)
        self._last = centroid(image, self._last)[:2]
        return self.position_px


def guide_pulse(rig: Rig, direction: str, length_ms: float) -> None:
    """One pulse as PHD2 sends it (both members, the other 0), waited for until it ends Idle."""
    prop, member, names = MEMBERS[direction]
    since = rig.client.mark()
    rig.client.send_number(rig.mount, prop, {n: (round(length_ms) if n == member else 0) for n in names})
    end = wait_end(rig, prop, since, timeout_s=30)
    assert end.state == "Idle" and not any(end.values.values()), (end.state, end.values)


@dataclass(frozen=True)
class Calibration:
    """Image motion per second of guide pulse (px/s) for a West and a North pulse."""

    west_px_s: tuple[float, float]
    north_px_s: tuple[float, float]
    east_px_s: tuple[float, float]
    south_px_s: tuple[float, float]

    def angle_between_deg(self) -> float:
        """Angle between the RA (West) and Dec (North) vectors."""
        (ax, ay), (bx, by) = self.west_px_s, self.north_px_s
        return math.degrees(math.acos((ax * bx + ay * by) / (math.hypot(ax, ay) * math.hypot(bx, by))))

    def pulses_for(self, error_px: tuple[float, float]) -> tuple[float, float]:
        """(west s, north s) whose motion cancels `error_px` (negative = east / south)."""
        m = np.array([self.west_px_s, self.north_px_s]).T
        west_s, north_s = np.linalg.solve(m, -np.asarray(error_px))
        return float(west_s), float(north_s)


def _slope(positions: list[tuple[float, float]], step_s: float) -> tuple[float, float]:
    """Least-squares px per second of pulse through the positions after 0, 1, 2... steps."""
    t = np.arange(len(positions)) * step_s
    p = np.asarray(positions)
    return float(np.polyfit(t, p[:, 0], 1)[0]), float(np.polyfit(t, p[:, 1], 1)[0])


def calibrate(rig: Rig, tracker: StarTracker, *, steps: int, step_ms: float) -> Calibration:
    """PHD2's way: `steps` pulses West, as many East, then North and South, a frame after each."""
    vectors = {}
    for direction in ("W", "E", "N", "S"):
        positions = [tracker.position_px]
        for _ in range(steps):
            guide_pulse(rig, direction, step_ms)
            positions.append(tracker.measure())
        vectors[direction] = _slope(positions, step_ms / 1000.0)
    return Calibration(vectors["W"], vectors["N"], vectors["E"], vectors["S"])


def plate_scale_arcsec_px(focal_length_mm: float = 250.0, pixel_um: float = 2.9) -> float:
    """Image scale of the S50 (the camera's CCD_INFO and SCOPE_INFO say the same)."""
    return 206.264806 * pixel_um / focal_length_mm
