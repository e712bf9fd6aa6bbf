"""SeestarClient: the facade the INDI devices use to drive one Seestar.

Layer: seestar (asyncio engine). Must not import indi/, devices/ or sim/.
Every operation is a coroutine that returns once the firmware has ACCEPTED the command
(its reply), raising CommandFailed (firmware code and text), RequestTimeout or
ConnectionLost; completion is observed through events (`subscribe`, `expect`) and the
`state` snapshot. Use `expect` to wait for completion without a race:

    async with client.expect(EventName.FOCUSER_MOVE, timeout_s=30) as done:
        await client.move_focuser(1600)
    ev = await done.wait()        # FocuserMove complete, or OperationFailed

The expectation is registered before the command goes out, its deadline runs from then, a
failed command cancels it, and by default a dropped session fails it with ConnectionLost
(the snapshot is re-polled on reconnect, so a device can look at `state` to decide).
Raw frames from `next_raw_frame` borrow a pooled buffer: `with frame:` or `frame.release()`.
Arguments outside their documented range raise ValueError (a caller bug, not a scope error).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from ..config import SeestarConfig
from ..errors import CommandFailed, RemoteProtocolError, RequestTimeout
from ..protocol import methods, results
from ..protocol.codes import ErrorCode
from ..protocol.events import TERMINAL_STATES
from ..protocol.methods import Call, Stage
from ..protocol.results import EquCoord, HorizCoord, ViewState
from ..protocol.rpc import Event, Reply, VerifyPolicy
from .connection import ConnectionState
from .hub import EventCallback, EventExpectation, EventHub, EventPredicate
from .imaging import Imaging
from .login import Contact
from .motion import MAX_OLD_FORM_SPEED, MoveForm, SpeedMoveForms
from .pool import RawFrame, StackedImage
from .snapshot import Snapshot, StateCallback, add_listener, notify
from .sockets import ImageStats
from .state import ScopeState
from .supervisor import Caller, Supervisor
from .timeouts import Timeouts

log = logging.getLogger(__name__)

ConnectionCallback = Callable[[ConnectionState], None]

#: Documented ranges (§8.2, §8.8, §9): arguments outside raise ValueError (a caller bug).
GAIN_RANGE = (0, 400)
WHEEL_SLOTS = (0, 1, 2)


class SeestarClient:
    """One Seestar: control session, image stream, state snapshot, operations."""

    def __init__(self, config: SeestarConfig, *, timeouts: Timeouts | None = None) -> None:
        self._config = config
        self._t = timeouts or Timeouts()
        self._hub = EventHub()
        self._snapshot = Snapshot()
        self._connection_listeners: list[ConnectionCallback] = []
        self._supervisor = Supervisor(config, self._t, on_event=self._on_event,
                                      on_ready=self._on_ready, on_lost=self._hub.connection_lost,
                                      on_state=self._on_connection_state)
        self._imaging = Imaging(config, self._t, send=self._send,
                                get_state=lambda: self._snapshot.current,
                                update_state=self._snapshot.update)
        self._motion = SpeedMoveForms(self._call)

    # --- life cycle -------------------------------------------------------------

    async def connect(self) -> ScopeState:
        """Intro, login, master claim, settings, state poll; then start the 4800 thread. No retry.

        Raises ConnectFailed, LoginRequired (7.32+ without a key, within seconds),
        AuthenticationFailed, ConfigError (unreadable key) or RequestTimeout. May be called
        again after it failed.
        """
        contact = await self._supervisor.start()
        self._imaging.start(VerifyPolicy.for_firmware(contact.device.firmware_ver_int))
        return self._snapshot.current

    async def close(self) -> None:
        """Stop everything: pending calls and waits fail with ConnectionLost; no thread or task stays."""
        self._hub.close("the client is closed")
        await self._imaging.close()
        await self._supervisor.close()

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def wait_ready(self, timeout_s: float) -> None:
        """Return when the session is READY (e.g. after a reconnect); ConnectionLost otherwise."""
        await self._supervisor.wait_ready(timeout_s)

    # --- observation ------------------------------------------------------------

    @property
    def config(self) -> SeestarConfig:
        """The configuration in use (its time factor and readout margin time the frames)."""
        return self._config

    @property
    def state(self) -> ScopeState:
        """The latest snapshot (refreshed from events and polls)."""
        return self._snapshot.current

    @property
    def connection_state(self) -> ConnectionState:
        """Where the control session is in its life cycle."""
        return self._supervisor.state

    @property
    def reconnects(self) -> int:
        """Completed control-session reconnects."""
        return self._supervisor.reconnects

    @property
    def last_reconnect_s(self) -> float | None:
        """Drop-to-READY time of the last reconnect."""
        return self._supervisor.last_reconnect_s

    @property
    def time_factor(self) -> float:
        """Scope seconds per real second (1 for a real scope; the fake's time factor in tests)."""
        return self._config.time_factor

    @property
    def speed_move_form(self) -> MoveForm | None:
        """The `scope_speed_move` parameter form this firmware accepted (None until probed)."""
        return self._motion.form

    def image_stats(self) -> ImageStats | None:
        """Counters of the 4800 thread."""
        return self._imaging.stats()

    @property
    def image_thread_alive(self) -> bool:
        """True while the 4800 thread runs."""
        return self._imaging.thread_alive

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        """Every control event, until the returned function is called."""
        return self._hub.subscribe(callback)

    def on_state_change(self, callback: StateCallback) -> Callable[[], None]:
        """`callback(state)` whenever the snapshot changes."""
        return self._snapshot.listen(callback)

    def on_connection_state(self, callback: ConnectionCallback) -> Callable[[], None]:
        """`callback(connection_state)` on every life-cycle change."""
        return add_listener(self._connection_listeners, callback)

    def expect(self, name: str, *, timeout_s: float, states: Collection[str] = TERMINAL_STATES,
               predicate: EventPredicate | None = None,
               fail_on_disconnect: bool = True) -> EventExpectation:
        """`async with` it around a command, then `await .wait()` for the end event (see module)."""
        return self._hub.expect(name, timeout_s=timeout_s, states=states, predicate=predicate,
                                fail_on_disconnect=fail_on_disconnect)

    async def wait_event(self, name: str, *, timeout_s: float,
                         states: Collection[str] = TERMINAL_STATES,
                         predicate: EventPredicate | None = None) -> Event:
        """The next matching event from now (OperationFailed on fail/cancel or timeout)."""
        async with self.expect(name, timeout_s=timeout_s, states=states,
                               predicate=predicate) as done:
            return await done.wait()

    # --- polls -------------------------------------------------------------------

    async def refresh(self) -> ScopeState:
        """Poll `get_device_state` (and the wheel) into the snapshot."""
        reply = await self._send(methods.get_device_state(), self._t.device_state_s)
        self._snapshot.merge_poll(results.parse_device_state(reply.result))
        await self._poll_wheel(self._call)
        return self._snapshot.current

    async def get_equ_coord(self) -> EquCoord:
        """Current pointing, JNow hours/degrees (also stored in the snapshot)."""
        coord = results.parse_equ_coord((await self._send(methods.scope_get_equ_coord())).result)
        self._snapshot.merge_coord(coord)
        return coord

    async def get_horiz_coord(self) -> HorizCoord:
        """Current pointing, alt/az degrees."""
        return results.parse_horiz_coord((await self._send(methods.scope_get_horiz_coord())).result)

    async def get_view_state(self) -> ViewState:
        """The View session and its current stage."""
        return results.parse_view_state((await self._send(methods.get_view_state())).result)

    # --- mount -------------------------------------------------------------------

    async def goto(self, ra_hours: float, dec_deg: float) -> None:
        """Raw slew (`scope_goto`), no plate solving; ends with ScopeGoto complete/fail."""
        _check_coord(ra_hours, dec_deg)
        await self._send(methods.scope_goto(ra_hours, dec_deg))

    async def goto_centered(self, ra_hours: float, dec_deg: float, target_name: str) -> None:
        """Plate-solve-centred goto (`iscope_start_view` + target); ends with AutoGoto."""
        _check_coord(ra_hours, dec_deg)
        await self._send(methods.start_view_goto(ra_hours, dec_deg, target_name))

    async def abort_goto(self) -> None:
        """Stop the AutoGoto stage and the slew; CommandFailed only if both are refused."""
        failures: list[CommandFailed] = []
        for call in (methods.stop_view(Stage.AUTO_GOTO), methods.scope_abort_slew()):
            try:
                await self._send(call)
            except CommandFailed as exc:
                failures.append(exc)
        if len(failures) == 2:
            raise failures[0]

    async def sync(self, ra_hours: float, dec_deg: float) -> None:
        """Tell the mount it points at (ra, dec) JNow."""
        _check_coord(ra_hours, dec_deg)
        await self._send(methods.scope_sync(ra_hours, dec_deg))

    async def park(self) -> None:
        """Fold the arm; ends with ScopeHome complete."""
        await self._send(methods.scope_park())

    async def unpark(self) -> None:
        """Open the arm; ends with ScopeMoveToHorizon complete."""
        await self._send(methods.scope_move_to_horizon())

    async def set_tracking(self, enabled: bool) -> None:
        """Sidereal tracking on/off; ScopeTrack reports the result."""
        await self._send(methods.scope_set_track_state(enabled))

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
        await self._send(methods.move_focuser(position_steps))

    async def stop_focuser(self) -> None:
        """Stop a focuser move."""
        await self._send(methods.stop_focuser())

    async def set_wheel(self, slot: int) -> None:
        """Filter wheel to slot 0 Dark, 1 IR-cut, 2 LP; ends with WheelMove complete."""
        if slot not in WHEEL_SLOTS:
            raise ValueError(f"slot must be one of {WHEEL_SLOTS}")
        await self._send(methods.set_wheel_position(slot))

    # --- camera ------------------------------------------------------------------

    async def set_gain(self, gain: int) -> None:
        """Sensor gain 0..400."""
        if not GAIN_RANGE[0] <= gain <= GAIN_RANGE[1]:
            raise ValueError(f"gain must be {GAIN_RANGE[0]}..{GAIN_RANGE[1]}")
        await self._send(methods.set_gain(gain))

    async def set_continuous_exposure_ms(self, exposure_ms: int) -> None:
        """Preview exposure length; frames of the previous length are never handed out after."""
        await self._imaging.set_continuous_exposure_ms(exposure_ms)

    async def start_preview(self) -> None:
        """Star-mode live preview without a target. On a real scope this OPENS a parked arm."""
        await self._imaging.start_preview()

    async def stop_preview(self) -> None:
        """Stop the ContinuousExposure stage."""
        await self._imaging.stop_preview()

    async def next_raw_frame(self, *, started_after_s: float, exposure_s: float,
                             timeout_s: float, restart_exposure: bool = False) -> RawFrame:
        """The first raw frame whose exposure started at or after `started_after_s`.

        `started_after_s` is `time.monotonic()`. Sets `exp_ms.continuous` if it differs,
        starts the star preview if none runs (this OPENS a parked arm on a real scope; it
        refuses with OperationFailed while a stack, centred goto, autofocus or dark library
        runs) and turns streaming on. Guarantee: the frame's estimated start
        `first_byte - exposure_s/time_factor - readout_margin_s` is >= `started_after_s`, and
        the frame arrived after the exposure setting was acknowledged plus one exposure of
        the previous length (so it has the requested length). This holds as long as frames
        reach us within `readout_margin_s` of the end of their exposure (readout, transfer
        and our read delay) and the scope's clock runs at `time_factor`.
        `restart_exposure`: if the preview runs (and `exposure_s` lasts longer than
        `readout_margin_s`), stop and start it now (the exposure under way is abandoned,
        ~0.4 s on a real scope) instead of waiting for it to end; the frame is then the first
        whose first byte comes `readout_margin_s` after the stop was acknowledged, which (same
        premise) began after the stop, so after `started_after_s` when that is earlier.
        Raises RequestTimeout after `timeout_s`. The caller owns the frame: `with frame:` or
        `frame.release()`.
        """
        return await self._imaging.next_raw_frame(started_after_s=started_after_s,
                                                  exposure_s=exposure_s, timeout_s=timeout_s,
                                                  restart_exposure=restart_exposure)

    async def stop_streaming(self) -> None:
        """Stop the preview frames' pushes (the camera goes on); next_raw_frame resumes them."""
        await self._imaging.stop_streaming()

    async def start_stack(self, restart: bool = True) -> None:
        """Start live stacking (restart=False continues); Stack events follow."""
        await self._imaging.start_stack(restart)

    async def stop_stack(self) -> None:
        """Stop live stacking (Stack cancel follows)."""
        await self._imaging.stop_stack()

    async def get_stacked_image(self, timeout_s: float) -> StackedImage:
        """The current live stack as RGB (decoded off the loop); OperationFailed if none exists."""
        return await self._imaging.get_stacked_image(timeout_s)

    # --- extras ------------------------------------------------------------------

    async def start_autofocus(self) -> None:
        """Firmware autofocus (needs a star view and stars); ends with AutoFocus."""
        await self._send(methods.start_auto_focus())

    async def stop_autofocus(self) -> None:
        """Stop the autofocus."""
        await self._send(methods.stop_auto_focus())

    async def start_dark_library(self) -> None:
        """Build the dark library (wheel to Dark and back); ends with DarkLibrary complete."""
        await self._send(methods.start_create_dark())

    async def stop_dark_library(self) -> None:
        """Stop building the dark library."""
        await self._send(methods.stop_create_dark())

    async def start_solve(self) -> None:
        """Plate-solve the current view; ends with PlateSolve (result in the event)."""
        await self._send(methods.start_solve())

    async def stop_solve(self) -> None:
        """Stop a plate solve."""
        await self._send(methods.stop_solve())

    async def get_solve_result(self) -> dict[str, Any] | None:
        """The last solve's result object, or None when there is none (code 215)."""
        reply = await self._call(methods.get_solve_result())
        if reply.code == ErrorCode.NO_SOLVE_DATA:
            return None
        _raise_for(reply)
        return reply.result if isinstance(reply.result, dict) else {"value": reply.result}

    async def set_dew_heater(self, power_percent: int) -> None:
        """Dew heater power 0..100 (0 = off)."""
        if not 0 <= power_percent <= 100:
            raise ValueError("power_percent must be 0..100")
        await self._send(methods.set_dew_heater(power_percent))

    async def set_location(self, lat_deg: float, lon_east_deg: float) -> None:
        """Site latitude and east longitude (degrees; 0..360 east is folded to -180..180)."""
        lon = (lon_east_deg + 180.0) % 360.0 - 180.0
        if not -90 <= lat_deg <= 90:
            raise ValueError("lat_deg must be -90..90")
        await self._send(methods.set_user_location(lat_deg, lon))
        self._snapshot.update(lat_deg=lat_deg, lon_east_deg=lon)

    async def set_time(self, utc: datetime) -> None:
        """Set the scope clock (an aware datetime; converted to UTC)."""
        if utc.tzinfo is None:
            raise ValueError("set_time needs an aware datetime")
        await self._send(methods.pi_set_time(utc.astimezone(UTC), "UTC"))

    # --- internals ---------------------------------------------------------------

    async def _call(self, call: Call, timeout_s: float | None = None) -> Reply:
        return await self._supervisor.call(call, self._t.request_s if timeout_s is None else timeout_s)

    async def _send(self, call: Call, timeout_s: float | None = None) -> Reply:
        reply = await self._call(call, timeout_s)
        _raise_for(reply)
        return reply

    async def _on_ready(self, caller: Caller, contact: Contact) -> None:
        """A session is (re-)established: resync the snapshot and the image side."""
        self._snapshot.merge_poll(contact.device, logged_in=contact.logged_in)
        await self._poll_wheel(caller)
        try:
            view = results.parse_view_state((await caller(methods.get_view_state(), self._t.request_s)).result)
        except (RequestTimeout, RemoteProtocolError) as exc:  # the preview is re-probed on demand
            log.debug("get_view_state after connect failed: %s", exc)
            self._snapshot.update(preview_active=None)
        else:
            self._snapshot.update(preview_active=view.stage == Stage.CONTINUOUS_EXPOSURE,
                         stacking=view.stage == Stage.STACK)
        self._imaging.set_policy(VerifyPolicy.for_firmware(contact.device.firmware_ver_int))
        self._imaging.sync_exposure(contact.device.continuous_exposure_ms)

    async def _poll_wheel(self, caller: Caller) -> None:
        try:
            reply = await caller(methods.get_wheel_position(), self._t.request_s)
            if reply.ok:
                self._snapshot.update(wheel_slot=results.parse_int(str(reply.method), reply.result))
        except (RequestTimeout, RemoteProtocolError) as exc:  # WheelMove events keep it current
            log.debug("get_wheel_position failed: %s", exc)

    def _on_event(self, event: Event) -> None:
        self._hub.publish(event)
        before = self._snapshot.current.continuous_exposure_ms
        self._snapshot.apply(event)
        after = self._snapshot.current.continuous_exposure_ms
        if after != before:
            self._imaging.sync_exposure(after)

    def _on_connection_state(self, connection_state: ConnectionState) -> None:
        notify(self._connection_listeners, connection_state, "connection listener")


def _raise_for(reply: Reply) -> None:
    if not reply.ok:
        raise CommandFailed(str(reply.method or "?"), reply.code, reply.error or "")


def _check_coord(ra_hours: float, dec_deg: float) -> None:
    if not (0 <= ra_hours < 24 and -90 <= dec_deg <= 90):
        raise ValueError("ra_hours must be 0..24 and dec_deg -90..90")
