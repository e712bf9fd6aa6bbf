"""B8, the stacked image: last byte of `get_stacked_img`'s ZIP on 4800 -> CCD1 BLOB at a libindi client.

The fake (own process, `--trace`) live-stacks at time factor 10 (10 s subs, 1 s real); the
Seestar Stack device fetches the stack after each new sub and sends it as a 16-bit RGB FITS
cube. The fake traces the moment the last byte of each stacked ZIP is in the kernel; the k-th
traced ZIP is the k-th BLOB (one request per image, served in order). Per image: latency =
client receipt - that trace time; driver CPU = user+sys of the driver over the images / images.
The floor (its own process, `python -m bench.b8_stack --floor`): the same work by one plain
process on the same bytes: unzip (decode_stack_zip), FITS framing (fits_parts of the planar
view), base64 into a setBLOBVector envelope, sendall into an AF_UNIX socketpair read by a
thread (as B1's floor). Ratios latency/floor and CPU/floor, goal <= 1.5, for 1080x1920x3 and
2160x3840x3 (drizzle). Memory: the driver's RSS after the first image and after the last of a
long run (`rss_images`), growth goal < 5 %.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np

from indi_seestar.fits import FrameMeta, fits_parts
from indi_seestar.protocol.frames import decode_stack_zip, encode_stack_zip

from .floor import deliver, envelope
from .procs import PREFIX as DEVICE_PREFIX
from .rig import OursRig
from .stats import summary

STACK = f"{DEVICE_PREFIX} Stack"
TIME_FACTOR = 10.0
IMAGE_TIMEOUT_S = 60.0


def floor(images: int, drizzle: bool) -> dict[str, Any]:
    """Unzip + FITS framing + base64 delivery of the same ZIP, `images` times (in this process)."""
    height, width = (3840, 2160) if drizzle else (1920, 1080)
    rng = np.random.default_rng(8)
    rgb = (400 + rng.normal(0, 40, (height, width, 3))).clip(0, 65535).astype(np.uint16)
    payload = encode_stack_zip(rgb)
    meta = FrameMeta(device_name="Floor", exposure_s=0.0, exposure_start_utc=datetime.now(UTC),
                     pixel_size_x_um=2.9, pixel_size_y_um=2.9)

    def message() -> list[bytes]:
        return envelope(fits_parts(np.moveaxis(decode_stack_zip(payload, width, height), -1, 0), meta))

    d = deliver(message, images)
    return {"latency_s": d.latency_s, "cpu_per_image_s": d.cpu_s / images, "zip_bytes": len(payload),
            "message_bytes": d.message_bytes}


def _floor_process(images: int, drizzle: bool) -> dict[str, Any]:
    args = [sys.executable, "-m", "bench.b8_stack", "--floor", "--images", str(images)]
    done = subprocess.run(args + (["--drizzle"] if drizzle else []), capture_output=True, check=True,
                          timeout=600)
    return json.loads(done.stdout)


def _driver_cpu(pid: int) -> float:
    import psutil

    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


def _driver_rss(pid: int) -> int:
    import psutil

    return int(psutil.Process(pid).memory_info().rss)


def _ours(images: int, drizzle: bool, rss_images: int, log: Callable[[str], None]) -> dict[str, Any]:
    with OursRig.start(trace=True, time_factor=TIME_FACTOR) as rig:
        client = rig.client
        rig.connect_all()
        client.device(STACK)
        client.connect_device_and_wait(STACK, timeout_s=60)
        client.enable_blobs(STACK, "CCD1")
        options = {"STAR_CORRECTION", "DITHER"} | ({"DRIZZLE_2X"} if drizzle else set())
        mark = client.mark()
        client.send_switch(STACK, "SEESTAR_STACK_OPTIONS", options)
        client.wait_seen(STACK, "SEESTAR_STACK_OPTIONS", event="set", state="Ok", since=mark)
        blob0 = client.blob_mark()
        client.send_switch(STACK, "SEESTAR_STACK", ["STACK_NEW"])
        client.wait_blob(blob0, IMAGE_TIMEOUT_S)  # the first image: warm-up, RSS reference
        rss_first = _driver_rss(rig.driver_pid)
        cpu0, first = _driver_cpu(rig.driver_pid), client.blob_mark()
        total = max(images, rss_images)
        client.wait_for(lambda: len(client.blobs) >= first + total, IMAGE_TIMEOUT_S * total,
                        f"{total} stacked images")
        cpu = _driver_cpu(rig.driver_pid) - cpu0
        rss_last = _driver_rss(rig.driver_pid)
        client.send_switch(STACK, "SEESTAR_STACK", ["STACK_STOP"])
        blobs = [b for b in client.blobs[blob0:] if b.device == STACK]

        def traced() -> list[float]:
            return [r["t"] for r in rig.sim.trace_records() if r.get("kind") == "stacked"]

        # the fake stamps a ZIP once its write has drained; under load that can come after the
        # BLOB is in: wait for as many stamps as BLOBs (bounded)
        deadline = time.monotonic() + 10
        while len(sent := traced()) < len(blobs) and time.monotonic() < deadline:
            time.sleep(0.05)
        pairs = list(zip(sent, (b.t for b in blobs), strict=False))[1:1 + images]
        log(f"B8: {'drizzle ' if drizzle else ''}{len(pairs)} images, driver RSS "
            f"{rss_first / 1e6:.0f} -> {rss_last / 1e6:.0f} MB over {total} images")
        return {"latency_s": [b - s for s, b in pairs], "cpu_per_image_s": cpu / total,
                "rss_first_mb": rss_first / 1e6, "rss_last_mb": rss_last / 1e6,
                "rss_growth": (rss_last - rss_first) / rss_first, "images_after_first": total,
                "bytes": blobs[-1].size if blobs else 0}


def run(*, images: int, drizzle_images: int, rss_images: int, log: Callable[[str], None]) -> dict[str, Any]:
    """B8 section: per size, ours vs the floor (ratios), and the RSS growth over a long run."""
    out: dict[str, Any] = {"time_factor": TIME_FACTOR}
    for drizzle, n, rss_n in ((False, images, rss_images), (True, drizzle_images, 0)):
        key = "2160x3840x3" if drizzle else "1080x1920x3"
        ours = _ours(n, drizzle, rss_n, log)
        base = _floor_process(n, drizzle)  # as many as ours (a full run: 20 and 8)
        lat, flat = summary(ours["latency_s"]), summary(base["latency_s"])
        section = {"ours_latency_s": lat, "floor_latency_s": flat,
                   "latency_ratio": round(lat["median"] / flat["median"], 2) if flat["median"] else None,
                   "ours_cpu_per_image_s": round(ours["cpu_per_image_s"], 4),
                   "floor_cpu_per_image_s": round(base["cpu_per_image_s"], 4),
                   "cpu_ratio": round(ours["cpu_per_image_s"] / base["cpu_per_image_s"], 2),
                   "fits_bytes": ours["bytes"], "zip_bytes": base["zip_bytes"]}
        if rss_n:
            section.update(rss_first_mb=round(ours["rss_first_mb"], 1), rss_last_mb=round(ours["rss_last_mb"], 1),
                           rss_growth_pct=round(100 * ours["rss_growth"], 2), rss_images=ours["images_after_first"])
        out[key] = section
        log(f"B8 {key}: latency {lat['median']} s vs floor {flat['median']} s, "
            f"CPU {section['ours_cpu_per_image_s']} vs {section['floor_cpu_per_image_s']} s/image")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.b8_stack")
    p.add_argument("--floor", action="store_true", required=True)
    p.add_argument("--images", type=int, default=5)
    p.add_argument("--drizzle", action="store_true")
    args = p.parse_args(argv)
    json.dump(floor(args.images, args.drizzle), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
