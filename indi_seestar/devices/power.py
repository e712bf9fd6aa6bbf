"""The scope's dew heater, battery, storage, LEDs, power switch and start-up/shut-down sequences
as an INDI AUX device.

Layer: devices. "Seestar Power" (DRIVER_INTERFACE AUX) shares the driver's Seestar session.
The dew heater uses libindi PowerInterface names (DEW_CHANNELS, DEW_DUTY_CYCLES, LED_CONTROL)
so power-box panels find it; battery, charger and storage are SEESTAR_ read-only vectors (the
scope reports no voltage or current, so no POWER_SENSORS). Readings come from
`get_device_state` (at connect, after each change, every POLL_S) and from PiStatus and
DiskSpace events. Reboot and shut down are armed by SEESTAR_SYSTEM and done only when
SEESTAR_SYSTEM_CONFIRM CONFIRM follows within CONFIRM_WINDOW_S.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..errors import IndiSeestarError, ValueRejected
from ..indi.model import State
from ..indi.standard import power as power_std
from ..protocol import power as power_status
from ..protocol.events import EventName
from ..protocol.power import PowerStatus
from ..protocol.rpc import Event
from ..seestar.client import SeestarClient
from . import props_services as props
from .alpaca_paths import set_dew_heater
from .base import SeestarDevice
from .startup import Sequences

HEATER_LABELS = ("Dew heater",)
#: The app's heater power when it is switched on without a figure.
DEFAULT_HEATER_PERCENT = 90
#: Storage and settings change without events we know of: read them this often.
POLL_S = 10.0
#: A reboot/shut down armed by SEESTAR_SYSTEM waits this long for its confirmation.
CONFIRM_WINDOW_S = 30.0

_ACTIONS = {"REBOOT": "reboot", "SHUTDOWN": "shut down"}


class Power(SeestarDevice):
    """DEW_CHANNELS, DEW_DUTY_CYCLES, LED_CONTROL, SEESTAR_BATTERY/CHARGER/STORAGE/SYSTEM."""

    interface = 32768  # AUX

    def init_properties(self) -> None:
        """Declare the vectors (all connected-only)."""
        super().init_properties()
        n = self.name
        self.dew = self.add(power_std.dew_channels(n, HEATER_LABELS), connected_only=True,
                            on_new=self._on_dew)
        self.duty = self.add(power_std.dew_duty_cycles(n, HEATER_LABELS), connected_only=True,
                             on_new=self._on_duty)
        self.leds = self.add(power_std.led_control(n), connected_only=True, on_new=self._on_leds)
        self.battery = self.add(props.battery(n), connected_only=True)
        self.charger = self.add(props.charger(n), connected_only=True)
        self.storage = self.add(props.storage(n), connected_only=True)
        self.system = self.add(props.system(n), connected_only=True, on_new=self._on_system)
        self.confirm = self.add(props.system_confirm(n), connected_only=True, on_new=self._on_confirm)
        self.sequences = Sequences(self, self.add, self._site)
        self.status = PowerStatus()
        self._shown: dict[str, object] = {}  # vector name -> (state, values) last published by _show
        self._changes = 0  # settings the client changed: a poll read before one is stale
        self._armed: str | None = None
        self._arm_timer: asyncio.TimerHandle | None = None

    # --- session -------------------------------------------------------------------------

    async def on_session(self, client: SeestarClient) -> None:
        """Read everything once; follow PiStatus/DiskSpace."""
        self._shown.clear()
        try:
            self.status = await client.get_power_status()
        except IndiSeestarError as exc:  # the readings can come later (poll, events)
            self.log.warning("first power status read failed: %s", exc)
        self._show(publish=False)
        self.keep_until_session_end(client.subscribe(self._on_event))

    async def on_connect(self) -> None:
        """Connect, then poll the readings (a device task, cancelled on disconnect)."""
        await super().on_connect()
        self.spawn(self._poll())

    async def on_session_end(self, client: SeestarClient) -> None:
        """Forget an armed reboot/shut down and any sequence."""
        self._disarm()
        self.sequences.reset()

    def _site(self) -> tuple[float, float] | None:
        """The site the mount knows (its GEOGRAPHIC_COORD), for the start-up sequence."""
        site = getattr(self.session.peers.get("mount"), "site", None)
        return None if site is None else (site.lat_deg, site.lon_east_deg)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_S)
            await self._refresh()

    async def _refresh(self) -> None:
        if not self.is_connected:
            return
        changes = self._changes
        try:
            status = await self.client.get_power_status(self.status)
        except IndiSeestarError as exc:
            self.log.debug("power status poll failed: %s", exc)
            return
        if changes != self._changes:  # asked before a change the client made: may predate it
            return
        self.status = status
        self._show(publish=True)

    def _on_event(self, event: Event) -> None:
        if not self.is_connected:
            return
        if event.name == EventName.PI_STATUS:
            self.status = power_status.apply_pi_status(self.status, event.fields)
        elif event.name == EventName.DISK_SPACE:
            self.status = power_status.apply_disk_space(self.status, event.fields)
        else:
            return
        self._show(publish=True)

    # --- showing -------------------------------------------------------------------------

    def _show(self, *, publish: bool) -> None:
        s = self.status
        b = self.battery
        for member, value in (("BATTERY_PERCENT", s.battery_percent), ("BATTERY_TEMP_C", s.battery_temp_c),
                              ("BOARD_TEMP_C", s.board_temp_c),
                              ("BATTERY_CHARGING", None if s.charging is None else int(s.charging))):
            if value is not None:
                b[member] = value
        b.state = State.OK
        self.charger["CHARGER_STATUS"] = s.charger_status or ""
        self.charger.state = State.OK
        for member, value in (("STORAGE_FREE_MB", s.storage_free_mb),
                              ("STORAGE_TOTAL_MB", s.storage_total_mb),
                              ("STORAGE_USED_PERCENT", s.storage_used_percent)):
            if value is not None:
                self.storage[member] = value
        self.storage.state = State.OK
        if s.heater_on is not None and self.dew.state is not State.BUSY:
            self.dew["DEW_CHANNEL_1"] = s.heater_on
            self.dew.state = State.OK
        if s.heater_percent is not None and self.duty.state is not State.BUSY:
            self.duty["DEW_CHANNEL_1"] = s.heater_percent
            self.duty.state = State.OK
        if s.dark_mode is not None and self.leds.state is not State.BUSY:
            self.leds.select("INDI_DISABLED" if s.dark_mode else "INDI_ENABLED")
            self.leds.state = State.OK
        if publish:  # only what changed: a client's copy is not overwritten while it sends
            for vector in (self.battery, self.charger, self.storage, self.dew, self.duty, self.leds):
                shown = (vector.state, tuple(vector.values().items()))
                if self._shown.get(vector.name) != shown:
                    self._shown[vector.name] = shown
                    self.publish(vector)

    def _publish_shown(self, vector: Any, **kwargs: Any) -> None:
        """Publish a reading vector and remember what was shown (see _show)."""
        self.publish(vector, **kwargs)
        self._shown[vector.name] = (vector.state, tuple(vector.values().items()))

    # --- dew heater and LEDs -----------------------------------------------------------------

    def _on_dew(self, values: dict[str, bool]) -> None:
        on = bool(values.get("DEW_CHANNEL_1"))
        percent = round(self.duty["DEW_CHANNEL_1"]) or DEFAULT_HEATER_PERCENT
        self._set_heater(percent if on else 0)

    def _on_duty(self, values: dict[str, float]) -> None:
        self._set_heater(round(values["DEW_CHANNEL_1"]))

    def _set_heater(self, percent: int) -> None:
        self._changes += 1
        self._publish_shown(self.dew, state=State.BUSY)
        self._publish_shown(self.duty, state=State.BUSY)
        self.spawn(self._apply_heater(percent))

    async def _apply_heater(self, percent: int) -> None:
        try:
            # through the scope's Alpaca Switch when that path is on (issue 14), else pi_output_set2
            await set_dew_heater(self.session.alpaca, self.client, percent)
            self.status = await self.client.get_power_status(self.status)
        except IndiSeestarError as exc:
            self._show(publish=False)  # what the scope last reported, then Alert on top
            self._publish_shown(self.dew, state=State.ALERT,
                         message=f"[ERROR] dew heater to {percent} % failed: {exc}")
            self._publish_shown(self.duty, state=State.ALERT)
            return
        if self.status.heater_percent is None:  # firmware reporting only on/off
            self.status = power_status.merge(self.status, {"heater_percent": percent})
        self.dew.state = self.duty.state = State.OK
        self._show(publish=False)
        said = "off" if not percent else f"at {percent} %"
        self._publish_shown(self.dew, message=f"[INFO] dew heater {said}")
        self._publish_shown(self.duty)

    def _on_leds(self, values: dict[str, bool]) -> None:
        dark = bool(values.get("INDI_DISABLED"))
        self._changes += 1
        self._publish_shown(self.leds, state=State.BUSY)
        self.spawn(self._apply_leds(dark))

    async def _apply_leds(self, dark: bool) -> None:
        try:
            await self.client.set_dark_mode(dark)
            self.status = await self.client.get_power_status(self.status)
        except IndiSeestarError as exc:
            self._show(publish=False)
            self._publish_shown(self.leds, state=State.ALERT,
                         message=f"[ERROR] LEDs {'off' if dark else 'on'} failed: {exc}")
            return
        self.leds.state = State.OK
        self._show(publish=False)
        self._publish_shown(self.leds)

    # --- reboot and shut down ----------------------------------------------------------------

    def _on_system(self, values: dict[str, bool]) -> None:
        action = next((name for name in _ACTIONS if values.get(name)), None)
        self.system.reset()
        if action is None:
            self._disarm()
            self.publish(self.system, state=State.IDLE)
            return
        self._disarm()
        self._armed = action
        self._arm_timer = self.call_later(CONFIRM_WINDOW_S, self._expire)
        self.system[action] = True
        self.publish(self.system, state=State.BUSY,
                     message=f"[WARNING] {_ACTIONS[action]} the Seestar? Confirm with "
                             f"SEESTAR_SYSTEM_CONFIRM within {CONFIRM_WINDOW_S:g} s")

    def _on_confirm(self, values: dict[str, bool]) -> None:
        self.confirm.reset()
        action = self._armed
        if values.get("CANCEL"):
            self._disarm()
            self.system.reset()
            self.publish(self.system, state=State.IDLE, message="[INFO] cancelled")
            self.publish(self.confirm, state=State.OK)  # buttons: shown Off again
            return
        if not values.get("CONFIRM"):
            raise ValueRejected(self.confirm.name, "nothing to do")
        if action is None:
            raise ValueRejected(self.confirm.name, "nothing to confirm: press REBOOT or SHUTDOWN "
                                                   "in SEESTAR_SYSTEM first")
        self._disarm()
        self.publish(self.confirm, state=State.BUSY)
        self.spawn(self._do(action))

    async def _do(self, action: str) -> None:
        client = self.client
        try:
            await (client.reboot() if action == "REBOOT" else client.shutdown())
        except IndiSeestarError as exc:
            self.system.reset()
            self.publish(self.system, state=State.ALERT)
            self.publish(self.confirm, state=State.ALERT,
                         message=f"[ERROR] {_ACTIONS[action]} failed: {exc}")
            return
        self.system.reset()
        self.publish(self.system, state=State.OK)
        self.publish(self.confirm, state=State.OK,
                     message=f"[WARNING] the Seestar was told to {_ACTIONS[action]}")

    def _expire(self) -> None:
        self._arm_timer = None
        if self._armed is not None and self.is_connected:
            self._armed = None
            self.system.reset()
            self.publish(self.system, state=State.IDLE, message="[INFO] not confirmed; nothing done")

    def _disarm(self) -> None:
        self._armed = None
        if self._arm_timer is not None:
            self._arm_timer.cancel()
            self._arm_timer = None
