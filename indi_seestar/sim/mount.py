"""Mount model of the fake Seestar: true pointing, tracking, gotos, speed moves, park, EQ/alt-az.

Layer: sim (pure model: no asyncio, no sockets). Time is scope seconds from `SimClock`.

The pointing is an immutable `MountState` evaluated at any time t, so a stop at time t stops
exactly at t and a frame can ask where the mount pointed during its exposure (`radec(t)` for
past t reads the history). The state is an *anchor* plus at most one motion:

* anchor `SkyAnchor(ra, dec)` while tracking (RA/Dec fixed, alt/az drift; an optional test
  drift moves it slowly), `AxisAnchor(a1, a2)` while not tracking (axes fixed, RA drifts);
* `ManualMove`: a speed move, constant axis rates until `t_end`;
* `Slew`: a goto, a great circle from start to target with a smooth speed profile.

Axes: alt-az mode a1 = azimuth (deg, + = East of North, i.e. clockwise seen from above),
a2 = altitude. EQ mode a1 = hour angle (deg, + = West), a2 = declination.
A speed-move rate is *axis* degrees per second: in alt-az mode an azimuth rate r moves the
sky by r*cos(alt) in true angle; in EQ mode an hour-angle rate r moves it by r*cos(dec).
"""

from __future__ import annotations

import bisect
import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from . import sky

#: Slew speed of a goto (firmware "a few deg/s") and the fixed start/settle overhead.
SLEW_RATE_DEG_S = 4.0
SLEW_OVERHEAD_S = 1.0
#: Old-form speed unit: 240 steps/s = 1 deg/s (SPY; so 1 step/s = 15 arcsec/s).
STEPS_PER_DEG = 240.0
#: Where the arm looks when folded (parked) and after scope_move_to_horizon (alt-az axes).
PARK_AXES = (0.0, -10.0)
HORIZON_ALT_DEG = 10.0
_HISTORY_LEN = 512

LstFn = Callable[[float, float], float]  # (scope time s, east longitude deg) -> LST deg


class MoveType(enum.StrEnum):
    """`mount.move_type` of get_device_state ("none" is recorded; the others are unverified)."""

    NONE = "none"
    GOTO = "goto"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class SkyAnchor:
    """Tracking: fixed RA/Dec at `t_ref_s`, plus an optional test drift (arcsec/s of axis angle)."""

    ra_hours: float
    dec_deg: float
    t_ref_s: float = 0.0
    drift_ra_arcsec_s: float = 0.0
    drift_dec_arcsec_s: float = 0.0

    def at(self, t_s: float) -> tuple[float, float]:
        """RA/Dec at scope time `t_s`."""
        dt = t_s - self.t_ref_s
        return (sky.wrap_hours(self.ra_hours + self.drift_ra_arcsec_s * dt / 54000.0),
                max(-90.0, min(90.0, self.dec_deg + self.drift_dec_arcsec_s * dt / 3600.0)))


@dataclass(frozen=True, slots=True)
class AxisAnchor:
    """Not tracking: fixed axis positions (degrees)."""

    a1_deg: float
    a2_deg: float


@dataclass(frozen=True, slots=True)
class ManualMove:
    """A speed move: constant axis rates from `t0_s` until `t_end_s`."""

    t0_s: float
    t_end_s: float
    rate1_deg_s: float
    rate2_deg_s: float


@dataclass(frozen=True, slots=True)
class Slew:
    """A goto along the great circle from `start` to `target` (RA h, Dec deg)."""

    t0_s: float
    t_end_s: float
    start: tuple[float, float]
    target: tuple[float, float]

    def fraction(self, t_s: float) -> float:
        """Smooth 0..1 progress (accelerate, cruise, decelerate)."""
        span = max(self.t_end_s - self.t0_s, 1e-9)
        x = min(1.0, max(0.0, (t_s - self.t0_s) / span))
        return x * x * (3.0 - 2.0 * x)


@dataclass(frozen=True, slots=True)
class MountState:
    """Everything the pointing depends on, valid from the moment it was set."""

    anchor: SkyAnchor | AxisAnchor
    equ_mode: bool
    tracking: bool
    parked: bool
    lat_deg: float
    lon_deg: float
    manual: ManualMove | None = None
    slew: Slew | None = None
    drift: tuple[float, float] = (0.0, 0.0)


