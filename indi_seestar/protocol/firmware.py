"""What each firmware accepts, by firmware_ver_int (docs/firmware.md): one table, no I/O.

Layer: protocol (sans-I/O). The engine asks here which parameter shape and which settings
keys to send; the fake asks the same questions of its profile (sim/profile.py) so that the
two cannot drift apart silently. firmware_ver_int = 2000 + 100 * major + minor.
"""

from __future__ import annotations

from typing import Any

from .methods import Method

#: 7.75 (app 3.2.0): scope_goto / scope_sync as `{"ra", "dec"}` confirmed on hardware on
#: 7.75 and 8.46 (seestar_alp PR #767); older firmware is only known to take `[ra, dec]`.
KEYED_COORDS_FROM = 2775
#: Settings keys that older firmware does not know (set_setting answers 109 for them there).
SETTING_KEYS_FROM: dict[str, int] = {"auto_lenhance": 2775}  # seestar_alp 294d709
#: Methods added in 7.75 (seestarpy's catalogue of the 3.2.0 firmware, 63ae334).
METHODS_FROM: dict[Method, int] = {
    m: 2775 for m in (Method.GET_FACTORY_TEST_STATE, Method.GET_PHONE_LIST,
                      Method.GET_PHOTOMETRY_IMG, Method.MOVE_SLEEP_SEC,
                      Method.REMOTE_REBIND_DEVICE_USER, Method.SCOPE_GET_TEST_DATE)
}
#: Seconds of silence after which the scope drops a control connection (seestar_alp's
#: firmware emulator notes, PR #760/#774; firmware not named, seen on 2026 firmware).
CONTROL_IDLE_DROP_S = 16.0


def keyed_coords(firmware_ver_int: int) -> bool:
    """True when scope_goto / scope_sync should go as `{"ra", "dec"}` objects."""
    return firmware_ver_int >= KEYED_COORDS_FROM


def has_setting(firmware_ver_int: int, key: str) -> bool:
    """True when this firmware knows settings key `key` (keys not in the table: all do)."""
    return firmware_ver_int >= SETTING_KEYS_FROM.get(key, 0)


def has_method(firmware_ver_int: int, method: Method) -> bool:
    """True when this firmware has `method` (methods not in the table: all do)."""
    return firmware_ver_int >= METHODS_FROM.get(method, 0)


def supported_settings(firmware_ver_int: int, settings: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(the settings this firmware knows, the keys dropped)."""
    kept = {k: v for k, v in settings.items() if has_setting(firmware_ver_int, k)}
    return kept, [k for k in settings if k not in kept]
