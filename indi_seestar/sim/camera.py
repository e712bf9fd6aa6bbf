"""Camera of the fake Seestar: turns an exposure interval into a `FrameSpec` and hands frames out.

Layer: sim. A frame is *completed* when its exposure ends: its spec samples the true pointing
across [start, end] (one sample when the mount is still, up to MAX_SAMPLES when it moves, so
stars trail), the focuser at mid-exposure, and the wheel/arm at the end. Pixels are rendered
only when someone wants them (a streaming 4800 client, get_current_img, the stacker), in the
worker thread, and the last few are cached by image id.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from . import sky
from .core import SimCore
from .render import FrameSpec, Pointing, Renderer

MAX_SAMPLES = 16
_RENDERED_KEPT = 3

Listener = Callable[[FrameSpec], None]


class Camera:
    """Latest frame, frame listeners and on-demand rendering."""

    def __init__(self, core: SimCore, renderer: Renderer | None = None) -> None:
        self._core = core
        #: The main camera renders with the core's renderer; the S30P's wide camera has its own.
        self._renderer = renderer or core.renderer
        self.latest: FrameSpec | None = None
        self._listeners: dict[int, Listener] = {}
        self._rendered: OrderedDict[int, np.ndarray] = OrderedDict()
        #: How many rendered frames `rendered()` can still give (tests that compare raise it).
        self.rendered_kept = _RENDERED_KEPT
        self.frames_completed = 0

    @property
    def width_px(self) -> int:
        """Columns of this camera's frames."""
        return int(self._renderer.width)

    @property
    def height_px(self) -> int:
        """Rows of this camera's frames."""
        return int(self._renderer.height)

    def subscribe(self, key: int, listener: Listener) -> None:
        """Call `listener(spec)` for every completed live-preview frame."""
        self._listeners[key] = listener

    def unsubscribe(self, key: int) -> None:
        """Stop calling that listener."""
        self._listeners.pop(key, None)

    @property
    def has_listeners(self) -> bool:
        """Someone streams frames."""
        return bool(self._listeners)

    def theta_deg(self, t_s: float) -> float:
        """Position angle of image "up" at `t_s`: 0 in EQ mode, the zenith's in alt-az mode."""
        mount = self._core.state.mount
        if mount.state(t_s).equ_mode:
            return 0.0
        ra, dec = mount.radec(t_s)
        alt, az = mount.altaz_of(ra, dec, t_s)
        if alt > 89.9:
            return 0.0
        ra2, dec2 = mount.radec_of_altaz(alt + 0.01, az, t_s)
        east, north = sky.tangent_offset_deg(ra, dec, ra2, dec2)
        return math.degrees(math.atan2(east, north))

    def make_spec(self, t_start_s: float, exposure_s: float) -> FrameSpec:
        """The spec of an exposure that ran from `t_start_s` for `exposure_s` (ends now)."""
        st = self._core.state
        t_end = t_start_s + max(0.0, exposure_s)
        scale_deg = self._renderer.profile.plate_scale_arcsec_px / 3600.0
        mount = st.mount
        a, b = mount.radec(t_start_s), mount.radec(t_end)
        mid = mount.radec(0.5 * (t_start_s + t_end))
        moved_px = (sky.separation_deg(*a, *mid) + sky.separation_deg(*mid, *b)) / scale_deg
        n = 1 if moved_px < 0.25 or exposure_s <= 0 else min(MAX_SAMPLES, max(2, math.ceil(moved_px)))
        times = [t_start_s + (i + 0.5) * (t_end - t_start_s) / n for i in range(n)]
        pointings = tuple(Pointing(*mount.radec(t), self.theta_deg(t)) for t in times)
        t_mid = 0.5 * (t_start_s + t_end)
        dark = st.wheel.position == 0 or mount.state(t_end).parked
        return FrameSpec(
            image_id=st.next_image_id() & 0xFFFF, t_start_s=t_start_s, exposure_s=max(0.0, exposure_s),
            pointings=pointings, focus_steps=st.focuser.position_steps(t_mid),
            wheel_slot=st.wheel.position, dark=dark, gain=st.gain,
        )

    def complete(self, spec: FrameSpec, *, stream: bool = True) -> None:
        """Make `spec` the latest frame and (for live preview) push it to the listeners."""
        self.latest = spec
        self.frames_completed += 1
        if stream:
            for listener in list(self._listeners.values()):
                listener(spec)

    def rendered(self, image_id: int) -> np.ndarray | None:
        """The pixels of one of the last few frames rendered, or None (tests compare with them)."""
        return self._rendered.get(image_id)

    async def pixels(self, spec: FrameSpec) -> np.ndarray:
        """The frame's (height, width) uint16 pixels, rendered once in the worker thread."""
        hit = self._rendered.get(spec.image_id)
        if hit is not None:
            return hit
        img: np.ndarray = await self._core.in_worker(self._renderer.render, spec)
        self._rendered[spec.image_id] = img
        while len(self._rendered) > self.rendered_kept:
            self._rendered.popitem(last=False)
        return img
