"""The live stack's image as FITS: a 16-bit RGB cube (NAXIS3 = 3) with the stack's own keywords.

Layer: devices; pure apart from the values it is given. The camera's header (optics, pointing,
site, FITS_HEADER records) plus STACKCNT (subs stacked), STACKREJ (rejected), SUBEXP (sub
length, s), EXPTIME = total integration, DATE-OBS = start of the first sub, OBJECT = target.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from ..fits import FitsRecord, FrameType, fits_parts
from .camera_fits import Optics, Surroundings, frame_meta
from .camera_frame import Geometry


@dataclass(frozen=True, slots=True)
class StackFacts:
    """What the header says about the stack an image comes from."""

    stacked: int
    rejected: int
    sub_s: float
    first_sub_utc: datetime
    target: str
    gain: float | None = None


def stack_records(facts: StackFacts) -> tuple[FitsRecord, ...]:
    """STACKCNT, STACKREJ and SUBEXP cards."""
    return (FitsRecord("STACKCNT", int(facts.stacked), "Number of stacked subs"),
            FitsRecord("STACKREJ", int(facts.rejected), "Number of rejected subs"),
            FitsRecord("SUBEXP", float(facts.sub_s), "Sub exposure time (s)"))


def stack_fits(rgb: np.ndarray, facts: StackFacts, *, device_name: str, optics: Optics,
               around: Surroundings, records: tuple[FitsRecord, ...],
               sensor_width_px: int) -> list[bytes | memoryview]:
    """FITS parts of an (H, W, 3) uint16 stack; a drizzled stack has half the pixel size."""
    height, width = int(rgb.shape[0]), int(rgb.shape[1])
    scale = sensor_width_px / width if width else 1.0  # 0.5 for a 2x drizzle
    colour = dataclasses.replace(optics, cfa_type="", pixel_size_x_um=optics.pixel_size_x_um * scale,
                                 pixel_size_y_um=optics.pixel_size_y_um * scale)
    meta = frame_meta(device_name=device_name, exposure_s=facts.stacked * facts.sub_s,
                      start_utc=facts.first_sub_utc, frame_type=FrameType.LIGHT,
                      geometry=Geometry(0, 0, width, height), gain=facts.gain, optics=colour,
                      around=around, records=stack_records(facts) + records)
    meta = dataclasses.replace(meta, object_name=facts.target or None)
    return fits_parts(np.moveaxis(rgb, -1, 0), meta)
