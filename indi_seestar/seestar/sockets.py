"""Blocking-socket helpers for the image thread: an interruptible connect, quiet shutdown, stats.

Layer: seestar (asyncio engine), thread side; no asyncio. Must not import indi/, devices/ or sim/.
"""

from __future__ import annotations

import errno
import select
import socket
import threading
import time
from dataclasses import dataclass


def connect_interruptible(host: str, port: int, *, timeout_s: float, poll_s: float,
                          stop: threading.Event, rcvbuf_bytes: int) -> socket.socket | None:
    """A connected blocking socket (timeout `poll_s`), None if `stop` was set; OSError on failure."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf_bytes)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        err = sock.connect_ex(address)
        deadline = time.monotonic() + timeout_s
        while err in (errno.EINPROGRESS, errno.EALREADY, errno.EWOULDBLOCK):
            if stop.is_set():
                sock.close()
                return None
            _, writable, _ = select.select([], [sock], [], poll_s)
            if writable:
                err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            elif time.monotonic() > deadline:
                raise TimeoutError(f"no TCP answer within {timeout_s:g} s")
        if err:
            raise OSError(err, errno.errorcode.get(err, str(err)))
        sock.settimeout(poll_s)
    except BaseException:
        sock.close()
        raise
    return sock


def shutdown_quietly(sock: socket.socket) -> None:
    """Shut both directions down (wakes a blocked recv); errors ignored."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


@dataclass(frozen=True, slots=True)
class ImageStats:
    """Counters of the image thread (snapshot)."""

    connected: bool
    bytes_received: int
    raw_frames: int
    stacked_frames: int
    acks: int
    dropped_items: int
    skipped_bytes: int
    rejected_headers: int
    corrupt_frames: int
    reconnects: int
    connect_failures: int
    pool_allocations: int
    pool_outstanding: int
    pool_peak_outstanding: int
    #: Streamed raw frames no pending request could accept (ImageStream.frames_wanted_after_s),
    #: dropped unread.
    discarded_frames: int = 0
