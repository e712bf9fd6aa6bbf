"""Battery, charger and storage of the fake Seestar: drains, charges and fills as it works.

Layer: sim. Pure functions over SimState, called by the PiStatus loop (usecases_extras.py) and
when a sub is saved (usecases_camera.py). Rates are round figures, not measured [unverified]:
ZWO quotes about 6 h on battery for the S50; the dew heater costs extra; a full charge takes
about 2.5 h; a saved 1080x1920 16-bit FITS sub is ~4.2 MB.
"""

from __future__ import annotations

from typing import Any

from .state import SimState

BATTERY_DRAIN_PCT_PER_H = 16.0
HEATER_DRAIN_PCT_PER_H_AT_FULL = 10.0
CHARGE_PCT_PER_H = 40.0
SUB_FILE_MB = 4.2


def charger_status(st: SimState) -> str:
    """The firmware's words: Charging / Full / Discharging."""
    if not st.charger_online:
        return "Discharging"
    return "Full" if st.battery_level >= 100.0 else "Charging"


def advance_battery(st: SimState, dt_s: float) -> bool:
    """Drain or charge over `dt_s` scope seconds; True when the whole percent changed."""
    hours = dt_s / 3600.0
    if st.charger_online:
        rate = CHARGE_PCT_PER_H
    else:
        rate = -(BATTERY_DRAIN_PCT_PER_H + HEATER_DRAIN_PCT_PER_H_AT_FULL * st.heater_value / 100.0)
    st.battery_level = max(0.0, min(100.0, st.battery_level + rate * hours))
    old, st.battery_percent = st.battery_percent, int(st.battery_level)
    return st.battery_percent != old


def battery_fields(st: SimState) -> dict[str, Any]:
    """The battery part of a PiStatus event / pi_status section."""
    return {"charger_status": charger_status(st), "battery_capacity": st.battery_percent,
            "charge_online": st.charger_online, "battery_temp": int(round(st.battery_temp_c))}


#: The eMMC's raw size; the recorded used_percent (26) is counted against it, not total_mb.
DISK_MB = 59699.0


def used_percent(st: SimState) -> int:
    """Storage used, whole percent (truncated, as recorded: free 43862 of 59699 -> 26)."""
    return int(100.0 * (1.0 - st.storage_free_mb / DISK_MB))


def store_file(st: SimState, size_mb: float = SUB_FILE_MB) -> bool:
    """A file was saved; True when the used percentage changed (a DiskSpace event is due)."""
    before = used_percent(st)
    st.storage_free_mb = max(0.0, st.storage_free_mb - size_mb)
    return used_percent(st) != before
