"""ImageStream: the image port (4800) read by a background thread into pooled buffers.

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
One thread owns the socket (ImageSocket, image_socket.py: non-blocking connect so close() is
prompt, timed reads, `test_connection` every ~4 s). This module is the thread's reading loop:
it reads each 80-byte header with `parse_header` and the payload with `recv_into` straight
into a pooled buffer, resynchronises on the magic after garbage, refuses absurd sizes without
allocating, and reconnects with backoff, re-issuing `begin_streaming` when streaming is
wanted. Decoded items reach the event loop through `call_soon_threadsafe`; at most
`max_undelivered` wait there (more are dropped and counted) so a stalled loop cannot make the
thread hoard memory. Requests from the loop are sent with `asyncio.to_thread` under the
socket's lock, so the loop never blocks on the socket.
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import threading
from collections.abc import Callable

from ..errors import BadFrame, ConnectionLost, FrameTooLarge
from ..protocol.frames import (
    HEADER_SIZE,
    MAX_PAYLOAD_BYTES,
    FrameHeader,
    FrameKind,
    classify,
    decode_raw,
    find_magic,
    inflate_bayer_into,
    parse_header,
)
from ..protocol.methods import Call
from ..protocol.rpc import VerifyPolicy
from .backoff import Backoff
from .image_socket import ImageRequestId, ImageSocket, Stopped
from .pool import BufferPool, FrameStarted, ImageAck, Lease, RawFrame, StackedPayload
from .sockets import ImageStats
from .timeouts import Timeouts

__all__ = ["ImageItem", "ImageRequestId", "ImageStream"]

log = logging.getLogger(__name__)

ImageItem = RawFrame | StackedPayload | ImageAck | FrameStarted
#: Start of a frame header (magic, version 2, header length 80): inside a payload it means the
#: payload was cut short. By chance in pixel data: about once per 10^8 frames.
_HEADER_PREFIX = b"\x03\xc3\x00\x02\x00\x50"
#: Largest payload of a status frame (no width/height) we read; real ones are ~17 bytes.
_MAX_STATUS_PAYLOAD = 65536


class ImageStream:
    """Background reader of 4800; see the module docstring for the threading contract."""

    def __init__(self, host: str, port: int, *, loop: asyncio.AbstractEventLoop,
                 timeouts: Timeouts, on_item: Callable[[ImageItem], None],
                 on_link: Callable[[bool], None] | None = None,
                 max_payload: int = MAX_PAYLOAD_BYTES, pool_keep: int = 3,
                 max_undelivered: int = 2) -> None:
        self._host, self._port, self._loop, self._t = host, port, loop, timeouts
        self._on_item, self._on_link = on_item, on_link
        self._max_payload, self._max_undelivered = max_payload, max_undelivered
        self.pool = BufferPool(pool_keep)
        self._stop = threading.Event()
        self._io = ImageSocket(host, port, timeouts=timeouts, stop=self._stop)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # guards _undelivered
        self._undelivered = 0
        self._seq = 0
        #: Set from the loop: streamed raw frames whose first byte arrives before this
        #: monotonic time can satisfy no request, so the thread drops their payload unread
        #: (in the kernel on Linux) instead of copying and checking 4 MB for nothing. -inf
        #: (the default) reads every frame; +inf drops every streamed frame.
        self.frames_wanted_after_s = -math.inf
        self._discarded_last = False  # the frame just before was dropped unread

    # --- loop-side API --------------------------------------------------------

    def start(self) -> None:
        """Start the thread (it connects and keeps reconnecting until close())."""
        if self._thread is not None:
            raise RuntimeError("image stream already started")
        self._thread = threading.Thread(target=self._run, name=f"seestar-image-{self._port}",
                                        daemon=True)
        self._thread.start()

    async def close(self) -> None:
        """Stop the thread and wait (bounded) for it to exit."""
        self._signal_stop()
        await asyncio.to_thread(self._join)

    def close_blocking(self) -> None:
        """close() for synchronous callers."""
        self._signal_stop()
        self._join()

    @property
    def is_alive(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def policy(self) -> VerifyPolicy:
        """Verify-marker placement for our 4800 requests (the control session's policy)."""
        return self._io.policy

    @policy.setter
    def policy(self, policy: VerifyPolicy) -> None:
        self._io.policy = policy

    @property
    def connected(self) -> bool:
        """True while a 4800 socket is open."""
        return self._io.connected

    @property
    def streaming_wanted(self) -> bool:
        """Whether `begin_streaming` is (re-)issued on every connection."""
        return self._io.streaming_wanted

    def stats(self) -> ImageStats:
        """Counters so far."""
        connected, c = self._io.counts()
        return ImageStats(connected, c["bytes"], c["raw"], c["stacked"], c["acks"], c["dropped"],
                          c["skipped"], c["rejected"], c["corrupt"], max(0, c["connects"] - 1),
                          c["connect_failures"], self.pool.allocations, self.pool.outstanding,
                          self.pool.peak_outstanding, c["discarded"])

    async def set_streaming(self, on: bool) -> None:
        """Want preview frames pushed (begin_streaming) or not; sent now if connected."""
        await asyncio.to_thread(self._io.set_streaming, on)

    async def request(self, call: Call, request_id: ImageRequestId) -> bool:
        """Send one request on 4800; False when no socket is open right now."""
        return await asyncio.to_thread(self._io.send_if_connected, call, request_id)

    # --- the thread -----------------------------------------------------------

    def _signal_stop(self) -> None:
        self._stop.set()
        self._io.wake()  # a blocked recv returns at once

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join(self._t.thread_join_s)
            if self._thread.is_alive():
                log.error("image thread did not stop within %g s", self._t.thread_join_s)

    def _run(self) -> None:
        t = self._t
        backoff = Backoff(t.reconnect_initial_s, t.reconnect_max_s, t.reconnect_factor,
                          t.reconnect_jitter)
        try:
            while not self._stop.is_set():
                try:
                    sock = self._io.connect()
                except OSError as exc:
                    self._io.count("connect_failures")
                    log.info("4800: cannot connect to %s:%d: %s", self._host, self._port, exc)
                else:
                    try:
                        self._serve(sock, backoff)
                    except (OSError, ConnectionLost, BadFrame) as exc:
                        log.warning("4800: stream dropped: %s", exc)
                    finally:
                        self._detach(sock)
                if self._stop.wait(backoff.next_delay_s()):
                    break
        except Stopped:
            pass
        except Exception:  # a bug: log it rather than die silently in a thread
            log.exception("image thread crashed")
        finally:
            log.debug("image thread exits")

    def _serve(self, sock: socket.socket, backoff: Backoff) -> None:
        self._io.attach(sock)
        log.info("4800: connected to %s:%d", self._host, self._port)
        self._notify_link(True)
        header = bytearray(HEADER_SIZE)
        view = memoryview(header)
        have, kept_s = 0, 0.0
        while True:
            first_s, _ = self._io.recv_into(sock, view[have:])
            if have:
                first_s = kept_s  # the kept bytes arrived earlier: keep the earlier time
            backoff.reset()
            try:
                parsed = parse_header(header, self._max_payload)
            except (BadFrame, FrameTooLarge) as exc:
                if self._discarded_last:  # the frame dropped unread was cut short
                    self._discarded_last = False
                    self._io.count("corrupt")
                have, kept_s = self._resync(header, exc), first_s
                continue
            have = 0
            self._discarded_last = False
            self._read_payload(sock, parsed, first_s)

    def _resync(self, header: bytearray, exc: BadFrame | FrameTooLarge) -> int:
        """Drop bytes up to the next plausible header start; returns how many bytes remain."""
        pos = find_magic(header, 1)
        if pos < 0:
            pos = HEADER_SIZE - 1 if header[-1] == 0x03 else HEADER_SIZE
        self._io.count("skipped", pos)
        self._io.count("rejected")
        log.debug("4800: resync after %s (dropped %d bytes)", exc, pos)
        header[: HEADER_SIZE - pos] = header[pos:]
        return HEADER_SIZE - pos

    def _read_payload(self, sock: socket.socket, header: FrameHeader, first_s: float) -> None:
        size = header.size
        if size == 0 or header.width == 0 or header.height == 0:  # ack / status: no pool buffer
            if size > _MAX_STATUS_PAYLOAD:
                raise BadFrame(f"status frame with a {size}-byte payload")
            last_s = self._io.recv_into(sock, memoryview(bytearray(size)))[1] if size else first_s
            self._io.count("acks")
            if header.frame_id != ImageRequestId.HEARTBEAT:
                self._deliver(ImageAck(header, last_s))
            return
        if (header.frame_id == ImageRequestId.BEGIN_STREAMING
                and first_s < self.frames_wanted_after_s):
            self._io.discard(sock, size)
            self._discarded_last = True
            self._io.count("discarded")
            return
        if header.frame_id == ImageRequestId.GET_STACKED:
            self._deliver(FrameStarted(header, first_s), bounded=False)
        lease = self.pool.acquire(size)
        try:
            scan = _EmbeddedHeaderScan(lease)
            last_s = self._io.recv_into(sock, lease.view, scan.received)[1]
            embedded = scan.finish()
            if embedded >= 0:
                # The announced payload was cut short and the next frame follows inside it
                # (a truncated frame): drop it and read on from that header.
                self._io.push_back(lease.view[embedded:], first_s)
                self._io.count("corrupt")
                log.warning("4800: dropped a truncated %d-byte frame (id %d)", size,
                            header.frame_id)
                lease.release()
                return
            kind = classify(header, lease.view[:4])
            self._seq += 1
            if kind is FrameKind.RAW:
                pixels = decode_raw(lease.view, header.width, header.height)
                item: ImageItem = RawFrame(pixels, header, first_s, last_s, self._seq, lease)
                self._io.count("raw")
            elif kind is FrameKind.BAYER_ZIP:
                try:
                    item = self._inflate_preview(header, lease, first_s, last_s)
                except BadFrame as exc:  # the stream is still in step: drop this frame only
                    self._io.count("corrupt")
                    log.warning("4800: dropped a ZIP preview (id %d): %s", header.frame_id, exc)
                    return
                self._io.count("raw")
            elif kind is FrameKind.STACK_ZIP:
                item = StackedPayload(header, last_s, self._seq, lease)
                self._io.count("stacked")
            else:
                log.debug("4800: ignored a %s frame (id %d, %dx%d, %d bytes)", kind.value,
                          header.frame_id, header.width, header.height, size)
                lease.release()
                return
        except BaseException:
            lease.release()
            raise
        self._deliver(item)

    def _inflate_preview(self, header: FrameHeader, packed: Lease, first_s: float,
                         last_s: float) -> RawFrame:
        """A ZIP preview (S30 family) inflated straight into a pooled buffer; `packed` is released."""
        lease = self.pool.acquire(header.width * header.height * 2)
        try:
            inflate_bayer_into(packed.view, lease.view)
        except BaseException:
            lease.release()
            raise
        finally:
            packed.release()
        return RawFrame(decode_raw(lease.view, header.width, header.height), header, first_s,
                        last_s, self._seq, lease)

    def _deliver(self, item: ImageItem, bounded: bool = True) -> None:
        with self._lock:
            if bounded and self._undelivered >= self._max_undelivered:
                self._io.count("dropped")
                item.release()
                return
            self._undelivered += 1
        try:
            self._loop.call_soon_threadsafe(self._hand_over, item)
        except RuntimeError:  # the loop is closed: nobody will take it
            item.release()
            raise Stopped from None

    def _hand_over(self, item: ImageItem) -> None:
        """On the loop: give `item` (and the duty to release it) to the owner."""
        with self._lock:
            self._undelivered -= 1
        try:
            self._on_item(item)
        except Exception:
            log.exception("image item handler failed")
            item.release()

    def _detach(self, sock: socket.socket) -> None:
        self._io.detach(sock)
        self._notify_link(False)

    def _notify_link(self, up: bool) -> None:
        if self._on_link is None:
            return
        try:
            self._loop.call_soon_threadsafe(self._on_link, up)
        except RuntimeError:
            pass



class _EmbeddedHeaderScan:
    """Looks for a frame header inside a payload as it arrives (a cut-short frame, see
    _read_payload), so that at the last byte only the last piece is left to scan."""

    STEP = 512 * 1024  # scan once this much more has arrived (bounds the per-call overhead)

    def __init__(self, lease: Lease) -> None:
        self._lease = lease
        self._done = 0  # bytes [0, _done) scanned (a match may still start at _done - 5)
        self.found = -1

    def received(self, have: int) -> None:
        if self.found < 0 and have - self._done >= self.STEP:
            self._scan(have)

    def finish(self) -> int:
        if self.found < 0:
            self._scan(self._lease.size)
        return self.found

    def _scan(self, upto: int) -> None:
        start = max(0, self._done - (len(_HEADER_PREFIX) - 1))
        self.found = self._lease.find(_HEADER_PREFIX, start, upto)
        self._done = upto
