"""The Seestar mount as an INDI telescope (DRIVER_INTERFACE 5 = TELESCOPE + GUIDER).

Layer: devices. (Connection and address only so far; goto, sync, park, tracking, motion and
guiding properties are being added.)
"""

from __future__ import annotations

from .base import SeestarDevice


class Mount(SeestarDevice):
    """The mount device."""

    interface = 5
