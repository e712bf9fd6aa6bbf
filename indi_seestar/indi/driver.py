"""The INDI driver loop: stdin reader thread, one writer thread, routing (layer indi/).

stdin: a thread does blocking `os.read(fd, 65536)` (fd 0 is never made non-blocking, see
shared/reference/indi-standard.md §1.9), decodes, and hands messages to the asyncio loop with
call_soon_threadsafe. stdout: writer.Writer. `run()` returns promptly once stdin reaches EOF
(indiserver gone); both threads are daemons, so returning from `asyncio.run()` ends the process
without os._exit even if a write is blocked. Must not import protocol/, seestar/, devices/ or sim/.

Bounded output under a flood of input (a client sending thousands of getProperties):
* The reader hands one read's messages to the loop and waits until they are dispatched, and it
  reads no more while over MAX_BACKLOG_BYTES of XML wait for the writer. indiserver never blocks
  on a driver (it queues what the driver has not read), so this cannot deadlock it.
* A getProperties is answered by broadcast: indiserver copies a driver's def* to every client
  interested in the device, and it registered the asking client before forwarding the request.
  So an answer (per device, for all its properties or one) still waiting in the writer's queue,
  not yet started, also answers an identical request read after it was queued, and that
  request is not answered again. At most one unstarted answer per (device, property or all)
  waits, and another client's getProperties waits behind at most those, not behind the flood.
* A device's whole definition begins at most ANSWER_BURST times in any ANSWER_WINDOW_S: a
  request past that is answered once the oldest of those leaves the window, and identical
  requests meanwhile are covered by that answer (their clients are registered by then, as
  above). The burst lets indiserver's own request at start-up and a first client's through.
  indiserver 1.9.9 reads a client 8 bytes at a time (`read(fd, buf, sizeof(buf))` on a
  pointer), so a flood reaches us one request per read; answering each made ~1 answer of ~47 KB
  per 2.5 requests, and indiserver, writing one message per client per loop turn, spent seconds
  of CPU on its swollen queues while another client's request waited (measured with strace,
  2026-12-02). A request for one property is answered at once: its answer is small.
Together: the writer's queue holds at most MAX_BACKLOG_BYTES plus what one read of
READ_BYTES of input produces, in which getProperties answers count at most once per key.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import threading
from collections.abc import Sequence

from indi_seestar.indi import encode
from indi_seestar.indi.device import Device
from indi_seestar.indi.wire import (
    GetProperties,
    Malformed,
    Message,
    NewVector,
    PingRequest,
    Snooped,
    XmlStreamDecoder,
)
from indi_seestar.indi.writer import Mark, Writer, can_attach_blobs

READ_BYTES = 65536
#: Input is not read while more XML than this waits for the writer (backpressure; see below).
MAX_BACKLOG_BYTES = 1024 * 1024
BLOB_INLINE, BLOB_ATTACHED, BLOB_AUTO = "inline", "attached", "auto"
BLOB_TRANSPORTS = (BLOB_INLINE, BLOB_ATTACHED, BLOB_AUTO)
SHUTDOWN_TIMEOUT_S = 0.5  # devices' on_disconnect at EOF; indiserver is gone, keep exit prompt
WRITER_JOIN_TIMEOUT_S = 0.2  # flush what is queued, but never hang on a dead socket
#: A device's whole definition begins at most ANSWER_BURST times in any ANSWER_WINDOW_S (see
#: above): ten a second at most under a flood; a client asking past that waits < the window.
ANSWER_BURST = 3
ANSWER_WINDOW_S = 0.3

log = logging.getLogger(__name__)


class Driver:
    """One INDI driver process serving several devices over stdin/stdout."""

    def __init__(self, devices: Sequence[Device], *, input_fd: int = 0, output_fd: int = 1,
                 blob_transport: str = BLOB_INLINE) -> None:
        """`blob_transport`: "inline" (base64 in the XML), "attached" (shared memory over an
        AF_UNIX socket, see writer.py) or "auto" (attached when `output_fd` allows it)."""
        self.devices = {d.name: d for d in devices}
        if len(self.devices) != len(devices):
            raise ValueError("device names must be unique")
        if blob_transport not in BLOB_TRANSPORTS:
            raise ValueError(f"blob_transport must be one of {', '.join(BLOB_TRANSPORTS)}")
        attach = blob_transport == BLOB_ATTACHED or (
            blob_transport == BLOB_AUTO and can_attach_blobs(output_fd))
        self._input_fd = input_fd
        #: getProperties answers queued in the writer, by (device, property name or None).
        self._answers: dict[tuple[str, str | None], Mark] = {}
        #: getProperties answered while one read's messages are dispatched (None between reads):
        #: indiserver registered each of their clients before passing the request on, so one
        #: answer serves them all, whatever the writer thread has begun meanwhile.
        self._batch_answered: set[tuple[str, str | None]] | None = None
        #: When each device's last ANSWER_BURST whole definitions were queued (loop time), and
        #: the timers of whole definitions put off until the oldest leaves ANSWER_WINDOW_S.
        self._whole_answered_at: dict[str, collections.deque[float]] = {}
        self._whole_deferred: dict[str, asyncio.TimerHandle] = {}
        #: Per device: getProperties answered, and covered by an answer already queued or due.
        self.get_properties_answered = 0
        self.get_properties_coalesced = 0
        self.get_properties_deferred = 0  # whole definitions put off (ANSWER_BURST)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._eof: asyncio.Event | None = None
        self.writer = Writer(output_fd, on_broken=lambda _exc: self._signal_eof(),
                             attach_blobs=attach)
        for device in self.devices.values():
            device.attach(self.writer)  # init_properties(); output waits in the queue until run()

    async def run(self) -> None:
        """Serve until stdin reaches EOF (or the output breaks), then shut the devices down."""
        self._loop = asyncio.get_running_loop()
        self._eof = asyncio.Event()
        self.writer.start()
        reader = threading.Thread(target=self._read_loop, name="indi-reader", daemon=True)
        reader.start()
        try:
            await self._eof.wait()
            log.info("INDI input closed; shutting down")
        finally:
            for timer in self._whole_deferred.values():
                timer.cancel()
            await asyncio.gather(*(d.shutdown(SHUTDOWN_TIMEOUT_S) for d in self.devices.values()))
            self.writer.close(WRITER_JOIN_TIMEOUT_S)

    def dispatch(self, message: Message) -> None:
        """Route one decoded message to the device(s) it concerns (runs on the loop)."""
        if isinstance(message, GetProperties):
            targets = (
                self.devices.values()
                if message.device is None
                else [d for d in (self.devices.get(message.device),) if d is not None]
            )
            for device in targets:
                self._answer_get_properties(device, message.name)
        elif isinstance(message, NewVector):
            device = self.devices.get(message.device)
            if device is None:
                log.debug(
                    "new%sVector for unknown device %r ignored", message.kind.value, message.device
                )
            else:
                device.handle_new(message)
        elif isinstance(message, PingRequest):
            self.writer.send(encode.ping_reply(message.uid))
        elif isinstance(message, Snooped):
            for device in self.devices.values():
                device.on_snooped(message)
        elif isinstance(message, Malformed):
            log.warning("malformed INDI input skipped: %s", message.reason)
        else:
            log.debug("ignored %r", message)

    def _answer_get_properties(self, device: Device, name: str | None) -> None:
        """Define `device`'s properties unless an answer queued or due already covers it."""
        batch = self._batch_answered
        for key in ((device.name, None), (device.name, name)):
            queued = self._answers.get(key)
            if (batch is not None and key in batch) or (queued is not None and not queued.started):
                self.get_properties_coalesced += 1
                return
        if name is None and self._loop is not None:
            if device.name in self._whole_deferred:
                self.get_properties_coalesced += 1
                return
            times = self._whole_answered_at.setdefault(
                device.name, collections.deque(maxlen=ANSWER_BURST))
            if len(times) == ANSWER_BURST and self._loop.time() < times[0] + ANSWER_WINDOW_S:
                self._whole_deferred[device.name] = self._loop.call_at(
                    times[0] + ANSWER_WINDOW_S, self._answer_deferred, device)
                self.get_properties_deferred += 1
                self.get_properties_coalesced += 1
                return
            times.append(self._loop.time())
        self._queue_answer(device, name)

    def _answer_deferred(self, device: Device) -> None:
        """The whole definition put off by _answer_get_properties, now due."""
        del self._whole_deferred[device.name]
        if self._loop is not None:
            self._whole_answered_at[device.name].append(self._loop.time())
        self._queue_answer(device, None)

    def _queue_answer(self, device: Device, name: str | None) -> None:
        """Queue `device`'s definitions (all, or property `name`) behind a Mark."""
        batch = self._batch_answered
        mark = self.writer.mark()
        self.get_properties_answered += 1
        if batch is not None:
            batch.add((device.name, name))
        if device.handle_get_properties(name):
            self._answers[(device.name, name)] = mark  # keys: live property names or None

    def _dispatch_all(self, messages: list[Message], done: threading.Event | None = None) -> None:
        self._batch_answered = set()
        try:
            for message in messages:
                try:
                    self.dispatch(message)
                except Exception:  # a bug in one handler must not end the driver
                    log.exception("handling %s failed", type(message).__name__)
        finally:
            self._batch_answered = None
            if done is not None:
                done.set()

    def _read_loop(self) -> None:
        decoder = XmlStreamDecoder()
        try:
            while True:
                self.writer.wait_backlog_below(MAX_BACKLOG_BYTES)
                try:
                    data = os.read(self._input_fd, READ_BYTES)
                except OSError as exc:
                    log.error("INDI input failed: %s", exc)
                    return
                if not data:
                    return
                messages = decoder.feed(data)
                if messages:
                    dispatched = threading.Event()
                    if self._call_on_loop(self._dispatch_all, messages, dispatched):
                        dispatched.wait()  # one read's messages at a time on the loop
        finally:
            self._signal_eof()

    def _signal_eof(self) -> None:
        if self._eof is not None:
            self._call_on_loop(self._eof.set)

    def _call_on_loop(self, fn, *args) -> bool:
        loop = self._loop
        if loop is None:
            return False
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop is already closed: the process is ending
            return False
        return True
