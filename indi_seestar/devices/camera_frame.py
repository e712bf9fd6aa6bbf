"""Software region of interest and binning for the camera (pure: numpy only).

Layer: devices. The Seestar always reads out its whole sensor; CCD_FRAME and CCD_BINNING are
applied here so that the image is exactly the region and binning asked (PHD2 assumes it).
A region is a view of the frame (no copy); binning averages bx x by blocks (rounded half up,
so the ADU scale and the 16-bit range are kept; libindi's own software binning sums and clips).
Like libindi, a width or height that is not a multiple of the binning loses its last columns
or rows. With binning > 1 the Bayer mosaic is gone, so the header carries no BAYERPAT then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ValueRejected


@dataclass(frozen=True, slots=True)
class Geometry:
    """Region in unbinned sensor pixels (x right, y down from the top-left) and binning."""

    x: int
    y: int
    width: int
    height: int
    bin_x: int = 1
    bin_y: int = 1

    @property
    def out_width(self) -> int:
        """Columns of the image sent (NAXIS1)."""
        return self.width // self.bin_x

    @property
    def out_height(self) -> int:
        """Rows of the image sent (NAXIS2)."""
        return self.height // self.bin_y

    @property
    def binned(self) -> bool:
        """True when pixels are combined (the Bayer mosaic is gone)."""
        return self.bin_x > 1 or self.bin_y > 1

    def bayer_offsets(self, cfa_offset_x: int = 0, cfa_offset_y: int = 0) -> tuple[int, int]:
        """XBAYROFF, YBAYROFF of the region: the sensor's CFA offsets shifted by its origin."""
        return (cfa_offset_x + self.x) % 2, (cfa_offset_y + self.y) % 2


def from_vectors(frame: Mapping[str, Any], binning: Mapping[str, Any]) -> Geometry:
    """The Geometry of CCD_FRAME (X, Y, WIDTH, HEIGHT) and CCD_BINNING (HOR_BIN, VER_BIN) values."""
    return Geometry(round(frame["X"]), round(frame["Y"]), round(frame["WIDTH"]),
                    round(frame["HEIGHT"]), round(binning["HOR_BIN"]), round(binning["VER_BIN"]))


def full_frame(width: int, height: int) -> Geometry:
    """The whole sensor, unbinned."""
    return Geometry(0, 0, width, height)


def check(geometry: Geometry, sensor_width: int, sensor_height: int) -> None:
    """Raise ValueRejected unless the region lies on the sensor and keeps >= 1 binned pixel."""
    g = geometry
    if g.x < 0 or g.y < 0 or g.x + g.width > sensor_width or g.y + g.height > sensor_height:
        raise ValueRejected("CCD_FRAME", f"region x={g.x} y={g.y} {g.width}x{g.height} is not "
                                         f"inside the {sensor_width}x{sensor_height} sensor")
    if g.out_width < 1 or g.out_height < 1:
        raise ValueRejected("CCD_FRAME", f"region {g.width}x{g.height} is smaller than the "
                                         f"binning {g.bin_x}x{g.bin_y}")


def extract(pixels: np.ndarray, geometry: Geometry) -> np.ndarray:
    """The (out_height, out_width) uint16 image: a view when unbinned, else a new array."""
    g = geometry
    region = pixels[g.y : g.y + g.height, g.x : g.x + g.width]
    if not g.binned:
        return region
    rows, cols = g.out_height, g.out_width
    total = np.zeros((rows, cols), dtype=np.uint32)
    for dy in range(g.bin_y):
        for dx in range(g.bin_x):
            np.add(total, region[dy : rows * g.bin_y : g.bin_y, dx : cols * g.bin_x : g.bin_x],
                   out=total)
    count = g.bin_x * g.bin_y
    np.add(total, count // 2, out=total)
    out = np.empty((rows, cols), dtype=np.uint16)
    np.floor_divide(total, count, out=out, casting="unsafe")
    return out
