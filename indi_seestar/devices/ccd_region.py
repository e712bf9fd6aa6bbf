"""CCD_FRAME, CCD_BINNING and CCD_FRAME_RESET of a camera device: the region read out.

Layer: devices. Shared by the main and the wide camera. It is given the three vectors, CCD_INFO
(the sensor size) and a publish callback, never its device. The sensor comes from the scope at
connect (`resize`); region and binning are checked against it (camera_frame.check: a bad
request is refused, nothing changes) and applied in software (camera_frame.extract).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..indi.model import NumberVector, State, SwitchVector, Vector
from . import camera_frame
from .camera_frame import Geometry

Publish = Callable[..., Any]


class Region:
    """The region handlers and the current Geometry (see the module docstring)."""

    def __init__(self, *, frame: NumberVector, binning: NumberVector, reset: SwitchVector,
                 info: NumberVector, publish: Publish) -> None:
        self._frame, self._binning, self._reset, self._info = frame, binning, reset, info
        self._publish: Callable[[Vector], Any] = lambda v: publish(v, state=State.OK)

    def sensor(self) -> tuple[int, int]:
        """(width, height) of the sensor, from CCD_INFO."""
        return round(self._info["CCD_MAX_X"]), round(self._info["CCD_MAX_Y"])

    def resize(self, width: int, height: int, pixel_um: float) -> None:
        """The scope's sensor: CCD_INFO, CCD_FRAME's limits, and a reset region if it changed."""
        self._info.update({"CCD_MAX_X": width, "CCD_MAX_Y": height, "CCD_PIXEL_SIZE": pixel_um,
                           "CCD_PIXEL_SIZE_X": pixel_um, "CCD_PIXEL_SIZE_Y": pixel_um})
        if (self._frame.member("WIDTH").max, self._frame.member("HEIGHT").max) != (width, height):
            for member, top in (("X", width - 1), ("Y", height - 1), ("WIDTH", width),
                                ("HEIGHT", height)):
                self._frame.member(member).max = top
            self.reset_values()

    def geometry(self, frame: Mapping[str, Any] | None = None,
                 binning: Mapping[str, Any] | None = None) -> Geometry:
        """The Geometry in force (or with `frame` / `binning` values instead)."""
        return camera_frame.from_vectors(frame if frame is not None else self._frame.values(),
                                         binning if binning is not None else self._binning.values())

    def reset_values(self) -> None:
        """The whole sensor, unbinned (not published)."""
        width, height = self.sensor()
        self._frame.update({"X": 0, "Y": 0, "WIDTH": width, "HEIGHT": height})
        self._binning.update({"HOR_BIN": 1, "VER_BIN": 1})

    def on_frame(self, values: dict[str, float]) -> None:
        """CCD_FRAME handler."""
        wanted = {**self._frame.values(), **{k: round(v) for k, v in values.items()}}
        camera_frame.check(self.geometry(wanted), *self.sensor())
        self._frame.update(wanted)
        self._publish(self._frame)

    def on_binning(self, values: dict[str, float]) -> None:
        """CCD_BINNING handler."""
        wanted = {**self._binning.values(), **{k: round(v) for k, v in values.items()}}
        camera_frame.check(self.geometry(binning=wanted), *self.sensor())
        self._binning.update(wanted)
        self._publish(self._binning)

    def on_reset(self, values: dict[str, bool]) -> None:
        """CCD_FRAME_RESET handler."""
        self.reset_values()
        self._publish(self._frame)
        self._publish(self._binning)
        self._reset.reset()
        self._publish(self._reset)
