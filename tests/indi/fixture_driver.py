"""A two-device INDI driver on indi_seestar.indi, started by indiserver in integration tests.

Devices: "Fixture Camera" (CCD bit; CCD_EXPOSURE, CCD1 BLOB, FIXTURE_BLOB to emit deterministic
BLOBs, FIXTURE_ECHO to emit a message, UPLOAD_SETTINGS saved in the configuration) and
"Fixture Focuser" (FOCUSER bit; ABS_FOCUS_POSITION with a Busy -> Ok move).
Run as `python fixture_driver.py`; HOME decides where the configuration lives.
"""

from __future__ import annotations

import asyncio
import os
import hashlib
import logging
import random
import sys
from itertools import pairwise

from indi_seestar.indi import standard as std
from indi_seestar.indi.device import Device
from indi_seestar.indi.driver import Driver
from indi_seestar.indi.log import setup_logging
from indi_seestar.indi.model import NumberMember, NumberVector, State, TextMember, TextVector

CAMERA = "Fixture Camera"
FOCUSER = "Fixture Focuser"
MOVE_S = 0.05


def blob_parts(seed: int, size: int) -> list[bytes]:
    """Deterministic `size` bytes split into parts whose lengths are mostly not multiples of 3."""
    data = random.Random(seed).randbytes(size)
    cuts = sorted(
        {0, min(size, 1), min(size, 5), size // 3 + 1, size // 2 + 2, size} - {size + 1, size + 2}
    )
    cuts = [c for c in cuts if c <= size]
    return [data[a:b] for a, b in pairwise(cuts)]


def blob_sha256(seed: int, size: int) -> str:
    """SHA-256 of the payload blob_parts(seed, size) describes."""
    return hashlib.sha256(b"".join(blob_parts(seed, size))).hexdigest()


class FixtureCamera(Device):
    """Camera-like device: exposure number, CCD1 BLOB, a BLOB trigger and a message echo."""

    interface = std.Interface.CCD

    def init_properties(self) -> None:
        self.exposure = self.add(
            std.ccd_exposure(self.name), connected_only=True, on_new=self._on_exposure
        )
        self.ccd1 = self.add(std.ccd1(self.name), connected_only=True)
        self.upload = self.add(std.upload_settings(self.name), saved=True)
        trigger = NumberVector(
            self.name,
            "FIXTURE_BLOB",
            "Send BLOBs",
            "Test",
            [
                NumberMember("SIZE", "Bytes", "%.f", 0, 64e6, 1, 0),
                NumberMember("COUNT", "Count", "%.f", 0, 10, 1, 0),
                NumberMember("SEED", "Seed", "%.f", 0, 1e9, 1, 0),
            ],
        )
        self.blob_trigger = self.add(trigger, connected_only=True, on_new=self._on_blob)
        echo = TextVector(self.name, "FIXTURE_ECHO", "Echo", "Test", [TextMember("TEXT", "Text")])
        self.echo = self.add(echo, on_new=self._on_echo)

    async def _on_exposure(self, values: dict[str, float]) -> None:
        self.exposure["CCD_EXPOSURE_VALUE"] = values["CCD_EXPOSURE_VALUE"]
        self.publish(self.exposure, state=State.BUSY)
        await asyncio.sleep(MOVE_S)
        self.exposure["CCD_EXPOSURE_VALUE"] = 0
        self.publish(self.exposure, state=State.OK)

    async def _on_blob(self, values: dict[str, float]) -> None:
        self.blob_trigger.update(values)
        self.publish(self.blob_trigger, state=State.BUSY)
        size, seed = int(self.blob_trigger["SIZE"]), int(self.blob_trigger["SEED"])
        for i in range(int(self.blob_trigger["COUNT"])):
            await self.publish_blob(self.ccd1, "CCD1", blob_parts(seed + i, size))
        self.publish(self.blob_trigger, state=State.OK)

    def _on_echo(self, values: dict[str, str]) -> None:
        self.message(values["TEXT"])


class FixtureFocuser(Device):
    """Focuser-like device: an absolute position that moves Busy -> Ok."""

    interface = std.Interface.FOCUSER

    def init_properties(self) -> None:
        self.position = self.add(
            std.abs_focus_position(self.name, max_steps=2600),
            connected_only=True,
            on_new=self._on_position,
        )

    def _on_position(self, values: dict[str, float]) -> None:
        self.publish(self.position, state=State.BUSY)
        self.call_later(MOVE_S, self._arrive, values["FOCUS_ABSOLUTE_POSITION"])

    def _arrive(self, steps: float) -> None:
        self.position["FOCUS_ABSOLUTE_POSITION"] = steps
        self.publish(self.position, state=State.OK)


def main() -> int:
    """Serve both devices on stdin/stdout until EOF."""
    setup_logging(logging.INFO)
    transport = os.environ.get("FIXTURE_BLOB_TRANSPORT", "inline")
    asyncio.run(Driver([FixtureCamera(CAMERA), FixtureFocuser(FOCUSER)],
                       blob_transport=transport).run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
