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

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from types import TracebackType
from typing import Self

from ..config import SeestarConfig
from ..errors import ConnectionLost, OperationFailed, RemoteProtocolError, RequestTimeout
from ..protocol import builders_imaging, builders_mount, builders_session, results
from ..protocol.events import TERMINAL_STATES
from ..protocol.methods import Stage
from ..protocol.results import EquCoord, HorizCoord, ViewState
from ..protocol.rpc import Event, VerifyPolicy
from .client_extras import ExtraCommands
from .client_mount import WHEEL_SLOTS, MountCommands
from .client_stack import StackCommands
from .clock_sync import ClockSync
from .connection import ConnectionState
from .hub import EventCallback, EventExpectation, EventHub, EventPredicate
from .imaging import Imaging
from .login import Contact
from .motion import SpeedMoveForms
from .pool import RawFrame, StackedImage
from .snapshot import Snapshot, StateCallback, add_listener, notify
from .sockets import ImageStats
from .state import ScopeState
from .supervisor import Caller, Supervisor
from .timeouts import Timeouts
from .wide import WideFrames

__all__ = ["GAIN_RANGE", "WHEEL_SLOTS", "ConnectionCallback", "SeestarClient"]

log = logging.getLogger(__name__)

ConnectionCallback = Callable[[ConnectionState], None]

#: Documented range (§8.2): other gains raise ValueError (a caller bug).
GAIN_RANGE = (0, 400)


class SeestarClient(MountCommands, ExtraCommands, StackCommands):
    """One Seestar: control session, image stream, state snapshot, operations.

    The mount, focuser and wheel operations come from MountCommands (client_mount.py), the
    firmware procedures and settings from ExtraCommands (client_extras.py).
    """

    def __init__(self, config: SeestarConfig, *, timeouts: Timeouts | None = None) -> None:
        self._config = config
        self._t = timeouts or Timeouts()
        self._hub = EventHub()
        self._snapshot = Snapshot()
        self._clock = ClockSync()
        self._connection_listeners: list[ConnectionCallback] = []
        self._supervisor = Supervisor(config, self._t, on_event=self._on_event,
                                      on_ready=self._on_ready, on_lost=self._on_lost,
                                      on_state=self._on_connection_state)
        self._imaging = Imaging(config, self._t, send=self._send,
                                get_state=lambda: self._snapshot.current,
                                update_state=self._snapshot.update)
        self._motion = SpeedMoveForms(self._call)
        self._wide = WideFrames(config, self._t)

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
        await self._wide.close()
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
        reply = await self._send(builders_session.get_device_state(), self._t.device_state_s)
        self._snapshot.merge_poll(results.parse_device_state(reply.result))
        await self._poll_wheel(self._call)
        return self._snapshot.current

    async def get_equ_coord(self) -> EquCoord:
        """Current pointing, JNow hours/degrees (also stored in the snapshot)."""
        coord = results.parse_equ_coord((await self._send(builders_mount.scope_get_equ_coord())).result)
        self._snapshot.merge_coord(coord)
        return coord

    async def get_horiz_coord(self) -> HorizCoord:
        """Current pointing, alt/az degrees."""
        return results.parse_horiz_coord((await self._send(builders_mount.scope_get_horiz_coord())).result)

    async def get_view_state(self) -> ViewState:
        """The View session and its current stage."""
        return results.parse_view_state((await self._send(builders_session.get_view_state())).result)

    # --- camera ------------------------------------------------------------------

    async def set_gain(self, gain: int) -> None:
        """Sensor gain 0..400."""
        if not GAIN_RANGE[0] <= gain <= GAIN_RANGE[1]:
            raise ValueError(f"gain must be {GAIN_RANGE[0]}..{GAIN_RANGE[1]}")
        await self._send(builders_imaging.set_gain(gain))

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

    async def next_wide_frame(self, *, started_after_s: float, timeout_s: float) -> RawFrame:
        """The S30 Pro wide camera's first frame whose exposure began after `started_after_s`.

        Starts the star preview if none runs (SecondView runs alongside it) and sets
        `wide_cam`; the frame comes from the wide image port (4804). Its exposure is the
        scope's (`state.wide_camera.exposure_ms`). OperationFailed on a scope without a wide
        camera that works in star mode; RequestTimeout after `timeout_s`.
        """
        wide = self.state.wide_camera
        if wide is None or not wide.star_mode:
            raise OperationFailed("wide camera frame",
                                  "this Seestar has no wide camera that works in star mode")
        deadline_s = time.monotonic() + timeout_s
        try:
            async with asyncio.timeout(timeout_s):
                await self._imaging.ensure_preview()
                # Sent every time: stopping the view clears it (Setting event wide_cam false).
                await self._send(builders_session.set_setting(wide_cam=True))
        except RequestTimeout:
            raise
        except TimeoutError:
            raise RequestTimeout("wide camera frame (4804)", timeout_s) from None
        return await self._wide.next_frame(
            started_after_s=started_after_s, exposure_s=wide.exposure_ms / 1000.0,
            timeout_s=max(0.0, deadline_s - time.monotonic()),
            policy=VerifyPolicy.for_firmware(self.state.firmware_ver_int))

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

    # --- internals ---------------------------------------------------------------

    async def _on_ready(self, caller: Caller, contact: Contact) -> None:
        """A session is (re-)established: set the clock, resync the snapshot and the image side."""
        self._snapshot.merge_poll(contact.device, logged_in=contact.logged_in)
        await self._clock.apply(caller, self._t.setup_s)
        if self._clock.site is not None and self._clock.last_error is None:
            self._snapshot.update(lat_deg=self._clock.site[0], lon_east_deg=self._clock.site[1])
        await self._poll_wheel(caller)
        try:
            view = results.parse_view_state((await caller(builders_session.get_view_state(), self._t.request_s)).result)
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
            reply = await caller(builders_imaging.get_wheel_position(), self._t.request_s)
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

    def _on_lost(self, exc: ConnectionLost) -> None:
        """The control session dropped: event waits fail, and so do frame waits (an exposure
        cannot be trusted to end across a drop; its caller reports the lost link at once)."""
        self._hub.connection_lost(exc)
        self._imaging.link_lost(exc)

    def _on_connection_state(self, connection_state: ConnectionState) -> None:
        notify(self._connection_listeners, connection_state, "connection listener")
