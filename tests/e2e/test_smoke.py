"""The driver under a real indiserver: four devices, one Seestar session, focuser and wheel moves."""

from __future__ import annotations

from tests.support.rig import Rig


def test_four_devices_one_session_focuser_and_wheel(tmp_path):
    with Rig.start(tmp_path) as rig:
        infos = {d: rig.client.updates(device=d, name="DRIVER_INFO")[-1].values for d in rig.devices}
        assert [infos[d]["DRIVER_INTERFACE"] for d in rig.devices] == ["5", "2", "8", "16", "32768"]
        rig.connect_all()
        assert rig.fake.faults.counters.connections["control"] == 1
        since = rig.client.mark()
        rig.client.send_number(rig.focuser, "ABS_FOCUS_POSITION", {"FOCUS_ABSOLUTE_POSITION": 1700})
        done = rig.client.wait(lambda u: u.name == "ABS_FOCUS_POSITION" and u.state == "Ok",
                               timeout_s=20, since=since)
        assert done.values["FOCUS_ABSOLUTE_POSITION"] == 1700
        states = [u.state for u in rig.client.updates(rig.focuser, "ABS_FOCUS_POSITION", since=since)]
        assert states[0] == "Busy"
        since = rig.client.mark()
        rig.client.send_number(rig.wheel, "FILTER_SLOT", {"FILTER_SLOT_VALUE": 3})
        done = rig.client.wait(lambda u: u.name == "FILTER_SLOT" and u.state == "Ok", timeout_s=20,
                               since=since)
        assert done.values["FILTER_SLOT_VALUE"] == 3
