"""B1, the frame path: our driver against the floor and libindi's CCD simulator, side by side.

Set-up (one per benchmark run): the fake Seestar as its own process (`indi_seestar_sim
--trace`), one indiserver running both `indi_seestar` and `indi_simulator_ccd` (set to
1080x1920, 16 bit, compression off, polling period at its 10 ms minimum), and two pyindi-client
clients, each with BLOBs enabled for both cameras:

* "unix": connected to indiserver's unix socket (what libindi calls "localhost:<path>"), where
  indiserver hands BLOBs over as shared memory: the frame path of the drivers themselves;
* "tcp": connected to 127.0.0.1, where indiserver base64-encodes every BLOB and the client
  parses and decodes it (~5.5 MB per frame): what a remote client sees.

Each round measures, one after the other in a rotating order: the floor (bench/floor.py in its
own process), our camera and libindi's. A camera is driven as hard as a client can: CCD_EXPOSURE
at its minimum, each new exposure sent when the previous CCD1 BLOB has arrived. Per frame:

* ours: latency = client receipt of the BLOB - the fake's trace time of the last byte of the
  frame it carries (matched by a pixel fingerprint, bench/client.py); also request -> BLOB;
* libindi: request -> BLOB (its exposure is drawn when requested and ends on its next timer);
* CPU per frame = user+sys of the driver process over the round / frames;
* frames/s = frames / (last BLOB - first request).

Ratios (ours/floor for CPU and latency, ours/libindi for latency) are taken per round, medians
of that round on both sides. Our camera is connected only while it is measured: once connected
it keeps the fake's continuous preview streaming into the driver, which would load the CPU the
floor and libindi's driver are measured on. With `pin`, each measured process (our driver, libindi's, the
floor) runs alone on the last CPU and everything else (fake, indiserver, clients) on the others.

`model` picks the fake's hardware (`--model`) and with it the frame: S50 1080x1920 (4.1 MB),
S50P 2180x3856 (16.8 MB); the floor and libindi's simulator are set to the same size.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .client import BlobSeen, bench_client_class
from .procs import (
    CAMERA,
    DRIVER,
    LIBINDI_CCD,
    LIBINDI_DEVICE,
    SimProcess,
    Stage,
    cpu_times,
    find_driver,
    pin,
)
from .rig import (
    READOUT_MARGIN_S,
    client_host,
    cpu_split,
    defines,
    expose_once,
    min_exposure,
)
from .stats import med, ratio, summary

MS = 1000.0
#: The fake's model -> (width, height) of its raw frames (sim/profile.py).
FRAME_SIZES = {"S50": (1080, 1920), "S50P": (2180, 3856)}


@dataclass
class Contender:
    """One camera under test on one client transport."""

    name: str
    device: str
    pid: int
    exposure_s: float
    frames: list[tuple[float, BlobSeen]] = field(default_factory=list)  # (request time, BLOB)


@dataclass
class RoundResult:
    """Raw figures of one contender in one round."""

    latency_s: list[float]
    request_to_blob_s: list[float]
    cpu_per_frame_s: float
    frames_per_s: float
    blob_bytes: int = 0
    matched: int = 0
    helper_cpu_per_frame_s: dict[str, float] = field(default_factory=dict)


def run_floor(frames: int, cpus: list[int] | None,
              size: tuple[int, int] = FRAME_SIZES["S50"]) -> RoundResult:
    """The floor in its own process (pinned to `cpus`), at `size` (width, height)."""
    cmd = [sys.executable, "-m", "bench.floor", "--frames", str(frames),
           "--width", str(size[0]), "--height", str(size[1])]
    if cpus is not None:
        cmd = ["taskset", "-c", ",".join(map(str, cpus)), *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    data = json.loads(out.stdout)
    return RoundResult(data["latency_s"], data["latency_s"], data["cpu_per_frame_s"],
                       data["frames_per_s"], data["message_bytes"])


def stream(client: Any, cam: Contender, frames: int, warmup: int,
           helpers: dict[str, int]) -> tuple[list[tuple[float, BlobSeen]], float, float,
                                             dict[str, float]]:
    """Expose `warmup + frames` times back to back; (measured frames, CPU/frame, fps, helpers)."""
    out: list[tuple[float, BlobSeen]] = []
    cpu0 = 0.0
    helper0: dict[str, float] = {}
    t_first = 0.0
    for i in range(warmup + frames):
        if i == warmup:
            cpu0 = cpu_times(cam.pid)
            helper0 = {k: cpu_times(p) for k, p in helpers.items()}
        t_req, blob = expose_once(client, cam.device, cam.exposure_s)
        if i == warmup:
            t_first = t_req
        if i >= warmup:
            out.append((t_req, blob))
    cpu = (cpu_times(cam.pid) - cpu0) / frames
    helper = {k: (cpu_times(p) - helper0[k]) / frames for k, p in helpers.items()}
    fps = frames / max(1e-9, out[-1][1].t - t_first)
    return out, cpu, fps, helper


def ours_result(frames: list[tuple[float, BlobSeen]], cpu: float, fps: float,
                sent: dict[str, float], helper: dict[str, float]) -> RoundResult:
    """Latency from the fake's last byte (by fingerprint) and request -> BLOB."""
    latency = []
    for _t_req, blob in frames:
        t_sent = sent.get(blob.fingerprint) if blob.fingerprint else None
        if t_sent is not None and t_sent <= blob.t:
            latency.append(blob.t - t_sent)
    return RoundResult(latency, [b.t - t for t, b in frames], cpu, fps,
                       frames[-1][1].size, len(latency), helper)


