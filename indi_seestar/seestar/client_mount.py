"""MountCommands: SeestarClient's mount, focuser and filter-wheel operations (a mixin).

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
Each coroutine returns once the firmware has accepted the command; see client.py for the
contract and for how completion is observed.
"""

from __future__ import annotations

from ..errors import CommandFailed
from ..protocol import builders_imaging, builders_mount, firmware
from ..protocol.methods import Stage
from .commands import Commands
from .motion import MAX_OLD_FORM_SPEED, MoveForm, SpeedMoveForms

#: Documented range (§8.8): other slots raise ValueError (a caller bug).
WHEEL_SLOTS = (0, 1, 2)


class MountCommands(Commands):
    """Slews, sync, park, tracking, joystick moves, focuser and filter wheel."""

    _motion: SpeedMoveForms

    @property
    def speed_move_form(self) -> MoveForm | None:
        """The `scope_speed_move` parameter form this firmware accepted (None until probed)."""
        return self._motion.form

    def _keyed_coords(self) -> bool:
        """`{"ra", "dec"}` on fw 7.75+ (8.46 answers 108 to a nested array, PR #767)."""
        return firmware.keyed_coords(self._snapshot.current.firmware_ver_int)

    # --- mount -------------------------------------------------------------------

    async def goto(self, ra_hours: float, dec_deg: float) -> None:
        """Raw slew (`scope_goto`), no plate solving; ends with ScopeGoto complete/fail."""
        _check_coord(ra_hours, dec_deg)
        await self._send(builders_mount.scope_goto(ra_hours, dec_deg, self._keyed_coords()))

    async def goto_centered(self, ra_hours: float, dec_deg: float, target_name: str) -> None:
        """Plate-solve-centred goto (`iscope_start_view` + target); ends with AutoGoto."""
        _check_coord(ra_hours, dec_deg)
        await self._send(builders_mount.start_view_goto(ra_hours, dec_deg, target_name))

    async def abort_goto(self) -> None:
        """Stop the AutoGoto stage and the slew; CommandFailed only if both are refused."""
        failures: list[CommandFailed] = []
        for call in (builders_mount.stop_view(Stage.AUTO_GOTO), builders_mount.scope_abort_slew()):
            try:
                await self._send(call)
            except CommandFailed as exc:
                failures.append(exc)
        if len(failures) == 2:
            raise failures[0]

    async def sync(self, ra_hours: float, dec_deg: float) -> None:
        """Tell the mount it points at (ra, dec) JNow."""
        _check_coord(ra_hours, dec_deg)
        await self._send(builders_mount.scope_sync(ra_hours, dec_deg, self._keyed_coords()))

    async def park(self) -> None:
        """Fold the arm; ends with ScopeHome complete."""
        await self._send(builders_mount.scope_park())

    async def unpark(self) -> None:
        """Open the arm; ends with ScopeMoveToHorizon complete."""
        await self._send(builders_mount.scope_move_to_horizon())

    async def set_tracking(self, enabled: bool) -> None:
        """Sidereal tracking on/off; ScopeTrack reports the result."""
        await self._send(builders_mount.scope_set_track_state(enabled))

    async def speed_move(self, angle_deg: float, speed_percent: float, duration_s: int) -> None:
        """Joystick move at `angle_deg` (0 right/west, 90 up/north), auto-stops after duration_s."""
        if not 0 <= speed_percent <= 100 or duration_s < 1:
            raise ValueError("speed_percent must be 0..100 and duration_s >= 1")
        await self._motion.move(angle_deg, speed_percent, duration_s)

    async def speed_move_steps(self, angle_deg: int, speed_steps: int, duration_s: int) -> None:
        """Joystick move at `speed_steps` old-form steps/s (1 = 15 arcsec/s of axis angle)."""
        if not 0 < speed_steps <= MAX_OLD_FORM_SPEED or duration_s < 1:
            raise ValueError(f"speed_steps must be 1..{MAX_OLD_FORM_SPEED} and duration_s >= 1")
        await self._motion.move_steps(angle_deg, speed_steps, duration_s)

    async def stop_motion(self) -> None:
        """Stop a joystick move (speed 0 in the form this firmware accepts)."""
        await self._motion.stop()

    # --- focuser and wheel -------------------------------------------------------

    async def move_focuser(self, position_steps: int) -> None:
        """Absolute focuser move; ends with FocuserMove complete."""
        max_steps = self._snapshot.current.focuser_max_steps
        if not 0 <= position_steps <= max_steps:
            raise ValueError(f"position_steps must be 0..{max_steps}")
        await self._send(builders_imaging.move_focuser(position_steps))

    async def stop_focuser(self) -> None:
        """Stop a focuser move."""
        await self._send(builders_imaging.stop_focuser())

    async def set_wheel(self, slot: int) -> None:
        """Filter wheel to slot 0 Dark, 1 IR-cut, 2 LP; ends with WheelMove complete."""
        if slot not in WHEEL_SLOTS:
            raise ValueError(f"slot must be one of {WHEEL_SLOTS}")
        await self._send(builders_imaging.set_wheel_position(slot))


def _check_coord(ra_hours: float, dec_deg: float) -> None:
    if not (0 <= ra_hours < 24 and -90 <= dec_deg <= 90):
        raise ValueError("ra_hours must be 0..24 and dec_deg -90..90")
