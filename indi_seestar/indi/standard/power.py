"""Power-box properties as libindi's PowerInterface declares them (layer indi/).

Names, element names and groups follow libindi's indipowerinterface.cpp (DEW_CHANNELS,
DEW_DUTY_CYCLES on the "Dew" tab, LED_CONTROL). Must not import protocol/, seestar/, devices/
or sim/.
"""

from __future__ import annotations

from collections.abc import Sequence

from indi_seestar.indi.model import NumberVector, Rule, SwitchVector
from indi_seestar.indi.standard._build import MAIN_CONTROL, numbers, one_number, switches

DEW_TAB = "Dew"


def dew_channels(device: str, labels: Sequence[str]) -> SwitchVector:
    """DEW_CHANNELS (AnyOfMany): DEW_CHANNEL_1..N on/off."""
    members = [(f"DEW_CHANNEL_{i}", label, False) for i, label in enumerate(labels, start=1)]
    return switches(device, "DEW_CHANNELS", "Toggle Dew", DEW_TAB, Rule.ANY_OF_MANY, members)


def dew_duty_cycles(device: str, labels: Sequence[str]) -> NumberVector:
    """DEW_DUTY_CYCLES: DEW_CHANNEL_1..N power in percent (0..100, step 10)."""
    members = [one_number(f"DEW_CHANNEL_{i}", f"{label} (%)", "%.0f", 0, 100, 10, 0)
               for i, label in enumerate(labels, start=1)]
    return numbers(device, "DEW_DUTY_CYCLES", "Duty Cycles", DEW_TAB, members)


def led_control(device: str, on: bool = True) -> SwitchVector:
    """LED_CONTROL (OneOfMany): INDI_ENABLED (On), INDI_DISABLED (Off)."""
    return switches(device, "LED_CONTROL", "LEDs", MAIN_CONTROL, Rule.ONE_OF_MANY,
                    [("INDI_ENABLED", "On", on), ("INDI_DISABLED", "Off", not on)])
