"""PowerStatus from the recorded get_device_state sections and from PiStatus/DiskSpace events."""

from __future__ import annotations

from indi_seestar.protocol.power import (PowerStatus, apply_disk_space, apply_pi_status,
                                         parse_power_status)

# pi_status and storage as recorded on an S50 (fw 6.70), setting trimmed to what is read
RECORDED = {
    "pi_status": {"is_overtemp": False, "temp": 61.5, "charger_status": "Charging", "battery_capacity": 69,
                  "charge_online": True, "is_typec_connected": False, "battery_overtemp": False,
                  "battery_temp": 32, "battery_temp_type": "normal"},
    "storage": {"is_typec_connected": False, "connected_storage": ["emmc"], "cur_storage": "emmc",
                "storage_volume": [{"name": "emmc", "state": "mounted", "total_mb": 51854, "totalMB": 51854,
                                    "free_mb": 43862, "freeMB": 43862, "disk_mb": 59699, "used_percent": 26}]},
    "setting": {"heater_enable": False, "dark_mode": False},
}


def test_the_recorded_sections_parse():
    s = parse_power_status(RECORDED)
    assert (s.battery_percent, s.charging, s.battery_temp_c, s.board_temp_c) == (69, True, 32.0, 61.5)
    assert (s.storage_free_mb, s.storage_total_mb, s.storage_used_percent) == (43862.0, 51854.0, 26.0)
    assert (s.heater_on, s.heater_percent, s.dark_mode) == (False, None, False)


def test_setting_heater_gives_the_power_and_off_means_zero():
    on = parse_power_status({"setting": {"heater_enable": True, "heater": {"state": True, "value": 60}}})
    assert (on.heater_on, on.heater_percent) == (True, 60)
    off = parse_power_status({"setting": {"heater": {"state": False, "value": 60}}})
    assert (off.heater_on, off.heater_percent) == (False, 0)


def test_events_change_only_what_they_carry():
    s = parse_power_status(RECORDED)
    t = apply_pi_status(s, {"temp": 45.7})
    assert t.board_temp_c == 45.7 and t.battery_percent == 69
    u = apply_pi_status(t, {"battery_capacity": 31, "charger_status": "Discharging"})
    assert (u.battery_percent, u.charging) == (31, False)
    d = apply_disk_space(u, {"used_percent": 35})
    assert d.storage_used_percent == 35 and d.storage_free_mb == 51854 * 0.65
    assert apply_pi_status(PowerStatus(), {"temp": "hot", "battery_capacity": True}) == PowerStatus()
    assert parse_power_status("garbage") == PowerStatus()
