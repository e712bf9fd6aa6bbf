"""B6, exposure latency: CCD_EXPOSURE request -> CCD1 BLOB for exposures of 0.05 to 5 s.

The Seestar has no single-shot exposure: the camera hands out the first frame of the continuous
preview that began after the request (devices/camera_exposure.py). This measures what a client
waits, against the fake in its own process at time factor 1 with the shipped readout margin
(0.5 s, what a real scope needs), for each exposure length E:

* back_to_back: each request sent as soon as the previous BLOB and CCD_EXPOSURE Ok arrived (an
  Ekos sequence, PHD2 looping): the preview's next exposure is then already under way;
* random_phase: each request sent after a random pause of 0..E, so it meets the running preview
  exposure at a random point (a user's click, the first frame of a sequence).
The first exposure at each length (the preview changing its length) is not counted.
`excess_s` is request -> BLOB minus E.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from .procs import CAMERA
from .rig import OursRig, expose_once
from .stats import summary

#: The driver's shipped seestar.readout_margin_s (a real scope's readout and transfer).
REAL_READOUT_MARGIN_S = 0.5
EXPOSURES_S = (0.05, 0.5, 1.0, 2.0, 5.0)


def run(*, samples: int, exposures_s: Sequence[float] = EXPOSURES_S,
        log: Callable[[str], None]) -> dict[str, Any]:
    """B6 section: per exposure length and mode, request -> BLOB and its excess over E."""
    rng = random.Random(6)
    out: dict[str, Any] = {"readout_margin_s": REAL_READOUT_MARGIN_S, "exposures": {}}
    with OursRig.start(seestar={"readout_margin_s": REAL_READOUT_MARGIN_S}) as rig:
        rig.connect_all()
        rig.enable_blobs()
        for exposure_s in exposures_s:
            expose_once(rig.client, CAMERA, exposure_s)  # the preview takes this length
            figures: dict[str, Any] = {}
            for mode in ("back_to_back", "random_phase"):
                waits = []
                for _ in range(samples):
                    if mode == "random_phase":
                        # the harness choosing when the user clicks, not a wait for a condition
                        time.sleep(rng.uniform(0, exposure_s))
                    t_req, blob = expose_once(rig.client, CAMERA, exposure_s)
                    waits.append(blob.t - t_req)
                figures[mode] = {"request_to_blob_s": summary(waits),
                                 "excess_s": summary(w - exposure_s for w in waits),
                                 "max_s": round(max(waits), 3)}
            out["exposures"][f"{exposure_s:g}"] = figures
            log(f"B6: {exposure_s:g} s: back to back "
                f"{figures['back_to_back']['request_to_blob_s']['median']} s, random phase "
                f"{figures['random_phase']['request_to_blob_s']['median']} s")
    return out
