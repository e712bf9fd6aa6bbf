"""indi-bin's own command-line clients read and drive the devices: indi_getprop, indi_setprop."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.indi_harness import until
from tests.support.rig import Rig

pytestmark = pytest.mark.e2e


def _getprop(rig: Rig, *specs: str) -> dict[str, str]:
    out = subprocess.run(["indi_getprop", "-h", "127.0.0.1", "-p", str(rig.server.port), "-t", "3",
                          *specs], capture_output=True, text=True, timeout=30, check=False).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def _setprop(rig: Rig, spec: str) -> None:
    done = subprocess.run(["indi_setprop", "-h", "127.0.0.1", "-p", str(rig.server.port), "-t", "3",
                           spec], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr


def _until_prop(rig: Rig, key: str, value: str) -> None:
    until(lambda: _getprop(rig, key).get(key) == value, 30, interval_s=0.2,
          what=f"{key}={value}")


def test_indi_getprop_and_indi_setprop_read_and_drive_the_devices(tmp_path):
    with Rig.start(tmp_path) as rig:
        interfaces = _getprop(rig, "*.DRIVER_INFO.DRIVER_INTERFACE")
        assert interfaces == {f"{d}.DRIVER_INFO.DRIVER_INTERFACE": bits
                              for d, bits in zip(rig.all_devices, ("5", "2", "8", "16", "32768", "2"))}

        for device in (rig.focuser, rig.wheel):
            _setprop(rig, f"{device}.CONNECTION.CONNECT=On")
            _until_prop(rig, f"{device}.CONNECTION._STATE", "Ok")
        assert _getprop(rig, f"{rig.focuser}.CONNECTION.CONNECT")[
            f"{rig.focuser}.CONNECTION.CONNECT"] == "On"

        _setprop(rig, f"{rig.focuser}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION=1650")
        _until_prop(rig, f"{rig.focuser}.ABS_FOCUS_POSITION._STATE", "Ok")
        _until_prop(rig, f"{rig.focuser}.ABS_FOCUS_POSITION.FOCUS_ABSOLUTE_POSITION", "1650")
        assert rig.fake_call(lambda: rig.fake.state.focuser.position_steps()) == 1650

        _setprop(rig, f"{rig.wheel}.FILTER_SLOT.FILTER_SLOT_VALUE=3")
        _until_prop(rig, f"{rig.wheel}.FILTER_SLOT.FILTER_SLOT_VALUE", "3")
        _until_prop(rig, f"{rig.wheel}.FILTER_SLOT._STATE", "Ok")
        assert rig.fake_call(lambda: rig.fake.state.wheel.position) == 2
        names = _getprop(rig, f"{rig.wheel}.FILTER_NAME.*")
        assert names[f"{rig.wheel}.FILTER_NAME.FILTER_SLOT_NAME_3"] == "LP"
