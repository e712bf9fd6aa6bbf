"""Mount status: what the mount is doing, and the INDI states derived from it in one place.

Layer: devices (pure). As libindi's NewRaDec derives EQUATORIAL_EOD_COORD's state from its
TrackState, `derive()` turns our own operation plus the scope's snapshot into the states Ekos
reads (indi-standard.md §2.2, §4.3):

    EQUATORIAL_EOD_COORD  Busy  slewing, parking, unparking or manual motion (ours or the app's)
                          Idle  parked, or not tracking
                          Ok    tracking
    TELESCOPE_PARK        Busy + PARK On while parking, Busy + UNPARK On while unparking,
                          Ok + PARK On when parked, Ok + UNPARK On otherwise
    TELESCOPE_TRACK_STATE Ok with TRACK_ON / TRACK_OFF as the scope reports

Alert is never derived: it is published once with the failure's message and replaced by the
derived state at the next poll, as libindi does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..indi.model import State


#: Said when goto, sync, motion or pulses are refused because the mount is parked.
PARKED_WARNING = "the mount is parked: unpark it before goto, sync or motion"


class Activity(enum.Enum):
    """The long operation this driver is running on the mount."""

    IDLE = "idle"
    SLEWING = "slewing"
    PARKING = "parking"
    UNPARKING = "unparking"


@dataclass(frozen=True, slots=True)
class ScopeFlags:
    """The parts of the scope's snapshot the status depends on."""

    parked: bool
    tracking: bool
    slewing: bool  # ScopeGoto / ScopeHome / ScopeMoveToHorizon running (anyone's)


@dataclass(frozen=True, slots=True)
class Status:
    """The derived INDI view of the mount."""

    eod: State
    parked_switch: bool  # TELESCOPE_PARK: PARK On (else UNPARK On)
    park: State
    tracking: bool  # TELESCOPE_TRACK_STATE: TRACK_ON On (else TRACK_OFF)


def derive(activity: Activity, scope: ScopeFlags, *, manual_motion: bool) -> Status:
    """The INDI states for `activity` and `scope` (see module)."""
    moving = activity is not Activity.IDLE or scope.slewing or manual_motion
    if moving:
        eod = State.BUSY
    elif scope.parked:
        eod = State.IDLE
    else:
        eod = State.OK if scope.tracking else State.IDLE
    if activity is Activity.PARKING:
        parked_switch, park = True, State.BUSY
    elif activity is Activity.UNPARKING:
        parked_switch, park = False, State.BUSY
    else:
        parked_switch, park = scope.parked, State.OK
    return Status(eod, parked_switch, park, scope.tracking and not scope.parked)
