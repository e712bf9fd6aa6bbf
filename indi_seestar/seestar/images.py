"""ImageStream: the image port (4800) read by a background thread into pooled buffers.

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
One thread owns the socket: it connects (non-blocking connect, so close() is prompt), reads
each 80-byte header with `parse_header` and the payload with `recv_into` straight into a
pooled buffer, resynchronises on the magic after garbage, refuses absurd sizes without
allocating, sends `test_connection` every ~4 s, and reconnects with backoff, re-issuing
`begin_streaming` when streaming is wanted. Decoded items reach the event loop through
`call_soon_threadsafe`; at most `max_undelivered` wait there (more are dropped and counted)
so a stalled loop cannot make the thread hoard memory. Requests from the loop are sent
with `asyncio.to_thread` under a lock, so the loop never blocks on the socket.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import mmap
import socket
import sys
import threading
import time
from collections.abc import Callable

from ..errors import BadFrame, ConnectionLost, FrameTooLarge
from ..protocol import methods
from ..protocol.frames import (
    HEADER_SIZE,
    MAX_PAYLOAD_BYTES,
    FrameHeader,
    FrameKind,
    classify,
    decode_raw,
    find_magic,
    parse_header,
)
from ..protocol.methods import Call
from ..protocol.rpc import Request, VerifyPolicy, encode_request
from .backoff import Backoff
from .pool import BufferPool, FrameStarted, ImageAck, Lease, RawFrame, StackedPayload
from .sockets import ImageStats, connect_interruptible, shutdown_quietly
from .timeouts import Timeouts

log = logging.getLogger(__name__)

ImageItem = RawFrame | StackedPayload | ImageAck | FrameStarted
#: Start of a frame header (magic, version 2, header length 80): inside a payload it means the
#: payload was cut short. By chance in pixel data: about once per 10^8 frames.
_HEADER_PREFIX = b"\x03\xc3\x00\x02\x00\x50"
#: Largest payload of a status frame (no width/height) we read; real ones are ~17 bytes.
_MAX_STATUS_PAYLOAD = 65536
_RCVBUF_BYTES = 4 * 1024 * 1024
#: Linux drops TCP data in the kernel, without copying it, on recv with MSG_TRUNC (tcp(7)).
_DISCARD_FLAGS = socket.MSG_TRUNC if sys.platform.startswith("linux") else 0
_DISCARD_CHUNK = 4 * 1024 * 1024


class ImageRequestId(enum.IntEnum):
    """Our small, distinct request ids on 4800; header byte 15 echoes them (§4.2)."""

    HEARTBEAT = 2
    BEGIN_STREAMING = 21
    STOP_STREAMING = 22
    GET_STACKED = 23
    GET_CURRENT = 24


class _Stopped(Exception):
    """close() was called: leave the thread."""


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
        #: Verify-marker placement for our 4800 requests (the control session's policy).
        self.policy = VerifyPolicy.MARKER
        self._lock = threading.Lock()  # guards _sock, sends, _want_streaming, counters below
        self._sock: socket.socket | None = None
        self._want_streaming = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._undelivered = 0
        self._seq = 0
        self._next_heartbeat_s = 0.0
        self._last_rx_s = 0.0
        self._pushback = bytearray()  # bytes read ahead that belong to the next frame
        self._pushback_s = 0.0
        self._counts = {key: 0 for key in ("bytes", "raw", "stacked", "acks", "dropped",
                                           "skipped", "rejected", "connects",
                                           "connect_failures", "corrupt", "discarded")}
        #: Set from the loop: streamed raw frames whose first byte arrives before this
        #: monotonic time can satisfy no request, so the thread drops their payload unread
        #: (in the kernel on Linux) instead of copying and checking 4 MB for nothing. -inf
        #: (the default) reads every frame; +inf drops every streamed frame.
        self.frames_wanted_after_s = -math.inf
        self._discarded_last = False  # the frame just before was dropped unread
        self._scratch: memoryview | None = None  # never written to with MSG_TRUNC: no RSS

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
    def connected(self) -> bool:
        """True while a 4800 socket is open."""
        with self._lock:
            return self._sock is not None

    @property
    def streaming_wanted(self) -> bool:
        """Whether `begin_streaming` is (re-)issued on every connection."""
        return self._want_streaming

    def stats(self) -> ImageStats:
        """Counters so far."""
        with self._lock:
            c = dict(self._counts)
            connected = self._sock is not None
        return ImageStats(connected, c["bytes"], c["raw"], c["stacked"], c["acks"], c["dropped"],
                          c["skipped"], c["rejected"], c["corrupt"], max(0, c["connects"] - 1),
                          c["connect_failures"], self.pool.allocations, self.pool.outstanding,
                          self.pool.peak_outstanding, c["discarded"])

    async def set_streaming(self, on: bool) -> None:
        """Want preview frames pushed (begin_streaming) or not; sent now if connected."""
        await asyncio.to_thread(self._set_streaming, on)

    async def request(self, call: Call, request_id: ImageRequestId) -> bool:
        """Send one request on 4800; False when no socket is open right now."""
        return await asyncio.to_thread(self._send_if_connected, call, request_id)

    # --- sending (any thread) -------------------------------------------------

    def _set_streaming(self, on: bool) -> None:
        with self._lock:
            changed = on != self._want_streaming
            self._want_streaming = on
            if changed and self._sock is not None:
                call, rid = ((methods.begin_streaming(), ImageRequestId.BEGIN_STREAMING) if on
                             else (methods.stop_streaming(), ImageRequestId.STOP_STREAMING))
                self._send_locked(self._sock, call, rid)

    def _send_if_connected(self, call: Call, request_id: ImageRequestId) -> bool:
        with self._lock:
            if self._sock is None:
                return False
            self._send_locked(self._sock, call, request_id)
            return True

    def _send_locked(self, sock: socket.socket, call: Call, request_id: int) -> None:
        data = encode_request(Request(int(request_id), call.method, call.params), self.policy)
        try:
            sock.sendall(data)
        except OSError as exc:  # a partial write corrupts the stream: let the reader reconnect
            log.warning("4800: send of %s failed: %s", call.method, exc)
            shutdown_quietly(sock)

    # --- the thread -----------------------------------------------------------

    def _signal_stop(self) -> None:
        self._stop.set()
        with self._lock:
            if self._sock is not None:
                shutdown_quietly(self._sock)  # wakes a blocked recv at once

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
                    sock = self._connect()
                except OSError as exc:
                    self._count("connect_failures")
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
        except _Stopped:
            pass
        except Exception:  # a bug: log it rather than die silently in a thread
            log.exception("image thread crashed")
        finally:
            log.debug("image thread exits")

    def _connect(self) -> socket.socket:
        sock = connect_interruptible(self._host, self._port, timeout_s=self._t.connect_s,
                                     poll_s=self._t.image_poll_s, stop=self._stop,
                                     rcvbuf_bytes=_RCVBUF_BYTES)
        if sock is None:
            raise _Stopped
        return sock

    def _serve(self, sock: socket.socket, backoff: Backoff) -> None:
        now = time.monotonic()
        self._last_rx_s = now
        self._next_heartbeat_s = now  # first heartbeat at once: proves the link both ways
        with self._lock:
            if self._stop.is_set():
                raise _Stopped
            self._sock = sock
            self._counts["connects"] += 1
            if self._want_streaming:
                self._send_locked(sock, methods.begin_streaming(), ImageRequestId.BEGIN_STREAMING)
        log.info("4800: connected to %s:%d", self._host, self._port)
        self._notify_link(True)
        self._pushback.clear()
        header = bytearray(HEADER_SIZE)
        view = memoryview(header)
        have, kept_s = 0, 0.0
        while True:
            first_s, _ = self._recv_into(sock, view[have:])
            if have:
                first_s = kept_s  # the kept bytes arrived earlier: keep the earlier time
            backoff.reset()
            try:
                parsed = parse_header(header, self._max_payload)
            except (BadFrame, FrameTooLarge) as exc:
                if self._discarded_last:  # the frame dropped unread was cut short
                    self._discarded_last = False
                    self._count("corrupt")
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
        with self._lock:
            self._counts["skipped"] += pos
            self._counts["rejected"] += 1
        log.debug("4800: resync after %s (dropped %d bytes)", exc, pos)
        header[: HEADER_SIZE - pos] = header[pos:]
        return HEADER_SIZE - pos

    def _read_payload(self, sock: socket.socket, header: FrameHeader, first_s: float) -> None:
        size = header.size
        if size == 0 or header.width == 0 or header.height == 0:  # ack / status: no pool buffer
            if size > _MAX_STATUS_PAYLOAD:
                raise BadFrame(f"status frame with a {size}-byte payload")
            last_s = self._recv_into(sock, memoryview(bytearray(size)))[1] if size else first_s
            self._count("acks")
            if header.frame_id != ImageRequestId.HEARTBEAT:
                self._deliver(ImageAck(header, last_s))
            return
        if (header.frame_id == ImageRequestId.BEGIN_STREAMING
                and first_s < self.frames_wanted_after_s):
            self._discard(sock, size)
            self._discarded_last = True
            self._count("discarded")
            return
        if header.frame_id == ImageRequestId.GET_STACKED:
            self._deliver(FrameStarted(header, first_s), bounded=False)
        lease = self.pool.acquire(size)
        try:
            scan = _EmbeddedHeaderScan(lease)
            last_s = self._recv_into(sock, lease.view, scan.received)[1]
            embedded = scan.finish()
            if embedded >= 0:
                # The announced payload was cut short and the next frame follows inside it
                # (a truncated frame): drop it and read on from that header.
                self._pushback[:0] = lease.view[embedded:]
                self._pushback_s = first_s  # earliest the re-read bytes can have arrived
                self._count("corrupt")
                log.warning("4800: dropped a truncated %d-byte frame (id %d)", size,
                            header.frame_id)
                lease.release()
                return
            kind = classify(header, lease.view[:4])
            self._seq += 1
            if kind is FrameKind.RAW:
                pixels = decode_raw(lease.view, header.width, header.height)
                item: ImageItem = RawFrame(pixels, header, first_s, last_s, self._seq, lease)
                self._count("raw")
            elif kind is FrameKind.STACK_ZIP:
                item = StackedPayload(header, last_s, self._seq, lease)
                self._count("stacked")
            else:
                log.debug("4800: ignored a %s frame (id %d, %dx%d, %d bytes)", kind.value,
                          header.frame_id, header.width, header.height, size)
                lease.release()
                return
        except BaseException:
            lease.release()
            raise
        self._deliver(item)

    def _recv_into(self, sock: socket.socket, view: memoryview,
                   received: Callable[[int], None] | None = None) -> tuple[float, float]:
        """Fill `view` (pushed-back bytes first); (monotonic time of the first and last chunk).

        `received(n)` is called whenever the first n bytes are in, before waiting for more.
        """
        got, total = 0, len(view)
        first_s = last_s = 0.0
        if self._pushback:
            got = min(total, len(self._pushback))
            view[:got] = self._pushback[:got]
            del self._pushback[:got]
            first_s = last_s = self._pushback_s
        while got < total:
            if received is not None and got:
                received(got)
            try:
                n = sock.recv_into(view[got:])
            except TimeoutError:  # the poll interval: wake up, look around
                self._tick(time.monotonic())
                continue
            if n == 0:
                raise _Stopped if self._stop.is_set() else ConnectionLost("closed by the Seestar")
            last_s = time.monotonic()
            if not got:
                first_s = last_s
            got += n
            self._last_rx_s = last_s
            with self._lock:
                self._counts["bytes"] += n
            self._tick(last_s)
        return first_s, last_s

    def _discard(self, sock: socket.socket, size: int) -> None:
        """Consume `size` payload bytes without keeping them (no copy on Linux)."""
        got = min(size, len(self._pushback))
        del self._pushback[:got]
        if self._scratch is None:
            self._scratch = memoryview(mmap.mmap(-1, _DISCARD_CHUNK))
        while got < size:
            try:
                n = sock.recv_into(self._scratch, min(size - got, _DISCARD_CHUNK),
                                   _DISCARD_FLAGS)
            except TimeoutError:
                self._tick(time.monotonic())
                continue
            if n == 0:
                raise _Stopped if self._stop.is_set() else ConnectionLost("closed by the Seestar")
            got += n
            now = time.monotonic()
            self._last_rx_s = now
            with self._lock:
                self._counts["bytes"] += n
            self._tick(now)

    def _tick(self, now: float) -> None:
        """Between reads: leave on close(), send the heartbeat when due, detect silence."""
        if self._stop.is_set():
            raise _Stopped
        if now >= self._next_heartbeat_s:
            self._next_heartbeat_s = now + self._t.image_heartbeat_interval_s
            with self._lock:
                if self._sock is not None:
                    self._send_locked(self._sock, methods.test_connection(),
                                      ImageRequestId.HEARTBEAT)
        if now - self._last_rx_s > self._t.image_silence_s:
            raise ConnectionLost(f"no data on 4800 for {self._t.image_silence_s:g} s")

    def _deliver(self, item: ImageItem, bounded: bool = True) -> None:
        with self._lock:
            if bounded and self._undelivered >= self._max_undelivered:
                self._counts["dropped"] += 1
                item.release()
                return
            self._undelivered += 1
        try:
            self._loop.call_soon_threadsafe(self._hand_over, item)
        except RuntimeError:  # the loop is closed: nobody will take it
            item.release()
            raise _Stopped from None

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
        with self._lock:
            if self._sock is sock:
                self._sock = None
        sock.close()
        self._notify_link(False)

    def _notify_link(self, up: bool) -> None:
        if self._on_link is None:
            return
        try:
            self._loop.call_soon_threadsafe(self._on_link, up)
        except RuntimeError:
            pass

    def _count(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1


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

