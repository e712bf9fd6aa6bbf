"""Goto, sync, park/unpark, abort and tracking of the mount device (indi-standard.md §4.3).

Layer: devices. Handlers start an operation and return; the operation runs as a device task
and ends from the scope's events (ScopeGoto or AutoGoto, ScopeHome, ScopeMoveToHorizon).
- Goto (ON_COORD_SET TRACK or SLEW, then EQUATORIAL_EOD_COORD): Busy at once with
  TARGET_EOD_COORD; Busy updates while moving; Ok at the target (TRACK) or Idle with tracking
  turned off (SLEW); Alert with the firmware's message if refused or failed. SEESTAR_GOTO_MODE
  picks the raw slew (`scope_goto`) or the Seestar's plate-solve-centred goto (AutoGoto).
- Sync: the scope's model is corrected, the answer is Ok even when the numbers do not change.
- Park / unpark: Busy with the wanted member On, then Ok; "already parked" is answered Idle.
- Abort: cancels a goto (AutoGoto stage and raw slew), a park (TELESCOPE_PARK Alert) and any
  motion; TELESCOPE_ABORT_MOTION Ok with the button Off.
- While parked, goto and sync are answered Idle with a warning and nothing moves (libindi).
"""

from __future__ import annotations

import asyncio

from ..errors import IndiSeestarError, OperationFailed, ValueRejected
from ..indi.model import State
from ..protocol.events import EventName, StageState
from ..protocol.rpc import Event
from .mount_ports import SlewPorts
from .mount_status import PARKED_WARNING, Activity
from .outcomes import outcome_unknown, unknown_message

#: A raw slew crosses the sky at a few deg/s; 180 degrees plus the start/settle overhead, generous.
GOTO_TIMEOUT_S = 180.0
#: A centred goto adds exposures and plate solves (each ~10 s) and up to a few re-slews.
CENTERED_GOTO_TIMEOUT_S = 300.0
#: Folding or opening the arm takes a few seconds (ALP waits for ScopeHome).
PARK_TIMEOUT_S = 90.0
#: How long a running slew may take to report its end once stopped (before a new goto).
STOP_SLEW_TIMEOUT_S = 10.0
#: How long the ScopeTrack confirmation of a tracking change may take before we poll instead.
TRACK_CONFIRM_S = 3.0
#: The target name the centred goto shows in the Seestar app.
CENTERED_TARGET_NAME = "INDI goto"


