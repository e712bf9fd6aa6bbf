"""Factories for the driver's own (non-standard) INDI properties, declared once each.

Layer: devices. Standard properties come from indi.standard; these are the Seestar extras.
"""

from __future__ import annotations

from ..indi.model import Rule, SwitchVector
from ..indi.standard._build import choice, switches

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
