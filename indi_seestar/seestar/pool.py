"""Image payload buffers and the frame objects built on them.

Layer: seestar (asyncio engine); thread-safe, no asyncio. Must not import indi/, devices/ or sim/.
The image thread reads each payload straight into a buffer leased from a small pool; a raw
frame's pixels are a read-only numpy view of that buffer, valid until `release()` (or the
end of `with frame:`). Leaking a frame is harmless: its buffer is never reused, and when all
kept buffers are lent out the pool allocates a fresh one instead of blocking.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import numpy as np

from ..protocol.frames import FrameHeader, decode_stack_zip


#: Below this, Lease.find is a plain bytearray.find.
_SCREEN_MIN_BYTES = 64 * 1024
#: More two-byte candidates than this (unusual data): plain find is then cheaper.
_MAX_CANDIDATES = 2048


class BufferPool:
    """Keeps up to `keep` buffers of the largest size seen; `acquire()` never blocks."""

    def __init__(self, keep: int = 3) -> None:
        self._lock = threading.Lock()
        self._free: list[bytearray] = []
        self._keep = keep
        self._largest = 0
        #: Buffers allocated so far (a steady stream of released frames stays at `keep` or so).
        self.allocations = 0
        #: Leases not yet released, and the most there ever were at once.
        self.outstanding = 0
        self.peak_outstanding = 0

    @property
    def largest_size(self) -> int:
        """The largest payload size ever requested (bytes)."""
        return self._largest

    @property
    def free_count(self) -> int:
        """Buffers waiting to be reused."""
        with self._lock:
            return len(self._free)

    def acquire(self, size: int) -> Lease:
        """A buffer of at least `size` bytes (reused when one is free, else freshly allocated)."""
        with self._lock:
            self._largest = max(self._largest, size)
            buf: bytearray | None = None
            while self._free:
                candidate = self._free.pop()
                if len(candidate) >= size:
                    buf = candidate
                    break
            if buf is None:
                buf = bytearray(self._largest)
                self.allocations += 1
            self.outstanding += 1
            self.peak_outstanding = max(self.peak_outstanding, self.outstanding)
        return Lease(self, buf, size)

    def _give_back(self, buf: bytearray) -> None:
        with self._lock:
            self.outstanding -= 1
            if len(self._free) < self._keep and len(buf) >= self._largest:
                self._free.append(buf)


class Lease:
    """One lent buffer; `release()` returns it (idempotent, any thread)."""

    __slots__ = ("_buf", "_pool", "_released", "size")

    def __init__(self, pool: BufferPool, buf: bytearray, size: int) -> None:
        self._pool, self._buf, self.size = pool, buf, size
        self._released = False

    @property
    def view(self) -> memoryview:
        """The first `size` bytes."""
        if self._released:
            raise RuntimeError("buffer used after release()")
        return memoryview(self._buf)[: self.size]

    @property
    def released(self) -> bool:
        """True once given back."""
        return self._released

    def find(self, pattern: bytes, start: int = 0, end: int | None = None) -> int:
        """Index of `pattern` within bytes [start, end) of the first `size`, or -1 (no copy).

        Megabytes of pixels are screened with numpy first (the pattern's first two bytes as a
        native uint16 at both byte parities: ~1 ms for 4 MB, without the GIL) and the bytes are
        compared only where that finds a candidate (bytearray.find takes ~5 ms for 4 MB,
        holding the GIL).
        """
        buf, n = self._buf, len(pattern)
        end = self.size if end is None else min(end, self.size)
        if n < 2 or end - start < _SCREEN_MIN_BYTES:
            return buf.find(pattern, start, end)
        key = int.from_bytes(pattern[:2], sys.byteorder)
        candidates: list[int] = []
        for parity in (0, 1):
            first = start + parity
            pairs = np.frombuffer(buf, dtype=np.uint16, count=(end - first) // 2, offset=first)
            hits = np.flatnonzero(pairs == key)
            if hits.size > _MAX_CANDIDATES:
                return buf.find(pattern, start, end)
            candidates.extend(first + 2 * int(i) for i in hits)
        return next((i for i in sorted(candidates) if i + n <= end and buf[i:i + n] == pattern),
                    -1)

    def release(self) -> None:
        """Give the buffer back to the pool."""
        if not self._released:
            self._released = True
            self._pool._give_back(self._buf)


class RawFrame:
    """One raw 16-bit Bayer frame (the model's CFA) from 4800; `pixels` borrow a pooled buffer until release().

    Times are `time.monotonic()` seconds at which the first header byte and the last payload
    byte were read. Use as `with frame: ...` or call `release()`; copy what you keep.
    """

    __slots__ = (
        "_lease",
        "_pixels",
        "first_byte_monotonic_s",
        "header",
        "last_byte_monotonic_s",
        "seq",
    )

    def __init__(self, pixels: np.ndarray, header: FrameHeader, first_byte_monotonic_s: float,
                 last_byte_monotonic_s: float, seq: int, lease: Lease) -> None:
        pixels.flags.writeable = False
        self._pixels, self.header, self._lease = pixels, header, lease
        self.first_byte_monotonic_s = first_byte_monotonic_s
        self.last_byte_monotonic_s = last_byte_monotonic_s
        self.seq = seq

    @property
    def pixels(self) -> np.ndarray:
        """(height, width) uint16 read-only view; RuntimeError after release()."""
        if self._lease.released:
            raise RuntimeError(f"frame {self.seq} was released")
        return self._pixels

    @property
    def width(self) -> int:
        """Columns (1080 on a portrait-read S50, 2180 on the Pro models)."""
        return int(self._pixels.shape[1])

    @property
    def height(self) -> int:
        """Rows."""
        return int(self._pixels.shape[0])

    @property
    def released(self) -> bool:
        """True once the buffer went back to the pool."""
        return self._lease.released

    def copy_pixels(self) -> np.ndarray:
        """An owned, writable copy of the pixels."""
        return np.array(self.pixels, copy=True)

    def release(self) -> None:
        """Give the buffer back (idempotent); `pixels` is invalid afterwards."""
        self._lease.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def __repr__(self) -> str:
        return (f"RawFrame(seq={self.seq}, {self.width}x{self.height}, id={self.header.frame_id}, "
                f"first_byte={self.first_byte_monotonic_s:.3f})")


@dataclass(frozen=True, slots=True, eq=False)
class StackedImage:
    """The live stack: (height, width, 3) uint16 RGB, owned (not pooled)."""

    rgb: np.ndarray
    header: FrameHeader
    last_byte_monotonic_s: float
    seq: int


class StackedPayload:
    """A stacked-image ZIP still in its pooled buffer; `decode()` is CPU-heavy (run it off the loop)."""

    __slots__ = ("_lease", "header", "last_byte_monotonic_s", "seq")

    def __init__(self, header: FrameHeader, last_byte_monotonic_s: float, seq: int,
                 lease: Lease) -> None:
        self.header, self.last_byte_monotonic_s, self.seq, self._lease = (
            header, last_byte_monotonic_s, seq, lease)

    def decode(self) -> StackedImage:
        """Unzip to RGB and release the buffer (BadFrame on a broken ZIP)."""
        try:
            rgb = decode_stack_zip(self._lease.view, self.header.width, self.header.height)
        finally:
            self._lease.release()
        return StackedImage(rgb, self.header, self.last_byte_monotonic_s, self.seq)

    def release(self) -> None:
        """Drop without decoding."""
        self._lease.release()


@dataclass(frozen=True, slots=True)
class ImageAck:
    """An empty/status frame answering one of our 4800 requests (header byte 15 = its id)."""

    header: FrameHeader
    monotonic_s: float

    def release(self) -> None:
        """Nothing to give back (uniform with the other items)."""


@dataclass(frozen=True, slots=True)
class FrameStarted:
    """The header of a large answer to one of our requests arrived; its payload follows."""

    header: FrameHeader
    monotonic_s: float

    def release(self) -> None:
        """Nothing to give back (uniform with the other items)."""
