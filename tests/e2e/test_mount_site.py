"""Site, time, optics, mount mode and saved choices of the mount, as KStars/Ekos see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.mount_support import (
    connect_mount,
    latest,
    radec_of_altaz,
    reported_radec,
    separation_deg,
    sets,
    switch,
    wait_end,
    wait_set,
)
from tests.support.rig import Rig

pytestmark = pytest.mark.e2e


def test_kstars_pushes_location_and_time_to_the_scope(tmp_path):
    with Rig.start(tmp_path) as rig:
        connect_mount(rig)
        geo = latest(rig, "GEOGRAPHIC_COORD")
        assert geo.state == "Ok" and geo.values["LAT"] == pytest.approx(48.1)  # the scope's own site
        # KStars sends a west longitude as 0..360 east, as soon as the property is defined.
        since = rig.client.mark()
        rig.client.send_number(rig.mount, "GEOGRAPHIC_COORD", {"LAT": -33.5, "LONG": 289.4, "ELEV": 2400})
        reply = wait_set(rig, "GEOGRAPHIC_COORD", since)
        assert reply.state == "Ok" and reply.values == {"LAT": -33.5, "LONG": 289.4, "ELEV": 2400}
        site = rig.fake_call(rig.fake.state.mount.state)
        assert (site.lat_deg, site.lon_deg) == pytest.approx((-33.5, 289.4 - 360.0))
        # HORIZONTAL_COORD follows the new site
        horizontal = wait_set(rig, "HORIZONTAL_COORD", since)
        alt, az = rig.fake_call(rig.fake.state.mount.altaz)
        assert horizontal.values["ALT"] == pytest.approx(alt, abs=0.05)
        assert (horizontal.values["AZ"] - az + 180) % 360 - 180 == pytest.approx(0.0, abs=0.1)
        when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
        since = rig.client.mark()
        rig.client.send_text(rig.mount, "TIME_UTC", {"UTC": when.strftime("%Y-%m-%dT%H:%M:%S"), "OFFSET": "-4"})
        reply = wait_set(rig, "TIME_UTC", since)
        assert reply.state == "Ok" and reply.values["OFFSET"] == "-4.00"
        scope_utc = rig.fake_call(rig.fake.clock.utc)
        assert abs((scope_utc - when).total_seconds()) < 5
        since = rig.client.mark()
        rig.client.send_text(rig.mount, "TIME_UTC", {"UTC": "not a time", "OFFSET": "0"})
        assert wait_set(rig, "TIME_UTC", since).state == "Alert"


def test_optics_mount_type_and_no_pier_side(tmp_path):
    with Rig.start(tmp_path, equ_mode=True) as rig:
        connect_mount(rig)
        info = latest(rig, "TELESCOPE_INFO").values
        assert (info["TELESCOPE_APERTURE"], info["TELESCOPE_FOCAL_LENGTH"]) == (50.0, 250.0)
        mount_type = latest(rig, "TELESCOPE_MOUNT_TYPE")
        assert mount_type.values == {"ALTAZ": False, "EQ_FORK": True, "EQ_GEM": False}
        assert not rig.client.updates(rig.mount, "TELESCOPE_PIER_SIDE")
        # Parking with the app's EQ -> alt-az switch is reported at once.
        rig.fake_call(rig.fake.mount_ops.park, False)
        until_altaz = wait_set(rig, "TELESCOPE_MOUNT_TYPE", 0, lambda u: u.values["ALTAZ"], timeout_s=30)
        assert until_altaz.state == "Ok"
        assert wait_set(rig, "TELESCOPE_PARK", 0, lambda u: u.state == "Ok" and u.values["PARK"], timeout_s=30)


def test_centred_goto_and_saved_choices(tmp_path):
    with Rig.start(tmp_path, time_factor=4.0) as rig:
        connect_mount(rig)
        assert latest(rig, "SEESTAR_GOTO_MODE").values == {"GOTO_DIRECT": True, "GOTO_CENTERED": False}
        assert switch(rig, "SEESTAR_GOTO_MODE", "GOTO_CENTERED").state == "Ok"
        assert switch(rig, "TELESCOPE_SLEW_RATE", "SLEW_MAX").state == "Ok"
        target = radec_of_altaz(rig, 55.0, 140.0)
        switch(rig, "ON_COORD_SET", "TRACK")
        since = rig.client.mark()
        rig.client.send_number(rig.mount, "EQUATORIAL_EOD_COORD", {"RA": target[0], "DEC": target[1]})
        end = wait_end(rig, "EQUATORIAL_EOD_COORD", since, timeout_s=120)
        assert end.state == "Ok", [u.message for u in rig.client.updates(rig.mount, event="message")]
        assert rig.fake.faults.counters.requests["iscope_start_view"] >= 1
        assert rig.fake.faults.counters.requests["scope_goto"] == 0
        assert separation_deg(reported_radec(rig), target) < 0.05
        assert all(u.state == "Busy" for u in sets(rig, "EQUATORIAL_EOD_COORD", since)[:-1]
                   if u.t_monotonic < end.t_monotonic)
        assert switch(rig, "CONFIG_PROCESS", "CONFIG_SAVE").state == "Ok"
        saved = (tmp_path / "home" / ".indi" / "Seestar Mount_config.xml").read_text()
        for name in ("SEESTAR_GOTO_MODE", "TELESCOPE_SLEW_RATE", "GUIDE_RATE", "GEOGRAPHIC_COORD"):
            assert f'name="{name}"' in saved
    # a new driver process starts with the saved choices
    (tmp_path / "indiserver").rename(tmp_path / "indiserver.1")
    with Rig.start(tmp_path, time_factor=4.0) as rig:
        # the saved DEVICE_ADDRESS names the first fake's port: point it at this one
        since = rig.client.mark()
        rig.client.send_text(rig.mount, "DEVICE_ADDRESS", {"ADDRESS": "127.0.0.1",
                                                           "PORT": str(rig.fake.control_port)})
        wait_set(rig, "DEVICE_ADDRESS", since, lambda u: u.values["PORT"] == str(rig.fake.control_port))
        connect_mount(rig)
        assert latest(rig, "SEESTAR_GOTO_MODE").values["GOTO_CENTERED"]
        assert latest(rig, "TELESCOPE_SLEW_RATE").values["SLEW_MAX"]
