"""The one Seestar session shared by the four INDI devices of a driver process.

Layer: devices. The first device to CONNECT opens it, the last to DISCONNECT closes it; each
device's CONNECTION reflects it. The address comes from the configuration or from a client's
DEVICE_ADDRESS; the host `simulator` asks the injected factory for a built-in fake Seestar.
Failures become typed errors whose text tells the user what to do (devices/advice.py). Opening
a real Seestar first claims it through the injected `claim_scope` (one scope, one session across
processes: cli.py injects instances.ScopeLocks), released when the session closes; the built-in
fake needs no claim. A session that cannot be resumed (login refused, or no reconnect within
`seestar.reconnect_give_up_s`) is closed and every device is told.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import Any, Protocol

from ..config import SIMULATOR_HOST, Config, SeestarConfig
from ..errors import ConfigError, ConnectFailed, ConnectionLost, IndiSeestarError, NotMaster
from ..seestar.client import SeestarClient
from ..seestar.connection import ConnectionState
from ..seestar.state import ScopeState
from . import advice
from .alpaca_paths import AlpacaPaths
from .scope_claim import ScopeClaim, ScopeClaims
from .session_sim import BuiltInSimulator, SimulatorFactory

log = logging.getLogger(__name__)

#: Opening the session: TCP connect, login and the first state poll (the engine's own
#: per-step timeouts apply inside); a guard so a CONNECT never stays Busy forever.
OPEN_TIMEOUT_S = 60.0


class SessionListener(Protocol):
    """A connected device: told about reconnects and about a session lost for good."""

    def on_session_lost(self, reason: str) -> None: ...

    def on_session_notice(self, text: str, level: str) -> None: ...

    def on_link(self, up: bool) -> None: ...


class SeestarSession:
    """Opens, shares and closes the driver's single SeestarClient."""

    def __init__(self, config: Config, *, simulator_factory: SimulatorFactory | None = None,
                 config_error: ConfigError | None = None,
                 reload_config: Callable[[], Config] | None = None,
                 config_file: str = "the configuration file",
                 claim_scope: ScopeClaim | None = None,
                 scope_holder: Callable[[str], str | None] | None = None) -> None:
        self._config = config
        self._claims = ScopeClaims(claim_scope, scope_holder)
        self._simulator = BuiltInSimulator(simulator_factory)
        self._config_error = config_error
        self._reload_config = reload_config
        self._config_file = config_file
        self._host = config.seestar.host
        self._control_port = config.seestar.control_port
        self._address_from_client = False
        self._saved_address_s: float | None = None
        self._client: SeestarClient | None = None
        self._opening: asyncio.Task[SeestarClient] | None = None
        self._waiting = 0
        self._users: set[str] = set()
        self._listeners: dict[str, SessionListener] = {}
        self._unsubscribe: list[Callable[[], None]] = []
        self._address_listeners: list[Callable[[str, int], None]] = []
        self._open_listeners: list[Callable[[SeestarClient | None], None]] = []
        self._give_up: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._was_master: bool | None = None
        self.sessions_opened = 0
        #: The driver's devices by role (mount, camera, focuser, wheel), for cross-device reads
        #: such as the camera's FITS keywords; set once by cli.py.
        self.peers: dict[str, Any] = {}
        #: The scope's own Alpaca server as a second path (issue 14), found at each open.
        self.alpaca = AlpacaPaths(self._notify)

    # --- address ------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        """(host, control port) used by the next open; host `simulator` = built-in fake."""
        return self._host, self._control_port

    def set_address(self, host: str, control_port: int) -> None:
        """Use another address from the next open on (DEVICE_ADDRESS); tell every device."""
        self._host, self._control_port = host.strip() or SIMULATOR_HOST, control_port
        self._address_from_client = True
        for callback in list(self._address_listeners):
            callback(self._host, self._control_port)

    def offer_saved_address(self, host: str, control_port: int, saved_at_s: float) -> bool:
        """A DEVICE_ADDRESS saved by one device at epoch `saved_at_s`; the newest save wins."""
        if self._saved_address_s is not None and saved_at_s < self._saved_address_s:
            return False
        self._saved_address_s = saved_at_s
        self.set_address(host, control_port)
        return True

    def on_address_change(self, callback: Callable[[str, int], None]) -> None:
        """`callback(host, control_port)` after every set_address (mirrors DEVICE_ADDRESS)."""
        self._address_listeners.append(callback)

    def on_open_change(self, callback: Callable[[SeestarClient | None], None]) -> None:
        """`callback(client)` when a session opens, `callback(None)` when it closes."""
        self._open_listeners.append(callback)

    def _tell_open(self, client: SeestarClient | None) -> None:
        for callback in list(self._open_listeners):
            try:
                callback(client)
            except Exception:  # one device's bug must not break the session
                log.exception("session open listener failed")

    def register(self, **devices: Any) -> None:
        """Record the driver's devices by role."""
        self.peers.update(devices)

    @property
    def client(self) -> SeestarClient | None:
        """The open client, or None."""
        return self._client

    @property
    def config(self) -> Config:
        """The driver's configuration."""
        return self._config

    # --- sharing ------------------------------------------------------------------------

    def listen(self, device_name: str, listener: SessionListener) -> None:
        """Tell `listener` about reconnects and a session lost for good (until it releases)."""
        self._listeners[device_name] = listener

    async def acquire(self, device_name: str) -> SeestarClient:
        """The shared client, opening the session if no device holds it; typed errors on failure."""
        if self._config_error is not None:
            self._retry_config()
        if self._client is None:
            if self._opening is None:
                self._opening = asyncio.ensure_future(self._open())
            opening = self._opening
            self._waiting += 1
            try:
                await asyncio.shield(opening)
            except asyncio.CancelledError:
                me = asyncio.current_task()
                if me is None or me.cancelling():  # this device stopped waiting
                    if not opening.done():
                        self._spawn(self._close_if_unused(opening))
                    raise
                raise ConnectionLost("the Seestar session was closed while it was being opened") \
                    from None
            finally:
                self._waiting -= 1
                if opening.done() and self._opening is opening:
                    self._opening = None
        assert self._client is not None
        self._users.add(device_name)
        return self._client

    async def release(self, device_name: str) -> None:
        """Drop `device_name`'s hold; the last one out closes the session."""
        self._users.discard(device_name)
        self._listeners.pop(device_name, None)
        if not self._users and not self._waiting:
            await self.close()

    async def close(self) -> None:
        """Close the client and any built-in fake, whoever holds them."""
        self._users.clear()
        self._cancel_give_up()
        opening, self._opening = self._opening, None
        if opening is not None and not opening.done():
            opening.cancel()
        client, self._client = self._client, None
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self.alpaca.close()
        if client is not None:
            self._tell_open(None)
            await client.close()
            log.info("Seestar session closed")
        self._simulator.stop()
        self._claims.release()

    # --- internals ----------------------------------------------------------------------

    def _retry_config(self) -> None:
        """Re-read a configuration that failed to load; raise the (explained) error if still bad."""
        error = self._config_error
        if self._reload_config is not None:
            try:
                config = self._reload_config()
            except ConfigError as exc:
                error = exc
            else:
                log.info("configuration fixed; using it from now on")
                self._config, self._config_error = config, None
                if not self._address_from_client:
                    self._host, self._control_port = config.seestar.host, config.seestar.control_port
                return
        assert error is not None
        raise advice.explain(error, self._host, self._control_port, self._config_file)

    def _seestar_config(self) -> SeestarConfig:
        base = dataclasses.replace(self._config.seestar, host=self._host,
                                   control_port=self._control_port)
        return self._simulator.config_for(base) if self._host == SIMULATOR_HOST else base

    async def held_elsewhere(self, host: str, control_port: int) -> str | None:
        """Who else (another process) drives the Seestar at host:port, or None."""
        return await self._claims.held_elsewhere(host, control_port)

    async def _open(self) -> SeestarClient:
        cfg = await asyncio.to_thread(self._seestar_config)
        try:
            if self._host != SIMULATOR_HOST:  # the built-in fake needs no claim
                await self._claims.claim_address(cfg.host, cfg.control_port)
        except BaseException:
            self._simulator.stop()
            raise
        client = SeestarClient(cfg)
        try:
            async with asyncio.timeout(OPEN_TIMEOUT_S):
                await client.connect()
                await self._check_master(client)
            if self._host != SIMULATOR_HOST:
                await self._claims.claim_serial(client.state.serial,
                                                f"{self._host}:{self._control_port}")
        except BaseException as exc:
            await client.close()
            self._simulator.stop()
            self._claims.release()
            if isinstance(exc, TimeoutError) and not isinstance(exc, IndiSeestarError):
                raise advice.explain(
                    ConnectFailed(cfg.host, cfg.control_port,
                                  f"no answer within {OPEN_TIMEOUT_S:g} s"),
                    cfg.host, cfg.control_port, self._config_file) from exc
            if isinstance(exc, IndiSeestarError):
                raise advice.explain(exc, cfg.host, cfg.control_port, self._config_file) from exc
            raise
        await self.alpaca.open(cfg)
        self._client = client
        self.sessions_opened += 1
        self._was_master = client.state.is_master
        self._unsubscribe = [client.on_connection_state(self._on_connection_state),
                             client.on_state_change(self._on_scope_state)]
        log.info("Seestar session open: %s firmware %s at %s:%d", client.state.model,
                 client.state.firmware, cfg.host, cfg.control_port)
        self._tell_open(client)
        return client

    @staticmethod
    async def _check_master(client: SeestarClient) -> None:
        """Refuse a scope another client (the phone app) controls: our commands would be ignored.

        The snapshot taken at login predates our master claim, so a `False` is checked again
        with a fresh poll. `None` (firmware without guest mode, or no other client) is fine.
        """
        if client.state.is_master is not False:
            return
        if (await client.refresh()).is_master is False:
            raise NotMaster(advice.NOT_MASTER_REASON)

    async def _close_if_unused(self, opening: asyncio.Task[SeestarClient]) -> None:
        """Every device gave up waiting for the open: close the session it produced."""
        try:
            await asyncio.shield(opening)
        except (IndiSeestarError, asyncio.CancelledError):
            return
        if not self._users and not self._waiting and self._client is not None:
            log.info("no device waits for the Seestar session any more; closing it")
            await self.close()

    def _on_connection_state(self, state: ConnectionState) -> None:
        host, port = self._host, self._control_port
        if state is ConnectionState.RECONNECTING:
            give_up_s = self._config.seestar.reconnect_give_up_s
            log.warning("Seestar connection lost; reconnecting (giving up after %g s)", give_up_s)
            self._notify(f"lost the connection to the Seestar at {advice.where(host, port)}; "
                         f"reconnecting (giving up after {give_up_s:g} s)", "WARNING")
            if self._give_up is None:
                self._give_up = asyncio.get_running_loop().call_later(
                    give_up_s, self._lose, advice.lost_for_good(host, port, give_up_s))
            self._tell_link(False)
        elif state is ConnectionState.READY and self._give_up is not None:
            self._cancel_give_up()
            self._notify("reconnected to the Seestar", "INFO")
            self._tell_link(True)
        elif state is ConnectionState.FAILED:
            self._lose(advice.lost_for_good(host, port, None))

    def _on_scope_state(self, state: ScopeState) -> None:
        if self._was_master and state.is_master is False:
            self._notify("another client (the Seestar app?) took control of the Seestar; "
                         "commands may be refused until it hands control back", "WARNING")
        self._was_master = state.is_master

    def _lose(self, reason: str) -> None:
        """The session cannot be resumed: close it, then disconnect every device with `reason`."""
        self._cancel_give_up()
        if self._client is None:
            return
        log.error("%s", reason)
        listeners = list(self._listeners.values())

        async def lose() -> None:
            await self.close()
            for listener in listeners:
                listener.on_session_lost(reason)

        self._spawn(lose())

    def _tell_link(self, up: bool) -> None:
        """Every device: the link dropped (False) or is back with the snapshot re-read (True)."""
        for listener in list(self._listeners.values()):
            listener.on_link(up)

    def _notify(self, text: str, level: str) -> None:
        for listener in list(self._listeners.values()):
            listener.on_session_notice(text, level)

    def _cancel_give_up(self) -> None:
        if self._give_up is not None:
            self._give_up.cancel()
            self._give_up = None

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("session task failed", exc_info=task.exception())
