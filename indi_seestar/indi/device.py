"""Device base: the CONNECTION life cycle and the base vectors every device has (layer indi/).

Runs on the driver's asyncio loop only. Must not import protocol/, seestar/, devices/ or sim/.
Vectors, publishing and handlers come from PropertyHost (properties.py). Subclasses set
`interface`, add their vectors in `init_properties()` and implement `on_connect()` /
`on_disconnect()`; see docs/architecture.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import ClassVar

from indi_seestar import __version__
from indi_seestar.errors import ConfigError, ValueRejected
from indi_seestar.indi import encode
from indi_seestar.indi import standard as std
from indi_seestar.indi.config_store import ConfigStore
from indi_seestar.indi.model import State, Vector
from indi_seestar.indi.properties import Handler, PropertyHost
from indi_seestar.indi.validate import coerce_new_values
from indi_seestar.indi.wire import Snooped
from indi_seestar.indi.writer import Outbox

__all__ = ["Device", "Handler", "Link"]


class Link(Enum):
    """Where the device's CONNECTION stands."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTING = "disconnecting"


class Device(PropertyHost):
    """Base INDI device; see docs/architecture.md "The INDI layer as the devices see it".

    Class attributes fill DRIVER_INFO: `interface` (DRIVER_INTERFACE bits), `driver_name`,
    `driver_exec`, `driver_version`. Base vectors: connection, driver_info, debug,
    config_process, polling_period. Everything runs on the driver's event loop.
    """

    interface: ClassVar[int] = 0
    driver_name: ClassVar[str] = "indi_seestar"
    driver_exec: ClassVar[str] = "indi_seestar"
    driver_version: ClassVar[str] = __version__

    def __init__(
        self, name: str, *, config_dir: Path | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(name, clock=clock)
        self.config = ConfigStore(name, config_dir=config_dir, clock=clock)
        self.link = Link.DISCONNECTED
        self.polling_period_ms = 1000.0
        self.connection = self.add(std.connection(name), on_new=self._on_connection)
        self.driver_info = self.add(
            std.driver_info(
                name,
                name=self.driver_name,
                exec_name=self.driver_exec,
                version=self.driver_version,
                interface=self.interface,
            )
        )
        self.debug = self.add(std.debug(name), on_new=self._on_debug, saved=True)
        self.config_process = self.add(std.config_process(name), on_new=self._on_config_process)
        self.polling_period = self.add(
            std.polling_period(name), on_new=self._on_polling_period, saved=True
        )

    # --- what subclasses implement ----------------------------------------------------------

    async def on_connect(self) -> None:
        """Open the device; raise IndiSeestarError to refuse (CONNECTION Alert + message)."""

    async def on_disconnect(self) -> None:
        """Close the device; its tasks and timers are already cancelled."""

    def on_snooped(self, message: Snooped) -> None:
        """A def/set/del/message of a snooped device arrived (see snoop())."""

    def on_debug(self, enabled: bool) -> None:
        """DEBUG was switched; the device's own logger already follows it (shared ones may)."""

    # --- what subclasses call ---------------------------------------------------------------

    @property
    def polling_period_s(self) -> float:
        """POLLING_PERIOD in seconds."""
        return self.polling_period_ms / 1000.0

    @property
    def debug_enabled(self) -> bool:
        """DEBUG's ENABLE: the device logs at debug level (libindi's DEBUG property)."""
        return bool(self.debug["ENABLE"])

    @property
    def is_connected(self) -> bool:
        """True once on_connect succeeded and until disconnecting starts."""
        return self.link is Link.CONNECTED

    def load_saved(self, vector: Vector) -> bool:
        """Apply the saved values of `vector` without calling a handler (e.g. before connecting)."""
        raw = self.config.saved_values(vector.name)
        if raw is None:
            return False
        try:
            vector.update(coerce_new_values(vector, raw))
        except ValueRejected as exc:
            self.log.warning("saved %s ignored: %s", vector.name, exc)
            return False
        return True

    def snoop(self, device: str, name: str | None = None) -> None:
        """Ask indiserver to copy `device`'s (property `name`'s) traffic to on_snooped()."""
        self._send(encode.get_properties(device, name))

    def disconnect(self, reason: str | None = None) -> None:
        """Disconnect from the driver side; with a reason: CONNECTION Alert + `[ERROR] reason`."""
        if self.link in (Link.CONNECTED, Link.CONNECTING):
            self.spawn(self._disconnect(reason))

    # --- what the Driver calls --------------------------------------------------------------

    def attach(self, outbox: Outbox) -> None:
        """Connect to the driver's output; runs init_properties() the first time."""
        first = not self._initialised
        super().attach(outbox)
        if first:
            try:
                self.config.ensure_default()
            except ConfigError as exc:
                self.log.warning("%s", exc)

    async def shutdown(self, timeout_s: float) -> None:
        """Driver exit: on_disconnect() within timeout_s if connected, then cancel all work."""
        was_connected, self.link = self.link is Link.CONNECTED, Link.DISCONNECTING
        self._work.cancel_all()
        if was_connected:
            try:
                await asyncio.wait_for(self.on_disconnect(), timeout_s)
            except TimeoutError:
                self.log.warning("on_disconnect took over %g s; exiting anyway", timeout_s)
            except Exception:  # exiting anyway: keep the reason in the log
                self.log.exception("on_disconnect failed during shutdown")
        self.link = Link.DISCONNECTED

    # --- CONNECTION -------------------------------------------------------------------------

    def _on_connection(self, values: dict[str, bool]) -> None:
        if values["CONNECT"]:
            if self.link is Link.CONNECTED:
                self.publish(self.connection, state=State.OK)
            elif self.link is Link.DISCONNECTED:
                self.link = Link.CONNECTING
                self.connection.select("CONNECT")
                self.publish(self.connection, state=State.BUSY)
                self.spawn(self._connect())
            else:
                self.publish(self.connection, state=State.BUSY)
        elif self.link in (Link.CONNECTED, Link.CONNECTING):
            self._entry(self.connection).published += 1  # _disconnect answers with Idle
            self.spawn(self._disconnect(None))
        elif self.link is Link.DISCONNECTED:
            self.publish(self.connection, state=State.IDLE)
        else:
            self.publish(self.connection, state=State.BUSY)

    async def _connect(self) -> None:
        try:
            await self.on_connect()
        except Exception as exc:  # noqa: BLE001 - any failure leaves CONNECTION Alert
            self.link = Link.DISCONNECTED
            self._work.cancel_all()
            self.connection.select("DISCONNECT")
            self._handler_failed(self._entry(self.connection), exc)
            return
        self.link = Link.CONNECTED
        self.connection.select("CONNECT")
        self.publish(self.connection, state=State.OK)
        self._announce_connected_only(define=True)

    async def _disconnect(self, reason: str | None) -> None:
        was_connected, self.link = self.link is Link.CONNECTED, Link.DISCONNECTING
        self._work.cancel_all()
        if was_connected:
            try:
                await self.on_disconnect()
            except Exception as exc:  # noqa: BLE001 - disconnect anyway, report why
                self._handler_failed(self._entry(self.connection), exc)
        self._announce_connected_only(define=False)
        self.link = Link.DISCONNECTED
        self.connection.select("DISCONNECT")
        state, text = (State.IDLE, None) if reason is None else (State.ALERT, f"[ERROR] {reason}")
        self.publish(self.connection, state=state, message=text)

    # --- the other base vectors -------------------------------------------------------------

    def _on_debug(self, values: dict[str, bool]) -> None:
        self.debug.update(values)
        enabled = self.debug_enabled
        self.log.setLevel(logging.DEBUG if enabled else logging.NOTSET)  # NOTSET: configured level
        self.on_debug(enabled)
        self.publish(self.debug, state=State.OK)

    def _on_polling_period(self, values: dict[str, float]) -> None:
        self.polling_period_ms = values.get("PERIOD_MS", self.polling_period_ms)

    def _on_config_process(self, values: dict[str, bool]) -> None:
        action = next((name for name, on in values.items() if on), None)
        self.config_process.reset()
        if action is None:
            self.publish(self.config_process, state=State.IDLE)
            return
        saved = [e.vector for e in self._entries.values() if e.saved]
        text, records = self.config.perform(action, saved)  # ConfigError -> Alert
        for record in records:
            entry = self._entries.get(record.name)
            if entry is not None and entry.saved and self._is_live(entry):
                self.handle_new(record)
            else:
                self.log.debug("config record %s not applied now", record.name)
        self.publish(self.config_process, state=State.OK, message=f"[INFO] {text}")
