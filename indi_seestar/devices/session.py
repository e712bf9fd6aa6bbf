"""The one Seestar session shared by the four INDI devices of a driver process.

Layer: devices. The first device to CONNECT opens it, the last to DISCONNECT closes it; each
device's CONNECTION reflects it. The address comes from the configuration or from a client's
DEVICE_ADDRESS; the host `simulator` asks the injected factory for a built-in fake Seestar.
Failures become typed errors whose text tells the user what to do.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..config import SIMULATOR_HOST, Config, SeestarConfig
from ..errors import (
    ConfigError,
    ConnectFailed,
    ConnectionLost,
    IndiSeestarError,
    LoginRequired,
    NotMaster,
    RequestTimeout,
    SeestarError,
)
from ..seestar.client import SeestarClient
from ..seestar.connection import ConnectionState

log = logging.getLogger(__name__)

#: Opening the session: TCP connect, login and the first state poll (the engine's own
#: per-step timeouts apply inside); a guard so a CONNECT never stays Busy forever.
OPEN_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class SimulatorEndpoints:
    """Where a built-in fake Seestar listens, and how to stop it."""

    control_port: int
    image_port: int
    discovery_port: int
    time_factor: float
    stop: Callable[[], None]


class SimulatorFactory(Protocol):
    """Starts a fake Seestar on loopback (injected by cli.py; devices never import sim/)."""

    def __call__(self) -> SimulatorEndpoints: ...


class SessionListener(Protocol):
    """A device that wants to know when the shared session is lost for good."""

    def on_session_lost(self, reason: str) -> None: ...


class SeestarSession:
    """Opens, shares and closes the driver's single SeestarClient."""

    def __init__(self, config: Config, *, simulator_factory: SimulatorFactory | None = None,
                 config_error: ConfigError | None = None) -> None:
        self._config = config
        self._simulator_factory = simulator_factory
        self._config_error = config_error
        self._host = config.seestar.host
        self._control_port = config.seestar.control_port
        self._client: SeestarClient | None = None
        self._opening: asyncio.Task[SeestarClient] | None = None
        self._users: set[str] = set()
        self._listeners: dict[str, SessionListener] = {}
        self._simulator: SimulatorEndpoints | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._address_listeners: list[Callable[[str, int], None]] = []
        self.sessions_opened = 0
        #: The driver's devices by role (mount, camera, focuser, wheel), for cross-device reads
        #: such as the camera's FITS keywords; set once by cli.py.
        self.peers: dict[str, Any] = {}

    # --- address ------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        """(host, control port) used by the next open; host `simulator` = built-in fake."""
        return self._host, self._control_port

    def set_address(self, host: str, control_port: int) -> None:
        """Use another address from the next open on (DEVICE_ADDRESS); tell every device."""
        self._host, self._control_port = host.strip() or SIMULATOR_HOST, control_port
        for callback in list(self._address_listeners):
            callback(self._host, self._control_port)

    def on_address_change(self, callback: Callable[[str, int], None]) -> None:
        """`callback(host, control_port)` after every set_address (mirrors DEVICE_ADDRESS)."""
        self._address_listeners.append(callback)

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
        """Tell `listener` when the session is lost for good (until it releases)."""
        self._listeners[device_name] = listener

    async def acquire(self, device_name: str) -> SeestarClient:
        """The shared client, opening the session if no device holds it; typed errors on failure."""
        if self._config_error is not None:
            raise self._config_error
        if self._client is None:
            if self._opening is None:
                self._opening = asyncio.ensure_future(self._open())
            opening = self._opening
            try:
                await asyncio.shield(opening)
            finally:
                if opening.done() and self._opening is opening:
                    self._opening = None
        assert self._client is not None
        self._users.add(device_name)
        return self._client

    async def release(self, device_name: str) -> None:
        """Drop `device_name`'s hold; the last one out closes the session."""
        self._users.discard(device_name)
        self._listeners.pop(device_name, None)
        if not self._users:
            await self.close()

    async def close(self) -> None:
        """Close the client and any built-in fake, whoever holds them."""
        self._users.clear()
        client, self._client = self._client, None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if client is not None:
            await client.close()
        self._stop_simulator()

    # --- internals ----------------------------------------------------------------------

    def _seestar_config(self) -> SeestarConfig:
        base = dataclasses.replace(self._config.seestar, host=self._host,
                                   control_port=self._control_port)
        if self._host != SIMULATOR_HOST:
            return base
        if self._simulator_factory is None:
            raise ConfigError("no built-in simulator in this process; set seestar.host")
        if self._simulator is None:
            self._simulator = self._simulator_factory()
        sim = self._simulator
        return dataclasses.replace(base, host="127.0.0.1", control_port=sim.control_port,
                                   image_port=sim.image_port, discovery_port=sim.discovery_port,
                                   discovery_address="127.0.0.1", time_factor=sim.time_factor)

    async def _open(self) -> SeestarClient:
        cfg = await asyncio.to_thread(self._seestar_config)
        client = SeestarClient(cfg)
        try:
            async with asyncio.timeout(OPEN_TIMEOUT_S):
                await client.connect()
        except BaseException as exc:
            await client.close()
            self._stop_simulator()
            if isinstance(exc, TimeoutError) and not isinstance(exc, IndiSeestarError):
                raise ConnectFailed(cfg.host, cfg.control_port,
                                    f"no answer within {OPEN_TIMEOUT_S:g} s") from exc
            if isinstance(exc, SeestarError):
                raise _explain(exc, cfg) from exc
            raise
        self._client = client
        self.sessions_opened += 1
        self._unsubscribe = client.on_connection_state(self._on_connection_state)
        log.info("Seestar session open: %s firmware %s at %s:%d", client.state.model,
                 client.state.firmware, cfg.host, cfg.control_port)
        return client

    def _on_connection_state(self, state: ConnectionState) -> None:
        if state is ConnectionState.FAILED:
            reason = "the Seestar session failed and cannot be resumed; connect again"
            for listener in list(self._listeners.values()):
                listener.on_session_lost(reason)
        elif state is ConnectionState.RECONNECTING:
            log.warning("Seestar connection lost; reconnecting")

    def _stop_simulator(self) -> None:
        sim, self._simulator = self._simulator, None
        if sim is not None:
            sim.stop()


def _explain(exc: SeestarError, cfg: SeestarConfig) -> SeestarError:
    """The same error with a message that tells the user what to do."""
    where = f"{cfg.host}:{cfg.control_port}"
    if isinstance(exc, LoginRequired):
        return exc
    if isinstance(exc, (ConnectFailed, ConnectionLost, RequestTimeout)):
        return ConnectFailed(cfg.host, cfg.control_port,
                             f"{exc}. Check DEVICE_ADDRESS (or seestar.host in the configuration), "
                             "that the Seestar is switched on and on the same network")
    if isinstance(exc, NotMaster):
        return NotMaster(f"{exc.reason}. The Seestar app controls the scope at {where}: "
                         "close the app (or release control in it) and connect again")
    return exc
