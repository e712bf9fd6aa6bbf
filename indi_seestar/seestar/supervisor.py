"""Supervisor: opens the control session, keeps it alive, and re-establishes it after a drop.

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
Establishing a session = UDP intro probe -> TCP connect -> first contact (verification,
login when needed, device state, verify policy) -> master claim -> driver settings ->
the owner's `on_ready` hook. The same sequence runs on every reconnect, after an exponential
backoff with jitter. A login problem (no key, key refused) is not retried: the state goes to
FAILED and callers get a typed error at once. Requests made while reconnecting wait for
the session within their own timeout.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from ..config import SeestarConfig
from ..errors import (
    AuthenticationFailed,
    ConfigError,
    ConnectionLost,
    IndiSeestarError,
    LoginRequired,
    RequestTimeout,
)
from ..protocol import builders_session
from ..protocol.auth import load_private_key
from ..protocol.codes import ErrorCode, describe
from ..protocol.firmware import supported_settings
from ..protocol.methods import Call
from ..protocol.rpc import Event, Reply
from .backoff import Backoff
from .connection import ConnectionState, RpcConnection
from .discover import send_intro
from .login import KEY_FILE_SETTING, Contact, first_contact
from .timeouts import Timeouts

log = logging.getLogger(__name__)

#: Errors that retrying cannot fix: the session goes to FAILED.
_FATAL = (LoginRequired, AuthenticationFailed, ConfigError)
#: fw 6.70/7.06 refused `master_cli` in the recordings (210, or 109 with the verify key inside).
_SETUP_REFUSALS = frozenset({ErrorCode.NOT_SUPPORTED, ErrorCode.UNEXPECTED_PARAM})

Caller = Callable[[Call, float], Awaitable[Reply]]
ReadyHook = Callable[[Caller, Contact], Awaitable[None]]


class Supervisor:
    """Owns the control session: first connect, heartbeat, reconnect with backoff."""

    def __init__(self, config: SeestarConfig, timeouts: Timeouts, *,
                 on_event: Callable[[Event], None], on_ready: ReadyHook,
                 on_lost: Callable[[ConnectionLost], None],
                 on_state: Callable[[ConnectionState], None],
                 rng: random.Random | None = None) -> None:
        self._config, self._t = config, timeouts
        self._on_event, self._on_ready, self._on_lost, self._on_state = (
            on_event, on_ready, on_lost, on_state)
        self._backoff = Backoff(timeouts.reconnect_initial_s, timeouts.reconnect_max_s,
                                timeouts.reconnect_factor, timeouts.reconnect_jitter, rng)
        self._key: rsa.RSAPrivateKey | None = None
        self._conn: RpcConnection | None = None
        self._state = ConnectionState.DISCONNECTED
        self._ready = asyncio.Event()  # set when READY, FAILED or CLOSED: callers re-check state
        self._fatal: IndiSeestarError | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.contact: Contact | None = None
        #: Completed reconnects, and how long the last one took from drop to READY (seconds).
        self.reconnects = 0
        self.last_reconnect_s: float | None = None

    @property
    def state(self) -> ConnectionState:
        """Where the session is in its life cycle."""
        return self._state

    @property
    def connection(self) -> RpcConnection | None:
        """The live session, if READY."""
        return self._conn if self._state is ConnectionState.READY else None

    async def start(self) -> Contact:
        """First connect, no retry (again after a failure); ConnectFailed, LoginRequired..."""
        if self._state not in (ConnectionState.DISCONNECTED, ConnectionState.FAILED):
            raise RuntimeError(f"supervisor already started ({self._state.value})")
        self._fatal = None
        self._key = await self._load_key()
        try:
            return await self._establish(first=True)
        except BaseException as exc:
            self._set_state(ConnectionState.FAILED if isinstance(exc, _FATAL)
                            else ConnectionState.DISCONNECTED)
            raise

    async def close(self) -> None:
        """End the session and every background task; pending requests fail with ConnectionLost."""
        if self._state is ConnectionState.CLOSED:
            return
        self._set_state(ConnectionState.CLOSED)
        self._ready.set()
        for task in tuple(self._tasks):
            task.cancel()
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def call(self, call: Call, timeout_s: float) -> Reply:
        """Send on the live session (waiting for a reconnect within `timeout_s`); any reply code."""
        try:
            async with asyncio.timeout(timeout_s):
                conn = await self._wait_connection(str(call.method))
                return await conn.call(call, timeout_s)
        except RequestTimeout:
            raise
        except TimeoutError:
            if self._conn is None:
                raise ConnectionLost(f"{call.method}: the Seestar did not reconnect within "
                                     f"{timeout_s:g} s", may_have_run=False) from None
            raise RequestTimeout(str(call.method), timeout_s) from None

    async def wait_ready(self, timeout_s: float) -> None:
        """Return once READY; ConnectionLost if closed/failed or not READY within `timeout_s`."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._wait_connection("wait_ready")
        except TimeoutError:
            raise ConnectionLost(f"not connected within {timeout_s:g} s") from None

    async def _wait_connection(self, what: str) -> RpcConnection:
        while True:
            if self._state is ConnectionState.CLOSED:
                raise ConnectionLost(f"{what}: the client is closed", may_have_run=False)
            if self._state is ConnectionState.FAILED:
                raise ConnectionLost(f"{what}: the Seestar session failed: {self._fatal}",
                                     may_have_run=False)
            if self._state is ConnectionState.DISCONNECTED:
                raise ConnectionLost(f"{what}: not connected (connect() first)", may_have_run=False)
            if self._state is ConnectionState.READY and self._conn is not None:
                return self._conn
            await self._ready.wait()

    async def _load_key(self) -> rsa.RSAPrivateKey | None:
        path = self._config.key_file
        if not path:
            return None
        try:
            pem = await asyncio.to_thread(Path(path).expanduser().read_bytes)
        except OSError as exc:
            raise ConfigError(f"cannot read the login key: {exc.strerror or exc}", path=path,
                              key=KEY_FILE_SETTING) from exc
        try:
            return load_private_key(pem, source=path)
        except ConfigError as exc:  # name the setting as well as the file
            raise ConfigError(exc.reason, path=path, key=KEY_FILE_SETTING) from None

    async def _establish(self, *, first: bool) -> Contact:
        cfg = self._config
        if first:
            self._set_state(ConnectionState.CONNECTING)
        await send_intro(cfg.host, cfg.discovery_port, cfg.client_name)
        conn = await RpcConnection.open(cfg.host, cfg.control_port, timeout_s=self._t.connect_s,
                                        on_event=self._on_event, on_lost=self._conn_lost)
        keepalive = asyncio.ensure_future(self._keep_alive(conn))
        keepalive.set_name("seestar-keepalive")
        try:
            if first:
                self._set_state(ConnectionState.LOGGING_IN)
            contact = await first_contact(conn, self._key, self._t)
            await self._setup(conn, contact)
            await self._on_ready(conn.call, contact)
        except BaseException:
            await conn.close()
            raise
        finally:
            keepalive.cancel()
            await asyncio.gather(keepalive, return_exceptions=True)
        if not conn.is_open:
            raise ConnectionLost("the session dropped while it was being set up")
        self._conn, self.contact = conn, contact
        self._spawn(self._heartbeat_loop(conn), "seestar-heartbeat")
        self._set_state(ConnectionState.READY)
        return contact

    async def _keep_alive(self, conn: RpcConnection) -> None:
        """While a session is set up (login waits, slow replies): a heartbeat each period, no
        reply awaited, so that the scope's idle limit (~16 s, fw 7.75+) never closes it."""
        period_s = self._t.heartbeat_period_s(self._config.time_factor)
        while conn.is_open:
            await asyncio.sleep(period_s)  # a period, not a wait for a condition
            conn.send_only(builders_session.test_connection())

    async def _setup(self, conn: RpcConnection, contact: Contact) -> None:
        """Master claim and driver settings; refusals are logged, never fatal."""
        steps = (("master claim", builders_session.claim_master(self._config.client_name)),
                 ("driver settings", builders_session.driver_control_settings()))
        for what, call in steps:
            if isinstance(call.params, dict):  # keys this firmware lacks are never sent
                params, dropped = supported_settings(contact.device.firmware_ver_int, call.params)
                if dropped:
                    log.info("%s: firmware %d lacks %s; not sent", what,
                             contact.device.firmware_ver_int, ", ".join(dropped))
                call = Call(call.method, params)
            try:
                reply = await conn.call(call, self._t.setup_s)
            except RequestTimeout as exc:
                log.warning("%s unanswered: %s", what, exc)
                continue
            if reply.code in _SETUP_REFUSALS:
                # The recorded firmware refused this with the verify key inside the object;
                # we send it without. If it is still refused, guest mode decides who controls.
                log.info("%s refused by the firmware (code %d: %s)", what, reply.code,
                         reply.error or describe(reply.code))
            elif not reply.ok:
                log.warning("%s failed (code %d: %s)", what, reply.code, reply.error)

    async def _heartbeat_loop(self, conn: RpcConnection) -> None:
        """`test_connection` once per period; N misses in a row (and no other reply) = dead.

        Sends are scheduled by period, not after the previous wait, so a silent death is
        noticed within about interval x misses + reply timeout (~11 s with the defaults).
        """
        t = self._t
        period_s = t.heartbeat_period_s(self._config.time_factor)  # fw 7.75+ drops idle links
        loop = asyncio.get_running_loop()
        misses = 0
        due = loop.time() + period_s
        while conn.is_open:
            await asyncio.sleep(max(0.0, due - loop.time()))  # a period, not a wait for a condition
            due = loop.time() + period_s
            sent_at = time.monotonic()
            try:
                await conn.call(builders_session.test_connection(), t.heartbeat_reply_s)
                misses = 0
                continue
            except ConnectionLost:
                return
            except RequestTimeout:
                if conn.last_reply_monotonic_s >= sent_at:
                    misses = 0  # the scope answers other requests: busy, not dead
                    continue
                misses += 1
            if misses >= t.heartbeat_misses:
                reason = f"{misses} heartbeats unanswered"
                if conn.last_event_monotonic_s > conn.last_reply_monotonic_s:
                    reason += "; events still arrive, so replies are withheld (login lost? §10 quirk 3)"
                conn.abort(reason)
                return

    def _conn_lost(self, conn: RpcConnection, exc: ConnectionLost) -> None:
        if conn is not self._conn or self._state is ConnectionState.CLOSED:
            return  # a session still being set up, or one we closed ourselves
        self._conn = None
        self._ready.clear()
        self._set_state(ConnectionState.RECONNECTING)
        try:
            self._on_lost(exc)
        finally:
            self._spawn(self._reconnect_loop(time.monotonic()), "seestar-reconnect")

    async def _reconnect_loop(self, dropped_at: float) -> None:
        while self._state is ConnectionState.RECONNECTING:
            delay = self._backoff.next_delay_s()
            log.info("reconnecting to the Seestar in %.2f s (attempt %d)", delay,
                     self._backoff.attempts)
            await asyncio.sleep(delay)  # backoff delay, not a wait for a condition
            try:
                await self._establish(first=False)
            except _FATAL as exc:
                log.error("giving up reconnecting: %s", exc)
                self._fatal = exc
                self._set_state(ConnectionState.FAILED)
                return
            except (IndiSeestarError, OSError) as exc:
                log.warning("reconnect attempt failed: %s", exc)
                continue
            self._backoff.reset()
            self.reconnects += 1
            self.last_reconnect_s = time.monotonic() - dropped_at
            log.info("reconnected to the Seestar in %.2f s", self.last_reconnect_s)
            return

    def _spawn(self, coro: Awaitable[None], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s crashed", task.get_name(), exc_info=task.exception())

    def _set_state(self, state: ConnectionState) -> None:
        if state is self._state:
            return
        self._state = state
        if state in (ConnectionState.READY, ConnectionState.FAILED, ConnectionState.CLOSED):
            self._ready.set()
        log.debug("control session: %s", state.value)
        try:
            self._on_state(state)
        except Exception:
            log.exception("connection-state listener failed")
