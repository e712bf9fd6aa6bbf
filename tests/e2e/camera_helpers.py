"""Helpers for the camera's end-to-end tests: exposures as a client takes them, the fake's truth.

- `camera_rig(tmp_path, ...)`: a Rig with the four devices connected and BLOBs enabled for CCD1.
- `FakeFrames`: every preview frame the fake completed (its FrameSpec by image id) and, for
  the last few, the exact pixels it rendered, so a received image can be matched to the
  exposure that made it.
- `expose(rig, seconds)`: send CCD_EXPOSURE as Ekos/PHD2 do and wait for the CCD1 BLOB.
- `open_fits(data)`: astropy's reading of a received BLOB.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from tests.support.indi_harness import Update
from tests.support.rig import Rig

#: Real seconds we allow for set-up commands, readout, base64 and indiserver on a loaded box.
SLACK_S = 20.0
#: The driver's readout margin in these tests: the fake renders a frame only once its exposure
#: has ended (~0.15 s alone, measured up to ~0.55 s on a loaded 2-core box), which is the
#: "readout" the timing guarantee must cover; the shipped 0.5 s is for a real scope.
READOUT_MARGIN_S = 1.5


@contextlib.contextmanager
def camera_rig(tmp_path: Path, *, readout_margin_s: float = READOUT_MARGIN_S,
               **kwargs: Any) -> Iterator[Rig]:
    """A Rig with every device connected and CCD1 BLOBs sent to the test client."""
    import PyIndi

    seestar = {"readout_margin_s": readout_margin_s}
    kwargs["config"] = {"seestar": seestar, **kwargs.get("config", {})}
    with Rig.start(tmp_path, **kwargs) as rig:
        rig.connect_all()
        rig.client.setBLOBMode(PyIndi.B_ALSO, rig.camera, "CCD1")
        rig.client.wait(lambda u: u.device == rig.camera and u.name == "CCD1", timeout_s=10)
        yield rig


def point_high(rig: Rig, alt_deg: float = 55.0, az_deg: float = 160.0) -> tuple[float, float]:
    """Point the fake at (alt, az) now, tracking; returns the (ra, dec) it points at."""
    fake = rig.fake
    ra, dec = rig.fake_call(fake.state.mount.radec_of_altaz, alt_deg, az_deg)
    rig.fake_call(fake.point_at, ra, dec)
    return ra, dec


class FakeFrames:
    """The fake's record of its preview frames (filled on the fake's loop)."""

    _KEY = 0xCA3E4A
    #: Frames the fake keeps while recording: a frame read back after a few more previews (a
    #: loaded machine, a compressed FITS to open) must still be there (3 were not, under load).
    KEPT = 16

    def __init__(self, rig: Rig) -> None:
        self._rig = rig
        self.specs: dict[int, Any] = {}
        rig.fake_call(setattr, rig.fake.camera, "rendered_kept", self.KEPT)
        rig.fake_call(rig.fake.camera.subscribe, self._KEY, self._record)

    def _record(self, spec: Any) -> None:
        self.specs[spec.image_id] = spec

    def rendered(self) -> list[tuple[Any, np.ndarray]]:
        """(spec, pixels) of the frames the fake still has rendered (its last few)."""
        fake = self._rig.fake

        def collect() -> list[tuple[Any, np.ndarray]]:
            out = []
            for image_id, spec in list(self.specs.items()):
                pixels = fake.camera.rendered(image_id)
                if pixels is not None:
                    out.append((spec, pixels.copy()))
            return out

        return self._rig.fake_call(collect)

    def source_of(self, image: np.ndarray, x: int = 0, y: int = 0,
                  bin_xy: int = 1) -> tuple[Any, np.ndarray]:
        """(spec, full frame) of the one recent rendered frame `image` was cut from (asserted)."""
        height, width = image.shape
        matches = [(spec, full) for spec, full in self.rendered()
                   if np.array_equal(cut(full, x, y, width, height, bin_xy), image)]
        assert len(matches) == 1, f"{len(matches)} of the fake's recent frames match the image"
        return matches[0]

    def close(self) -> None:
        """Stop recording."""
        self._rig.fake_call(self._rig.fake.camera.unsubscribe, self._KEY)


def cut(full: np.ndarray, x: int, y: int, out_w: int, out_h: int, bin_xy: int) -> np.ndarray:
    """The test's own region + binning (mean of blocks, rounded half up) of a full frame."""
    region = full[y : y + out_h * bin_xy, x : x + out_w * bin_xy]
    if region.shape != (out_h * bin_xy, out_w * bin_xy):
        return np.empty((0, 0), dtype=np.uint16)
    if bin_xy == 1:  # the region itself (its mean-and-round in float64 is the same, 10x the CPU)
        return region
    region = region.astype(np.float64)
    means = region.reshape(out_h, bin_xy, out_w, bin_xy).mean(axis=(1, 3))
    return np.floor(means + 0.5).astype(np.uint16)


@dataclass
class Exposure:
    """What the client saw for one exposure."""

    since: int
    blob: Update
    data: bytes
    exposure_updates: list[Update]


def expose(rig: Rig, seconds: float, *, timeout_s: float | None = None) -> Exposure:
    """CCD_EXPOSURE = seconds; wait for the CCD1 BLOB and the Ok that follows it."""
    client = rig.client
    since = client.mark()
    client.send_number(rig.camera, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": seconds})
    limit = timeout_s if timeout_s is not None else 2 * seconds + SLACK_S
    blob = client.wait(lambda u: u.device == rig.camera and u.name == "CCD1" and u.event == "set",
                       timeout_s=limit, since=since)
    client.wait(lambda u: u.device == rig.camera and u.name == "CCD_EXPOSURE" and u.state != "Busy",
                timeout_s=10, since=since)
    data = client.last_blobs(1)[0]
    return Exposure(since, blob, data, client.updates(rig.camera, "CCD_EXPOSURE", since=since))


def open_fits(data: bytes) -> Any:
    """astropy's HDUList of a FITS file in memory (checked to be valid FITS)."""
    from astropy.io import fits

    hdul = fits.open(io.BytesIO(data))
    hdul.verify("exception")
    return hdul


def date_obs(header: Any) -> datetime:
    """DATE-OBS as an aware UTC datetime."""
    return datetime.strptime(header["DATE-OBS"], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