def sky_to_axes(st: MountState, ra_hours: float, dec_deg: float, t_s: float, lst: LstFn) -> tuple[float, float]:
    """RA/Dec -> this mode's axes at `t_s`."""
    lst_deg = lst(t_s, st.lon_deg)
    if st.equ_mode:
        return (lst_deg - ra_hours * 15.0 + 180.0) % 360.0 - 180.0, dec_deg
    alt, az = sky.radec_to_altaz(ra_hours, dec_deg, lst_deg, st.lat_deg)
    return az, alt


def axes_to_sky(st: MountState, a1: float, a2: float, t_s: float, lst: LstFn) -> tuple[float, float]:
    """This mode's axes -> RA/Dec at `t_s` (the second axis is clamped to +-90)."""
    a2 = max(-90.0, min(90.0, a2))
    lst_deg = lst(t_s, st.lon_deg)
    if st.equ_mode:
        return sky.wrap_hours((lst_deg - a1) / 15.0), a2
    return sky.altaz_to_radec(a2, a1, lst_deg, st.lat_deg)


def settle(st: MountState, t_s: float, lst: LstFn) -> MountState:
    """`st` with the motions that ended by `t_s` folded into the anchor."""
    if st.slew is not None and t_s >= st.slew.t_end_s:
        ra, dec = st.slew.target
        st = replace(st, slew=None, tracking=True,
                     anchor=SkyAnchor(ra, dec, st.slew.t_end_s, *st.drift))
    if st.manual is not None and t_s >= st.manual.t_end_s:
        st = bake(st, st.manual.t_end_s, lst)
    return st


def bake(st: MountState, t_s: float, lst: LstFn) -> MountState:
    """Freeze the pointing at `t_s` into a motionless anchor of the current tracking kind."""
    ra, dec = _eval_radec(st, t_s, lst)
    if st.tracking and not st.parked:
        anchor: SkyAnchor | AxisAnchor = SkyAnchor(ra, dec, t_s, *st.drift)
    else:
        anchor = AxisAnchor(*sky_to_axes(st, ra, dec, t_s, lst))
    return replace(st, anchor=anchor, manual=None, slew=None)


def radec_at(st: MountState, t_s: float, lst: LstFn) -> tuple[float, float]:
    """True pointing (RA h, Dec deg) at `t_s`."""
    return _eval_radec(settle(st, t_s, lst), t_s, lst)


def _eval_radec(st: MountState, t_s: float, lst: LstFn) -> tuple[float, float]:
    """Pointing of `st` at `t_s`, motions taken as they are (a finished move saturates)."""
    if st.slew is not None:
        return sky.slerp_radec(st.slew.start, st.slew.target, st.slew.fraction(t_s))
    if st.manual is None or t_s <= st.manual.t0_s:
        if isinstance(st.anchor, SkyAnchor):
            return st.anchor.at(t_s)
        return axes_to_sky(st, st.anchor.a1_deg, st.anchor.a2_deg, t_s, lst)
    a1, a2 = _eval_axes(st, t_s, lst)
    return axes_to_sky(st, a1, a2, t_s, lst)


def axes_at(st: MountState, t_s: float, lst: LstFn) -> tuple[float, float]:
    """Axis positions at `t_s` (anchor plus the speed-move offset so far)."""
    return _eval_axes(settle(st, t_s, lst), t_s, lst)


def _eval_axes(st: MountState, t_s: float, lst: LstFn) -> tuple[float, float]:
    if st.slew is not None:
        return sky_to_axes(st, *_eval_radec(st, t_s, lst), t_s, lst)
    if isinstance(st.anchor, SkyAnchor):
        a1, a2 = sky_to_axes(st, *st.anchor.at(t_s), t_s, lst)
    else:
        a1, a2 = st.anchor.a1_deg, st.anchor.a2_deg
    if st.manual is not None and t_s > st.manual.t0_s:
        dt = min(t_s, st.manual.t_end_s) - st.manual.t0_s
        a1 += st.manual.rate1_deg_s * dt
        a2 += st.manual.rate2_deg_s * dt
    return a1, a2


