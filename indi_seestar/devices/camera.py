"""The Seestar main camera as an INDI CCD (DRIVER_INTERFACE 2).

Layer: devices. (Connection and address only so far; exposures are being added.)
"""

from __future__ import annotations

from .base import SeestarDevice


class Camera(SeestarDevice):
    """The camera device."""

    interface = 2
