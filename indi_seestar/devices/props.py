"""Factories for the driver's own (non-standard) INDI properties, declared once each.

Layer: devices. Standard properties come from indi.standard; these are the Seestar extras.
"""

from __future__ import annotations

from ..indi.model import NumberVector, Perm, Rule, SwitchVector, TextVector
from ..indi.standard._build import choice, numbers, one_number, switches, texts

CONNECTION_GROUP = "Connection"
SEESTAR_GROUP = "Seestar"


def discover(device: str) -> SwitchVector:
    """SEESTAR_DISCOVER: DISCOVER button; fills DEVICE_ADDRESS from UDP 4720 discovery."""
    return switches(device, "SEESTAR_DISCOVER", "Discovery", CONNECTION_GROUP, Rule.AT_MOST_ONE,
                    [("DISCOVER", "Find Seestar", False)], timeout_s=5)


def goto_mode(device: str, centered: bool) -> SwitchVector:
    """SEESTAR_GOTO_MODE: GOTO_DIRECT (raw slew) or GOTO_CENTERED (the Seestar's plate-solve goto)."""
    return choice(device, "SEESTAR_GOTO_MODE", "Goto mode", SEESTAR_GROUP,
                  [("GOTO_DIRECT", "Direct slew"), ("GOTO_CENTERED", "Plate-solve centred")],
                  1 if centered else 0)


def motion_latency(device: str) -> NumberVector:
    """SEESTAR_MOTION_LATENCY (ro): measured round trips of speed moves and stops (ms)."""
    members = [one_number("MOVE_RTT_MS", "Move round trip (ms)", "%.1f", 0, 60000, 0, 0),
               one_number("STOP_RTT_MS", "Stop round trip (ms)", "%.1f", 0, 60000, 0, 0)]
    return numbers(device, "SEESTAR_MOTION_LATENCY", "Motion latency", SEESTAR_GROUP, members,
                   perm=Perm.RO, timeout_s=0)


def guide_ra_rate(device: str, sky: bool = False) -> SwitchVector:
    """SEESTAR_GUIDE_RA: what GUIDE_RATE_WE means for east/west pulses.

    RA_AXIS (default): an RA-axis rate, as on every equatorial mount: the sky moves by
    rate x sidereal x cos(dec), which is what PHD2's declination compensation and its
    calibration checks assume. RA_SKY: the sky moves by rate x sidereal whatever the
    declination (calibrate again after a large change of declination).
    """
    return choice(device, "SEESTAR_GUIDE_RA", "Guide RA rate", SEESTAR_GROUP,
                  [("RA_AXIS", "RA axis (like an EQ mount)"), ("RA_SKY", "Sky (no cos dec)")],
                  1 if sky else 0)


def seestar_paths(device: str) -> TextVector:
    """SEESTAR_PATHS (ro): which path each function takes, the private protocol or the
    scope's own Alpaca server (issue 14; README "The Seestar's Alpaca server")."""
    members = [("ALPACA_SERVER", "Alpaca server", ""), ("EXPOSURES", "Single exposures", ""),
               ("PULSE_GUIDE", "Guide pulses", ""), ("DEW_HEATER", "Dew heater", ""),
               ("OTHERS", "Everything else", "")]
    return texts(device, "SEESTAR_PATHS", "Paths", SEESTAR_GROUP, members, perm=Perm.RO,
                 timeout_s=0)
