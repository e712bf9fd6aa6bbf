"""The Seestar focuser as an INDI focuser (DRIVER_INTERFACE 8).

Layer: devices. Every accepted move shows Busy, then Ok with the final position, even a move
to the current position (Ekos ignores an update equal to the previous one, indi-standard.md
§4.4). Out of range: Alert, nothing moves. Moves made by the scope itself (its autofocus) are
reported from FocuserMove events.
"""

from __future__ import annotations

import asyncio

from ..errors import IndiSeestarError, ValueRejected
from ..indi import standard as std
from ..indi.model import State
from ..protocol.events import EventName, StageState
from ..protocol.rpc import Event
from ..seestar.client import SeestarClient
from .base import SeestarDevice
from .focuser_autofocus import Autofocus

DEFAULT_MAX_STEPS = 2600
#: A full-range move at the slowest speed seen (~300 steps/s) plus the scope's latency.
MOVE_TIMEOUT_S = 30.0
#: A FocuserMove complete this far from our target ends an earlier move, not ours (a move
#: replaced mid-way reports where it stopped after our new command was accepted).
ARRIVAL_TOLERANCE_STEPS = 2


class Focuser(SeestarDevice):
    """ABS/REL_FOCUS_POSITION, FOCUS_MOTION, FOCUS_ABORT_MOTION, FOCUS_MAX."""

    interface = 8

    def init_properties(self) -> None:
        """Focuser vectors, sized for an S50/S30 until the scope reports its range."""
        super().init_properties()
        name = self.name
        self.abs_pos = self.add(std.abs_focus_position(name, min_steps=0, max_steps=DEFAULT_MAX_STEPS,
                                                       step_steps=10),
                                connected_only=True, on_new=self._on_abs)
        self.rel_pos = self.add(std.rel_focus_position(name, max_steps=DEFAULT_MAX_STEPS, value_steps=50),
                                connected_only=True, on_new=self._on_rel)
        self.motion = self.add(std.focus_motion(name), connected_only=True)
        self.abort = self.add(std.focus_abort_motion(name), connected_only=True, on_new=self._on_abort)
        self.max = self.add(std.focus_max(name, DEFAULT_MAX_STEPS, min_steps=1, max_steps=DEFAULT_MAX_STEPS),
                            connected_only=True, on_new=self._on_max)
        self._move: asyncio.Task[None] | None = None
        self.autofocus = Autofocus(self, self.add)

    async def on_session(self, client: SeestarClient) -> None:
        """Take the scope's range and position; follow FocuserMove (moves run on at disconnect)."""
        state = client.state
        scope_max = state.focuser_max_steps or DEFAULT_MAX_STEPS
        for member, vector in (("FOCUS_ABSOLUTE_POSITION", self.abs_pos),
                               ("FOCUS_RELATIVE_POSITION", self.rel_pos)):
            vector.member(member).max = scope_max
        self.max.member("FOCUS_MAX_VALUE").max = scope_max
        self.max["FOCUS_MAX_VALUE"] = scope_max
        if state.focuser_position_steps is not None:
            self.abs_pos["FOCUS_ABSOLUTE_POSITION"] = state.focuser_position_steps
        self.abs_pos.state = State.OK
        self.keep_until_session_end(client.subscribe(self._on_event),
                                    client.subscribe(self.autofocus.feed))

    async def on_session_end(self, client: SeestarClient) -> None:
        """Forget a running autofocus (no event will end it for us)."""
        self.autofocus.reset()

    # --- handlers ----------------------------------------------------------------------

    def _on_abs(self, values: dict[str, float]) -> None:
        self._start_move(round(values["FOCUS_ABSOLUTE_POSITION"]), relative=False)

    def _on_rel(self, values: dict[str, float]) -> None:
        steps = round(values["FOCUS_RELATIVE_POSITION"])
        sign = -1 if self.motion["FOCUS_INWARD"] else 1
        target = round(self.abs_pos["FOCUS_ABSOLUTE_POSITION"]) + sign * steps
        low, high = self._limits()
        if not low <= target <= high:
            raise ValueRejected("REL_FOCUS_POSITION",
                                f"moving {steps} steps {'in' if sign < 0 else 'out'} would reach "
                                f"{target}, outside {low}..{high}; nothing moved")
        self.rel_pos["FOCUS_RELATIVE_POSITION"] = steps
        self._start_move(target, relative=True)

    def _on_abort(self, values: dict[str, bool]) -> None:
        self.abort.reset()
        self.publish(self.abort, state=State.BUSY)
        self.spawn(self._abort())

    def _on_max(self, values: dict[str, float]) -> None:
        new_max = round(values["FOCUS_MAX_VALUE"])
        for member, vector in (("FOCUS_ABSOLUTE_POSITION", self.abs_pos),
                               ("FOCUS_RELATIVE_POSITION", self.rel_pos)):
            vector.member(member).max = new_max
        self.max["FOCUS_MAX_VALUE"] = new_max
        self.redefine(self.abs_pos)
        self.redefine(self.rel_pos)
        self.publish(self.max, state=State.OK)

    # --- moves ---------------------------------------------------------------------------

    def _limits(self) -> tuple[int, int]:
        member = self.abs_pos.member("FOCUS_ABSOLUTE_POSITION")
        return round(member.min), round(member.max)

    def _start_move(self, target_steps: int, *, relative: bool) -> None:
        if self._move is not None and not self._move.done():
            self._move.cancel()  # a new move replaces the running one
        self.pending.end_guard()
        self.publish(self.abs_pos, state=State.BUSY)
        if relative:
            self.publish(self.rel_pos, state=State.BUSY)
        self._move = self.spawn(self._run_move(target_steps, relative))

    async def _run_move(self, target_steps: int, relative: bool) -> None:
        def arrived(event: Event) -> bool:
            position = _steps(event)
            return (event.state != StageState.COMPLETE or position is None
                    or abs(position - target_steps) <= ARRIVAL_TOLERANCE_STEPS)

        try:
            async with self.client.expect(EventName.FOCUSER_MOVE, timeout_s=MOVE_TIMEOUT_S,
                                          predicate=arrived) as done:
                await self.client.move_focuser(target_steps)
            event = await done.wait()
        except IndiSeestarError as exc:
            self._finish(State.ALERT, relative,
                         self.outcome_message(f"focuser move to {target_steps}", exc))
            return
        position = _steps(event)
        self.abs_pos["FOCUS_ABSOLUTE_POSITION"] = target_steps if position is None else position
        self._finish(State.OK, relative, None)

    def _finish(self, state: State, relative: bool, message: str | None) -> None:
        self.publish(self.abs_pos, state=state, message=message)
        if relative or self.rel_pos.state is State.BUSY:  # also a relative move we replaced
            self.publish(self.rel_pos, state=state)

    async def _abort(self) -> None:
        if self._move is not None and not self._move.done():
            self._move.cancel()
        try:
            await self.client.stop_focuser()
            position = (await self.client.refresh()).focuser_position_steps
        except IndiSeestarError as exc:
            self.publish(self.abort, state=State.ALERT, message=f"[ERROR] focuser abort failed: {exc}")
            return
        if position is not None:
            self.abs_pos["FOCUS_ABSOLUTE_POSITION"] = position
        for vector in (self.abs_pos, self.rel_pos):  # libindi: a Busy move becomes Idle
            self.publish(vector, state=State.IDLE if vector.state is State.BUSY else None)
        self.publish(self.abort, state=State.OK, message="[INFO] focuser motion aborted")

    def _on_event(self, event: Event) -> None:
        """FocuserMove from the scope: progress while Busy, and moves we did not ask for."""
        if event.name != EventName.FOCUSER_MOVE or not self.is_connected:
            return
        position = _steps(event)
        if position is not None:
            self.abs_pos["FOCUS_ABSOLUTE_POSITION"] = position
        if self._move is not None and not self._move.done():
            if event.state == StageState.WORKING:  # progress of our move
                self.publish(self.abs_pos, state=State.BUSY)
            return
        if event.state in (StageState.START, StageState.WORKING) and self.pending.guarding():
            self.pending.end_guard()
            self.spawn(self._stop_unconfirmed(self.client, "a focuser move sent before the link "
                                                           "was lost"))
        elif event.state in (StageState.START, StageState.WORKING):
            self.publish(self.abs_pos, state=State.BUSY)
        elif event.state == StageState.COMPLETE:
            self.publish(self.abs_pos, state=State.OK)
        elif event.state in (StageState.FAIL, StageState.CANCEL):
            self.publish(self.abs_pos, state=State.ALERT,
                         message=f"[WARNING] the scope's focuser move ended: {event.state}")


    # --- the link dropped and came back (docs/outcomes.md) ---------------------------------

    async def on_link_back(self, client: SeestarClient) -> None:
        """Show the scope's real position; stop a move of unknown outcome still under way."""
        unknown = "; ".join(self.pending.resolve())
        if self._move is not None and not self._move.done():
            return  # a move asked since the link is back: it shows its own state
        if unknown and client.state.focuser_moving:
            await self._stop_unconfirmed(client, unknown)
            return
        self._show_scope_position(client)
        if unknown:
            self.message(f"the link is back; {unknown}: the focuser is at "
                         f"{self.abs_pos['FOCUS_ABSOLUTE_POSITION']:.0f}", "INFO")

    async def _stop_unconfirmed(self, client: SeestarClient, what: str) -> None:
        """Stop a move the user was not told would happen, and say so."""
        self.pending.end_guard()  # found and stopped: later FocuserMove events are not it
        try:
            await client.stop_focuser()
            await client.refresh()
        except IndiSeestarError as exc:
            self.message(f"{what}: the focuser is moving and could not be stopped: {exc}", "ERROR")
            return
        self._show_scope_position(client)
        self.message(f"{what}: the Seestar was carrying it out although its outcome was not "
                     f"confirmed; stopped it at {self.abs_pos['FOCUS_ABSOLUTE_POSITION']:.0f}",
                     "WARNING")

    def _show_scope_position(self, client: SeestarClient) -> None:
        position = client.state.focuser_position_steps
        if position is not None:
            self.abs_pos["FOCUS_ABSOLUTE_POSITION"] = position
        self.publish(self.abs_pos, state=State.OK)
        if self.rel_pos.state is not State.IDLE:
            self.publish(self.rel_pos, state=State.IDLE)


def _steps(event: Event) -> int | None:
    """The integer `position` of a FocuserMove event, if it carries one."""
    position = event.get("position")
    return position if isinstance(position, int) and not isinstance(position, bool) else None
