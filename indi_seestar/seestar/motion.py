"""Joystick motion (`scope_speed_move`) in whichever of its two parameter forms the firmware takes.

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
Old form {speed, angle, dur_sec} (ALP, SPY) and new form {angle, level, dur_sec, percent}
(PSC, SRS) both exist and which one a firmware accepts is unknown (§7.7, §12). We try the
old form first, fall back to the new one on an error code, and remember what worked.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable

from ..errors import CommandFailed
from ..protocol import builders_mount
from ..protocol.methods import Call, Method
from ..protocol.rpc import Reply

log = logging.getLogger(__name__)

#: Old-form speed at 100 % (ALP's web UI limit; 240 ~ 1 deg/s).
MAX_OLD_FORM_SPEED = 1440
#: New-form speed gear we send with a percentage (SRS's probe uses one fixed gear). [U]
NEW_FORM_LEVEL = 1


class MoveForm(enum.Enum):
    """Parameter form of `scope_speed_move`."""

    OLD = "speed/angle/dur_sec"
    NEW = "angle/level/dur_sec/percent"


class SpeedMoveForms:
    """Sends speed moves in the accepted form, probing on first use."""

    def __init__(self, call: Callable[[Call], Awaitable[Reply]]) -> None:
        self._call = call
        #: The form that worked, once known.
        self.form: MoveForm | None = None

    async def move(self, angle_deg: float, speed_percent: float, duration_s: int) -> None:
        """Move at `speed_percent` of full speed towards `angle_deg` for `duration_s`."""
        await self._send(round(angle_deg), speed_percent, int(duration_s))

    async def move_steps(self, angle_deg: int, speed_steps: int, duration_s: int) -> None:
        """Move at `speed_steps` old-form steps/s (240 = 1 deg/s) towards `angle_deg` for `duration_s`."""
        await self._send(round(angle_deg), 100.0 * speed_steps / MAX_OLD_FORM_SPEED, int(duration_s))

    async def stop(self) -> None:
        """Speed 0 (old form) / percent 0 (new form)."""
        await self._send(0, 0.0, 1)

    async def _send(self, angle_deg: int, speed_percent: float, duration_s: int) -> None:
        forms = (self.form,) if self.form is not None else (MoveForm.OLD, MoveForm.NEW)
        first_error: CommandFailed | None = None
        for form in forms:
            reply = await self._call(_build(form, angle_deg, speed_percent, duration_s))
            if reply.ok:
                if self.form is None:
                    log.info("scope_speed_move: this firmware takes the %s form", form.value)
                self.form = form
                return
            first_error = first_error or reply.failure(Method.SCOPE_SPEED_MOVE)
        assert first_error is not None
        raise first_error


def _build(form: MoveForm, angle_deg: int, speed_percent: float, duration_s: int) -> Call:
    if form is MoveForm.OLD:
        speed = round(MAX_OLD_FORM_SPEED * speed_percent / 100.0)
        return builders_mount.scope_speed_move(speed, angle_deg, duration_s)
    return builders_mount.scope_speed_move_level(NEW_FORM_LEVEL, angle_deg, duration_s, round(speed_percent))