def libindi_result(frames: list[tuple[float, BlobSeen]], cpu: float, fps: float,
                   helper: dict[str, float]) -> RoundResult:
    delays = [b.t - t for t, b in frames]
    return RoundResult(delays, delays, cpu, fps, frames[-1][1].size, len(delays), helper)


def _setup_libindi(client: Any, size: tuple[int, int]) -> None:
    width, height = size
    client.connect_device_and_wait(LIBINDI_DEVICE)
    since = client.mark()
    client.send_number(LIBINDI_DEVICE, "SIMULATOR_SETTINGS", {"SIM_XRES": width, "SIM_YRES": height})
    client.wait_seen(LIBINDI_DEVICE, "SIMULATOR_SETTINGS", event="set", since=since)
    since = client.mark()
    client.send_number(LIBINDI_DEVICE, "POLLING_PERIOD", {"PERIOD_MS": 10})
    client.wait_seen(LIBINDI_DEVICE, "POLLING_PERIOD", event="set", since=since)
    if client.has(LIBINDI_DEVICE, "CCD_COMPRESSION"):
        since = client.mark()
        client.send_switch(LIBINDI_DEVICE, "CCD_COMPRESSION", {"INDI_DISABLED"})
        client.wait_seen(LIBINDI_DEVICE, "CCD_COMPRESSION", event="set", since=since)

    def frame_ok() -> bool:
        info = client.find(LIBINDI_DEVICE, "CCD_INFO")
        latest = [s for s in client.seen if s.device == LIBINDI_DEVICE and s.name == "CCD_INFO"]
        info = latest[-1] if latest else info
        return bool(info) and info.numbers.get("CCD_MAX_X") == width \
            and info.numbers.get("CCD_MAX_Y") == height
    client.wait_for(frame_ok, 10, f"the CCD simulator at {width}x{height}")


