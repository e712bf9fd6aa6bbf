"""Reply shapes of the fake Seestar: get_device_state, get_view_state and friends, with live values.

Layer: sim. Builds plain JSON values from `SimState` in the key order and value types of the
recorded real replies (shared/seestar-sessions: S50 fw 6.70, S30 fw 7.06).
"""

from __future__ import annotations

import copy
from typing import Any

from .core import lapse_ms
from .power import charger_status, used_percent
from .profile import FOCUSER_MAX_STEPS
from .state import ClientInfo, SimState



def station() -> dict[str, Any]:
    """pi_station_state (values are the sanitised placeholders of the recordings)."""
    return {"server": True, "freq": 5200, "ip": "0.0.0.0", "ssid": "seestar-sim", "gateway": "0.0.0.0",
            "netmask": "0.0.0.0", "sig_lev": -60, "key_mgmt": "WPA2-PSK"}


def pi_status(st: SimState) -> dict[str, Any]:
    """The pi_status section."""
    return {"is_overtemp": False, "temp": round(st.board_temp_c, 6), "charger_status": charger_status(st),
            "battery_capacity": st.battery_percent, "charge_online": st.charger_online, "is_typec_connected": False,
            "battery_overtemp": False, "battery_temp": int(round(st.battery_temp_c)), "battery_temp_type": "normal"}


def mount(st: SimState) -> dict[str, Any]:
    """The mount section: move_type, close (parked), tracking, equ_mode."""
    ms = st.mount.state()
    return {"move_type": str(st.mount.move_type()), "close": ms.parked, "tracking": ms.tracking,
            "equ_mode": ms.equ_mode}


def focuser(st: SimState) -> dict[str, Any]:
    """The focuser section."""
    return {"state": "moving" if st.focuser.is_moving() else "idle", "max_step": FOCUSER_MAX_STEPS,
            "step": st.focuser.position_steps()}


def client_section(st: SimState, me: ClientInfo | None) -> dict[str, Any]:
    """`client` as ALP reads it: is_master for the asking connection, master_index, names."""
    return {"is_master": bool(me and me.is_master), "master_index": st.master_index(),
            "connected": [c.name for c in st.clients.values()]}


def device_state(st: SimState, me: ClientInfo | None = None, keys: list[str] | None = None) -> dict[str, Any]:
    """get_device_state: every section (or only `keys`), live values in the recorded shapes."""
    p = st.profile
    ms = st.mount.state()
    sections: dict[str, Any] = {
        "device": {
            "name": "ASI AIR imager", "firmware_ver_int": p.ver_int, "firmware_ver_string": p.ver_string,
            "is_verified": True, "sn": st.serial, "cpuId": "0000000000000000",
            "product_model": p.product_model, "user_product_model": p.product_model,
            "focal_len": p.focal_length_mm, "fnumber": p.f_number,
            # S30P: these three flip to true (seestar_alp emulator notes, booted binary).
            "can_star_mode_sel_cam": p.wide_in_star_mode, "can_wide_cam_roi": p.wide_in_star_mode,
            "can_wide_cam_af": p.wide_in_star_mode,
        },
        "setting": copy.deepcopy(st.settings),
        "location_lon_lat": [float(ms.lon_deg), float(ms.lat_deg)],
        "camera": p.sensor.section(p.hot_pixel_count),
    }
    if p.wide_sensor is not None:
        sections["second_camera"] = p.wide_sensor.section(0)
    sections.update({
        "focuser": focuser(st),
        "ap": {"ssid": "seestar-sim", "passwd": "12345678", "is_5g": True},
        "station": station(),
        "storage": {"is_typec_connected": False, "connected_storage": ["emmc"],
                    "storage_volume": [{"name": "emmc", "state": "mounted", "total_mb": int(st.storage_total_mb),
                                        "totalMB": int(st.storage_total_mb), "free_mb": int(st.storage_free_mb),
                                        "freeMB": int(st.storage_free_mb), "disk_mb": 59699,
                                        "diskSizeMB": 59699, "used_percent": used_percent(st)}],
                    "cur_storage": "emmc"},
        "balance_sensor": {"code": 0, "data": {"x": 0.028137, "y": -0.011157, "z": 1.001013, "angle": 1.73201}},
        "compass_sensor": {"code": 0, "data": {"x": -37.35, "y": 10.5, "z": 66.45, "direction": 25.114475,
                                               "cali": 0}},
        "mount": mount(st),
        "pi_status": pi_status(st),
    })
    # The recorded single-client sessions (guest_mode false) carry no `client` section; ALP
    # reads one in guest mode. We add it when guest mode is on, when several clients are
    # connected, or when asked for by name [unverified].
    wants_client = (st.settings.get("guest_mode") or len(st.clients) > 1 or (keys and "client" in keys))
    if p.has_guest_mode and wants_client:
        sections["client"] = client_section(st, me)
    if keys:
        return {k: v for k, v in sections.items() if k in keys}
    return sections


def view_state(st: SimState) -> dict[str, Any]:
    """get_view_state: {"View": {...}} with the current stage nested under its name."""
    now = st.clock.now_s()
    v = st.view
    end = v.t_end_s if v.t_end_s is not None else now
    view: dict[str, Any] = {"state": v.state, "lapse_ms": lapse_ms(end - v.t_start_s) if v.t_start_s or v.state != "idle" else 0,
                            "mode": v.mode, "cam_id": 0}
    if v.target_ra_dec is not None:
        view["target_ra_dec"] = [round(float(x), 6) for x in v.target_ra_dec]
        view["target_name"] = v.target_name or ""
        view["star_type"] = 0
    view["lp_filter"] = st.lp_filter
    view["gain"] = st.gain
    if v.stage is not None and v.stage in v.stages:
        info = v.stages[v.stage]
        stage_end = info.t_end_s if info.t_end_s is not None else now
        view[v.stage] = {"state": info.state, "lapse_ms": lapse_ms(stage_end - info.t_start_s), **info.extra}
        view["stage"] = v.stage
    return {"View": view}


def wheel_state(st: SimState) -> dict[str, Any]:
    """get_wheel_state: {id, state, unidirection} [field values unverified]."""
    return {"id": st.wheel.position, "state": "moving" if st.wheel.is_moving() else "idle",
            "unidirection": False}


def pi_time(st: SimState) -> dict[str, Any]:
    """pi_get_time: the same object pi_set_time takes."""
    now = st.clock.utc()
    return {"year": now.year, "mon": now.month, "day": now.day, "hour": now.hour, "min": now.minute,
            "sec": now.second, "time_zone": "Etc/UTC"}
