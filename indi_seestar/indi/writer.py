"""The single INDI output writer: one thread, whole blocking writes, BLOB base64 (layer indi/).

Why a thread with blocking writes: under indiserver >= 1.9.7 fd 0 and fd 1 are one socket, so
O_NONBLOCK can never be used on them (shared/reference/indi-standard.md §1.9), and a multi-MB
BLOB write must not stall the event loop. Messages are written whole and never interleaved;
small messages waiting in the queue are joined into one write. Must not import protocol/,
seestar/, devices/ or sim/.

BLOB payloads go one of two ways:
* inline: base64 of the parts as one unbroken run inside the XML (works on any stream);
* attached (`attach_blobs=True`, only on indiserver's AF_UNIX socketpair): the parts are copied
  into a new memfd, the XML carries `attached="true"` and no payload, and the descriptor is
  passed with the XML in one sendmsg (SCM_RIGHTS) - what libindi's own drivers do
  (indidriverio.c). No base64 in the driver, and indiserver does not have to parse megabytes
  of text: it hands the buffer to local clients as is and base64-encodes it for TCP clients.
"""

from __future__ import annotations

import array
import concurrent.futures
import logging
import os
import queue
import socket
import stat
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from indi_seestar.indi.encode import attached_blob_prefix, iter_base64, payload_size

COALESCE_BYTES = 64 * 1024  # join queued small messages up to this size into one write
MARK_BYTES = 64  # what a mark counts for in the backlog, so a flood of them is bounded too
_MEMFD_NAME = "indi-blob"

log = logging.getLogger(__name__)


class Outbox(Protocol):
    """Where a device's XML goes: whole messages, and BLOBs as prefix / raw parts / suffix."""

    def send(self, data: bytes) -> None:
        """Queue one complete XML message."""

    def send_blob(
        self, prefix: bytes, parts: Sequence[Any], suffix: bytes
    ) -> concurrent.futures.Future[None]:
        """Queue a BLOB message; parts are base64-encoded later, not copied; done once written."""


@dataclass(frozen=True, slots=True)
class _Blob:
    prefix: bytes
    parts: Sequence[Any]
    suffix: bytes
    done: concurrent.futures.Future[None]


class Mark:
    """A point in the output queue; `started` once the writer thread has reached it."""

    __slots__ = ("started",)

    def __init__(self, started: bool = False) -> None:
        self.started = started


_STOP = object()


def can_attach_blobs(fd: int) -> bool:
    """Whether BLOBs may be passed as shared memory on `fd`: an AF_UNIX stream socket (what
    indiserver >= 1.9.7 gives its local drivers, and the test libindi's drivers use) on a
    system with memfd_create."""
    if not hasattr(os, "memfd_create"):
        return False
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            return False
        sock = socket.socket(fileno=os.dup(fd))  # blocking mode untouched (no default timeout)
    except OSError:
        return False
    try:
        return sock.family == socket.AF_UNIX and sock.type == socket.SOCK_STREAM
    finally:
        sock.close()


