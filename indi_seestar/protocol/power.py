"""PowerStatus: battery, charger, temperatures, storage, dew heater and LEDs of the scope.

Layer: protocol (sans-I/O). Read from `get_device_state` sections pi_status, storage and
setting (shapes of the S50 6.70 / S30 7.06 recordings), and updated by the PiStatus and
DiskSpace events, which carry any subset of those fields (seestar-protocol.md §3.2).
`setting.heater {state, value}` (seestar-protocol.md §8.8) is read when present; firmware that
only reports `heater_enable` gives on/off without a power figure.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class PowerStatus:
    """What the scope says about its power and storage; None = not reported."""

    battery_percent: int | None = None
    charger_status: str | None = None
    charge_online: bool | None = None
    battery_temp_c: float | None = None
    board_temp_c: float | None = None
    storage_free_mb: float | None = None
    storage_total_mb: float | None = None
    storage_used_percent: float | None = None
    heater_on: bool | None = None
    heater_percent: int | None = None
    dark_mode: bool | None = None

    @property
    def charging(self) -> bool | None:
        """True while the battery charges ("Charging"), None when unknown."""
        if self.charger_status is None:
            return self.charge_online
        return self.charger_status.lower() == "charging"


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _pi_status_fields(pi: dict[str, Any]) -> dict[str, Any]:
    battery = _num(pi.get("battery_capacity"))
    charger = pi.get("charger_status")
    return {"battery_percent": None if battery is None else int(battery),
            "charger_status": charger if isinstance(charger, str) else None,
            "charge_online": _bool(pi.get("charge_online")),
            "battery_temp_c": _num(pi.get("battery_temp")),
            "board_temp_c": _num(pi.get("temp"))}


def _storage_fields(storage: dict[str, Any]) -> dict[str, Any]:
    volumes = storage.get("storage_volume")
    if not isinstance(volumes, list):
        return {}
    current = storage.get("cur_storage")
    volume = next((v for v in volumes if isinstance(v, dict) and v.get("name") == current),
                  next((v for v in volumes if isinstance(v, dict)), None))
    if volume is None:
        return {}
    return {"storage_free_mb": _num(volume.get("free_mb", volume.get("freeMB"))),
            "storage_total_mb": _num(volume.get("total_mb", volume.get("totalMB"))),
            "storage_used_percent": _num(volume.get("used_percent"))}


def _setting_fields(setting: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {"dark_mode": _bool(setting.get("dark_mode")),
                              "heater_on": _bool(setting.get("heater_enable"))}
    heater = setting.get("heater")
    if isinstance(heater, dict):
        on, value = _bool(heater.get("state")), _num(heater.get("value"))
        if on is not None:
            fields["heater_on"] = on
        if value is not None:
            fields["heater_percent"] = int(value) if fields["heater_on"] is not False else 0
    return fields


def merge(status: PowerStatus, fields: dict[str, Any]) -> PowerStatus:
    """`status` with every field of `fields` that is not None."""
    known = {k: v for k, v in fields.items() if v is not None}
    return dataclasses.replace(status, **known) if known else status


def parse_power_status(result: Any, previous: PowerStatus | None = None) -> PowerStatus:
    """From a `get_device_state` result (any of pi_status, storage, setting)."""
    status = previous or PowerStatus()
    if not isinstance(result, dict):
        return status
    for key, reader in (("pi_status", _pi_status_fields), ("storage", _storage_fields),
                        ("setting", _setting_fields)):
        section = result.get(key)
        if isinstance(section, dict):
            status = merge(status, reader(section))
    return status


def apply_pi_status(status: PowerStatus, fields: dict[str, Any]) -> PowerStatus:
    """A PiStatus event's fields (any subset) folded in."""
    return merge(status, _pi_status_fields(fields))


def apply_disk_space(status: PowerStatus, fields: dict[str, Any]) -> PowerStatus:
    """A DiskSpace event {used_percent} folded in (free space scaled from the total)."""
    used = _num(fields.get("used_percent"))
    if used is None:
        return status
    free = status.storage_free_mb
    if status.storage_total_mb:
        free = status.storage_total_mb * (1.0 - used / 100.0)
    return merge(status, {"storage_used_percent": used, "storage_free_mb": free})
