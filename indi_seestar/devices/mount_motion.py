"""Manual motion and pulse guiding of the mount device, both through one MotionController.

Layer: devices. INDI side of devices/motion.py:
- TELESCOPE_MOTION_NS/WE: Busy while a member is On (a held move at TELESCOPE_SLEW_RATE),
  Idle once both are Off; the opposite member reverses; abort and disconnect stop it.
  EQUATORIAL_EOD_COORD is Busy meanwhile (Ekos: manual motion).
- TELESCOPE_TIMED_GUIDE_NS/WE (ms, indi-standard.md §4.6): Busy when the pulse starts, both
  members zeroed and Idle once the scope acknowledged its end; RA and Dec pulses overlap; a new
  pulse on an axis replaces the running one. The sky displacement is GUIDE_RATE x sidereal x
  length north/south; east/west it is that times cos(dec) by default (GUIDE_RATE_WE is an
  RA-axis rate, as on an equatorial mount and as PHD2's declination compensation assumes), or
  without cos(dec) when SEESTAR_GUIDE_RA is RA_SKY. Pulses do not make EQUATORIAL_EOD_COORD Busy (PHD2 would take that for a slew).
- GUIDE_RATE (WE, NS, x sidereal) and TELESCOPE_SLEW_RATE are kept by CONFIG_SAVE;
  SEESTAR_MOTION_LATENCY shows the measured round trips the timing compensates.
While parked, motion and pulses are refused (Idle + warning, libindi); while the mount slews
or parks they are refused with Alert.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from ..indi import standard as std
from ..indi.model import NumberVector, State, SwitchVector
from ..protocol.alpaca import GuideDirection
from ..seestar.alpaca import AlpacaLink
from ..seestar.client import SeestarClient
from . import props
from .mount_alpaca_guide import AlpacaGuider
from .motion import MotionController, Outcome
from .motion_plan import (
    ARCSEC_PER_STEP,
    SIDEREAL_ARCSEC_S,
    AxisFrame,
    Command,
    Hold,
    Pulse,
    SkyAxis,
    SpeedCommand,
)
from .mount_ports import MotionPorts
from .mount_site import Pointing, Site, axis_frame
from .mount_status import PARKED_WARNING
from .outcomes import unknown_message

#: TELESCOPE_SLEW_RATE: (name, label shown by Ekos, old-form steps/s; 1 step = 15"/s).
SLEW_RATES = (
    ("SLEW_GUIDE", "Guide 1x", 1),
    ("SLEW_CENTERING", "Centering 8x", 8),
    ("SLEW_FIND", "Find 64x", 64),
    ("SLEW_FAST", "Fast 1 deg/s", 240),
    ("SLEW_MAX", "Max 6 deg/s", 1440),
)
DEFAULT_SLEW_RATE = 2
#: Default guide rate (x sidereal), what PHD2 and Ekos expect of an ST-4-like mount.
DEFAULT_GUIDE_RATE = 0.5
SLEWING_REFUSAL = "the mount is slewing or parking: abort it or wait"


@dataclass(frozen=True)
class _Axis:
    """One sky axis as INDI names it: members whose On/length means + or - along the axis."""

    axis: SkyAxis
    motion_plus: str
    motion_minus: str
    guide_plus: str
    guide_minus: str
    rate_member: str


_NS = _Axis(SkyAxis.NS, "MOTION_NORTH", "MOTION_SOUTH", "TIMED_GUIDE_N", "TIMED_GUIDE_S", "GUIDE_RATE_NS")
_WE = _Axis(SkyAxis.WE, "MOTION_EAST", "MOTION_WEST", "TIMED_GUIDE_E", "TIMED_GUIDE_W", "GUIDE_RATE_WE")


class ClientMover:
    """The controller's two commands on a SeestarClient."""

    def __init__(self, client: SeestarClient) -> None:
        self._client = client

    async def move(self, command: SpeedCommand, duration_s: int) -> None:
        """One speed move."""
        await self._client.speed_move_steps(command.angle_deg, command.speed_steps, duration_s)

    async def stop(self) -> None:
        """Speed 0."""
        await self._client.stop_motion()


