"""Which path each Seestar function takes: the private protocol or the scope's Alpaca server.

Layer: devices. Owned by the session (one per Seestar session, so both paths share one scope's
state): at each open it looks for ZWO's Alpaca server as `seestar.alpaca` says (auto | on |
off) and, when found, single exposures, guide pulses and the dew heater go through it; live
stack, autofocus, solving, events and the 4800 stream always stay on the private protocol.
When the server stops answering, `lost()` drops it for the rest of the session with a
message, and callers retry what was in flight on the private path. `paths()` is what the
SEESTAR_PATHS property shows; listeners hear every change. Without alpyca (the Debian
package), `auto` is `off` with a log line and `on` warns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from typing import Any

from ..config import SeestarConfig
from ..errors import AlpacaUnavailable, IndiSeestarError
from ..indi.model import State, TextVector
from ..seestar.alpaca import AlpacaLink, alpyca_missing
from . import props

log = logging.getLogger(__name__)

#: `auto` sends single exposures through the Alpaca Camera: on the fake at real time (make
#: bench, B6, docs/benchmarks.md "Alpaca") it delivers every length within ~0.1-0.2 s of the
#: exposure, back to back included, where the private path's preview frames take up to
#: 1.5 s for a 0.5 s loop. Guide pulses: PulseGuide is exact to the millisecond where the
#: private path emulates pulses with whole-second speed moves. Both go through Alpaca in auto.
AUTO_USES = {"exposures": True, "pulse_guide": True, "dew_heater": True}

PRIVATE = "private protocol"


class AlpacaPaths:
    """The session's Alpaca link (or none) and what goes through it."""

    def __init__(self, notify: Callable[[str, str], None]) -> None:
        self._notify = notify
        self.mode = "off"
        self.link: AlpacaLink | None = None
        self.status = "off"
        #: The HTTP port Alpaca discovery found ("Find Seestar"), over seestar.alpaca_port.
        self.port_found: int | None = None
        self._listeners: list[Callable[[dict[str, str]], None]] = []

    def on_change(self, callback: Callable[[dict[str, str]], None]) -> Callable[[], None]:
        """`callback(paths())` after every change; returns the unsubscribe function."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    async def open(self, cfg: SeestarConfig) -> None:
        """Look for the Alpaca server of the scope `cfg` reaches (never raises)."""
        self.mode, self.link = cfg.alpaca.lower(), None
        if self.mode == "off":
            self._set_status("off (seestar.alpaca: off)")
            return
        if alpyca_missing():
            text = ("the alpyca package is not installed: everything goes through the private "
                    "protocol")
            log.info("Alpaca path: %s", text)
            if self.mode == "on":
                self._notify(f"seestar.alpaca is on but {text}", "WARNING")
            self._set_status("unavailable (alpyca not installed)")
            return
        try:
            # straight to the management API: a scope without the server refuses at once, while
            # a discovery probe would cost its whole listening window (Find Seestar discovers)
            self.link = await AlpacaLink.probe(cfg.host, self.port_found or cfg.alpaca_port, None)
        except IndiSeestarError as exc:
            log.info("no Alpaca server: %s", exc)
            if self.mode == "on":
                self._notify(f"the Seestar's Alpaca server was not found ({exc}); exposures, "
                             "guide pulses and the dew heater use the private protocol", "WARNING")
            self._set_status(f"not found ({exc})"[:200])
            return
        self._set_status(f"ZWO Alpaca {self.link.version} at {self.link.address}")

    def close(self) -> None:
        """Session end."""
        self.link = None
        self._set_status("off (no session)")

    def _uses(self, what: str) -> bool:
        return self.mode == "on" or AUTO_USES[what]

    def camera(self) -> AlpacaLink | None:
        """The link when single exposures go through the Alpaca Camera."""
        link = self.link
        return link if link is not None and link.has_camera and self._uses("exposures") else None

    def guide(self) -> AlpacaLink | None:
        """The link when guide pulses go through Telescope.PulseGuide."""
        link = self.link
        usable = link is not None and link.has_pulse_guide and self._uses("pulse_guide")
        return link if usable else None

    def heater(self) -> AlpacaLink | None:
        """The link when the dew heater goes through the Switch."""
        link = self.link
        return link if link is not None and link.has_switch and self._uses("dew_heater") else None

    def lost(self, exc: AlpacaUnavailable) -> None:
        """The server stopped answering: the private protocol takes everything back."""
        if self.link is None:
            return
        self.link = None
        log.warning("Alpaca server lost: %s", exc.reason)
        self._notify(f"the Seestar's Alpaca server stopped answering ({exc.reason}); exposures, "
                     "guide pulses and the dew heater go through the private protocol again",
                     "WARNING")
        self._set_status(f"lost ({exc.reason})"[:200])

    def paths(self) -> dict[str, str]:
        """SEESTAR_PATHS values: the server and the path of each function."""
        return {
            "ALPACA_SERVER": self.status,
            "EXPOSURES": ("Alpaca Camera (ImageBytes)" if self.camera()
                          else f"{PRIVATE} (preview frames)"),
            "PULSE_GUIDE": ("Alpaca Telescope.PulseGuide" if self.guide()
                            else f"{PRIVATE} (speed moves)"),
            "DEW_HEATER": "Alpaca Switch" if self.heater() else PRIVATE,
            "OTHERS": f"{PRIVATE} (live stack, autofocus, solve, mount, focuser, wheel, events)",
        }

    def _set_status(self, text: str) -> None:
        self.status = text
        values = self.paths()
        for callback in list(self._listeners):
            callback(values)


def add_paths_property(device: Any) -> TextVector:
    """Declare SEESTAR_PATHS on `device` (a SeestarDevice; connected only)."""
    return device.add(props.seestar_paths(device.name), connected_only=True)


def follow_paths(device: Any, vector: TextVector, paths: AlpacaPaths) -> None:
    """Show `paths` in `vector` now and at every change until the device's session ends."""
    def show(values: dict[str, str]) -> None:
        for key, value in values.items():
            vector[key] = value
        if device.is_connected:
            device.publish(vector, state=State.OK)

    show(paths.paths())
    device.keep_until_session_end(paths.on_change(show))


async def set_dew_heater(paths: AlpacaPaths, client: Any, power_percent: int) -> str:
    """The dew heater to 0..100 % through the Alpaca Switch when that path is on, else (or when
    the server is gone) through the private `pi_output_set2`; returns the path used."""
    link = paths.heater()
    if link is not None:
        try:
            await link.set_dew_heater(power_percent)
            return "alpaca"
        except AlpacaUnavailable as exc:
            paths.lost(exc)
    await client.set_dew_heater(power_percent)
    return "private"