class SlewControl:
    """The mount's goto/sync/park/abort/tracking handlers and their operation task."""

    def __init__(self, mount: SlewPorts) -> None:
        self._mount = mount
        self._operation: asyncio.Task[None] | None = None
        #: The mount's own operation under way (a goto, park or unpark of ours), or IDLE.
        self.activity = Activity.IDLE

    # --- handlers --------------------------------------------------------------------------

    async def on_eod(self, values: dict[str, float]) -> None:
        """A goto (started, answered Busy) or a sync (done here, answered Ok), as ON_COORD_SET says."""
        m = self._mount
        ra = values.get("RA", float(m.eod["RA"])) % 24.0
        dec = values.get("DEC", float(m.eod["DEC"]))
        action = next((name for name in ("TRACK", "SLEW", "SYNC") if m.coord_set[name]), "TRACK")
        if m.client().state.parked:
            m.publish(m.eod, state=State.IDLE, message=f"[WARNING] {PARKED_WARNING}")
            return
        if action == "SYNC":
            await self._sync(ra, dec)
            return
        self._cancel_operation()
        m.pending.end_guard()
        self.activity = Activity.SLEWING
        m.target.update({"RA": ra, "DEC": dec})
        m.publish(m.target, state=State.BUSY)
        m.publish(m.eod, state=State.BUSY)
        centered = m.centered()
        self._operation = m.spawn(self._goto(ra, dec, track=action == "TRACK", centered=centered))

    def on_park(self, values: dict[str, bool]) -> None:
        """PARK or UNPARK."""
        m = self._mount
        park = bool(values.get("PARK"))
        busy = self.activity in (Activity.PARKING, Activity.UNPARKING)
        wanted = Activity.PARKING if park else Activity.UNPARKING
        if busy and self.activity is wanted:
            m.publish(m.park, state=State.BUSY)
            return
        if not busy and m.client().state.parked == park:
            m.park.select("PARK" if park else "UNPARK")
            m.publish(m.park, state=State.IDLE,
                      message=f"[INFO] the mount is already {'parked' if park else 'unparked'}")
            return
        self._cancel_operation()
        m.pending.end_guard()
        self.activity = wanted
        m.refresh(keep_alerts=False)
        self._operation = m.spawn(self._park(park))

    def on_abort(self, values: dict[str, bool]) -> None:
        """Cancel whatever moves; the button answers Ok (Off) once the scope stopped."""
        m = self._mount
        m.abort.reset()
        if not values.get("ABORT"):
            m.publish(m.abort, state=State.IDLE)
            return
        m.publish(m.abort, state=State.BUSY)
        parking = self.activity in (Activity.PARKING, Activity.UNPARKING)
        self._cancel_operation()
        self.activity = Activity.IDLE
        m.spawn(self._abort(parking))

    async def on_track(self, values: dict[str, bool]) -> None:
        """TRACK_ON / TRACK_OFF; refused while parked."""
        m = self._mount
        on = bool(values.get("TRACK_ON"))
        if m.client().state.parked and on:
            raise ValueRejected("TELESCOPE_TRACK_STATE", PARKED_WARNING)
        await self.set_tracking(on)
        m.track_state.select("TRACK_ON" if m.client().state.tracking else "TRACK_OFF")
        m.publish(m.track_state, state=State.OK)
        m.refresh()

    # --- operations ------------------------------------------------------------------------

    async def set_tracking(self, on: bool) -> None:
        """Tracking on/off, returning once the scope's snapshot shows it (event, else a poll)."""
        client = self._mount.client()
        if client.state.tracking == on:
            await client.set_tracking(on)
            return
        try:
            async with client.expect(EventName.SCOPE_TRACK, timeout_s=TRACK_CONFIRM_S,
                                     states=(StageState.ON, StageState.OFF),
                                     predicate=lambda e: _tracking_of(e) == on) as done:
                await client.set_tracking(on)
            await done.wait()
        except OperationFailed:
            await client.refresh()  # no ScopeTrack came: read the truth

    async def _goto(self, ra: float, dec: float, *, track: bool, centered: bool) -> None:
        m = self._mount
        client = m.client()
        try:
            await m.stop_motion(client, "goto")
            if m.scope_slewing():
                await self._stop_slew()
            if centered:
                async with client.expect(EventName.AUTO_GOTO, timeout_s=CENTERED_GOTO_TIMEOUT_S,
                                         predicate=_stage_flavour) as done:
                    await client.goto_centered(ra, dec, CENTERED_TARGET_NAME)
            else:
                async with client.expect(EventName.SCOPE_GOTO, timeout_s=GOTO_TIMEOUT_S) as done:
                    await client.goto(ra, dec)
            await done.wait()
            if track != client.state.tracking:
                await self.set_tracking(track)
            coord = await client.get_equ_coord()
        except IndiSeestarError as exc:
            self.activity = Activity.IDLE
            m.publish(m.target, state=State.ALERT)
            if outcome_unknown(exc):
                what = f"goto to RA {ra:.4f} h, Dec {dec:+.4f} deg"
                m.pending.add(what)
                m.reconcile_soon()
                m.publish(m.eod, state=State.ALERT, message=unknown_message(f"{what} ({exc})"))
            else:
                m.publish(m.eod, state=State.ALERT, message=f"[ERROR] goto failed: {exc}")
            return
        self.activity = Activity.IDLE
        m.set_pointing(coord.ra_hours, coord.dec_deg)
        m.publish(m.target, state=State.OK)
        m.refresh(keep_alerts=False)
        m.message("slew complete, tracking" if track else "slew complete, tracking off")

    async def _stop_slew(self) -> None:
        """Stop a running slew and wait for its end event, so that it cannot end the next goto."""
        client = self._mount.client()
        try:
            async with client.expect(EventName.SCOPE_GOTO, timeout_s=STOP_SLEW_TIMEOUT_S) as stopped:
                await client.abort_goto()
            await stopped.wait()
        except OperationFailed:
            pass  # "cancel" is the end we asked for; no event at all: the slew had ended anyway

    async def _sync(self, ra: float, dec: float) -> None:
        m = self._mount
        client = m.client()
        try:
            await client.sync(ra, dec)
            coord = await client.get_equ_coord()
        except IndiSeestarError as exc:
            m.publish(m.eod, state=State.ALERT, message=f"[ERROR] sync failed: {exc}")
            return
        m.eod.state = State.OK  # Ekos Align advances only on an Ok after a sync (§4.3)
        m.set_pointing(coord.ra_hours, coord.dec_deg, force=True)
        m.message(f"synced to RA {ra:.5f} h, Dec {dec:+.5f} deg")

    async def _park(self, park: bool) -> None:
        m = self._mount
        client = m.client()
        event = EventName.SCOPE_HOME if park else EventName.SCOPE_MOVE_TO_HORIZON
        try:
            await m.stop_motion(client, "parking")
            async with client.expect(event, timeout_s=PARK_TIMEOUT_S) as done:
                await (client.park() if park else client.unpark())
            await done.wait()
        except IndiSeestarError as exc:
            self.activity = Activity.IDLE
            m.publish(m.park, state=State.ALERT,
                      message=m.outcome_message("park" if park else "unpark", exc))
            m.refresh()
            return
        self.activity = Activity.IDLE
        m.refresh(keep_alerts=False)
        m.message("the mount is parked" if park else "the mount is unparked")

    async def _abort(self, parking: bool) -> None:
        m = self._mount
        client = m.client()
        error: IndiSeestarError | None = None
        try:  # both written at once: the motion stop and the slew/AutoGoto stop
            await asyncio.gather(m.stop_motion(client, "aborted", always=True), client.abort_goto())
            coord = await client.get_equ_coord()
        except IndiSeestarError as exc:
            error = exc
            if outcome_unknown(exc):
                m.pending.add("abort")
                m.reconcile_soon()
        else:
            m.set_pointing(coord.ra_hours, coord.dec_deg)
        if parking:
            m.publish(m.park, state=State.ALERT, message="[WARNING] parking aborted")
        m.refresh()
        if error is not None:
            m.publish(m.abort, state=State.ALERT, message=f"[ERROR] abort failed: {error}")
        else:
            m.publish(m.abort, state=State.OK, message="[INFO] telescope motion aborted")

    def _cancel_operation(self) -> None:
        if self._operation is not None and not self._operation.done():
            self._operation.cancel()
        self._operation = None


def _tracking_of(event: Event) -> bool | None:
    tracking = event.get("tracking")
    if isinstance(tracking, bool):
        return tracking
    return event.state == StageState.ON if event.state in (StageState.ON, StageState.OFF) else None


def _stage_flavour(event: Event) -> bool:
    """AutoGoto's stage events (not the page flavour, which has a `page` field)."""
    return event.get("page") is None
