"""What the camera reads from `session.peers["mount"]`: site, pointing, J2000, alt/az, mode.

The real Mount device on an in-memory outbox, its session on the fake Seestar (127.0.0.1).
"""

from __future__ import annotations

import pytest

from indi_seestar import sky
from indi_seestar.config import Config, SeestarConfig
from indi_seestar.devices.session import SeestarSession
from indi_seestar.devices.telescope import Mount
from indi_seestar.indi.model import Kind
from indi_seestar.sim import SimThread
from tests.support.indi_harness import DeviceProbe, until_async


@pytest.mark.parametrize("equ_mode", [False, True])
async def test_the_mount_exposes_site_pointing_and_mode(tmp_path, equ_mode):
    sim = SimThread(parked=False, equ_mode=equ_mode)
    fake = sim.start()
    try:
        sim.call(fake.point_at, 5.5, 35.0)
        cfg = Config(seestar=SeestarConfig(host="127.0.0.1", control_port=fake.control_port,
                                           image_port=fake.image_port, discovery_port=fake.discovery_port,
                                           discovery_address="127.0.0.1"))
        session = SeestarSession(cfg)
        mount = Mount("Scope", session, config_dir=tmp_path)
        session.register(mount=mount)
        probe = DeviceProbe(mount)
        assert mount.site is None and mount.pointing is None and mount.equ_mode is None
        probe.new(Kind.SWITCH, "Scope", "CONNECTION", {"CONNECT": "On", "DISCONNECT": "Off"})
        await until_async(lambda: mount.is_connected, 20)
        peer = session.peers["mount"]
        assert peer.site is not None and (peer.site.lat_deg, peer.site.lon_east_deg) == (48.1, 11.6)
        assert peer.pointing is not None
        assert (peer.pointing.ra_hours, peer.pointing.dec_deg) == pytest.approx((5.5, 35.0), abs=1e-4)
        ra2000, dec2000 = peer.pointing_j2000()
        assert (ra2000, dec2000) == pytest.approx(sky.jnow_to_j2000(5.5, 35.0, peer.pointing.utc), abs=1e-4)
        alt, az = peer.horizontal()
        true_alt, true_az = sim.call(fake.state.mount.altaz)
        assert alt == pytest.approx(true_alt, abs=0.05)
        assert (az - true_az + 180) % 360 - 180 == pytest.approx(0.0, abs=0.1)
        assert peer.equ_mode is equ_mode and peer.pier_side is None
        assert (peer.aperture_mm, peer.focal_length_mm) == (50.0, 250.0)
        probe.new(Kind.SWITCH, "Scope", "CONNECTION", {"CONNECT": "Off", "DISCONNECT": "On"})
        # CONNECTION goes Idle once the session is closed (not merely when disconnecting starts)
        await until_async(lambda: probe.of("CONNECTION")[-1].state == "Idle", 20)
        assert session.client is None
        assert peer.pointing is None and peer.equ_mode is None
    finally:
        sim.stop()
