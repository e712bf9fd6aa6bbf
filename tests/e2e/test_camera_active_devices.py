"""ACTIVE_DEVICES naming a foreign device: the camera snoops it for the header (libindi §1.7)."""

from __future__ import annotations

import math

from tests.e2e.camera_helpers import camera_rig, expose, open_fits, point_high

FOREIGN_MOUNT = "Telescope Simulator"
FOREIGN_FOCUSER = "Focuser Simulator"


def separation_deg(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """Great-circle distance between two places given in degrees."""
    r1, d1, r2, d2 = map(math.radians, (ra1, dec1, ra2, dec2))
    cos = math.sin(d1) * math.sin(d2) + math.cos(d1) * math.cos(d2) * math.cos(r1 - r2)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def test_foreign_mount_and_focuser_named_in_active_devices_fill_the_header(tmp_path):
    with camera_rig(tmp_path) as rig:
        client = rig.client
        point_high(rig)
        rig.server.start_driver("indi_simulator_telescope")
        rig.server.start_driver("indi_simulator_focus")
        for device in (FOREIGN_MOUNT, FOREIGN_FOCUSER):
            client.connect_device(device, timeout_s=30)
        eod = client.wait(lambda u: u.device == FOREIGN_MOUNT
                          and u.name == "EQUATORIAL_EOD_COORD", timeout_s=15)
        since = client.mark()
        client.send_text(rig.camera, "ACTIVE_DEVICES", {"ACTIVE_TELESCOPE": FOREIGN_MOUNT,
                                                        "ACTIVE_FOCUSER": FOREIGN_FOCUSER})
        client.wait(lambda u: u.name == "ACTIVE_DEVICES" and u.state == "Ok", timeout_s=10,
                    since=since)
        header = open_fits(expose(rig, 0.5).data)[0].header
        mount = client.updates(FOREIGN_MOUNT, "EQUATORIAL_EOD_COORD")[-1].values or eod.values
        focuser = client.updates(FOREIGN_FOCUSER, "ABS_FOCUS_POSITION")[-1].values
        assert header["TELESCOP"] == FOREIGN_MOUNT
        assert header["FOCUSPOS"] == round(focuser["FOCUS_ABSOLUTE_POSITION"])
        # The simulator's JNow place (it starts at the pole), in J2000: precession since J2000
        # moved it by well under half a degree.
        assert separation_deg(header["RA"], header["DEC"], mount["RA"] * 15, mount["DEC"]) < 0.5
        assert header["FILTER"] in ("Dark", "IR", "LP")  # still our own wheel
