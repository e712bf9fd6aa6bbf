"""RpcConnection: one TCP session on the control port (4700) with one reader task.

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
Requests get ids from 100000 upward (never colliding with the small ids used on 4800, §10
quirk 6); each request registers its future before writing and pops it in `finally`.
When the socket drops, every pending request fails at once with ConnectionLost; the first
fatal error wins. Events go to one callback (the EventHub), unknown names included;
malformed lines are logged and skipped.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import json
import logging
import time
from collections.abc import Callable

from ..errors import ConnectFailed, ConnectionLost, RequestTimeout
from ..protocol.methods import Call
from ..protocol.rpc import (
    Event,
    Malformed,
    Reply,
    Request,
    RpcDecoder,
    VerifyPolicy,
    encode_request,
)
from .redact import redact

log = logging.getLogger(__name__)

#: First request id on the control port (SRS's choice; far from the 4800 ids 2..24).
FIRST_REQUEST_ID = 100_000
_READ_CHUNK = 65536


class ConnectionState(enum.Enum):
    """Life cycle of the client's control session, as listeners see it."""

    DISCONNECTED = "disconnected"  # never connected, or cleanly not yet started
    CONNECTING = "connecting"  # TCP connect in progress
    LOGGING_IN = "logging_in"  # first contact: verification, login, device state, settings
    READY = "ready"  # requests can be sent
    RECONNECTING = "reconnecting"  # the session dropped; backing off and retrying
    FAILED = "failed"  # gave up for a reason retrying cannot fix (login key missing/refused)
    CLOSED = "closed"  # close() was called


LostCallback = Callable[["RpcConnection", ConnectionLost], None]


class RpcConnection:
    """One control session: `call()` sends a request and awaits the reply with the same id."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                 on_event: Callable[[Event], None], on_lost: LostCallback,
                 label: str = "4700") -> None:
        self._reader, self._writer = reader, writer
        self._on_event, self._on_lost = on_event, on_lost
        self._label = label
        self._decoder = RpcDecoder()
        self._ids = itertools.count(FIRST_REQUEST_ID)
        self._pending: dict[int, asyncio.Future[Reply]] = {}
        self._lost: ConnectionLost | None = None
        self._task: asyncio.Task[None] | None = None
        #: Verify-marker placement; set from firmware_ver_int once known.
        self.policy = VerifyPolicy.MARKER
        self.last_reply_monotonic_s = 0.0
        self.last_event_monotonic_s = 0.0
        self.opened_monotonic_s = time.monotonic()

    @classmethod
    async def open(cls, host: str, port: int, *, timeout_s: float,
                   on_event: Callable[[Event], None], on_lost: LostCallback) -> RpcConnection:
        """Connect and start the reader; ConnectFailed when no TCP session opens in time."""
        try:
            async with asyncio.timeout(timeout_s):
                reader, writer = await asyncio.open_connection(host, port)
        except TimeoutError:
            raise ConnectFailed(host, port, f"no TCP answer within {timeout_s:g} s") from None
        except OSError as exc:
            raise ConnectFailed(host, port, exc.strerror or str(exc)) from exc
        conn = cls(reader, writer, on_event=on_event, on_lost=on_lost, label=f"{host}:{port}")
        conn._task = asyncio.get_running_loop().create_task(conn._read_loop(),
                                                             name=f"seestar-rpc-reader-{port}")
        return conn

    @property
    def is_open(self) -> bool:
        """True until the session dropped or was closed."""
        return self._lost is None

    @property
    def pending_count(self) -> int:
        """Requests awaiting a reply."""
        return len(self._pending)

    async def call(self, call: Call, timeout_s: float, *,
                   policy: VerifyPolicy | None = None) -> Reply:
        """Send `call`, return its reply (any code); RequestTimeout or ConnectionLost otherwise."""
        if self._lost is not None:
            raise ConnectionLost(self._lost.reason, may_have_run=False)
        request_id = next(self._ids)
        data = encode_request(Request(request_id, call.method, call.params),
                              self.policy if policy is None else policy)
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            async with asyncio.timeout(timeout_s):
                log.debug("%s >> %s", self._label, redact(data))
                self._writer.write(data)
                await self._writer.drain()
                return await future
        except TimeoutError:
            raise RequestTimeout(str(call.method), timeout_s) from None
        except OSError as exc:  # write/drain on a dying socket
            self._fail(f"write failed: {exc}")
            raise ConnectionLost(f"{call.method}: write failed: {exc}") from exc
        finally:
            self._pending.pop(request_id, None)

    def send_only(self, call: Call) -> None:
        """Write `call` without waiting for a reply (a keepalive); nothing if the session ended."""
        if self._lost is not None or self._writer.transport.is_closing():
            return
        data = encode_request(Request(next(self._ids), call.method, call.params), self.policy)
        log.debug("%s >> %s", self._label, redact(data))
        self._writer.write(data)

    def abort(self, reason: str) -> None:
        """Drop the session now: pending requests fail with ConnectionLost(reason)."""
        self._fail(reason)

    async def close(self) -> None:
        """Drop the session and wait for the reader to end."""
        self._fail("closed by the client")
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        try:
            await self._writer.wait_closed()
        except (OSError, asyncio.CancelledError):
            pass

    async def _read_loop(self) -> None:
        reason = "closed by the Seestar"
        try:
            while True:
                data = await self._reader.read(_READ_CHUNK)
                if not data:
                    break
                for message in self._decoder.feed(data):
                    self._dispatch(message)
        except asyncio.CancelledError:
            reason = "closed by the client"
            raise
        except OSError as exc:
            reason = f"read failed: {exc}"
        finally:
            self._fail(reason)

    def _dispatch(self, message: Reply | Event | Request | Malformed) -> None:
        now = time.monotonic()
        if isinstance(message, Reply) and log.isEnabledFor(logging.DEBUG):
            log.debug("%s << %s", self._label, redact(json.dumps(message.raw, default=str)))
        if isinstance(message, Reply):
            self.last_reply_monotonic_s = now
            future = self._pending.get(message.id) if isinstance(message.id, int) else None
            if future is not None and not future.done():
                future.set_result(message)
            else:
                log.debug("%s: reply to no pending request (id %r, %s)", self._label,
                          message.id, message.method)
        elif isinstance(message, Event):
            self.last_event_monotonic_s = now
            try:
                self._on_event(message)
            except Exception:  # the reader must survive any consumer bug
                log.exception("event handler failed on %s", message.name)
        elif isinstance(message, Malformed):
            log.warning("%s: skipped malformed line (%s): %s", self._label, message.reason,
                        redact(message.raw, 120))
        else:
            log.debug("%s: ignored a request from the Seestar: %s", self._label, message.method)

    def _fail(self, reason: str) -> None:
        """First fatal error wins: fail pending requests, close the socket, tell the owner once."""
        if self._lost is not None:
            return
        lost = self._lost = ConnectionLost(reason)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionLost(reason))
        transport = self._writer.transport
        if not transport.is_closing():
            transport.abort()
        log.info("%s: control session ended: %s", self._label, reason)
        try:
            self._on_lost(self, lost)
        except Exception:
            log.exception("connection-lost handler failed")
