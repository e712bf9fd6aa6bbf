"""B6/B1 for the scope's Alpaca Camera (issue 14) beside the private path, in the same run.

For each path (`seestar.alpaca: off`, the private protocol's preview frames, and `auto` with
the fake's Alpaca server, StartExposure/ImageBytes) the driver runs against its own fake
process at time factor 1 with the shipped readout margin, and a client takes exposures of
0.05, 0.5, 1 and 5 s back to back (each request as soon as the previous BLOB and Ok arrived:
PHD2's loop), on the full frame and on a 32x32 subframe (PHD2's); and B1's figures, full
frames at the shortest exposure back to back (`b1_stream`: frames/s, driver CPU per frame). Per case: request -> BLOB
(median, p95, max), its excess over E, and the driver's CPU per frame (user+sys, all
threads). `ratio_to_private` compares the medians and the CPU. The first exposure of each
case is not counted (the preview changing its length on the private path). Bounded: each
path stops sampling after PATH_BUDGET_S.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from .procs import CAMERA, cpu_times
from .rig import OursRig, expose_once
from .stats import ratio, summary

REAL_READOUT_MARGIN_S = 0.5
EXPOSURES_S = (0.05, 0.5, 1.0, 5.0)
GEOMETRIES = {"full": None, "sub32": {"X": 524, "Y": 944, "WIDTH": 32, "HEIGHT": 32}}
PATH_BUDGET_S = 240.0


def _set_frame(rig: OursRig, frame: dict[str, float] | None) -> None:
    client = rig.client
    values = frame or {"X": 0, "Y": 0, "WIDTH": 1080, "HEIGHT": 1920}
    seen = client.mark()
    client.send_number(CAMERA, "CCD_FRAME", values)
    client.wait_for(lambda: client.find(CAMERA, "CCD_FRAME", event="set", since=seen), 10,
                    "CCD_FRAME set")


def _stream(rig: OursRig, frames: int) -> dict[str, Any]:
    """B1's figures on this path: full frames at the shortest exposure, back to back."""
    e = rig.enable_blobs()
    expose_once(rig.client, CAMERA, e)
    cpu0, t0 = cpu_times(rig.driver_pid), time.monotonic()
    for _ in range(frames):
        expose_once(rig.client, CAMERA, e)
    wall = time.monotonic() - t0
    return {"exposure_s": e, "frames": frames, "frames_per_s": round(frames / wall, 2),
            "cpu_per_frame_ms": round(1000 * (cpu_times(rig.driver_pid) - cpu0) / frames, 2)}


def _path(alpaca: str, samples: int, exposures_s: Sequence[float],
          log: Callable[[str], None]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    t_start = time.monotonic()
    with OursRig.start(seestar={"readout_margin_s": REAL_READOUT_MARGIN_S, "alpaca": alpaca},
                       sim_args=["--alpaca-port", "0"]) as rig:
        rig.connect_all()
        rig.enable_blobs()
        out["b1_stream"] = _stream(rig, samples * 5)
        log(f"B6A {alpaca} B1 stream: {out['b1_stream']['frames_per_s']} frames/s, "
            f"CPU {out['b1_stream']['cpu_per_frame_ms']} ms/frame")
        for geo_name, frame in GEOMETRIES.items():
            _set_frame(rig, frame)
            for exposure_s in exposures_s:
                if time.monotonic() - t_start > PATH_BUDGET_S:
                    log(f"B6A {alpaca}: time budget spent, {geo_name} {exposure_s:g} s skipped")
                    continue
                expose_once(rig.client, CAMERA, exposure_s)
                # more frames of the short ones: psutil's CPU clock ticks every 10 ms
                n = (samples * 4 if exposure_s < 0.1 else samples if exposure_s < 5
                     else max(1, samples // 2))
                cpu0, waits = cpu_times(rig.driver_pid), []
                for _ in range(n):
                    t_req, blob = expose_once(rig.client, CAMERA, exposure_s)
                    waits.append(blob.t - t_req)
                cpu = (cpu_times(rig.driver_pid) - cpu0) / n
                out[f"{geo_name}/{exposure_s:g}"] = {
                    "request_to_blob_s": summary(waits),
                    "excess_s": summary(w - exposure_s for w in waits),
                    "max_s": round(max(waits), 3), "driver_cpu_per_frame_s": round(cpu, 4)}
                log(f"B6A {alpaca} {geo_name} {exposure_s:g} s: "
                    f"{out[f'{geo_name}/{exposure_s:g}']['request_to_blob_s']['median']} s, "
                    f"CPU {cpu * 1000:.1f} ms/frame")
    return out


def run(*, samples: int, exposures_s: Sequence[float] = EXPOSURES_S,
        log: Callable[[str], None]) -> dict[str, Any]:
    """B6A section: both paths, per geometry and exposure, and the Alpaca/private ratios."""
    private = _path("off", samples, exposures_s, log)
    alpaca = _path("auto", samples, exposures_s, log)
    ratios: dict[str, Any] = {}
    sa, sp = alpaca.pop("b1_stream"), private.pop("b1_stream")
    ratios["b1_stream"] = {"frames_per_s": round(ratio(sa["frames_per_s"], sp["frames_per_s"]), 3),
                           "cpu": round(ratio(sa["cpu_per_frame_ms"], sp["cpu_per_frame_ms"]), 3)}
    for key, a in alpaca.items():
        p = private.get(key)
        if p is None:
            continue
        ratios[key] = {
            "latency": round(ratio(a["request_to_blob_s"]["median"],
                                   p["request_to_blob_s"]["median"]), 3),
            "cpu": round(ratio(a["driver_cpu_per_frame_s"], p["driver_cpu_per_frame_s"]), 3)}
    goal = {name: all(v["excess_s"]["median"] is not None and v["excess_s"]["median"] <= 0.5
                      for v in figures.values())
            for name, figures in (("private", private), ("alpaca", alpaca))}
    monotonic = {}
    for name, figures in (("private", private), ("alpaca", alpaca)):
        for geo in GEOMETRIES:
            medians = [figures[f"{geo}/{e:g}"]["request_to_blob_s"]["median"]
                       for e in exposures_s if f"{geo}/{e:g}" in figures]
            monotonic[f"{name}/{geo}"] = all(a <= b for a, b in zip(medians, medians[1:]))
    return {"readout_margin_s": REAL_READOUT_MARGIN_S, "private": private, "alpaca": alpaca,
            "b1_stream": {"private": sp, "alpaca": sa},
            "ratio_to_private": ratios, "excess_within_0_5_s": goal,
            "monotonic_in_exposure": monotonic}
