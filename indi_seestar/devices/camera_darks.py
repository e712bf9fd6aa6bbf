"""The scope's own dark library on the camera device: SEESTAR_DARKS and its progress.

Layer: devices. A helper of the Camera (gets it as a ServiceHost plus narrow callbacks: the
gain in CCD_GAIN and whether an exposure runs). The firmware builds darks for its stack sub
length (setting exp_ms.stack_l) and gain, so START first sets the gain and stack_l to
CCD_GAIN and SEESTAR_DARKS_SETTINGS, then sends `start_create_dark`. DarkLibrary working
events carry `percent`; the wheel goes to the dark slot and back (the filter wheel device
shows it from WheelMove). SEESTAR_DARKS_LIBRARY records what the last library covers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..errors import IndiSeestarError
from ..indi.model import State
from ..protocol.events import EventName
from ..protocol.rpc import Event
from ..seestar.client import SeestarClient
from . import props_services as props
from .service import Procedure, ProcedureHelper, ServiceHost

#: ~60 s on the scope, percent every ~6 s; no event for this long means it died.
GUARD_S = 90.0
#: The stack sub length the firmware boots with (10 s).
DEFAULT_EXPOSURE_S = 10.0


class DarkLibrary(ProcedureHelper):
    """SEESTAR_DARKS, SEESTAR_DARKS_SETTINGS, SEESTAR_DARKS_PROGRESS, SEESTAR_DARKS_LIBRARY."""

    def __init__(self, host: ServiceHost, add: Any, *, gain: Callable[[], int],
                 exposing: Callable[[], bool]) -> None:
        """`gain()`: CCD_GAIN now; `exposing()`: an INDI exposure is under way."""
        self.host = host
        self._gain, self._exposing = gain, exposing
        name = host.name
        self.switch = add(props.darks(name), connected_only=True, on_new=self._on_switch)
        self.settings = add(props.darks_settings(name, DEFAULT_EXPOSURE_S), connected_only=True)
        self.progress = add(props.darks_progress(name), connected_only=True)
        self.library = add(props.darks_library(name), connected_only=True)
        self.proc = Procedure(host, self.switch, event=EventName.DARK_LIBRARY, label="dark library",
                              start_member="DARKS_START", stop_member="DARKS_STOP", guard_s=GUARD_S)
        self.proc.on_begin = self._begin
        self.proc.on_event = self._progress
        self.proc.on_end = self._ended
        self._built_for: tuple[float, int | None] | None = None

    async def on_session(self, client: SeestarClient) -> None:
        """Show the scope's stack sub length as the exposure darks are built for."""
        try:
            exposure_ms = await client.get_stack_exposure_ms()
        except IndiSeestarError as exc:
            self.host.message(f"could not read the stack exposure: {exc}", "WARNING")
            exposure_ms = None
        if exposure_ms:
            self.settings["DARKS_EXPOSURE"] = exposure_ms / 1000.0

    def _on_switch(self, values: dict[str, bool]) -> None:
        client = self.host.client
        exposure_s, gain = float(self.settings["DARKS_EXPOSURE"]), self._gain()

        async def start() -> None:
            await client.set_gain(gain)
            await client.set_stack_exposure_ms(round(exposure_s * 1000))
            self._built_for = (exposure_s, gain)
            await client.start_dark_library()

        self.proc.on_switch(values, refuse=self._refusal, start=start, stop=client.stop_dark_library)

    def _refusal(self) -> str | None:
        if self.host.client.state.stacking:
            return "the scope is stacking: stop the stack before building darks"
        if self._exposing():
            return "an exposure is under way: abort it or wait before building darks"
        return None

    def _begin(self) -> None:
        self._built_for = None
        self.progress["DARKS_PERCENT"] = 0
        self.host.publish(self.progress, state=State.BUSY)

    def _progress(self, event: Event) -> None:
        percent = event.get("percent")
        if isinstance(percent, (int, float)) and not isinstance(percent, bool):
            self.progress["DARKS_PERCENT"] = max(0.0, min(100.0, float(percent)))
            self.host.publish(self.progress, state=State.BUSY)

    def _ended(self, state: State) -> None:
        if state is State.OK:
            self.progress["DARKS_PERCENT"] = 100
            exposure_s, gain = self._built_for or (float(self.settings["DARKS_EXPOSURE"]), None)
            self.library["LIBRARY_EXPOSURE"] = f"{exposure_s:g}"
            self.library["LIBRARY_GAIN"] = "" if gain is None else str(gain)
            self.library["LIBRARY_DATE"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self.host.publish(self.library, state=State.OK)
        self.host.publish(self.progress, state=state)
