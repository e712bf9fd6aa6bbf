"""The camera's exposures through the scope's Alpaca Camera (issue 14): one shot -> its pixels.

Layer: devices. The region asked (CCD_FRAME, unbinned) is the Alpaca region of interest, so a
PHD2 32x32 subframe downloads 2 KB instead of the whole sensor; binning stays ours
(camera_frame.extract), as on the private path, so both paths give the same image. The
Alpaca Camera's frame is the sensor read the same way as the 4800 frames (1080 columns x
1920 rows on an S50, GRBG), so headers, orientation and Bayer offsets are the same.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..seestar.alpaca import AlpacaLink
from . import camera_frame
from .camera_frame import Geometry


async def take(link: AlpacaLink, exposure_s: float, light: bool, geometry: Geometry, gain: int,
               time_factor: float) -> tuple[np.ndarray, float]:
    """(the image as the shot asked it, our monotonic time of the exposure start)."""
    g = geometry
    frame = await link.expose(exposure_s, light, (g.x, g.y, g.width, g.height), gain, time_factor)
    local = dataclasses.replace(g, x=0, y=0)
    return camera_frame.extract(frame.pixels, local), frame.start_monotonic_s
