"""Pure planning of the mount's speed moves: sky directions -> mount axes -> one integer command.

Layer: devices (pure: math only, no asyncio, no INDI). Used by devices/motion.py.

Frames. Sky offsets are (east, north) in arcsec on the sky at the current pointing; mount
offsets are (a1, a2) in arcsec of *axis* angle. The Seestar's `scope_speed_move` takes one
integer speed (old form: steps/s, 1 step/s = 15 arcsec/s of axis angle) and one integer angle
that splits it by cos/sin between the axes: angle 0 = a1+, 90 = a2+.
- EQ mode: a1 = hour angle (+ West), a2 = declination; an a1 rate r moves the sky by r*cos(dec).
- Alt-az mode: a1 = azimuth (+ East of North), a2 = altitude; an a1 rate r moves the sky by
  r*cos(alt), and the sky's north/east turn into altitude/azimuth through the parallactic angle
  q (the zenith's position angle): up = (sin q, cos q), azimuth+ = (-cos q, sin q) in (east, north).

Sky axes. NS (value = north arcsec) and WE (value = east arcsec; a West pulse is negative) are
independent: each holds at most one command, a Pulse (a displacement to deliver by a deadline)
or a Hold (a constant sky rate). `plan()` sums what the active commands want, turns it into one
quantised command and says how long it may run before the next decision.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

#: Sidereal rate, arcsec of sky per second: what "1x" guide rates are multiples of.
SIDEREAL_ARCSEC_S = 15.041
#: Old-form speed unit: 240 steps/s = 1 deg/s of axis angle (SPY; the fake models exactly this).
ARCSEC_PER_STEP = 15.0
#: Fastest speed we command (ALP's web UI limit; SPY says <= 1500).
MAX_SPEED_STEPS = 1440
#: cos(dec) / cos(alt) floor: within ~3 degrees of the pole (EQ) or zenith (alt-az) the first
#: axis would need unbounded speed; we cap the factor instead.
MIN_AXIS_COS = 0.05
#: A pulse whose remaining displacement is below this (arcsec) is done.
DONE_ARCSEC = 0.01
#: Shortest planning horizon for a pulse near its deadline (s): keeps the desired rate finite.
MIN_HORIZON_S = 0.02


class SkyAxis(enum.Enum):
    """The two independent guiding/motion axes, in sky directions."""

    NS = "NS"  # + = north
    WE = "WE"  # + = east


@dataclass(frozen=True, slots=True)
class AxisFrame:
    """The local linear map from sky offsets (east, north) to mount offsets (a1, a2), arcsec."""

    m11: float
    m12: float
    m21: float
    m22: float

    def to_axes(self, east: float, north: float) -> tuple[float, float]:
        """Mount-axis offsets for a sky offset."""
        return self.m11 * east + self.m12 * north, self.m21 * east + self.m22 * north

    def to_sky(self, a1: float, a2: float) -> tuple[float, float]:
        """Sky offset (east, north) for mount-axis offsets (the inverse map)."""
        det = self.m11 * self.m22 - self.m12 * self.m21
        return (self.m22 * a1 - self.m12 * a2) / det, (-self.m21 * a1 + self.m11 * a2) / det


def eq_frame(dec_deg: float) -> AxisFrame:
    """EQ mode at declination `dec_deg`: a1 (HA, + West) = -east / cos(dec), a2 = north."""
    cos_dec = max(MIN_AXIS_COS, math.cos(math.radians(dec_deg)))
    return AxisFrame(-1.0 / cos_dec, 0.0, 0.0, 1.0)


def altaz_frame(alt_deg: float, parallactic_deg: float) -> AxisFrame:
    """Alt-az mode at altitude `alt_deg` with parallactic angle `parallactic_deg`."""
    cos_alt = max(MIN_AXIS_COS, math.cos(math.radians(alt_deg)))
    q = math.radians(parallactic_deg)
    s, c = math.sin(q), math.cos(q)
    # az_sky = -east*cos q + north*sin q (then / cos alt); alt = east*sin q + north*cos q
    return AxisFrame(-c / cos_alt, s / cos_alt, s, c)


@dataclass(frozen=True, slots=True)
class Pulse:
    """Deliver `remaining_arcsec` (signed sky offset along its axis) by scope time `deadline_s`."""

    remaining_arcsec: float
    deadline_s: float
    duration_s: float


@dataclass(frozen=True, slots=True)
class Hold:
    """Move at `rate_arcsec_s` (signed, sky) until released."""

    rate_arcsec_s: float


Command = Pulse | Hold


@dataclass(frozen=True, slots=True)
class SpeedCommand:
    """One `scope_speed_move`: integer speed (steps/s) towards an integer angle (degrees)."""

    speed_steps: int
    angle_deg: int

    def axis_rates(self) -> tuple[float, float]:
        """(a1, a2) axis rates in arcsec/s this command produces."""
        rate = self.speed_steps * ARCSEC_PER_STEP
        rad = math.radians(self.angle_deg)
        return rate * math.cos(rad), rate * math.sin(rad)


@dataclass(frozen=True, slots=True)
class Segment:
    """What to send now and for how long it holds: `run_s` = inf while only holds are active."""

    command: SpeedCommand
    sky_rates: tuple[float, float]  # (east, north) arcsec/s actually delivered
    run_s: float

    def rate_along(self, axis: SkyAxis) -> float:
        """Delivered sky rate along `axis` (arcsec/s)."""
        return self.sky_rates[0] if axis is SkyAxis.WE else self.sky_rates[1]


def quantise(a1_rate: float, a2_rate: float, *, at_least: bool = True) -> SpeedCommand:
    """The command closest in direction, in whole steps (>= 1): at least as fast as asked
    (a pulse must end in time), or the nearest speed (a held move keeps its rate)."""
    speed = math.hypot(a1_rate, a2_rate) / ARCSEC_PER_STEP
    steps = math.ceil(speed - 1e-6) if at_least else round(speed)
    steps = min(MAX_SPEED_STEPS, max(1, steps))
    angle = round(math.degrees(math.atan2(a2_rate, a1_rate))) % 360
    return SpeedCommand(steps, angle)


def desired_rate(command: Command, now_s: float) -> float:
    """The sky rate (arcsec/s, signed) a command asks for at `now_s`."""
    if isinstance(command, Hold):
        return command.rate_arcsec_s
    return command.remaining_arcsec / max(command.deadline_s - now_s, MIN_HORIZON_S)


def plan(commands: dict[SkyAxis, Command], frame: AxisFrame, now_s: float) -> Segment | None:
    """The command to send now for the active `commands` (None: nothing to do, stop)."""
    active = {axis: cmd for axis, cmd in commands.items()
              if not (isinstance(cmd, Pulse) and abs(cmd.remaining_arcsec) < DONE_ARCSEC)}
    if not active:
        return None
    east = desired_rate(active[SkyAxis.WE], now_s) if SkyAxis.WE in active else 0.0
    north = desired_rate(active[SkyAxis.NS], now_s) if SkyAxis.NS in active else 0.0
    pulsing = any(isinstance(c, Pulse) for c in active.values())
    command = quantise(*frame.to_axes(east, north), at_least=pulsing)
    segment = Segment(command, frame.to_sky(*command.axis_rates()), math.inf)
    run_s = math.inf
    for axis, cmd in active.items():
        if isinstance(cmd, Pulse):
            rate = segment.rate_along(axis)
            if rate * cmd.remaining_arcsec > 0:  # progresses this segment
                run_s = min(run_s, cmd.remaining_arcsec / rate)
    if run_s == math.inf and pulsing:
        # Rounding left every pulse without progress (a tiny axis next to a big one): run the
        # pulses one at a time from here, the first one alone.
        axis = next(a for a, c in active.items() if isinstance(c, Pulse))
        return plan({axis: active[axis]}, frame, now_s)
    return Segment(command, segment.sky_rates, run_s)


def advance(command: Command, delivered_arcsec: float) -> Command:
    """`command` after `delivered_arcsec` of sky motion along its axis."""
    if isinstance(command, Hold):
        return command
    remaining = command.remaining_arcsec - delivered_arcsec
    if remaining * command.remaining_arcsec <= 0 or abs(remaining) < DONE_ARCSEC:  # reached or overshot
        remaining = 0.0
    return Pulse(remaining, command.deadline_s, command.duration_s)
