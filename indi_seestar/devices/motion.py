"""MotionController: manual motion and guide pulses of the mount, through one speed-move command.

Layer: devices (asyncio; no INDI). The Seestar has one `scope_speed_move` whose angle mixes both
axes, no pulse-guide call (seestar-protocol.md §7.8) and whole-second auto-stops (`dur_sec`).
So the two sky axes (NS, WE; see motion_plan.py) each hold at most one command, a Pulse or a
Hold, and one runner task turns whatever is active into a sequence of speed moves:

- Each decision sends the quantised sum of what the active commands want (motion_plan.plan)
  and wakes when the first pulse has delivered its displacement (re-planning the rest: e.g. an
  RA pulse overlapping a Dec pulse ends, the Dec one goes on alone), when a command changes,
  or to refresh the move before its `dur_sec` runs out (holds, long pulses).
- Displacement, not time, is what a pulse delivers: the slowest speed (1 step/s = 15"/s of
  axis angle) is about the sidereal rate, so a 0.5x pulse runs at 1 step/s for half its length;
  cos(dec) / cos(alt) are compensated by the frame.
- Timing. A move acts when it reaches the scope, one way after it was written. Every decision
  is timed from the *write* of the previous command, never from its reply, so the one-way
  latency of the start and the stop cancel out; the round trips of moves and of stops are
  measured (`latency`) and the expected difference of their one-way latencies,
  (stop RTT - move RTT) / 2, is taken off the time of a stop. A pulse is reported done once the
  command that ended it was acknowledged, so the mount is known to have stopped.
- Safety: every move carries a `dur_sec` that stops the scope by itself shortly after the
  planned end (or, for holds, a few seconds after the last refresh) if this process dies.

Times are scope seconds (real seconds x the time factor, 1 for a real scope).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import IndiSeestarError
from .outcomes import outcome_unknown
from .motion_plan import (
    DONE_ARCSEC,
    AxisFrame,
    Command,
    Hold,
    Pulse,
    Segment,
    SkyAxis,
    SpeedCommand,
    advance,
    plan,
)

log = logging.getLogger(__name__)

#: A held move auto-stops this long (real s) after its last refresh if we vanish.
HOLD_SAFETY_S = 3.0
#: ...and is refreshed this often (real s), well before that.
HOLD_REFRESH_S = 1.0
#: Longest `dur_sec` we send (SPY: <= 10); longer pulses are refreshed before it runs out.
MAX_DUR_S = 10
#: Margin added to a pulse segment's `dur_sec` so the scope's own stop never cuts it short.
DUR_MARGIN_S = 0.25
#: Bound on the stop sent by stop_all() (abort, disconnect): one request round trip.
STOP_TIMEOUT_S = 5.0
#: Weight of a new round trip in the running latency estimates.
RTT_WEIGHT = 0.2
#: Bound on how much earlier than planned we wake to make up for the loop's own lateness (s).
MAX_WAKE_LEAD_S = 0.005
#: The stop lead comes from the medians of this many latest round trips of each kind, so one
#: stalled round trip (a busy host, a GC pause) cannot make the next pulses stop early.
LEAD_RTT_SAMPLES = 9


class Outcome(enum.Enum):
    """How an axis command ended."""

    DONE = "done"  # delivered (pulse) or released (hold), and the scope acknowledged the stop
    REPLACED = "replaced"  # a new command took the axis
    STOPPED = "stopped"  # stop_all(): abort, disconnect
    FAILED = "failed"  # the scope refused
    UNKNOWN = "unknown"  # no answer (link lost or reply late): it may have run (outcomes.py)


class Mover(Protocol):
    """The two scope commands the controller needs (SeestarClient adapts to it)."""

    async def move(self, command: SpeedCommand, duration_s: int) -> None: ...

    async def stop(self) -> None: ...


EndCallback = Callable[[SkyAxis, Command, Outcome, str | None], None]
Spawn = Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]


@dataclass
class Latency:
    """Measured round trips (s) of speed moves and of stops, with running estimates."""

    move_rtt_s: float | None = None
    stop_rtt_s: float | None = None
    moves: int = 0
    stops: int = 0
    samples: list[tuple[str, float]] = field(default_factory=list)
    #: How late (s, real) the runner's planned wake-ups fire: asyncio rounds timeouts up to
    #: the millisecond and the loop may be busy; subtracted from later waits (bounded).
    wake_late_s: float = 0.0

    def record_wake(self, late_s: float) -> None:
        """Fold in how late one planned wake-up fired after the time asked of the loop."""
        self.wake_late_s = max(0.0, min(MAX_WAKE_LEAD_S, _ewma(self.wake_late_s, late_s)))

    def record(self, kind: str, rtt_s: float) -> None:
        """Fold one round trip in (kind "move" or "stop")."""
        self.samples = (self.samples + [(kind, rtt_s)])[-200:]
        if kind == "move":
            self.moves += 1
            self.move_rtt_s = _ewma(self.move_rtt_s, rtt_s)
        else:
            self.stops += 1
            self.stop_rtt_s = _ewma(self.stop_rtt_s, rtt_s)

    def stop_lead_s(self) -> float:
        """How much earlier than planned to send a stop: (stop RTT - move RTT) / 2, each the
        median of the latest LEAD_RTT_SAMPLES, or 0 before both were measured."""
        moves = [rtt for kind, rtt in self.samples if kind == "move"][-LEAD_RTT_SAMPLES:]
        stops = [rtt for kind, rtt in self.samples if kind == "stop"][-LEAD_RTT_SAMPLES:]
        if not moves or not stops:
            return 0.0
        return (statistics.median(stops) - statistics.median(moves)) / 2.0


def _failure(exc: Exception) -> Outcome:
    return Outcome.UNKNOWN if outcome_unknown(exc) else Outcome.FAILED


def _text(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _ewma(old: float | None, new: float) -> float:
    return new if old is None else old + RTT_WEIGHT * (new - old)


class MotionController:
    """Pulses and held moves on the NS/WE sky axes, executed as speed moves (see module)."""

    def __init__(self, mover: Mover, frame_of: Callable[[], AxisFrame], on_end: EndCallback,
                 spawn: Spawn, *, time_factor: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._mover = mover
        self._frame_of = frame_of
        self._on_end = on_end
        self._spawn = spawn
        self._tf = time_factor
        self._clock = clock
        self._commands: dict[SkyAxis, Command] = {}
        self._ending: list[tuple[SkyAxis, Command]] = []  # left their axis; reported at the next ack
        self._runner: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._segment: Segment | None = None  # what the scope is doing since _t_sent
        self._t_sent = 0.0
        self.latency = Latency()

    # --- what the device calls -------------------------------------------------------------

    def command(self, axis: SkyAxis) -> Command | None:
        """The active command of `axis`."""
        return self._commands.get(axis)

    @property
    def holding(self) -> bool:
        """True while a manual (held) move is active on either axis."""
        return any(isinstance(c, Hold) for c in self._commands.values())

    @property
    def moving(self) -> bool:
        """True while any command is active or the last move has not been stopped."""
        return bool(self._commands) or self._segment is not None

    def pulse(self, axis: SkyAxis, offset_arcsec: float, duration_s: float) -> None:
        """Move the sky by `offset_arcsec` (signed) along `axis` within `duration_s` scope seconds."""
        if duration_s <= 0 or offset_arcsec == 0:
            raise ValueError("a pulse needs a duration and an offset")
        now = self._now()
        self._set(axis, Pulse(offset_arcsec, now + duration_s, duration_s), now)

    def hold(self, axis: SkyAxis, rate_arcsec_s: float) -> None:
        """Move along `axis` at `rate_arcsec_s` (signed, sky) until released or stopped."""
        if rate_arcsec_s == 0:
            raise ValueError("a held move needs a rate")
        now = self._now()
        self._set(axis, Hold(rate_arcsec_s), now)

    def release(self, axis: SkyAxis) -> None:
        """End `axis`'s command (reported DONE once the scope acknowledged the stop)."""
        if axis not in self._commands:
            return
        self._account(self._now())
        self._ending.append((axis, self._commands.pop(axis)))
        self._kick()

    async def stop_all(self, reason: str = "stopped") -> None:
        """Stop at once: cancel the runner, end every command STOPPED, send a stop (bounded)."""
        self._cancel_runner()
        self._finish_all(Outcome.STOPPED, reason)
        self._segment = None
        await self._timed("stop", self._mover.stop(), timeout_s=STOP_TIMEOUT_S)

    def close(self) -> None:
        """Forget everything without talking to the scope (the session is gone)."""
        self._cancel_runner()
        self._finish_all(Outcome.STOPPED, "disconnected")
        self._segment = None

    # --- internals -------------------------------------------------------------------------

    def _now(self) -> float:
        return self._clock() * self._tf

    def _set(self, axis: SkyAxis, command: Command, now: float) -> None:
        self._account(now)
        old = self._commands.get(axis)
        self._commands[axis] = command
        if old is not None:
            self._on_end(axis, old, Outcome.REPLACED, None)
        self._kick()

    def _kick(self) -> None:
        if self._runner is None or self._runner.done():
            self._runner = self._spawn(self._run())
        self._wake.set()

    def _cancel_runner(self) -> None:
        if self._runner is not None and not self._runner.done():
            self._runner.cancel()
        self._runner = None

    def _account(self, now: float) -> None:
        """Fold the motion delivered since the last command into the pulses' remainders."""
        seg = self._segment
        if seg is None:
            return
        elapsed = max(0.0, now - self._t_sent)
        self._t_sent = now
        for axis, cmd in list(self._commands.items()):
            self._commands[axis] = advance(cmd, seg.rate_along(axis) * elapsed)

    def _finish_all(self, outcome: Outcome, reason: str | None) -> None:
        ended = self._ending + list(self._commands.items())
        self._ending = []
        self._commands.clear()
        for axis, cmd in ended:
            self._on_end(axis, cmd, outcome, reason)

    def _ends_everything(self, segment: Segment) -> bool:
        """True when this segment's end finishes every command (the next command is a stop)."""
        for axis, cmd in self._commands.items():
            rate = segment.rate_along(axis)
            if isinstance(cmd, Hold) or rate * cmd.remaining_arcsec <= 0:
                return False
            if not math.isclose(cmd.remaining_arcsec / rate, segment.run_s, rel_tol=1e-6):
                return False
        return True

    async def _run(self) -> None:
        """The runner: decide, send, wait for the next reason to decide (see module)."""
        lead_s = 0.0  # how early the last wait ended on purpose (stop latency compensation)
        planned_end = 0.0  # scope time the last wait was meant to end (timer wake-ups only)
        while True:
            self._wake.clear()
            now = self._now()
            # Woken a little early on purpose (loop lateness): the next command lands on time.
            self._account(max(now, planned_end) + lead_s)
            self._t_sent = now
            for axis, cmd in list(self._commands.items()):
                if isinstance(cmd, Pulse) and abs(cmd.remaining_arcsec) < DONE_ARCSEC:
                    self._ending.append((axis, self._commands.pop(axis)))
            ended, self._ending = self._ending, []
            segment = plan(self._commands, self._frame_of(), now) if self._commands else None
            lead_s = planned_end = 0.0
            if segment is None:
                if self._segment is not None or ended:
                    self._segment = None
                    await self._send("stop", self._mover.stop(), ended)
                await self._wake.wait()
                continue
            wait_s = min(segment.run_s, MAX_DUR_S - 1.0)
            if any(isinstance(c, Hold) for c in self._commands.values()):
                dur_s = max(1, math.ceil(HOLD_SAFETY_S * self._tf))
                wait_s = min(wait_s, HOLD_REFRESH_S * self._tf)
            else:
                dur_s = max(1, min(MAX_DUR_S, math.ceil(segment.run_s + DUR_MARGIN_S)))
            if wait_s == segment.run_s and self._ends_everything(segment):
                lead_s = max(0.0, min(wait_s, self.latency.stop_lead_s() * self._tf))
            self._segment = segment
            # The segment runs from the moment its command was written, not from this decision.
            written = await self._send("move", self._mover.move(segment.command, dur_s), ended)
            self._account(written)
            planned_end = written + wait_s - lead_s
            wait_real_s = max(0.0, (planned_end - self._now()) / self._tf - self.latency.wake_late_s)
            t_wake = self._clock() + wait_real_s
            try:
                await asyncio.wait_for(self._wake.wait(), wait_real_s)
                lead_s = planned_end = 0.0  # woken by a change, not by the planned end
            except TimeoutError:
                self.latency.record_wake(self._clock() - t_wake)

    async def _send(self, kind: str, request: Awaitable[None], ended: list[tuple[SkyAxis, Command]]) -> float:
        """Write the command (the scope time it was written is returned); once acknowledged,
        report the `ended` commands."""
        written: asyncio.Future[float] = asyncio.get_running_loop().create_future()

        async def send() -> None:
            written.set_result(self._now())  # the request writes in its first step, right now
            error = await self._timed(kind, request, timeout_s=None)
            outcome = Outcome.DONE if error is None else _failure(error)
            reason = None if error is None else _text(error)
            for axis, cmd in ended:
                self._on_end(axis, cmd, outcome, reason)
            if error is not None and kind == "move":
                await self._fail(outcome, reason)

        self._spawn(send())
        return await written

    async def _timed(self, kind: str, request: Awaitable[None], *,
                     timeout_s: float | None) -> Exception | None:
        """Await one command and record its round trip; the error, or None when accepted."""
        t0 = self._clock()
        try:
            async with asyncio.timeout(timeout_s):
                await request
        except (IndiSeestarError, TimeoutError) as exc:
            log.warning("speed move %s failed: %s", kind, exc)
            return exc
        self.latency.record(kind, self._clock() - t0)
        return None

    async def _fail(self, outcome: Outcome, reason: str | None) -> None:
        """A move was refused or unanswered: end everything so and make sure the scope stops."""
        self._cancel_runner()
        self._finish_all(outcome, reason)
        self._segment = None
        await self._timed("stop", self._mover.stop(), timeout_s=STOP_TIMEOUT_S)
