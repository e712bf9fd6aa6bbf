"""The Seestar mount as an INDI telescope (DRIVER_INTERFACE 5 = TELESCOPE + GUIDER).

Layer: devices. This module holds the device, its properties, the pointing poll and the
status shown to clients; the operations live beside it: mount_slew.py (goto, sync, park,
abort, tracking), mount_motion.py (manual motion, pulse guiding), mount_site_time.py
(GEOGRAPHIC_COORD, TIME_UTC; the arithmetic in mount_site.py).

Properties (connected only): EQUATORIAL_EOD_COORD (JNow; its state is the mount status, see
mount_status.py), ON_COORD_SET (TRACK, SLEW, SYNC), TARGET_EOD_COORD, TELESCOPE_ABORT_MOTION,
TELESCOPE_PARK, TELESCOPE_TRACK_STATE, TELESCOPE_MOTION_NS/WE, TELESCOPE_SLEW_RATE,
TELESCOPE_TIMED_GUIDE_NS/WE, GUIDE_RATE, GEOGRAPHIC_COORD, TIME_UTC, HORIZONTAL_COORD (ro),
TELESCOPE_INFO, TELESCOPE_MOUNT_TYPE (ro: ALTAZ or EQ_FORK), SEESTAR_GOTO_MODE,
SEESTAR_MOTION_LATENCY (ro). No TELESCOPE_PIER_SIDE: in alt-az mode there is none, and on a
wedge the Seestar is a fork that never flips, so clients must not plan meridian flips. No
TELESCOPE_TRACK_MODE: the firmware tracks at the sidereal rate only, a one-member choice tells
a client nothing. CONFIG_SAVE keeps SEESTAR_GOTO_MODE, TELESCOPE_SLEW_RATE, GUIDE_RATE and
GEOGRAPHIC_COORD.

Read by the camera for its FITS keywords (through `session.peers["mount"]`):
    mount.site -> Site | None               LAT, LONG east 0..360, ELEV of GEOGRAPHIC_COORD
    mount.pointing -> Pointing | None       last JNow RA (h) / Dec (deg) and its UTC
    mount.pointing_j2000() -> (ra_hours, dec_deg) | None
    mount.horizontal() -> (alt_deg, az_deg) | None
    mount.equ_mode -> bool | None           True EQ, False alt-az, None while disconnected
    mount.pier_side -> None                 never known (see above)
    mount.aperture_mm / mount.focal_length_mm -> float | None
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime

from .. import sky
from ..errors import IndiSeestarError
from ..indi import standard as std
from ..indi.model import State
from ..protocol.events import EventName, StageState
from ..protocol.rpc import Event
from ..seestar.client import SeestarClient
from ..seestar.connection import ConnectionState
from ..seestar.state import ScopeState
from . import props
from .alpaca_paths import add_paths_property, follow_paths
from .base import SeestarDevice
from .mount_motion import MotionControl
from .mount_ports import LinkPorts, MotionPorts, SlewPorts
from .mount_site import Pointing, Site, horizontal, separation_arcsec, site_from_scope
from .mount_site_time import SiteAndTime
from .mount_link import LinkRecovery
from .mount_polar import PolarAlignment
from .mount_slew import SlewControl
from .mount_solve import PlateSolve
from .mount_status import Activity, ScopeFlags, Status, derive

#: libindi republishes the pointing when it moved more than this (or the state changed).
REPUBLISH_ARCSEC = 0.1
#: One pointing poll (`scope_get_equ_coord`); a missed poll is simply retried next period.
POLL_TIMEOUT_S = 5.0
#: A slew/park of the scope's own (the app's) counts as running until its end event, or until
#: this long without any event of it (ScopeGoto reports every ~0.3 s while it moves).
EXTERNAL_MOTION_STALE_S = 30.0
#: The events that show the scope moving by itself, and the states that mean "running".
_MOTION_EVENTS = (EventName.SCOPE_GOTO, EventName.SCOPE_HOME, EventName.SCOPE_MOVE_TO_HORIZON)
_RUNNING = (StageState.START, StageState.WORKING)
#: Optics by model when the scope reports none (§4.5): (focal length, aperture) in mm.
#: The Pro keys come first: "S50" is in "SEESTAR S50P" (docs/models.md: Pro optics).
OPTICS_BY_MODEL = {"S50P": (260.0, 50.0), "S30P": (160.0, 30.2), "S50": (250.0, 50.0),
                   "S30": (150.0, 30.0)}


class Mount(SeestarDevice):
    """The mount device (see module)."""

    interface = 5

    def init_properties(self) -> None:
        """Declare every mount vector; saved choices are applied before any connection."""
        super().init_properties()
        n = self.name
        self.motion = MotionControl(MotionPorts(
            name=n, add=self.add, load_saved=self.load_saved, publish=self.publish,
            message=self.message, spawn=self.spawn, client=lambda: self.client,
            is_connected=lambda: self.is_connected, pending=self.pending, refresh=self.refresh,
            reconcile_soon=self.reconcile_soon,
            slewing=lambda: self.activity is not Activity.IDLE or self.scope_slewing,
            pointing=lambda: self.pointing, site=lambda: self.site,
            alpaca_guide=lambda: self.session.alpaca.guide(),
            alpaca_lost=lambda exc: self.session.alpaca.lost(exc)))
        self.paths = add_paths_property(self)
        self.eod = self.add(std.equatorial_eod_coord(n), connected_only=True, on_new=lambda v: self.slews.on_eod(v))
        self.coord_set = self.add(std.on_coord_set(n), connected_only=True)
        self.target = self.add(std.target_eod_coord(n), connected_only=True)
        self.abort = self.add(std.telescope_abort_motion(n), connected_only=True,
                              on_new=lambda v: self.slews.on_abort(v))
        self.park = self.add(std.telescope_park(n, parked=False), connected_only=True,
                             on_new=lambda v: self.slews.on_park(v))
        self.track_state = self.add(std.telescope_track_state(n), connected_only=True,
                                    on_new=lambda v: self.slews.on_track(v))
        self.horizontal_coord = self.add(std.horizontal_coord(n), connected_only=True)
        self.site_time = SiteAndTime(n, self.add, client=lambda: self.client, publish=self.publish,
                                     message=self.message, log=self.log,
                                     after_site_change=self._after_site_change)
        self.geo, self.time_utc = self.site_time.geo, self.site_time.time_utc
        self.info = self.add(std.telescope_info(n, 50.0, 250.0), connected_only=True)
        self.mount_type = self.add(std.telescope_mount_type(n), connected_only=True)
        self.goto_mode = self.add(props.goto_mode(n, centered=False), connected_only=True,
                                  saved=True)
        self.slews = SlewControl(SlewPorts(
            eod=self.eod, coord_set=self.coord_set, target=self.target, abort=self.abort,
            park=self.park, track_state=self.track_state, publish=self.publish,
            message=self.message, spawn=self.spawn, client=lambda: self.client,
            pending=self.pending, refresh=self.refresh, reconcile_soon=self.reconcile_soon,
            outcome_message=self.outcome_message, scope_slewing=lambda: self.scope_slewing,
            centered=lambda: bool(self.goto_mode["GOTO_CENTERED"]),
            set_pointing=self.set_pointing, stop_motion=self.stop_motion))
        self.motion.init_properties()
        self.solve = PlateSolve(self, self.add, lambda ra, dec: self.set_pointing(ra, dec, force=True))
        self.polar = PolarAlignment(self, self.add)
        self.load_saved(self.goto_mode)
        self.site_time.geo_saved = self.load_saved(self.geo)
        self._pointing: Pointing | None = None
        self._poll: asyncio.Task[None] | None = None
        self._scope_moving: dict[str, float] = {}  # event name -> monotonic time it said "running"
        self.recovery = LinkRecovery(LinkPorts(
            target=self.target, publish=self.publish, message=self.message, spawn=self.spawn,
            is_connected=lambda: self.is_connected, pending=self.pending, refresh=self.refresh,
            activity=lambda: self.activity, pointing=lambda: self.pointing,
            set_pointing=self.set_pointing, stop_motion=self.stop_motion,
            forget_scope_motion=self.forget_scope_motion, show_motion_idle=self.show_motion_idle))

    # --- what the camera (and tests) read --------------------------------------------------

    @property
    def activity(self) -> Activity:
        """The mount's own operation under way (a goto, park or unpark), or IDLE."""
        return self.slews.activity

    @property
    def site(self) -> Site | None:
        """The site in GEOGRAPHIC_COORD, once known (from the scope or a client)."""
        return self.site_time.site

    @property
    def pointing(self) -> Pointing | None:
        """The last pointing read from the scope (JNow), while connected."""
        return self._pointing if self.is_connected else None

    def pointing_j2000(self) -> tuple[float, float] | None:
        """The last pointing precessed to J2000 (ra_hours, dec_deg)."""
        p = self.pointing
        return None if p is None else sky.jnow_to_j2000(p.ra_hours, p.dec_deg, p.utc)

    def horizontal(self) -> tuple[float, float] | None:
        """(alt_deg, az_deg) of the last pointing from the site."""
        p, site = self.pointing, self.site
        return None if p is None or site is None else horizontal(p, site)

    @property
    def equ_mode(self) -> bool | None:
        """True in EQ mode, False in alt-az mode (None while disconnected)."""
        return self._client.state.equ_mode if self._client is not None else None

    @property
    def pier_side(self) -> None:
        """Never known: alt-az has none, the EQ-mode fork never flips."""
        return None

    @property
    def aperture_mm(self) -> float | None:
        """TELESCOPE_APERTURE while connected."""
        return float(self.info["TELESCOPE_APERTURE"]) if self.is_connected else None

    @property
    def focal_length_mm(self) -> float | None:
        """TELESCOPE_FOCAL_LENGTH while connected."""
        return float(self.info["TELESCOPE_FOCAL_LENGTH"]) if self.is_connected else None

    # --- session ---------------------------------------------------------------------------

    async def on_session(self, client: SeestarClient) -> None:
        """Fill the vectors from the scope, then follow its events and poll the pointing."""
        state = client.state
        name = state.model.upper().replace(" PRO", "P")
        model = next((key for key in OPTICS_BY_MODEL if key in name), "S50")
        focal, aperture = OPTICS_BY_MODEL[model]
        self.info["TELESCOPE_FOCAL_LENGTH"] = state.focal_length_mm or focal
        self.info["TELESCOPE_APERTURE"] = state.aperture_mm or aperture
        self.info["GUIDER_FOCAL_LENGTH"] = self.info["TELESCOPE_FOCAL_LENGTH"]
        self.info["GUIDER_APERTURE"] = self.info["TELESCOPE_APERTURE"]
        self.info.state = State.OK
        await self.site_time.site_at_connect(client, site_from_scope(state.lat_deg, state.lon_east_deg))
        now = datetime.now(UTC)
        self.site_time.show_clock_at_connect(client)
        self.slews.activity = Activity.IDLE
        self._scope_moving.clear()
        try:
            coord = await asyncio.wait_for(client.get_equ_coord(), POLL_TIMEOUT_S)
            self._pointing = Pointing(coord.ra_hours, coord.dec_deg, now)
        except (IndiSeestarError, TimeoutError) as exc:
            self.log.warning("first pointing read failed: %s", exc)
        self._apply(self.status(), publish=False)
        self._show_pointing(publish=False)
        self._show_horizontal(publish=False)
        self._show_mount_type(state, publish=False)
        self.motion.start(client)
        follow_paths(self, self.paths, self.session.alpaca)
        self.keep_until_session_end(client.subscribe(self._on_event),
                                    client.on_state_change(self._on_state),
                                    client.subscribe(self.solve.feed), client.subscribe(self.polar.feed))

    async def on_session_end(self, client: SeestarClient) -> None:
        """Stop any motion (disconnect stops everything at once); events no longer arrive."""
        self._poll = None
        self.slews.activity = Activity.IDLE
        self.solve.reset()
        self.polar.reset()
        await self.motion.stop(client, "disconnected")

    async def on_connect(self) -> None:
        """Connect, then start the pointing poll (a device task, cancelled on disconnect)."""
        await super().on_connect()
        self._poll = self.spawn(self._poll_pointing())

    # --- status ----------------------------------------------------------------------------

    @property
    def scope_slewing(self) -> bool:
        """The scope reports a slew, park or unpark of its own under way (its events, not polls:
        a poll's move_type also counts our speed moves, and no event would ever clear that)."""
        now = time.monotonic()
        return any(now - t < EXTERNAL_MOTION_STALE_S for t in self._scope_moving.values())

    def status(self) -> Status:
        """The derived INDI view of the mount now (mount_status.derive)."""
        state = self.client.state
        flags = ScopeFlags(parked=state.parked, tracking=state.tracking, slewing=self.scope_slewing)
        return derive(self.activity, flags, manual_motion=self.motion.holding)

    def refresh(self, *, keep_alerts: bool = True) -> None:
        """Publish the vectors whose derived state or switches changed (Alerts wait for the poll)."""
        if self.is_connected:
            self._apply(self.status(), publish=True, keep_alerts=keep_alerts)

    def _apply(self, status: Status, *, publish: bool, keep_alerts: bool = True) -> None:
        def keep(state: State) -> bool:
            return keep_alerts and state is State.ALERT

        if not keep(self.eod.state) and self.eod.state != status.eod:
            self.eod.state = status.eod
            if publish:
                self._show_pointing(publish=True)
        parked_member = "PARK" if status.parked_switch else "UNPARK"
        if not keep(self.park.state) and (self.park.state != status.park or not self.park[parked_member]):
            self.park.select(parked_member)
            self.park.state = status.park
            if publish:
                self.publish(self.park)
        track_member = "TRACK_ON" if status.tracking else "TRACK_OFF"
        if not keep(self.track_state.state) and (not self.track_state[track_member]
                                                 or self.track_state.state is not State.OK):
            self.track_state.select(track_member)
            self.track_state.state = State.OK
            if publish:
                self.publish(self.track_state)

    def set_pointing(self, ra_hours: float, dec_deg: float, *, force: bool = False) -> None:
        """A new pointing from the scope: republish when it moved > 0.1" (or when forced)."""
        old = self._pointing
        self._pointing = Pointing(ra_hours % 24.0, dec_deg, datetime.now(UTC))
        moved = old is None or separation_arcsec(old.ra_hours, old.dec_deg, ra_hours, dec_deg) > REPUBLISH_ARCSEC
        if self.is_connected and (moved or force):
            self._show_pointing(publish=True)
        self._show_horizontal(publish=self.is_connected)

    def _show_pointing(self, *, publish: bool) -> None:
        p = self._pointing
        if p is None:
            return
        self.eod["RA"], self.eod["DEC"] = p.ra_hours, p.dec_deg
        if publish:
            self.publish(self.eod)

    def _show_horizontal(self, *, publish: bool) -> None:
        """HORIZONTAL_COORD of the pointing; it changes while tracking, republished past 0.1"."""
        p, site = self._pointing, self.site
        if p is None or site is None:
            return
        alt, az = horizontal(p, site)
        old_alt, old_az = float(self.horizontal_coord["ALT"]), float(self.horizontal_coord["AZ"])
        self.horizontal_coord["ALT"], self.horizontal_coord["AZ"] = alt, az
        moved = math.hypot(alt - old_alt, ((az - old_az + 180.0) % 360.0 - 180.0)
                           * math.cos(math.radians(alt))) * 3600.0 > REPUBLISH_ARCSEC
        changed = self.horizontal_coord.state is not State.OK or moved
        self.horizontal_coord.state = State.OK
        if publish and changed:
            self.publish(self.horizontal_coord)

    async def _poll_pointing(self) -> None:
        """Every POLLING_PERIOD: read the pointing, re-derive the status (Alerts end here)."""
        while True:
            await asyncio.sleep(self.polling_period_s)
            if not self.is_connected:
                continue
            client = self.client
            if client.connection_state is not ConnectionState.READY:
                continue  # the snapshot is stale until the link is back (on_link_back)
            try:
                coord = await asyncio.wait_for(client.get_equ_coord(), POLL_TIMEOUT_S)
            except (IndiSeestarError, TimeoutError) as exc:
                self.log.debug("pointing poll failed: %s", exc)
            else:
                self.set_pointing(coord.ra_hours, coord.dec_deg)
            if client.connection_state is ConnectionState.READY:
                self.refresh(keep_alerts=False)

    # --- scope events ----------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        """Slew/park events say the scope moves; ScopeGoto carries the pointing meanwhile."""
        if event.name not in _MOTION_EVENTS or not self.is_connected:
            return
        if (event.name == EventName.SCOPE_GOTO and event.state in _RUNNING
                and self.activity is Activity.IDLE and self.pending.guarding()):
            self.recovery.stop_unconfirmed(self.client, "a goto sent before the link was lost")
            return
        if event.state in _RUNNING:
            self._scope_moving[event.name] = time.monotonic()
        elif event.state is not None:
            self._scope_moving.pop(event.name, None)
        self.refresh()
        if event.name != EventName.SCOPE_GOTO:
            return
        cur = event.get("cur_ra_dec")
        if isinstance(cur, list) and len(cur) == 2 and all(isinstance(v, (int, float)) for v in cur):
            self.set_pointing(float(cur[0]), float(cur[1]))

    def _on_state(self, state: ScopeState) -> None:
        if not self.is_connected:
            return
        self._show_mount_type(state, publish=True)
        self.refresh()

    def _show_mount_type(self, state: ScopeState, *, publish: bool) -> None:
        wanted = "EQ_FORK" if state.equ_mode else "ALTAZ"
        if self.mount_type[wanted] and self.mount_type.state is State.OK:
            return
        self.mount_type.select(wanted)
        self.mount_type.state = State.OK
        if publish:
            self.publish(self.mount_type)

    # --- the link dropped and came back (docs/outcomes.md) -------------------------------

    def on_link_lost(self) -> None:
        """Motion events no longer arrive: forget them (no stale Busy while the link is down)."""
        self.forget_scope_motion()

    async def on_link_back(self, client: SeestarClient) -> None:
        """Show the scope's real state; stop a slew of unknown outcome (mount_link.py)."""
        await self.recovery.link_back(client)

    def forget_scope_motion(self) -> None:
        """Drop what the scope's motion events said: they are stale across a drop."""
        self._scope_moving.clear()

    def show_motion_idle(self) -> None:
        """Motion and guide vectors left Alert/Busy by a drop become Idle."""
        self.motion.show_idle()

    async def stop_motion(self, client: SeestarClient, reason: str, *,
                          always: bool = False) -> None:
        """Stop every manual move and pulse (mount_motion.MotionControl.stop)."""
        await self.motion.stop(client, reason, always=always)

    # --- site and time (mount_site_time.py) -----------------------------------------------

    async def _after_site_change(self) -> None:
        """A new site: the scope may re-derive its RA/Dec from its axes, so read it again."""
        try:
            coord = await asyncio.wait_for(self.client.get_equ_coord(), POLL_TIMEOUT_S)
        except (IndiSeestarError, TimeoutError) as exc:
            self.log.debug("pointing read after a site change failed: %s", exc)
        else:
            self.set_pointing(coord.ra_hours, coord.dec_deg)
        self._show_horizontal(publish=True)