def run(*, rounds: int, frames: int, libindi_frames: int, tcp_frames: int, warmup: int = 2,
        pin_cpus: bool = True, transports: tuple[str, ...] = ("unix", "tcp"),
        model: str = "S50", log: Callable[[str], None] = print) -> dict[str, Any]:
    """The whole of B1; see the module docstring. Returns the B1 section of results.json."""
    size = FRAME_SIZES[model]
    split = cpu_split() if pin_cpus else None
    measured_cpus, other_cpus = split if split else (None, None)
    if other_cpus is not None:
        os.sched_setaffinity(0, other_cpus)  # the harness and its client threads
    client_cls = bench_client_class()
    has_camera = False
    results: dict[str, dict[str, list[RoundResult]]] = {
        t: {"floor": [], "ours": [], "libindi": []} for t in transports}
    with Stage.make() as stage:
        trace = stage.root / "trace.jsonl"
        with SimProcess(trace=trace, cpus=other_cpus, extra_args=("--model", model)) as sim:
            config = stage.driver_config(sim, readout_margin_s=READOUT_MARGIN_S)
            server = stage.server(stage.env(config))
            server.start([DRIVER, LIBINDI_CCD])
            clients: dict[str, Any] = {}
            try:
                if other_cpus is not None:
                    os.sched_setaffinity(server.process.pid, other_cpus)
                ours_pid = find_driver(server, DRIVER).pid
                libindi_pid = find_driver(server, LIBINDI_CCD).pid
                if measured_cpus is not None:
                    pin(ours_pid, measured_cpus)
                    pin(libindi_pid, measured_cpus)
                for transport in transports:
                    c = client_cls.connect_to(server.port, host=client_host(server, transport),
                                              fingerprint_blobs=True)
                    clients[transport] = c
                    c.device(CAMERA)
                    c.device(LIBINDI_DEVICE)
                first = clients[transports[0]]
                first.connect_device_and_wait(CAMERA, timeout_s=60)
                _setup_libindi(first, size)
                has_camera = defines(first, CAMERA, "CCD_EXPOSURE")
                ours_exp = min_exposure(first, CAMERA) if has_camera else math.nan
                if not has_camera:
                    log("B1: the camera defines no CCD_EXPOSURE (not built yet): ours skipped")
                lib_exp = max(0.0, min_exposure(first, LIBINDI_DEVICE))
                if measured_cpus is not None:  # threads started on connect
                    pin(libindi_pid, measured_cpus)
                # Connected, our camera keeps the fake's preview streaming into the driver (the
                # Seestar's continuous preview): it is connected only while it is measured.
                first.disconnect_device_and_wait(CAMERA)
                helpers = {"fake": sim.pid, "indiserver": server.process.pid}
                for r in range(rounds):
                    for transport in transports:
                        c = clients[transport]
                        # BLOBs only to the client being measured: a client with BLOBs enabled
                        # receives every frame, and a slow (TCP) one would queue a backlog that
                        # loads indiserver and arrives as stale BLOBs in its own phase.
                        for other in clients.values():
                            other.set_blobs(CAMERA, "CCD1", other is c)
                            other.set_blobs(LIBINDI_DEVICE, "CCD1", other is c)
                        n = frames if transport == transports[0] else tcp_frames
                        nl = libindi_frames if transport == transports[0] else tcp_frames
                        order = ["floor", "ours", "libindi"]
                        order = order[r % 3:] + order[:r % 3]
                        for who in order:
                            if who == "ours" and not has_camera:
                                continue
                            if who == "floor":
                                res = run_floor(n, measured_cpus, size)
                            elif who == "ours":
                                first.connect_device_and_wait(CAMERA, timeout_s=60)
                                if measured_cpus is not None:
                                    pin(ours_pid, measured_cpus)
                                cam = Contender("ours", CAMERA, ours_pid, ours_exp)
                                try:
                                    got, cpu, fps, hcpu = stream(c, cam, n, warmup, helpers)
                                finally:
                                    first.disconnect_device_and_wait(CAMERA)
                                sent = {rec["fp"]: rec["t"] for rec in sim.trace_records()
                                        if rec.get("kind") == "frame"}
                                res = ours_result(got, cpu, fps, sent, hcpu)
                            else:
                                cam = Contender("libindi", LIBINDI_DEVICE, libindi_pid, lib_exp)
                                got, cpu, fps, hcpu = stream(c, cam, nl, warmup,
                                                             {"indiserver": server.process.pid})
                                res = libindi_result(got, cpu, fps, hcpu)
                            results[transport][who].append(res)
                            log(f"B1 {model} round {r + 1}/{rounds} {transport} {who}: "
                                f"latency {med(res.latency_s) * MS:.1f} ms, "
                                f"cpu {res.cpu_per_frame_s * MS:.1f} ms/frame, "
                                f"{res.frames_per_s:.1f} frames/s")
            finally:
                with contextlib.ExitStack() as closing:  # every client closed, then indiserver
                    closing.callback(server.stop)
                    for c in clients.values():  # waits for libindi's thread (ClientLifetime)
                        closing.callback(c.close)
    out: dict[str, Any] = {}
    for i, transport in enumerate(transports):
        section = _summarise(results[transport])
        if i == 0:
            out.update(section)
            out["client_transport"] = transport
        else:
            out[transport] = section
    out["exposure_s"] = {"ours": ours_exp, "libindi": lib_exp}
    out["model"], out["frame_px"] = model, list(size)
    out["notes"] = ([] if has_camera else
                    ["the camera defines no CCD_EXPOSURE yet: our driver not measured"])
    out["pinning"] = ({"measured_cpus": measured_cpus, "other_cpus": other_cpus}
                      if measured_cpus is not None else None)
    out["method"] = __doc__.split("\n\n")[1].strip().replace("\n", " ") if __doc__ else ""
    return out


