"""Requests about the session and the scope as a whole: state, settings, login, clock, site, power.

Layer: protocol (sans-I/O). Typed builders: each returns a `methods.Call` (method + params, no id);
the engine assigns ids and the verify marker. Method names come from `methods.Method` only.
Parameter shapes follow seestar-protocol.md and the recorded sessions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ._params import NO_PARAMS
from .methods import Call, Method


# --- state and settings ----------------------------------------------------


def get_device_state(keys: list[str] | None = None) -> Call:
    """Full device snapshot, or only the top-level `keys`."""
    return Call(Method.GET_DEVICE_STATE, {"keys": keys} if keys else NO_PARAMS)


def get_setting() -> Call:
    """The settings object."""
    return Call(Method.GET_SETTING)


def set_setting(**settings: Any) -> Call:
    """Change settings (object params; fw 6.70/7.06 refuse a `verify` key inside)."""
    return Call(Method.SET_SETTING, dict(settings))


def set_continuous_exposure_ms(exposure_ms: int) -> Call:
    """Length of each live-preview (ContinuousExposure) frame."""
    return set_setting(exp_ms={"continuous": int(exposure_ms)})


def claim_master(client_name: str | None = None) -> Call:
    """Ask to become the controlling (master) client; optionally label ourselves."""
    settings: dict[str, Any] = {"master_cli": True}
    if client_name:
        settings["cli_name"] = client_name
    return set_setting(**settings)


def driver_control_settings() -> Call:
    """Stop gotos from starting dark frames, autofocus and stacking on their own (§10 quirk 10)."""
    return set_setting(stack_after_goto=False, auto_af=False)


def get_view_state() -> Call:
    """The View session state (mode, stage, nested stage states)."""
    return Call(Method.GET_VIEW_STATE)


def test_connection() -> Call:
    """Heartbeat; answered with "server connected!"."""
    return Call(Method.TEST_CONNECTION)


def get_app_state() -> Call:
    """`iscope_get_app_state`: the app-level states (BatchStack progress among them)."""
    return Call(Method.GET_APP_STATE)


def clear_app_state(name: str) -> Call:
    """Reset one app state, e.g. "BatchStack" (what app 3.0.2 sends after a batch stack)."""
    return Call(Method.CLEAR_APP_STATE, {"name": name})


# --- login -----------------------------------------------------------------


def get_verify_str() -> Call:
    """Ask for the login challenge (fw 7.18+)."""
    return Call(Method.GET_VERIFY_STR)


def verify_client(signature_b64: str, challenge: str) -> Call:
    """Answer the login challenge with its signature."""
    return Call(Method.VERIFY_CLIENT, {"sign": signature_b64, "data": challenge})


def pi_is_verified() -> Call:
    """Whether this connection is logged in (answered even unauthenticated)."""
    return Call(Method.PI_IS_VERIFIED)


# --- system ----------------------------------------------------------------


def set_dark_mode(dark: bool) -> Call:
    """The scope's LEDs off (dark mode) or on."""
    return set_setting(dark_mode=bool(dark))


def set_dew_heater(power_percent: int) -> Call:
    """Dew heater power 0..100 (0 = off)."""
    power = max(0, min(100, int(power_percent)))
    return Call(Method.PI_OUTPUT_SET2, {"heater": {"state": power > 0, "value": power}})


def pi_reboot() -> Call:
    """Reboot the scope (ALP parks it first)."""
    return Call(Method.PI_REBOOT)


def pi_shutdown() -> Call:
    """Shut the scope down (ALP parks it first)."""
    return Call(Method.PI_SHUTDOWN)


def set_user_location(lat_deg: float, lon_deg: float) -> Call:
    """Site latitude and longitude (east positive, -180..180)."""
    return Call(Method.SET_USER_LOCATION, {"lat": float(lat_deg), "lon": float(lon_deg), "force": True})


def pi_set_time(utc: datetime, time_zone: str = "UTC") -> Call:
    """Set the scope's clock: a bare object on every firmware.

    The list-wrapped form `[{...}]` gets the verify marker appended, and `[{...}, "verify"]`
    is answered 107 "expected object param" from 7.06 on (recorded; seestar_alp #748 on 7.75,
    #758 on 8.46), which leaves the clock unset and the mount unable to slew.
    A naive `utc` is taken as UTC; an aware one is converted to UTC first.
    """
    if utc.tzinfo is not None:
        utc = utc.astimezone(UTC)
    return Call(
        Method.PI_SET_TIME,
        {
            "year": utc.year,
            "mon": utc.month,
            "day": utc.day,
            "hour": utc.hour,
            "min": utc.minute,
            "sec": utc.second,
            "time_zone": time_zone,
        },
    )
