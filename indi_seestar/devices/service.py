"""Procedure: one of the scope's own long procedures (autofocus, solve, darks...) behind a switch.

Layer: devices. A helper of the device that shows it: it gets the device as a `ServiceHost`
(the few PropertyHost calls it needs) and never imports the device's module. The procedure is
started by a firmware command (the handler returns at once with Busy), followed through its
stage events (start/working -> Busy with progress, complete -> Ok, fail -> Alert with the
firmware's reason, cancel -> Idle) and also when another client (the phone app) starts it.
A guard timer turns a procedure whose end never comes into Alert.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Coroutine
from typing import Any, Protocol

from ..errors import IndiSeestarError, ValueRejected
from ..indi.model import State, SwitchVector, Vector
from ..protocol.events import EventName, StageState
from ..protocol.rpc import Event
from ..seestar.client import SeestarClient
from ..seestar.state import ScopeState

_RUNNING = (StageState.START, StageState.WORKING, StageState.SOLVING)


def mount_busy(state: ScopeState, label: str) -> str | None:
    """Why a procedure that uses the arm and the camera cannot start now, or None."""
    if state.parked:
        return f"the mount is parked (arm closed): unpark it before a {label}"
    if state.slewing or state.goto_centering:
        return f"the mount is slewing: start the {label} once it has arrived"
    if state.stacking:
        return f"the scope is stacking: stop the stack before a {label}"
    return None


class ServiceHost(Protocol):
    """What a procedure needs from its device."""

    name: str

    @property
    def is_connected(self) -> bool: ...

    @property
    def client(self) -> SeestarClient: ...

    def publish(self, vector: Vector, *, state: State | None = None,
                message: str | None = None) -> None: ...

    def message(self, text: str, level: str = "INFO") -> None: ...

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]: ...

    def call_later(self, delay_s: float, fn: Callable[..., Any], *args: Any) -> asyncio.TimerHandle: ...


class Procedure:
    """Start/stop switch of one firmware procedure and its life cycle (see module)."""

    def __init__(self, host: ServiceHost, switch: SwitchVector, *, event: EventName | Collection[str],
                 label: str, start_member: str, stop_member: str, guard_s: float,
                 running_states: Collection[str] = _RUNNING) -> None:
        self.host, self.switch, self.label = host, switch, label
        self.events = frozenset({event} if isinstance(event, str) else event)
        self.running_states = frozenset(running_states)
        self.start_member, self.stop_member = start_member, stop_member
        self.guard_s = guard_s
        self.running = False
        self.ours = False
        self._guard: asyncio.TimerHandle | None = None
        #: Called on each event of the procedure (progress, results), before the state change.
        self.on_event: Callable[[Event], None] = lambda event: None
        #: Called when a run begins (ours or another client's): clear the last results.
        self.on_begin: Callable[[], None] = lambda: None
        #: Called with the final state (Ok/Alert/Idle) once the run ended.
        self.on_end: Callable[[State], None] = lambda state: None
        #: Which events of `event` belong to this procedure (e.g. not a goto's own solves).
        self.accept: Callable[[Event], bool] = lambda event: True
        #: Work after the scope's `complete` (e.g. a sync): its (state, message) ends the run.
        self.after_complete: Callable[[], Awaitable[tuple[State, str | None]]] | None = None

    # --- INDI side ---------------------------------------------------------------------------

    def on_switch(self, values: dict[str, bool], *, refuse: Callable[[], str | None],
                  start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]]) -> None:
        """START: `refuse()` (a reason) or start; STOP: stop the running one."""
        self.switch.reset()
        if values.get(self.stop_member):
            if not self.running:
                raise ValueRejected(self.switch.name, f"no {self.label} is running")
            self.host.publish(self.switch, state=State.BUSY,
                              message=f"[INFO] stopping the {self.label}")
            self.host.spawn(self._command(stop, "stop"))
            return
        if not values.get(self.start_member):
            raise ValueRejected(self.switch.name, "nothing to do")
        if self.running:
            raise ValueRejected(self.switch.name, f"a {self.label} is already running")
        reason = refuse()
        if reason:
            raise ValueRejected(self.switch.name, reason)
        self._begin(ours=True)
        self.host.publish(self.switch, state=State.BUSY, message=f"[INFO] {self.label} started")
        self.host.spawn(self._command(start, "start"))

    async def _command(self, command: Callable[[], Awaitable[None]], what: str) -> None:
        try:
            await command()
        except IndiSeestarError as exc:
            if what == "start":
                self.finish(State.ALERT, f"[ERROR] {self.label} start failed: {exc}")
            elif self.running:  # it still runs on the scope: keep following it
                self.host.publish(self.switch, state=State.ALERT,
                                  message=f"[ERROR] {self.label} {what} failed: {exc}")

    # --- scope side --------------------------------------------------------------------------

    def feed(self, event: Event) -> None:
        """One scope event (every event of the session goes through here)."""
        if event.name not in self.events or not self.host.is_connected or not self.accept(event):
            return
        state = event.state
        if state in self.running_states and not self.running:
            self._begin(ours=False)
            self.host.message(f"the scope runs a {self.label} started by another client "
                              "(the app) or by itself", "INFO")
        if not self.running:
            return
        self.on_event(event)
        if state in self.running_states:
            self._arm_guard()
            self.host.publish(self.switch, state=State.BUSY)
        elif state == StageState.COMPLETE:
            if self.after_complete is None:
                self.finish(State.OK, None)
            elif self._guard is not None:  # once: a second `complete` flavour may follow
                self._guard.cancel()
                self._guard = None
                self.host.spawn(self._complete(self.after_complete))
        elif state == StageState.FAIL:
            error, code = event.get("error"), event.get("code")
            reason = str(error) if error else "failed"
            self.finish(State.ALERT, f"[ERROR] {self.label} failed: {reason}"
                        + (f" (code {code})" if code is not None else ""))
        elif state == StageState.CANCEL:
            self.finish(State.IDLE, f"[INFO] {self.label} stopped")

    async def _complete(self, after: Callable[[], Awaitable[tuple[State, str | None]]]) -> None:
        try:
            state, message = await after()
        except IndiSeestarError as exc:
            state, message = State.ALERT, f"[ERROR] {self.label} failed: {exc}"
        if self.running:
            self.finish(state, message)

    def _begin(self, *, ours: bool) -> None:
        self.running, self.ours = True, ours
        self.on_begin()
        self._arm_guard()

    def _arm_guard(self) -> None:
        if self._guard is not None:
            self._guard.cancel()
        self._guard = self.host.call_later(self.guard_s, self._timed_out)

    def _timed_out(self) -> None:
        self._guard = None
        if self.running:
            self.finish(State.ALERT, f"[ERROR] {self.label}: no word from the scope for "
                                     f"{self.guard_s:g} s; assuming it ended")

    def finish(self, state: State, message: str | None) -> None:
        """End the run with `state` (Ok/Alert/Idle)."""
        if self._guard is not None:
            self._guard.cancel()
            self._guard = None
        self.running = self.ours = False
        self.on_end(state)
        self.host.publish(self.switch, state=state, message=message)

    def forget(self) -> None:
        """Session over: forget any run (no event will end it)."""
        if self._guard is not None:
            self._guard.cancel()
            self._guard = None
        self.running = self.ours = False
        self.switch.state = State.IDLE


class ProcedureHelper:
    """Base of the helpers built on one Procedure: the device feeds events and resets it."""

    proc: Procedure

    def feed(self, event: Event) -> None:
        """Every scope event (the device's subscription)."""
        self.proc.feed(event)

    def reset(self) -> None:
        """The session ended."""
        self.proc.forget()
