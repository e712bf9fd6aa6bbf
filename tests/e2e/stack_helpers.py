"""Helpers for the Seestar Stack device's end-to-end tests.

- `stack_rig(tmp_path, ...)`: a Rig with the four devices and "Seestar Stack" connected, CCD1
  BLOBs of the stack device sent to the test client.
- `StackImages`: reads each stacked FITS as it arrives (STACKCNT, header, background noise).
- `background_noise(cube)`: robust background sigma of the green plane.
"""

from __future__ import annotations

import collections
import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tests.support.indi_harness import until
from tests.support.rig import PREFIX, Rig

STACK = f"{PREFIX} Stack"


@contextlib.contextmanager
def stack_rig(tmp_path: Path, *, time_factor: float = 10.0, **kwargs: Any) -> Iterator[Rig]:
    """A Rig (time factor 10: a 10 s sub takes 1 s) with every device and the stack connected."""
    import PyIndi

    with Rig.start(tmp_path, time_factor=time_factor, **kwargs) as rig:
        rig.connect_all()
        rig.client.connect_device(STACK, timeout_s=30)
        rig.client.setBLOBMode(PyIndi.B_ALSO, STACK, "CCD1")
        rig.client.wait(lambda u: u.device == STACK and u.name == "CCD1", timeout_s=10)
        rig.client.wait(lambda u: u.device == STACK and u.name == "SEESTAR_STACK_STATE", timeout_s=10)
        try:
            yield rig
        finally:
            _quiesce(rig)


def _quiesce(rig: Rig) -> None:
    """No BLOB in flight when the client disconnects: BLOBs off, the fake's stack stopped.

    A 12-50 MB BLOB arriving while libindi's client is torn down was seen to abort the process
    (a native thread, under load); the stack would otherwise keep sending one per sub. The
    barrier is a round trip: indiserver reads our enableBLOB before the request sent after it,
    so every BLOB it queued for us comes before the driver's answer, and none is queued after.
    (It used to wait for the client to be quiet for 1 s, which the mount's steady coordinate
    updates never allowed: every stack test sat out the full 15 s timeout.)
    """
    import PyIndi

    with contextlib.suppress(Exception):
        rig.client.setBLOBMode(PyIndi.B_NEVER, STACK, "CCD1")
        rig.fake_call(lambda: rig.fake.view.stop_view("Stack") if rig.fake.state.stack.running else None)
        rig.fake_call(lambda: rig.fake.batch.stop())
        since = rig.client.mark()
        rig.client.send_switch(STACK, "CCD_FRAME_TYPE", ["FRAME_LIGHT"])  # light already: changes nothing
        rig.client.wait(lambda u: u.device == STACK and u.name == "CCD_FRAME_TYPE" and u.event == "set",
                        timeout_s=15, since=since)


def background_noise(cube: np.ndarray) -> float:
    """Robust sigma of the green plane's background (half-resolution pixels, stars ignored)."""
    green = cube[1].astype(np.float64)
    step = 2 if green.shape[1] == 1080 else 4  # the fake's stack repeats half-resolution pixels
    d = green[::step, step::step] - green[::step, :-step:step]
    d = d - np.median(d)
    return float(1.4826 * np.median(np.abs(d)) / np.sqrt(2))


@dataclass(frozen=True)
class StackImage:
    """One stacked image as the client received it."""

    stacked: int
    header: Any
    shape: tuple[int, ...]
    noise: float
    t_monotonic: float


class StackImages:
    """Reads every CCD1 BLOB of the stack device as it arrives (the client keeps the last KEPT)."""

    #: BLOBs the client keeps while a test reads them: the test waits on states between reads,
    #: and a fast stack (time factor 20, a sub every 0.5 s) sent 4 in one such wait under load.
    KEPT = 8

    def __init__(self, rig: Rig, since: int) -> None:
        self._rig = rig
        self._since = since
        self.images: list[StackImage] = []
        client = rig.client
        with client._lock:  # noqa: SLF001 - the harness's own lock around its BLOB deque
            keep = max(self.KEPT, client.kept_blobs.maxlen or 0)
            client.kept_blobs = collections.deque(client.kept_blobs, maxlen=keep)

    def poll(self) -> list[StackImage]:
        """Read the BLOBs that came since the last poll."""
        from astropy.io import fits

        new = self._rig.client.updates(STACK, "CCD1", event="set", since=self._since)
        if not new:
            return self.images
        self._since = self._next(new)
        blobs = self._rig.client.last_blobs(len(new))
        assert len(blobs) == len(new), "BLOBs came faster than the test read them"
        for update, data in zip(new, blobs, strict=True):
            with fits.open(io.BytesIO(data)) as hdul:
                hdul.verify("exception")
                header = hdul[0].header
                cube = hdul[0].data
                self.images.append(StackImage(int(header["STACKCNT"]), header.copy(), tuple(cube.shape),
                                              background_noise(cube), update.t_monotonic))
        return self.images

    def _next(self, new: list[Any]) -> int:
        updates = self._rig.client.updates(since=self._since)
        return self._since + updates.index(new[-1]) + 1

    def wait_for(self, predicate: Any, timeout_s: float) -> StackImage:
        """The first image satisfying `predicate`, reading images meanwhile."""
        return until(lambda: next((i for i in self.poll() if predicate(i)), None), timeout_s,
                     what="a matching stacked image")
