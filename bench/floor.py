"""B1 (a), the floor: the frame path's work done by one plain process with nothing in between.

Per frame: FITS-frame the 1080x1920 16-bit pixels (`indi_seestar.fits.fits_parts`, numpy only),
base64-encode them (stdlib `binascii.b2a_base64`, whole parts, no newlines) inside a
setBLOBVector envelope, and write the message with `sendall` into one end of an AF_UNIX
socketpair; a reader thread in the same process `recv_into`s a preallocated buffer until the
whole message is in. Latency = from the start of the FITS framing to the reader holding the last
byte; CPU = user+sys of the whole process (writer and reader) over the frames, per frame.

Run as `python -m bench.floor --frames N [--width W --height H]` (prints one JSON object), so
that the harness's own threads are never charged to it; `run()` does the same in-process.
"""

from __future__ import annotations

import argparse
import binascii
import json
import resource
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from indi_seestar.fits import FrameMeta, fits_parts

PREFIX = (b'<setBLOBVector device="Floor" name="CCD1" state="Ok" timeout="0" '
          b'timestamp="2026-01-01T00:00:00"><oneBLOB name="CCD1" size="%d" format=".fits">')
SUFFIX = b"</oneBLOB></setBLOBVector>\n"


def frame_pixels(width: int, height: int, seed: int = 1) -> np.ndarray:
    """A sky-like 16-bit frame: bias plus noise (the encoding cost does not depend on content)."""
    rng = np.random.default_rng(seed)
    return (400 + rng.normal(0, 40, (height, width))).clip(0, 65535).astype(np.uint16)


def envelope(parts: Sequence[bytes]) -> list[bytes]:
    """The BLOB message as buffers: envelope, base64 of every FITS part, closing tags."""
    size = sum(len(p) for p in parts)
    # fits_parts makes every part but the last a multiple of 3 bytes: encode them one by one.
    return [PREFIX % size, *(binascii.b2a_base64(p, newline=False) for p in parts), SUFFIX]


def encode_message(pixels: np.ndarray, meta: FrameMeta) -> list[bytes]:
    """The BLOB message of one frame (see envelope())."""
    return envelope(fits_parts(pixels, meta))


@dataclass(frozen=True, slots=True)
class Delivery:
    """What deliver() measured: per-message latencies, CPU and wall time of the whole run."""

    latency_s: list[float]
    cpu_s: float
    wall_s: float
    message_bytes: int


def deliver(message: Callable[[], list[bytes]], count: int) -> Delivery:
    """Make and `sendall` message() `count` times into a socketpair read by a thread; timings."""
    msg_len = sum(len(b) for b in message())
    writer, reader = socket.socketpair()
    done = threading.Semaphore(0)
    arrivals: list[float] = []

    def read() -> None:
        view = memoryview(bytearray(msg_len))
        for _ in range(count):
            got = 0
            while got < msg_len:
                n = reader.recv_into(view[got:])
                if not n:
                    return
                got += n
            arrivals.append(time.monotonic())
            done.release()

    thread = threading.Thread(target=read, name="floor-reader", daemon=True)
    thread.start()
    starts: list[float] = []
    cpu0, wall0 = cpu_self(), time.monotonic()
    for _ in range(count):
        starts.append(time.monotonic())
        writer.sendall(b"".join(message()))
        done.acquire()
    wall = time.monotonic() - wall0
    cpu = cpu_self() - cpu0
    thread.join(5)
    writer.close()
    reader.close()
    return Delivery([a - s for a, s in zip(arrivals, starts, strict=True)], cpu, wall, msg_len)


def run(frames: int, width: int = 1080, height: int = 1920) -> dict[str, Any]:
    """Measure `frames` frames; per-frame latencies (s) and CPU seconds per frame."""
    pixels = frame_pixels(width, height)
    meta = FrameMeta(device_name="Floor", exposure_s=0.0, exposure_start_utc=datetime.now(UTC),
                     pixel_size_x_um=2.9, pixel_size_y_um=2.9)
    d = deliver(lambda: encode_message(pixels, meta), frames)
    return {"latency_s": d.latency_s, "cpu_per_frame_s": d.cpu_s / frames,
            "frames_per_s": frames / d.wall_s, "message_bytes": d.message_bytes}


def cpu_self() -> float:
    """User+sys CPU seconds of this process, all threads (microsecond resolution)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.floor")
    p.add_argument("--frames", type=int, default=30)
    p.add_argument("--width", type=int, default=1080)
    p.add_argument("--height", type=int, default=1920)
    args = p.parse_args(argv)
    json.dump(run(args.frames, args.width, args.height), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
