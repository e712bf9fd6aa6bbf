"""ExtraCommands: SeestarClient's autofocus, dark library, plate solve, dew heater, site, clock,
power status, LEDs, reboot and shutdown.

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
A mixin of SeestarClient; each coroutine returns once the firmware has accepted the command
(see client.py for the contract).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..protocol import builders_imaging, builders_mount, builders_session
from ..protocol.codes import ErrorCode
from ..protocol.power import PowerStatus, parse_power_status
from .clock_sync import ClockSync
from .commands import Commands, raise_for_reply


class ExtraCommands(Commands):
    """The firmware's own procedures and the scope's settings (site, clock, dew heater)."""

    _clock: ClockSync

    @property
    def clock_error(self) -> str | None:
        """What the scope refused when this session set its clock/site (None: all set)."""
        return self._clock.last_error

    def scope_utc(self) -> datetime:
        """The UTC the scope's clock was set to run at (this machine's, plus a client's offset)."""
        return self._clock.scope_utc()

    async def start_autofocus(self) -> None:
        """Firmware autofocus (needs a star view and stars); ends with AutoFocus."""
        await self._send(builders_imaging.start_auto_focus())

    async def stop_autofocus(self) -> None:
        """Stop the autofocus."""
        await self._send(builders_imaging.stop_auto_focus())

    async def start_dark_library(self) -> None:
        """Build the dark library (wheel to Dark and back); ends with DarkLibrary complete."""
        await self._send(builders_imaging.start_create_dark())

    async def stop_dark_library(self) -> None:
        """Stop building the dark library."""
        await self._send(builders_imaging.stop_create_dark())

    async def start_solve(self) -> None:
        """Plate-solve the current view; ends with PlateSolve (result in the event)."""
        await self._send(builders_imaging.start_solve())

    async def stop_solve(self) -> None:
        """Stop a plate solve."""
        await self._send(builders_imaging.stop_solve())

    async def get_solve_result(self) -> dict[str, Any] | None:
        """The last solve's result object, or None when there is none (code 215)."""
        reply = await self._call(builders_imaging.get_solve_result())
        if reply.code == ErrorCode.NO_SOLVE_DATA:
            return None
        raise_for_reply(reply)
        return reply.result if isinstance(reply.result, dict) else {"value": reply.result}

    async def set_dew_heater(self, power_percent: int) -> None:
        """Dew heater power 0..100 (0 = off)."""
        if not 0 <= power_percent <= 100:
            raise ValueError("power_percent must be 0..100")
        await self._send(builders_session.set_dew_heater(power_percent))

    async def set_location(self, lat_deg: float, lon_east_deg: float) -> None:
        """Site latitude and east longitude (degrees; 0..360 east is folded to -180..180)."""
        lon = (lon_east_deg + 180.0) % 360.0 - 180.0
        if not -90 <= lat_deg <= 90:
            raise ValueError("lat_deg must be -90..90")
        await self._send(builders_session.set_user_location(lat_deg, lon))
        self._snapshot.update(lat_deg=lat_deg, lon_east_deg=lon)
        self._clock.site = (lat_deg, lon)  # re-sent at every reconnect

    async def set_time(self, utc: datetime) -> None:
        """Set the scope clock (an aware datetime; converted to UTC); it wins over reconnects."""
        if utc.tzinfo is None:
            raise ValueError("set_time needs an aware datetime")
        await self._send(builders_session.pi_set_time(utc.astimezone(UTC), "UTC"))
        self._clock.client_set_time(utc)

    async def get_power_status(self, previous: PowerStatus | None = None) -> PowerStatus:
        """Battery, charger, temperatures, storage, heater and LEDs (get_device_state)."""
        reply = await self._send(builders_session.get_device_state(["pi_status", "storage", "setting"]),
                                 self._t.device_state_s)
        return parse_power_status(reply.result, previous)

    async def set_dark_mode(self, dark: bool) -> None:
        """The scope's LEDs off (True) or on."""
        await self._send(builders_session.set_dark_mode(dark))

    async def reboot(self) -> None:
        """Reboot the scope (the connection drops; the engine reconnects)."""
        await self._send(builders_session.pi_reboot())

    async def shutdown(self) -> None:
        """Shut the scope down (the connection drops for good)."""
        await self._send(builders_session.pi_shutdown())

    async def get_stack_exposure_ms(self) -> int | None:
        """The stack sub length the scope is set to (setting exp_ms.stack_l), None if absent."""
        reply = await self._send(builders_session.get_setting())
        exp = reply.result.get("exp_ms") if isinstance(reply.result, dict) else None
        value = exp.get("stack_l") if isinstance(exp, dict) else None
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    async def set_stack_exposure_ms(self, exposure_ms: int) -> None:
        """Stack sub length (setting exp_ms.stack_l); the dark library is built for it."""
        await self._send(builders_session.set_setting(exp_ms={"stack_l": int(exposure_ms)}))

    async def start_polar_align(self, dec_pos_index: int = 3, restart: bool = True) -> None:
        """3-point polar alignment (EQ mode; 207 in alt-az); 3PPA/EqModePA events follow."""
        await self._send(builders_mount.start_polar_align(dec_pos_index, restart))

    async def stop_polar_align(self) -> None:
        """End the polar alignment."""
        await self._send(builders_mount.stop_polar_align())

    async def pause_polar_align(self) -> None:
        """Pause the polar alignment's refresh."""
        await self._send(builders_mount.pause_polar_align())