class MotionControl:
    """MOTION_NS/WE, SLEW_RATE, TIMED_GUIDE_NS/WE, GUIDE_RATE and the motion controller."""

    def __init__(self, mount: MotionPorts) -> None:
        self._mount = mount
        self._controller: MotionController | None = None
        self._warned_no_site = False
        self._alpaca = AlpacaGuider(mount.spawn, mount.alpaca_lost)

    def init_properties(self) -> None:
        """Declare the motion and guiding vectors on the mount."""
        m, n = self._mount, self._mount.name
        self.motion_ns = m.add(std.telescope_motion_ns(n), connected_only=True,
                               on_new=lambda v: self._on_motion(_NS, v))
        self.motion_we = m.add(std.telescope_motion_we(n), connected_only=True,
                               on_new=lambda v: self._on_motion(_WE, v))
        self.slew_rate = m.add(std.telescope_slew_rate(n, [(name, label) for name, label, _ in SLEW_RATES],
                                                       DEFAULT_SLEW_RATE),
                               connected_only=True, on_new=self._on_slew_rate, saved=True)
        self.guide_ns = m.add(std.telescope_timed_guide_ns(n), connected_only=True,
                              on_new=lambda v: self._on_guide(_NS, v))
        self.guide_we = m.add(std.telescope_timed_guide_we(n), connected_only=True,
                              on_new=lambda v: self._on_guide(_WE, v))
        self.guide_rate = m.add(std.guide_rate(n, DEFAULT_GUIDE_RATE, DEFAULT_GUIDE_RATE),
                                connected_only=True, saved=True)
        self.guide_ra = m.add(props.guide_ra_rate(n), connected_only=True, saved=True)
        self.latency = m.add(props.motion_latency(n), connected_only=True)
        m.load_saved(self.slew_rate)
        m.load_saved(self.guide_rate)
        m.load_saved(self.guide_ra)

    # --- life cycle ------------------------------------------------------------------------

    def start(self, client: SeestarClient) -> None:
        """A new session: a fresh controller on it; every vector idle."""
        m = self._mount
        self._controller = MotionController(ClientMover(client), self._frame, self._on_end, m.spawn,
                                            time_factor=client.time_factor)
        for switch in (self.motion_ns, self.motion_we):
            switch.reset()
            switch.state = State.IDLE
        for number in (self.guide_ns, self.guide_we):
            _zero(number)
            number.state = State.IDLE
        self.guide_rate.state = State.OK
        self.guide_ra.state = State.OK
        self.slew_rate.state = State.OK
        self._alpaca.session_ended()

    async def stop(self, client: SeestarClient, reason: str, *, always: bool = False) -> None:
        """Stop every move at once (abort, disconnect, before a goto or a park)."""
        controller = self._controller
        if controller is not None and (always or controller.moving):
            await controller.stop_all(reason)
        elif always:
            await client.stop_motion()

    def show_idle(self) -> None:
        """Link back: motion and guide vectors left Alert/Busy by the drop become Idle (the
        controller holds nothing: its commands ended when the link dropped)."""
        m = self._mount
        if self._controller is not None and self._controller.moving:
            return
        for switch in (self.motion_ns, self.motion_we):
            if switch.state is not State.IDLE:
                switch.reset()
                m.publish(switch, state=State.IDLE)
        for number in (self.guide_ns, self.guide_we):
            if number.state is not State.IDLE:
                _zero(number)
                m.publish(number, state=State.IDLE)

    @property
    def holding(self) -> bool:
        """True while a manual move is held."""
        return self._controller is not None and self._controller.holding

    @property
    def controller(self) -> MotionController | None:
        """The controller of this session (tests read its latency)."""
        return self._controller

    # --- handlers --------------------------------------------------------------------------

    def _refusal(self) -> tuple[State, str] | None:
        m = self._mount
        if m.client().state.parked:
            return State.IDLE, f"[WARNING] {PARKED_WARNING}"
        if m.slewing():
            return State.ALERT, f"[ERROR] {SLEWING_REFUSAL}"
        return None

    def _on_motion(self, ax: _Axis, values: dict[str, bool]) -> None:
        vector = self._motion_vector(ax.axis)
        refusal = self._refusal()
        if refusal is not None:
            vector.reset()
            self._mount.publish(vector, state=refusal[0], message=refusal[1])
            return
        assert self._controller is not None
        self._mount.pending.end_guard()
        sign = 1 if values.get(ax.motion_plus) else -1 if values.get(ax.motion_minus) else 0
        vector.reset()
        if sign == 0:
            if isinstance(self._controller.command(ax.axis), Hold):
                self._controller.release(ax.axis)
            self._mount.publish(vector, state=State.IDLE)
        else:
            vector[ax.motion_plus if sign > 0 else ax.motion_minus] = True
            self._controller.hold(ax.axis, sign * self._slew_rate_arcsec_s())
            self._mount.publish(vector, state=State.BUSY)
        self._mount.refresh()

    def _on_slew_rate(self, values: dict[str, bool]) -> None:
        self.slew_rate.update(dict(values))
        self._mount.publish(self.slew_rate, state=State.OK)
        controller = self._controller
        if controller is None:
            return
        for ax in (_NS, _WE):  # held moves go on at the new rate
            held = controller.command(ax.axis)
            if isinstance(held, Hold):
                sign = 1 if held.rate_arcsec_s > 0 else -1
                controller.hold(ax.axis, sign * self._slew_rate_arcsec_s())

    def _on_guide(self, ax: _Axis, values: dict[str, float]) -> None:
        vector = self._guide_vector(ax.axis)
        refusal = self._refusal()
        if refusal is not None:
            _zero(vector)
            state = State.ALERT if refusal[0] is State.ALERT else State.IDLE
            self._mount.publish(vector, state=state, message=refusal[1])
            return
        assert self._controller is not None
        self._mount.pending.end_guard()
        plus_ms, minus_ms = values.get(ax.guide_plus, 0.0), values.get(ax.guide_minus, 0.0)
        sign, length_ms = (1, plus_ms) if plus_ms > 0 else (-1, minus_ms) if minus_ms > 0 else (0, 0.0)
        offset_arcsec = sign * float(self.guide_rate[ax.rate_member]) * SIDEREAL_ARCSEC_S * length_ms / 1000.0
        if ax is _WE and self.guide_ra["RA_AXIS"]:
            offset_arcsec *= self._cos_dec()
        _zero(vector)
        if offset_arcsec == 0:
            self._alpaca.cancel("NS" if ax is _NS else "WE")
            if isinstance(self._controller.command(ax.axis), Pulse):
                self._controller.release(ax.axis)
            self._mount.publish(vector, state=State.IDLE)
            return
        vector[ax.guide_plus if sign > 0 else ax.guide_minus] = length_ms
        link = self._mount.alpaca_guide()
        if link is not None:
            self._alpaca_pulse(link, ax, sign, length_ms, offset_arcsec)
        else:
            self._controller.pulse(ax.axis, offset_arcsec, length_ms / 1000.0)
        self._mount.publish(vector, state=State.BUSY)

    def _alpaca_pulse(self, link: AlpacaLink, ax: _Axis, sign: int, length_ms: float,
                      offset_arcsec: float) -> None:
        """The pulse through Telescope.PulseGuide (RA_SKY: lengthened by 1/cos dec)."""
        m = self._mount
        key = "NS" if ax is _NS else "WE"
        if key == "WE" and not self.guide_ra["RA_AXIS"]:
            length_ms = length_ms / max(self._cos_dec(), 0.05)
        direction = {("NS", 1): GuideDirection.NORTH, ("NS", -1): GuideDirection.SOUTH,
                     ("WE", 1): GuideDirection.EAST, ("WE", -1): GuideDirection.WEST}[(key, sign)]
        rates = (float(self.guide_rate["GUIDE_RATE_WE"]), float(self.guide_rate["GUIDE_RATE_NS"]))
        vector = self._guide_vector(ax.axis)

        def done(reason: str | None) -> None:
            if not m.is_connected():
                return
            _zero(vector)
            m.publish(vector, state=State.ALERT if reason else State.IDLE,
                      message=f"[ERROR] guide pulse refused: {reason}" if reason else None)

        def fallback() -> None:  # the server is gone: the same pulse on the private path
            if m.is_connected() and self._controller is not None:
                self._controller.pulse(ax.axis, offset_arcsec, length_ms / 1000.0)

        self._alpaca.pulse(link, key, direction, length_ms, rates, m.client().time_factor, done,
                           fallback)

    # --- controller callbacks --------------------------------------------------------------

    def _on_end(self, axis: SkyAxis, command: Command, outcome: Outcome, reason: str | None) -> None:
        """An axis command ended: publish its vector unless a command of the same kind took over."""
        m = self._mount
        controller = self._controller
        successor = controller.command(axis) if controller is not None else None
        if outcome is Outcome.REPLACED and type(successor) is type(command):
            return
        if not m.is_connected():
            return
        state = State.ALERT if outcome in (Outcome.FAILED, Outcome.UNKNOWN) else State.IDLE
        message = f"[ERROR] motion failed: {reason}" if outcome is Outcome.FAILED else None
        if outcome is Outcome.UNKNOWN:
            kind = "guide pulse" if isinstance(command, Pulse) else "manual motion"
            what = f"{kind} {axis.value}"
            m.pending.add(what)
            m.reconcile_soon()
            message = unknown_message(f"{what} ({reason})")
        if isinstance(command, Pulse):
            guide = self._guide_vector(axis)
            _zero(guide)
            m.publish(guide, state=state, message=message)
        elif outcome is not Outcome.DONE:  # a released hold was answered Idle already
            motion = self._motion_vector(axis)
            motion.reset()
            m.publish(motion, state=state, message=message)
        self._show_latency()
        m.refresh()

    def _show_latency(self) -> None:
        controller = self._controller
        if controller is None:
            return
        lat = controller.latency
        self.latency["MOVE_RTT_MS"] = (lat.move_rtt_s or 0.0) * 1000.0
        self.latency["STOP_RTT_MS"] = (lat.stop_rtt_s or 0.0) * 1000.0
        self._mount.publish(self.latency, state=State.OK)

    def _frame(self) -> AxisFrame:
        """Sky -> axes at the current pointing (EQ: cos dec; alt-az: parallactic angle)."""
        m = self._mount
        now = datetime.now(UTC)
        p = m.pointing() or Pointing(0.0, 0.0, now)
        site = m.site()
        if site is None:
            if not self._warned_no_site:
                m.message("no site known (GEOGRAPHIC_COORD): alt-az motion directions assume "
                          "latitude 0", "WARNING")
                self._warned_no_site = True
            site = Site(0.0, 0.0)
        return axis_frame(m.client().state.equ_mode, Pointing(p.ra_hours, p.dec_deg, now), site)

    # --- helpers ---------------------------------------------------------------------------

    def _cos_dec(self) -> float:
        """cos(dec) of the current pointing (1 when unknown): an RA-axis rate on the sky."""
        pointing = self._mount.pointing()
        return math.cos(math.radians(pointing.dec_deg)) if pointing is not None else 1.0

    def _slew_rate_arcsec_s(self) -> float:
        on = self.slew_rate.on_names()
        steps = next((s for name, _, s in SLEW_RATES if on and name == on[0]), SLEW_RATES[DEFAULT_SLEW_RATE][2])
        return steps * ARCSEC_PER_STEP

    def _motion_vector(self, axis: SkyAxis) -> SwitchVector:
        return self.motion_ns if axis is SkyAxis.NS else self.motion_we

    def _guide_vector(self, axis: SkyAxis) -> NumberVector:
        return self.guide_ns if axis is SkyAxis.NS else self.guide_we


def _zero(vector: NumberVector) -> None:
    for name in list(vector):
        vector[name] = 0.0
