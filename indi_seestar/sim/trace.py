"""Optional timing trace of the fake Seestar, for the benchmarks (`indi_seestar_sim --trace FILE`).

Layer: sim. Off by default (FakeSeestar.trace is None and nothing below runs). When on, one JSON
line per record, stamped with `time.monotonic()` (CLOCK_MONOTONIC, comparable with any other
process on the same machine), flushed as written:

    {"t": ..., "kind": "request", "method": "move_focuser", "id": 12}   a request line decoded on 4700
    {"t": ..., "kind": "event", "name": "FocuserMove", "state": "complete"}   an event written on 4700
    {"t": ..., "kind": "frame", "image_id": 7, "fp": "<hex>"}   the last byte of a raw frame handed to
                                                                the kernel on 4800

For frames the image connection waits until its write buffer is empty (not merely below the
low-water mark), so `t` is when the last byte left the fake's socket. `fp` is the hex of
FINGERPRINT_PIXELS little-endian pixels from the middle row, from which a client can tell which
frame a FITS it received carries.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, TextIO

import numpy as np

FINGERPRINT_PIXELS = 32


def fingerprint(pixels: np.ndarray) -> str:
    """Hex of FINGERPRINT_PIXELS pixels (little-endian uint16) from the middle row of (H, W)."""
    height, width = pixels.shape[:2]
    row, col = height // 2, max(0, width // 2 - FINGERPRINT_PIXELS // 2)
    return np.ascontiguousarray(pixels[row, col:col + FINGERPRINT_PIXELS], dtype="<u2").tobytes().hex()


class Trace:
    """Appends timing records to a file; safe to call from any thread."""

    def __init__(self, path: Path | str) -> None:
        self._file: TextIO = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self._lock = threading.Lock()

    def record(self, kind: str, **fields: Any) -> None:
        """One record stamped now."""
        line = json.dumps({"t": time.monotonic(), "kind": kind, **fields})
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        """Flush and close the file."""
        with self._lock:
            self._file.close()
