"""SeestarDevice: what the four INDI devices share (session, DEVICE_ADDRESS, discovery).

Layer: devices. CONNECT acquires the shared SeestarSession, DISCONNECT releases it; a session
lost for good disconnects the device with a message. DEVICE_ADDRESS (kept by CONFIG_SAVE) is
mirrored on all four devices; SEESTAR_DISCOVER fills it from UDP 4720.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from ..config import SIMULATOR_HOST
from ..errors import IndiSeestarError, RequestTimeout, ValueRejected
from ..indi import standard as std
from ..indi.device import Device
from ..indi.model import State
from ..seestar.client import SeestarClient
from ..seestar.connection import ConnectionState
from ..seestar.discover import discover
from ..text import excerpt
from . import props
from .outcomes import Pending, outcome_unknown, unknown_message
from .session import SeestarSession

#: How long a discovery listens for answers.
DISCOVERY_WINDOW_S = 2.0
#: Loggers the four devices share whose debug lines DEBUG turns on with a device's own: the
#: Seestar engine (every protocol line sent and answered) and the device adapters' modules.
SHARED_DEBUG_LOGGERS = ("indi_seestar.seestar", "indi_seestar.devices")


class SeestarDevice(Device):
    """Base of the Seestar mount, camera, focuser and filter wheel."""

    def __init__(self, name: str, session: SeestarSession, *, config_dir: Path | None = None) -> None:
        super().__init__(name, config_dir=config_dir)
        self.session = session
        self._client: SeestarClient | None = None
        self._session_subscriptions: list[Callable[[], None]] = []
        self._reconciling: asyncio.Task[None] | None = None
        #: Commands whose outcome is unknown (no answer before the link dropped): outcomes.py.
        self.pending = Pending()
        host, port = session.address
        self.address = self.add(std.device_address(name, host, str(port)),
                                on_new=self._on_address, saved=True)
        self.discovery = self.add(props.discover(name), on_new=self._on_discover)
        session.on_address_change(self._show_address)

    @property
    def client(self) -> SeestarClient:
        """The shared client while connected (ValueRejected-free: a bug to call it otherwise)."""
        if self._client is None:
            raise RuntimeError(f"{self.name} is not connected")
        return self._client

    def init_properties(self) -> None:
        """Offer a saved DEVICE_ADDRESS to the session (the newest save of the four wins)."""
        saved = self.config.saved_record(self.address.name)
        if saved is None:
            return
        try:
            host, port = self._parse_address(saved.values.get("ADDRESS", ""),
                                             saved.values.get("PORT", ""))
        except ValueRejected as exc:
            self.log.warning("saved DEVICE_ADDRESS ignored: %s", exc)
            return
        self.session.offer_saved_address(host, port, self.config.saved_at_s(saved))

    async def on_connect(self) -> None:
        """Join the shared session (opening it if needed); leave it again if the device refuses."""
        self.session.listen(self.name, self)
        try:
            self._client = await self.session.acquire(self.name)
            await self.on_session(self._client)
        except BaseException:
            self._client = None
            self._end_subscriptions()
            await self.session.release(self.name)
            raise

    async def on_disconnect(self) -> None:
        """Leave the shared session (closing it if we were the last)."""
        client, self._client = self._client, None
        self._end_subscriptions()
        if client is not None:
            await self.on_session_end(client)
        await self.session.release(self.name)

    async def on_session(self, client: SeestarClient) -> None:
        """Device-specific start once the session is open; raise IndiSeestarError to refuse."""

    async def on_session_end(self, client: SeestarClient) -> None:
        """Device-specific clean-up before leaving the session (stop motion, exposures...)."""

    def keep_until_session_end(self, *unsubscribe: Callable[[], None]) -> None:
        """Hold client subscriptions (their unsubscribe functions) until on_session_end() is due."""
        self._session_subscriptions.extend(unsubscribe)

    def on_debug(self, enabled: bool) -> None:
        """The shared loggers log at debug while any of the driver's devices has DEBUG on."""
        devices = [*self.session.peers.values(), self]
        wanted = any(isinstance(d, Device) and d.debug_enabled for d in devices)
        for name in SHARED_DEBUG_LOGGERS:  # NOTSET: back to the configured level
            logging.getLogger(name).setLevel(logging.DEBUG if wanted else logging.NOTSET)

    def on_session_lost(self, reason: str) -> None:
        """The shared session failed for good: disconnect with the reason."""
        self.disconnect(reason)

    def on_session_notice(self, text: str, level: str) -> None:
        """Something the user should know about the shared session (reconnecting...)."""
        self.message(text, level)

    def on_link(self, up: bool) -> None:
        """The shared session's link dropped (False) or came back (True, the snapshot re-read)."""
        client = self._client
        if client is None or not self.is_connected:
            return
        if up:
            self.spawn(self.on_link_back(client))
        else:
            self.on_link_lost()

    def outcome_message(self, what: str, exc: IndiSeestarError) -> str:
        """The INDI message for a command that raised `exc`: a failure, or an unknown outcome
        (then `what` is remembered and the scope's real state shown once it answers again)."""
        if not outcome_unknown(exc):
            return f"[ERROR] {what} failed: {exc}"
        self.pending.add(what)
        self.reconcile_soon()
        return unknown_message(f"{what} ({exc})")

    def reconcile_soon(self) -> None:
        """An outcome just became unknown: once the scope answers again (a state read after
        the unanswered command, on the same link) or the link is back, show its real state."""
        client = self._client
        if client is None or (self._reconciling is not None and not self._reconciling.done()):
            return
        self._reconciling = self.spawn(self._reconcile_when_answered(client))

    async def _reconcile_when_answered(self, client: SeestarClient) -> None:
        while client.connection_state is ConnectionState.READY:
            try:
                await client.refresh()  # answered after whatever we sent before it
            except RequestTimeout:
                continue
            except IndiSeestarError:
                return  # the link dropped: on_link(True) reconciles once it is back
            await self.on_link_back(client)
            return

    def on_link_lost(self) -> None:
        """Device-specific: the link dropped; the engine reconnects (docs/outcomes.md)."""

    async def on_link_back(self, client: SeestarClient) -> None:
        """Device-specific: the link is back; show the scope's real state (docs/outcomes.md)."""

    def _end_subscriptions(self) -> None:
        for unsubscribe in self._session_subscriptions:
            unsubscribe()
        self._session_subscriptions.clear()

    # --- DEVICE_ADDRESS and discovery ------------------------------------------------------

    @staticmethod
    def _parse_address(host: str, port_text: str) -> tuple[str, int]:
        host = host.strip() or SIMULATOR_HOST
        try:
            port = int(str(port_text).strip() or "4700")
        except ValueError:
            raise ValueRejected("DEVICE_ADDRESS",
                                f"port {excerpt(port_text)} is not a number") from None
        if not 0 < port < 65536:
            raise ValueRejected("DEVICE_ADDRESS", f"port {port} is outside 1..65535")
        if any(ch.isspace() for ch in host):
            raise ValueRejected("DEVICE_ADDRESS", f"address {excerpt(host)} contains spaces")
        return host, port

    def _on_address(self, values: dict[str, str]) -> None:
        host = values.get("ADDRESS", self.address["ADDRESS"])
        port_text = values.get("PORT", self.address["PORT"])
        host, port = self._parse_address(host, port_text)
        self.session.set_address(host, port)  # mirrors onto every device, this one included
        if self.is_connected:
            self.message("the new address is used at the next connection", "INFO")

    def _show_address(self, host: str, port: int) -> None:
        self.address["ADDRESS"], self.address["PORT"] = host, str(port)
        self.publish(self.address, state=State.OK)

    def _on_discover(self, values: dict[str, bool]) -> None:
        self.discovery.reset()
        if not values.get("DISCOVER"):
            self.publish(self.discovery, state=State.IDLE)
            return
        self.publish(self.discovery, state=State.BUSY)
        self.spawn(self._discover())

    async def _discover(self) -> None:
        cfg = self.session.config.seestar
        try:
            replies = await discover(cfg.discovery_address, cfg.discovery_port,
                                     timeout_s=DISCOVERY_WINDOW_S)
        except (OSError, TimeoutError) as exc:
            self.publish(self.discovery, state=State.ALERT,
                         message=f"[ERROR] discovery failed: {exc}")
            return
        found = [r for r in replies if r.ip]
        if not found:
            self.publish(self.discovery, state=State.ALERT,
                         message="[WARNING] no Seestar answered on UDP "
                                 f"{cfg.discovery_port}; enter its address in DEVICE_ADDRESS")
            return
        # several scopes on the network: the first one no other instance drives
        held = {r.ip: await self.session.held_elsewhere(r.ip, cfg.control_port) for r in found}
        first = next((r for r in found if held[r.ip] is None), found[0])
        self.session.set_address(first.ip, cfg.control_port)
        names = ", ".join(f"{r.product_model} at {r.ip}" + (" (in use)" if held[r.ip] else "")
                          for r in found)
        self.publish(self.discovery, state=State.OK,
                     message=f"[INFO] found {names}; using {first.ip}")
