"""Start-up and shut-down sequences: what the app does when it opens and closes a session.

Layer: devices. A helper of the "Seestar Power" device (gets it as a ServiceHost, the device's
`add`, and a callback giving the site the mount knows). Start-up: the computer's UTC time and
the site pushed to the scope, the arm raised, calibration (no command for it is known on the
recorded firmware, so the step says so), then optionally the autofocus and the dark library.
Shut-down: stacking and preview stopped, dew heater off, arm parked, optionally power off.
Each step is shown as it starts and ends; a failed step ends the sequence with Alert. Stop
cancels the running step and makes it safe first (autofocus/darks stopped, a moving arm
stopped or waited for), so nothing moves once the sequence shows Idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import CommandFailed, IndiSeestarError, OperationFailed, ValueRejected
from ..indi.model import State, SwitchVector
from ..protocol.events import EventName
from ..seestar.client import SeestarClient
from . import props_services as props
from .service import ServiceHost

#: Opening/folding the arm takes ~10-20 s on the scope.
ARM_TIMEOUT_S = 90.0
#: An autofocus sweeps 9-36 points; darks take ~60 s.
AUTOFOCUS_TIMEOUT_S = 300.0
DARKS_TIMEOUT_S = 300.0

Site = Callable[[], tuple[float, float] | None]


@dataclass(frozen=True)
class Step:
    """One step: its label, what it does (returns a short result), how to make it safe."""

    label: str
    run: Callable[[], Awaitable[str]]
    make_safe: Callable[[], Awaitable[None]] | None = None


class Sequences:
    """SEESTAR_STARTUP, SEESTAR_SHUTDOWN_SEQ, their options, SEESTAR_SEQUENCE_STATUS/PROGRESS."""

    def __init__(self, host: ServiceHost, add: Any, site: Site) -> None:
        """`site()` gives (lat_deg, lon_east_deg) the mount knows, or None."""
        self.host, self._site = host, site
        n = host.name
        self.startup = add(props.startup(n), connected_only=True,
                           on_new=lambda v: self._on_switch(v, self.startup, "STARTUP"))
        self.startup_options = add(props.startup_options(n), connected_only=True)
        self.shutdown = add(props.shutdown_sequence(n), connected_only=True,
                            on_new=lambda v: self._on_switch(v, self.shutdown, "SHUTDOWN_SEQ"))
        self.shutdown_options = add(props.shutdown_options(n), connected_only=True)
        self.status = add(props.sequence_status(n), connected_only=True)
        self.progress = add(props.sequence_progress(n), connected_only=True)
        self._task: asyncio.Task[None] | None = None
        self._running: SwitchVector | None = None
        self._current: Step | None = None

    def reset(self) -> None:
        """The session ended (the device task is cancelled with it)."""
        self._task = self._running = self._current = None

    # --- INDI --------------------------------------------------------------------------------

    def _on_switch(self, values: dict[str, bool], switch: SwitchVector, prefix: str) -> None:
        switch.reset()
        if values.get(f"{prefix}_STOP"):
            if self._running is not switch or self._task is None:
                raise ValueRejected(switch.name, "this sequence is not running")
            self.host.publish(switch, state=State.BUSY, message="[INFO] stopping the sequence")
            self._task.cancel()
            return
        if not values.get(f"{prefix}_START"):
            raise ValueRejected(switch.name, "nothing to do")
        if self._task is not None and not self._task.done():
            raise ValueRejected(switch.name, f"the {self.status['SEQUENCE']} sequence is running; "
                                             "stop it first")
        client = self.host.client
        name, steps = (("start-up", self._startup_steps(client)) if switch is self.startup
                       else ("shut-down", self._shutdown_steps(client)))
        self._running = switch
        self.status.update({"SEQUENCE": name, "STEP": "", "DONE": ""})
        self.progress.update({"STEP_NUMBER": 0, "STEP_COUNT": len(steps)})
        self.host.publish(switch, state=State.BUSY, message=f"[INFO] {name} sequence started: "
                          + ", ".join(s.label for s in steps))
        self._task = self.host.spawn(self._run(switch, name, steps))

    # --- running -----------------------------------------------------------------------------

    async def _run(self, switch: SwitchVector, name: str, steps: list[Step]) -> None:
        done: list[str] = []
        try:
            for number, step in enumerate(steps, start=1):
                self._current = step
                self.status["STEP"] = step.label
                self.progress["STEP_NUMBER"] = number
                self.host.publish(self.status, state=State.BUSY)
                self.host.publish(self.progress, state=State.BUSY)
                try:
                    result = await step.run()
                except IndiSeestarError as exc:
                    self._end(switch, State.ALERT, f"[ERROR] {name}: step '{step.label}' failed: {exc}")
                    return
                done.append(f"{step.label}: {result}")
                self.status["DONE"] = "; ".join(done)
                self.host.message(f"{name}: {step.label}: {result}")
            self.status["STEP"] = "done"
            self._end(switch, State.OK, f"[INFO] {name} sequence done")
        except asyncio.CancelledError:
            step = self._current
            if not self.host.is_connected:
                raise
            if step is not None and step.make_safe is not None:
                try:
                    await step.make_safe()
                except IndiSeestarError as exc:
                    self.host.message(f"making '{step.label}' safe: {exc}", "WARNING")
            self.status["STEP"] = f"stopped at {step.label if step else 'start'}"
            self._end(switch, State.IDLE, f"[INFO] {name} sequence stopped; nothing moves")
        finally:
            self._current = None

    def _end(self, switch: SwitchVector, state: State, message: str) -> None:
        self._running = None
        self.host.publish(self.status, state=state)
        self.host.publish(self.progress, state=state)
        self.host.publish(switch, state=state, message=message)

    # --- start-up ----------------------------------------------------------------------------

    def _startup_steps(self, client: SeestarClient) -> list[Step]:
        steps = [Step("time", lambda: _push_time(client)),
                 Step("site", lambda: self._push_site(client)),
                 Step("arm", lambda: _raise_arm(client),
                      _settle_arm(client, EventName.SCOPE_MOVE_TO_HORIZON)),
                 Step("calibration", _no_calibration)]
        if self.startup_options["WITH_AUTOFOCUS"]:
            steps.append(Step("autofocus", lambda: _autofocus(client),
                              lambda: _quietly(client.stop_autofocus)))
        if self.startup_options["WITH_DARKS"]:
            steps.append(Step("dark library", lambda: _darks(client),
                              lambda: _quietly(client.stop_dark_library)))
        return steps

    async def _push_site(self, client: SeestarClient) -> str:
        site = self._site()
        if site is None:
            return "skipped: no site known (set GEOGRAPHIC_COORD on the mount)"
        lat, lon = site
        await client.set_location(lat, lon)
        return f"lat {lat:.4f}, lon {lon:.4f}"

    # --- shut-down ---------------------------------------------------------------------------

    def _shutdown_steps(self, client: SeestarClient) -> list[Step]:
        steps = [Step("stop imaging", lambda: _stop_everything(client)),
                 Step("dew heater off", lambda: _heater_off(client)),
                 Step("park", lambda: _park(client), _settle_arm(client, EventName.SCOPE_HOME))]
        if self.shutdown_options["WITH_POWER_OFF"]:
            steps.append(Step("power off", lambda: _power_off(client)))
        return steps


async def _push_time(client: SeestarClient) -> str:
    now = datetime.now(UTC)
    await client.set_time(now)
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


async def _raise_arm(client: SeestarClient) -> str:
    if not client.state.parked:
        return "already up"
    async with client.expect(EventName.SCOPE_MOVE_TO_HORIZON, timeout_s=ARM_TIMEOUT_S) as done:
        await client.unpark()
    await done.wait()
    return "raised"


async def _park(client: SeestarClient) -> str:
    if client.state.parked:
        return "already parked"
    async with client.expect(EventName.SCOPE_HOME, timeout_s=ARM_TIMEOUT_S) as done:
        await client.park()
    await done.wait()
    return "parked"


def _settle_arm(client: SeestarClient, name: EventName) -> Callable[[], Awaitable[None]]:
    """Stop the arm where the firmware allows it, else wait until its move (`name`) ends."""
    async def settle() -> None:
        await _quietly(client.abort_goto)
        async with client.expect(name, timeout_s=ARM_TIMEOUT_S) as done:
            if not client.state.slewing:
                return
        try:
            await done.wait()
        except OperationFailed:
            pass
    return settle


async def _no_calibration() -> str:
    # No horizon/compass calibration command is known from the recorded firmware (6.70,
    # 7.06) or the sources in seestar-protocol.md; the step says so instead of guessing.
    return "skipped: no calibration command known for this firmware"


async def _autofocus(client: SeestarClient) -> str:
    async with client.expect(EventName.AUTO_FOCUS, timeout_s=AUTOFOCUS_TIMEOUT_S) as done:
        await client.start_autofocus()
    event = await done.wait()
    result = event.get("result")
    last = result.get("last_point") if isinstance(result, dict) else None
    return f"at {last[0]} steps" if isinstance(last, list) and last else "done"


async def _darks(client: SeestarClient) -> str:
    async with client.expect(EventName.DARK_LIBRARY, timeout_s=DARKS_TIMEOUT_S) as done:
        await client.start_dark_library()
    await done.wait()
    return "built"


async def _stop_everything(client: SeestarClient) -> str:
    stopped = []
    if client.state.stacking:
        await client.stop_stack()
        stopped.append("stack")
    if client.state.preview_active:
        await client.stop_preview()
        stopped.append("preview")
    for stop in (client.stop_autofocus, client.stop_dark_library):
        await _quietly(stop)
    return "stopped " + ", ".join(stopped) if stopped else "nothing was running"


async def _heater_off(client: SeestarClient) -> str:
    await client.set_dew_heater(0)
    return "off"


async def _power_off(client: SeestarClient) -> str:
    await client.shutdown()
    return "the scope was told to shut down"


async def _quietly(command: Callable[[], Awaitable[None]]) -> None:
    """A stop that the firmware may refuse when nothing runs (its refusal changes nothing)."""
    try:
        await command()
    except CommandFailed:
        pass
