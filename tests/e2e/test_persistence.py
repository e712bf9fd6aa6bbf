"""CONFIG_SAVE keeps DEVICE_ADDRESS and the filter names across a driver restart, and a saved
address wins over the configuration file."""

from __future__ import annotations

import os

import pytest

from tests.support.indi_harness import free_port
from tests.support.rig import Rig

pytestmark = pytest.mark.e2e


def _save(rig: Rig, device: str) -> None:
    since = rig.client.mark()
    rig.client.send_switch(device, "CONFIG_PROCESS", ["CONFIG_SAVE"])
    done = rig.wait_state(device, "CONFIG_PROCESS", "Ok", since=since)
    assert not any(done.values.values())


def _defined(rig: Rig, device: str, name: str, *, since: int) -> dict[str, object]:
    """Values of the first definition of `name` from `since` on (the old driver's are earlier)."""
    return rig.client.wait(lambda u: (u.device, u.name, u.event) == (device, name, "def"),
                           timeout_s=10, since=since).values


def _set_address(rig: Rig, device: str, host: str, port: int) -> None:
    since = rig.client.mark()
    rig.client.send_text(device, "DEVICE_ADDRESS", {"ADDRESS": host, "PORT": str(port)})
    rig.wait_state(device, "DEVICE_ADDRESS", "Ok", since=since)


def test_device_address_and_filter_names_survive_a_restart(tmp_path):
    wrong = free_port()  # the configuration file points nowhere; the saved address is right
    with Rig.start(tmp_path, config={"seestar": {"control_port": wrong}}) as rig:
        # an older save on the wheel (address still wrong, new filter name) ...
        _set_address(rig, rig.wheel, "127.0.0.1", rig.fake.control_port)  # needed to connect
        rig.client.connect_device(rig.wheel)
        since = rig.client.mark()
        rig.client.send_text(rig.wheel, "FILTER_NAME", {"FILTER_SLOT_NAME_3": "Dual band"})
        rig.wait_state(rig.wheel, "FILTER_NAME", "Ok", since=since)
        _set_address(rig, rig.wheel, "127.0.0.1", wrong)
        _save(rig, rig.wheel)
        # ... and a newer one on the mount with the right address: the newest save wins
        _set_address(rig, rig.mount, "127.0.0.1", rig.fake.control_port)
        _save(rig, rig.mount)
        # with coarse file times, saves within one kernel tick get the same time and the files
        # cannot tell which is newer (CI hit this); the save times inside them must
        files = sorted((tmp_path / "home" / ".indi").glob("*_config.xml"))
        assert len(files) == 2
        for path in files:
            os.utime(path, ns=(files[0].stat().st_mtime_ns,) * 2)

        restarted = rig.restart_driver()
        for device in rig.devices:
            address = _defined(rig, device, "DEVICE_ADDRESS", since=restarted)
            assert address == {"ADDRESS": "127.0.0.1", "PORT": str(rig.fake.control_port)}
        rig.client.connect_device(rig.wheel)
        names = _defined(rig, rig.wheel, "FILTER_NAME", since=restarted)  # defined once connected
        assert names == {"FILTER_SLOT_NAME_1": "Dark", "FILTER_SLOT_NAME_2": "IR",
                         "FILTER_SLOT_NAME_3": "Dual band"}
