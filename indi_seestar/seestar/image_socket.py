"""ImageSocket: the image thread's 4800 socket: connect, timed reads, heartbeat, locked sends.

Layer: seestar (asyncio engine), thread side; no asyncio. Must not import indi/, devices/ or sim/.
The image thread (images.py) connects, attaches the socket and reads through `recv_into` and
`discard`; between chunks they leave on close(), send `test_connection` every ~4 s and raise
ConnectionLost after `image_silence_s` without data. Bytes read ahead that belong to the next
frame are pushed back and read first. Sends (streaming on/off, one-off requests) may come from
any thread: they, the open socket and the counters share one lock.
"""

from __future__ import annotations

import enum
import logging
import mmap
import socket
import sys
import threading
import time
from collections.abc import Callable

from ..errors import ConnectionLost
from ..protocol import builders_imaging, builders_session
from ..protocol.methods import Call
from ..protocol.rpc import Request, VerifyPolicy, encode_request
from .sockets import connect_interruptible, shutdown_quietly
from .timeouts import Timeouts

log = logging.getLogger(__name__)

_RCVBUF_BYTES = 4 * 1024 * 1024
#: Linux drops TCP data in the kernel, without copying it, on recv with MSG_TRUNC (tcp(7)).
_DISCARD_FLAGS = socket.MSG_TRUNC if sys.platform.startswith("linux") else 0
_DISCARD_CHUNK = 4 * 1024 * 1024
#: The image thread's counters (ImageStats reads them).
COUNTERS = ("bytes", "raw", "stacked", "acks", "dropped", "skipped", "rejected", "connects",
            "connect_failures", "corrupt", "discarded")


class ImageRequestId(enum.IntEnum):
    """Our small, distinct request ids on 4800; header byte 15 echoes them (§4.2)."""

    HEARTBEAT = 2
    BEGIN_STREAMING = 21
    STOP_STREAMING = 22
    GET_STACKED = 23
    GET_CURRENT = 24


class Stopped(Exception):
    """close() was called: leave the thread."""


class ImageSocket:
    """The 4800 socket of one image stream; see the module docstring for who calls what."""

    def __init__(self, host: str, port: int, *, timeouts: Timeouts,
                 stop: threading.Event) -> None:
        self.host, self.port, self._t, self._stop = host, port, timeouts, stop
        #: Verify-marker placement for our 4800 requests (the control session's policy).
        self.policy = VerifyPolicy.MARKER
        self._lock = threading.Lock()  # guards _sock, sends, _want_streaming, _counts
        self._sock: socket.socket | None = None
        self._want_streaming = False
        self._counts = dict.fromkeys(COUNTERS, 0)
        self._next_heartbeat_s = 0.0
        self._last_rx_s = 0.0
        self._pushback = bytearray()  # bytes read ahead that belong to the next frame
        self._pushback_s = 0.0
        self._scratch: memoryview | None = None  # never written to with MSG_TRUNC: no RSS

    # --- any thread -----------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while a 4800 socket is open."""
        with self._lock:
            return self._sock is not None

    @property
    def streaming_wanted(self) -> bool:
        """Whether `begin_streaming` is (re-)issued on every connection."""
        return self._want_streaming

    def count(self, key: str, n: int = 1) -> None:
        """Add `n` to one of COUNTERS."""
        with self._lock:
            self._counts[key] += n

    def counts(self) -> tuple[bool, dict[str, int]]:
        """Whether a socket is open, and a copy of the counters, read together."""
        with self._lock:
            return self._sock is not None, dict(self._counts)

    def set_streaming(self, on: bool) -> None:
        """Want preview frames pushed or not; begin/stop_streaming is sent now if connected."""
        with self._lock:
            changed = on != self._want_streaming
            self._want_streaming = on
            if changed and self._sock is not None:
                call, rid = ((builders_imaging.begin_streaming(), ImageRequestId.BEGIN_STREAMING) if on
                             else (builders_imaging.stop_streaming(), ImageRequestId.STOP_STREAMING))
                self._send_locked(self._sock, call, rid)

    def send_if_connected(self, call: Call, request_id: ImageRequestId) -> bool:
        """Send one request; False when no socket is open right now."""
        with self._lock:
            if self._sock is None:
                return False
            self._send_locked(self._sock, call, request_id)
            return True

    def wake(self) -> None:
        """Shut the open socket down, so that a blocked recv returns at once."""
        with self._lock:
            if self._sock is not None:
                shutdown_quietly(self._sock)

    def _send_locked(self, sock: socket.socket, call: Call, request_id: int) -> None:
        data = encode_request(Request(int(request_id), call.method, call.params), self.policy)
        try:
            sock.sendall(data)
        except OSError as exc:  # a partial write corrupts the stream: let the reader reconnect
            log.warning("4800: send of %s failed: %s", call.method, exc)
            shutdown_quietly(sock)

    # --- the image thread -----------------------------------------------------

    def connect(self) -> socket.socket:
        """A connected socket (OSError on failure); Stopped if close() came first."""
        sock = connect_interruptible(self.host, self.port, timeout_s=self._t.connect_s,
                                     poll_s=self._t.image_poll_s, stop=self._stop,
                                     rcvbuf_bytes=_RCVBUF_BYTES)
        if sock is None:
            raise Stopped
        return sock

    def attach(self, sock: socket.socket) -> None:
        """Make `sock` the open socket: heartbeat due at once, begin_streaming if wanted."""
        now = time.monotonic()
        self._last_rx_s = now
        self._next_heartbeat_s = now  # first heartbeat at once: proves the link both ways
        with self._lock:
            if self._stop.is_set():
                raise Stopped
            self._sock = sock
            self._counts["connects"] += 1
            if self._want_streaming:
                self._send_locked(sock, builders_imaging.begin_streaming(), ImageRequestId.BEGIN_STREAMING)
        self._pushback.clear()

    def detach(self, sock: socket.socket) -> None:
        """Forget and close `sock`."""
        with self._lock:
            if self._sock is sock:
                self._sock = None
        sock.close()

    def push_back(self, data: memoryview, arrived_s: float) -> None:
        """Bytes to read again before the socket's (the earliest they can have arrived)."""
        self._pushback[:0] = data
        self._pushback_s = arrived_s

    def recv_into(self, sock: socket.socket, view: memoryview,
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
            last_s = self._arrived(n)
            if not got:
                first_s = last_s
            got += n
            self._tick(last_s)
        return first_s, last_s

    def discard(self, sock: socket.socket, size: int) -> None:
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
            now = self._arrived(n)
            got += n
            self._tick(now)

    def _arrived(self, n: int) -> float:
        """After a recv of `n` bytes: count them and return when; n == 0 is the end of the stream."""
        if n == 0:
            raise Stopped if self._stop.is_set() else ConnectionLost("closed by the Seestar")
        now = time.monotonic()
        self._last_rx_s = now
        self.count("bytes", n)
        return now

    def _tick(self, now: float) -> None:
        """Between reads: leave on close(), send the heartbeat when due, detect silence."""
        if self._stop.is_set():
            raise Stopped
        if now >= self._next_heartbeat_s:
            self._next_heartbeat_s = now + self._t.image_heartbeat_interval_s
            with self._lock:
                if self._sock is not None:
                    self._send_locked(self._sock, builders_session.test_connection(),
                                      ImageRequestId.HEARTBEAT)
        if now - self._last_rx_s > self._t.image_silence_s:
            raise ConnectionLost(f"no data on 4800 for {self._t.image_silence_s:g} s")