class Mount:
    """The mount: current state plus a short history, so past pointings can be evaluated."""

    def __init__(self, now_s: Callable[[], float], lst: LstFn, state: MountState) -> None:
        self._now = now_s
        self._lst = lst
        self._times: list[float] = [now_s()]
        self._states: list[MountState] = [state]
        #: Pointing-model error of the mount: reported = true + offset (changed by scope_sync).
        self.model_offset: tuple[float, float] = (0.0, 0.0)

    # --- reading -------------------------------------------------------------------------

    def state(self, t_s: float | None = None) -> MountState:
        """The state in force at `t_s` (default now), with finished motions folded in."""
        t = self._now() if t_s is None else t_s
        i = max(0, bisect.bisect_right(self._times, t) - 1)
        return settle(self._states[i], t, self._lst)

    def radec(self, t_s: float | None = None) -> tuple[float, float]:
        """True pointing (RA hours, Dec deg) at `t_s` (default now)."""
        t = self._now() if t_s is None else t_s
        return radec_at(self.state(t), t, self._lst)

    def reported_radec(self, t_s: float | None = None) -> tuple[float, float]:
        """What the mount believes (and reports): true pointing plus its model offset."""
        ra, dec = self.radec(t_s)
        return sky.wrap_hours(ra + self.model_offset[0]), max(-90.0, min(90.0, dec + self.model_offset[1]))

    def altaz(self, t_s: float | None = None) -> tuple[float, float]:
        """True pointing as (alt, az) degrees."""
        t = self._now() if t_s is None else t_s
        st = self.state(t)
        ra, dec = radec_at(st, t, self._lst)
        return sky.radec_to_altaz(ra, dec, self._lst(t, st.lon_deg), st.lat_deg)

    def altaz_of(self, ra_hours: float, dec_deg: float, t_s: float | None = None) -> tuple[float, float]:
        """(alt, az) of a sky position at `t_s` from this site."""
        t = self._now() if t_s is None else t_s
        st = self.state(t)
        return sky.radec_to_altaz(ra_hours, dec_deg, self._lst(t, st.lon_deg), st.lat_deg)

    def radec_of_altaz(self, alt_deg: float, az_deg: float, t_s: float | None = None) -> tuple[float, float]:
        """(RA, Dec) of a horizontal position at `t_s` from this site."""
        t = self._now() if t_s is None else t_s
        st = self.state(t)
        return sky.altaz_to_radec(alt_deg, az_deg, self._lst(t, st.lon_deg), st.lat_deg)

    def move_type(self) -> MoveType:
        """What the mount is doing now."""
        st = self.state()
        if st.slew is not None:
            return MoveType.GOTO
        return MoveType.MANUAL if st.manual is not None else MoveType.NONE

    # --- changing ------------------------------------------------------------------------

    def _push(self, t_s: float, st: MountState) -> None:
        if t_s < self._times[-1]:
            t_s = self._times[-1]
        self._times.append(t_s)
        self._states.append(st)
        if len(self._times) > _HISTORY_LEN:
            del self._times[: len(self._times) - _HISTORY_LEN]
            del self._states[: len(self._states) - _HISTORY_LEN]

    def _baked(self, t_s: float) -> MountState:
        return bake(self.state(t_s), t_s, self._lst)

    def goto(self, ra_hours: float, dec_deg: float) -> Slew:
        """Start a slew to the *true* position (ra, dec); tracking turns on when it ends."""
        t = self._now()
        st = self._baked(t)
        start = radec_at(st, t, self._lst)
        dist = sky.separation_deg(*start, ra_hours, dec_deg)
        slew = Slew(t, t + SLEW_OVERHEAD_S + dist / SLEW_RATE_DEG_S, start, (sky.wrap_hours(ra_hours), dec_deg))
        self._push(t, replace(st, slew=slew, tracking=False))
        return slew

    def true_target(self, ra_hours: float, dec_deg: float) -> tuple[float, float]:
        """The true position the mount goes to when asked for the *reported* (ra, dec)."""
        return sky.wrap_hours(ra_hours - self.model_offset[0]), max(-90.0, min(90.0, dec_deg - self.model_offset[1]))

    def sync(self, ra_hours: float, dec_deg: float) -> None:
        """From now on report (ra, dec) for the current true pointing."""
        ra, dec = self.radec()
        dra = (ra_hours - ra + 12.0) % 24.0 - 12.0
        self.model_offset = (dra, dec_deg - dec)

    def stop(self) -> None:
        """Stop any slew or speed move where it is now (tracking state unchanged)."""
        t = self._now()
        self._push(t, self._baked(t))

    def speed_move(self, rate_deg_s: float, angle_deg: float, duration_s: float) -> ManualMove | None:
        """Move at `rate_deg_s` axis degrees/s towards `angle_deg` for `duration_s`; rate 0 stops.

        Angle 0 = a1+ (alt-az: azimuth+, right; EQ: West), 90 = a2+ (altitude up; North),
        180 = a1-, 270 = a2-; other angles split the rate by cos/sin.
        """
        t = self._now()
        st = self._baked(t)
        if rate_deg_s <= 0 or duration_s <= 0:
            self._push(t, st)
            return None
        rad = math.radians(angle_deg)
        move = ManualMove(t, t + duration_s, rate_deg_s * math.cos(rad), rate_deg_s * math.sin(rad))
        self._push(t, replace(st, manual=move))
        return move

    def set_tracking(self, on: bool) -> None:
        """Sidereal tracking on (RA/Dec fixed) or off (axes fixed)."""
        t = self._now()
        st = self.state(t)
        self._push(t, bake(replace(st, tracking=on), t, self._lst))

    def set_drift(self, ra_arcsec_s: float, dec_arcsec_s: float) -> None:
        """Test knob: while tracking, the true pointing drifts at these axis rates."""
        t = self._now()
        st = replace(self.state(t), drift=(ra_arcsec_s, dec_arcsec_s))
        self._push(t, bake(st, t, self._lst))

    def guide(self, ra_arcsec_s: float, dec_arcsec_s: float, t_s: float | None = None) -> bool:
        """Guide motion (RA/Dec arcsec/s on top of the drift) from `t_s` (default now; not before
        the last change); False when not tracking (nothing changes)."""
        t = self._now() if t_s is None else max(t_s, self._times[-1])
        st = self.state(t)
        if (not st.tracking or st.parked or st.slew is not None
                or not isinstance(st.anchor, SkyAnchor)):
            return False
        ra, dec = radec_at(st, t, self._lst)
        rates = (st.drift[0] + ra_arcsec_s, st.drift[1] + dec_arcsec_s)
        self._push(t, replace(st, manual=None, anchor=SkyAnchor(ra, dec, t, *rates)))
        return True

    def set_site(self, lat_deg: float, lon_deg: float) -> None:
        """New site; a tracking mount keeps its RA/Dec, a still one keeps its axes."""
        t = self._now()
        self._push(t, replace(self._baked(t), lat_deg=lat_deg, lon_deg=lon_deg))

    def set_parked(self, parked: bool, equ_mode: bool | None = None) -> None:
        """Arm folded (tracking off, park axes) or opened to the horizon."""
        t = self._now()
        st = self._baked(t)
        mode = st.equ_mode if equ_mode is None else equ_mode
        if parked:
            new = replace(st, parked=True, tracking=False, equ_mode=mode, anchor=AxisAnchor(*PARK_AXES))
        else:
            alt_az = replace(st, equ_mode=False)
            az, _alt = sky_to_axes(alt_az, *radec_at(st, t, self._lst), t, self._lst)
            ra, dec = axes_to_sky(alt_az, az, HORIZON_ALT_DEG, t, self._lst)
            new = replace(st, parked=False, tracking=False, equ_mode=mode)
            new = replace(new, anchor=AxisAnchor(*sky_to_axes(new, ra, dec, t, self._lst)))
        self._push(t, new)

    def set_pointing(self, ra_hours: float, dec_deg: float, *, tracking: bool = True) -> None:
        """Test helper: put the true pointing at (ra, dec) at once, unparked."""
        t = self._now()
        st = replace(self._baked(t), parked=False, tracking=tracking)
        anchor: SkyAnchor | AxisAnchor = SkyAnchor(ra_hours, dec_deg, t, *st.drift)
        if not tracking:
            anchor = AxisAnchor(*sky_to_axes(st, ra_hours, dec_deg, t, self._lst))
        self._push(t, replace(st, anchor=anchor))
