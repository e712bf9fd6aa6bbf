"""B4, memory: the driver's RSS idle, after N frames, and its growth between two frame counts.

Per run, a fresh driver under indiserver against the fake in its own process:
* rss_started_mb: 1 s after start, nothing connected;
* idle_rss_mb (headline): the four devices connected (session open, image thread running),
  2 s later, before any frame; with the compiled packages mapped into the process then
  (`idle_heavy_packages`: astropy, erfa, ... should not be loaded at idle);
* rss_at_frames_mb: after each checkpoint (e.g. 100 and 500 frames, exposures back to back as
  in B1); growth_pct = (RSS at the last checkpoint - RSS at the first) / RSS at the first.
RSS is read with psutil (resident set size of the process).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from .procs import mapped_packages, rss_mb
from .rig import OursRig
from .stats import summary

HEAVY_PACKAGES = ("astropy", "erfa", "scipy", "cryptography", "yaml", "numpy")


def run(*, checkpoints: Sequence[int], runs: int,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    """The B4 section of results.json."""
    started, idle, growth, last = [], [], [], []
    at: dict[int, list[float]] = {n: [] for n in checkpoints}
    heavy: list[str] = []
    notes: list[str] = []
    for r in range(runs):
        with OursRig.start() as rig:
            time.sleep(1.0)
            started.append(rss_mb(rig.driver_pid))
            rig.connect_all()
            time.sleep(2.0)
            idle.append(rss_mb(rig.driver_pid))
            heavy = mapped_packages(rig.driver_pid, HEAVY_PACKAGES)
            if not rig.has_camera():
                notes.append("the camera defines no CCD_EXPOSURE yet: no frames measured")
                log(f"B4 run {r + 1}/{runs}: idle {idle[-1]:.1f} MB (no camera)")
                continue
            exposure_s = rig.enable_blobs()
            wanted = set(checkpoints)

            def checkpoint(i: int, pid: int = rig.driver_pid) -> None:
                if i in wanted:
                    at[i].append(rss_mb(pid))

            rig.expose(max(checkpoints), exposure_s, on_frame=checkpoint)
            first, end = at[min(checkpoints)][-1], at[max(checkpoints)][-1]
            growth.append((end - first) / first * 100.0)
            last.append(end)
            log(f"B4 run {r + 1}/{runs}: idle {idle[-1]:.1f} MB, "
                + ", ".join(f"{n} frames {at[n][-1]:.1f} MB" for n in checkpoints)
                + f", growth {growth[-1]:.2f} %")
    return {
        "idle_rss_mb": summary(idle, digits=1),
        "rss_started_mb": summary(started, digits=1),
        "rss_at_frames_mb": {str(n): summary(v, digits=1) for n, v in at.items()},
        "rss_after_frames_mb": summary(last, digits=1),
        "growth_pct": summary(growth, digits=2),
        "checkpoints": list(checkpoints),
        "idle_heavy_packages": heavy,
        "notes": sorted(set(notes)),
        "method": (__doc__ or "").split("\n\n")[0].strip(),
    }