class Writer:
    """Outbox backed by a writer thread on file descriptor `fd` (never made non-blocking)."""

    def __init__(self, fd: int, *, on_broken: Callable[[OSError], None] | None = None,
                 attach_blobs: bool = False) -> None:
        self._fd = fd
        self._on_broken = on_broken
        #: A socket object on a duplicate of `fd` for sendmsg (attached BLOBs), or None.
        self._sock = socket.socket(fileno=os.dup(fd)) if attach_blobs else None
        self._spare: tuple[int, int] | None = None  # (memfd, bytes allocated) for the next BLOB
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="indi-writer", daemon=True)
        self._lock = threading.Lock()
        self._blobs_queued = 0
        self._broken: OSError | None = None
        self._backlog = threading.Condition()
        self._backlog_bytes = 0  # XML (not BLOB payloads) queued and not yet written
        self._running = False

    @property
    def attaches_blobs(self) -> bool:
        """True when BLOB payloads are passed as shared memory (see the module docstring)."""
        return self._sock is not None

    @property
    def blob_backlog(self) -> int:
        """BLOBs queued and not yet completely written (a camera should not run far ahead)."""
        with self._lock:
            return self._blobs_queued

    @property
    def backlog_bytes(self) -> int:
        """Bytes of XML messages (BLOB payloads not counted) queued and not yet written."""
        with self._backlog:
            return self._backlog_bytes

    def start(self) -> None:
        """Start the writer thread."""
        self._running = True
        self._thread.start()

    def send(self, data: bytes) -> None:
        """Queue one complete XML message."""
        self._count(len(data))
        self._queue.put(data)

    def mark(self) -> Mark:
        """A Mark queued after everything sent so far (already started if no thread runs)."""
        if not self._running:
            return Mark(started=True)
        mark = Mark()
        self._count(MARK_BYTES)
        self._queue.put(mark)
        return mark

    def wait_backlog_below(self, limit_bytes: int) -> None:
        """Block until the backlog is under limit_bytes (for the input thread: backpressure)."""
        with self._backlog:
            self._backlog.wait_for(lambda: self._backlog_bytes < limit_bytes)

    def _count(self, size: int) -> None:
        with self._backlog:
            self._backlog_bytes += size
            if size < 0:
                self._backlog.notify_all()

    def send_blob(
        self, prefix: bytes, parts: Sequence[Any], suffix: bytes
    ) -> concurrent.futures.Future[None]:
        """Queue a BLOB: prefix, base64 of the parts as one run, suffix; done when written.

        Cancelling the future before the writer reaches the BLOB drops it unsent.
        """
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        with self._lock:
            self._blobs_queued += 1
        self._queue.put(_Blob(prefix, parts, suffix, done))
        return done

    def close(self, timeout_s: float) -> None:
        """Write what is queued, then stop; wait at most timeout_s for the thread."""
        self._queue.put(_STOP)
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        if self._sock is not None and not self._thread.is_alive():
            self._sock.close()
            if self._spare is not None:
                os.close(self._spare[0])
                self._spare = None

    def _run(self) -> None:
        item = self._queue.get()
        while item is not _STOP:
            if isinstance(item, Mark):
                item.started = True  # before any byte queued after it is written
                self._count(-MARK_BYTES)
                item = self._queue.get()
                continue
            if isinstance(item, _Blob):
                self._write_blob(item)
                item = self._queue.get()
                continue
            batch, size, item = [item], len(item), None
            while size < COALESCE_BYTES:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if not isinstance(nxt, bytes):
                    item = nxt
                    break
                batch.append(nxt)
                size += len(nxt)
            self._write(b"".join(batch))
            self._count(-size)
            if item is None:
                item = self._queue.get()

    def _write(self, data: bytes) -> None:
        if self._broken is not None:
            return
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            self._broke(exc)

    def _write_blob(self, blob: _Blob) -> None:
        try:
            if not blob.done.set_running_or_notify_cancel():
                return  # cancelled before we got to it
            if not (self._sock is not None and self._write_attached(blob)):
                self._write(blob.prefix)
                for chunk in iter_base64(blob.parts):
                    if self._broken is not None:
                        break
                    self._write(chunk)
                self._write(blob.suffix)
            if self._broken is None:
                blob.done.set_result(None)
            else:
                blob.done.set_exception(self._broken)
        except Exception as exc:  # e.g. a part that is not a contiguous buffer
            log.error("BLOB not sent", exc_info=exc)
            self._broke(OSError(f"BLOB encoding failed mid-message: {exc}"))
            blob.done.set_exception(exc)
        finally:
            with self._lock:
                self._blobs_queued -= 1

    def _write_attached(self, blob: _Blob) -> bool:
        """Send `blob` as a shared-memory descriptor; False (nothing sent) to fall back to inline."""
        size = payload_size(blob.parts)
        if size == 0 or self._broken is not None:
            return False  # a state-only BLOB (size 0) stays inline, as libindi does
        spare, self._spare = self._spare, None
        try:
            memfd, allocated = spare if spare else (os.memfd_create(_MEMFD_NAME, os.MFD_CLOEXEC), 0)
        except OSError as exc:
            log.warning("no shared memory for a BLOB (%s); sending it inline", exc)
            return False
        try:
            try:
                _write_parts(memfd, blob.parts)
                if allocated > size:
                    os.ftruncate(memfd, size)  # indiserver sizes the buffer from the file
            except OSError as exc:  # e.g. ENOSPC/ENOMEM in the memfd: nothing sent yet
                log.warning("cannot fill a BLOB's shared memory (%s); sending it inline", exc)
                return False
            message = attached_blob_prefix(blob.prefix, size) + blob.suffix
            assert self._sock is not None
            try:
                sent = self._sock.sendmsg(
                    [message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [memfd]))])
            except OSError as exc:
                self._broke(exc)
                return True
            if sent < len(message):  # the descriptor went with the first byte; finish the text
                self._write(message[sent:])
            return True
        finally:
            os.close(memfd)  # indiserver holds its own reference once sendmsg returned
            if self._queue.empty():
                self._prepare_spare(size)

    def _prepare_spare(self, size: int) -> None:
        """A memfd with `size` bytes already allocated, for the next BLOB.

        A buffer handed to indiserver is never reused (local clients may keep it mapped), so
        each BLOB needs fresh pages; allocating them while the writer is idle takes ~1.5 ms
        per 4 MB off the next frame's path (filling allocated pages: ~0.9 ms, else ~2.5 ms).
        """
        try:
            fd = os.memfd_create(_MEMFD_NAME, os.MFD_CLOEXEC)
        except OSError:
            return
        try:
            os.posix_fallocate(fd, 0, size)
        except OSError:
            os.close(fd)
            return
        self._spare = (fd, size)

    def _broke(self, exc: OSError) -> None:
        if self._broken is None:
            self._broken = exc
            log.error("INDI output closed: %s", exc)
            if self._on_broken is not None:
                self._on_broken(exc)


def _write_parts(fd: int, parts: Sequence[Any]) -> None:
    """Write every part to `fd` in order (writev, resumed after a short write)."""
    views = [memoryview(p).cast("B") for p in parts]
    views = [v for v in views if len(v)]
    while views:
        n = os.writev(fd, views[:_IOV_MAX])
        while views and n >= len(views[0]):
            n -= len(views[0])
            views.pop(0)
        if views and n:
            views[0] = views[0][n:]


_IOV_MAX = 512