def _summarise(res: dict[str, list[RoundResult]]) -> dict[str, Any]:
    floor, ours, lib = res["floor"], res["ours"], res["libindi"]
    if not ours:  # the camera could not be measured: keep the other two, ratios unknown
        ours = [RoundResult([], [], math.nan, math.nan) for _ in floor]
    rounds = list(zip(floor, ours, lib, strict=True))
    cpu_ratio = [ratio(o.cpu_per_frame_s, f.cpu_per_frame_s) for f, o, _ in rounds]
    lat_ratio = [ratio(med(o.latency_s), med(f.latency_s)) for f, o, _ in rounds]
    lib_ratio = [ratio(med(o.latency_s), med(lb.latency_s)) for _, o, lb in rounds]
    lib_req_ratio = [ratio(med(o.request_to_blob_s), med(lb.request_to_blob_s))
                     for _, o, lb in rounds]

    def raw(items: list[RoundResult], lat_key: str = "latency_s") -> dict[str, Any]:
        helpers = sorted({k for r in items for k in r.helper_cpu_per_frame_s})
        return {
            "latency_ms": summary([x for r in items for x in getattr(r, lat_key)], MS),
            "request_to_blob_ms": summary([x for r in items for x in r.request_to_blob_s], MS),
            "cpu_per_frame_ms": summary([r.cpu_per_frame_s for r in items], MS),
            "frames_per_s": summary([r.frames_per_s for r in items], digits=2),
            "blob_bytes": items[-1].blob_bytes if items else 0,
            "frames_matched": sum(r.matched for r in items),
            **{f"{k}_cpu_per_frame_ms": summary([r.helper_cpu_per_frame_s.get(k, math.nan)
                                                 for r in items], MS) for k in helpers},
        }

    return {
        "cpu_per_frame_ratio_to_floor": summary(cpu_ratio),
        "latency_ratio_to_floor": summary(lat_ratio),
        "latency_ratio_to_libindi": summary(lib_ratio),
        "request_to_blob_ratio_to_libindi": summary(lib_req_ratio),
        "frames_per_s": summary([o.frames_per_s for o in ours], digits=2),
        "frames_per_s_one_core_cpu_bound": summary(
            [1.0 / o.cpu_per_frame_s if o.cpu_per_frame_s > 0 else math.nan for o in ours],
            digits=1),
        "ours": raw(ours),
        "floor": raw(floor),
        "libindi": raw(lib),
        "rounds": len(rounds),
    }
