"""The fake's Alpaca server against alpyca (issue 14 acceptance 5) and the firmware's errors.

alpyca's own discovery broadcasts on every interface, which tests must not do: discovery is
our unicast probe to the fake's loopback port (seestar/alpaca.py `discover`); everything else
is alpyca's Management, Telescope, Camera, Focuser, FilterWheel and Switch classes.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("alpaca.camera")

from alpaca import management  # noqa: E402
from alpaca.camera import Camera  # noqa: E402
from alpaca.exceptions import (  # noqa: E402
    DriverException,
    InvalidValueException,
    NotImplementedException,
)
from alpaca.filterwheel import FilterWheel  # noqa: E402
from alpaca.focuser import Focuser  # noqa: E402
from alpaca.switch import Switch  # noqa: E402
from alpaca.telescope import GuideDirections, Telescope  # noqa: E402

from indi_seestar.seestar.alpaca import discover  # noqa: E402
from indi_seestar.sim import SimThread  # noqa: E402
from tests.support.indi_harness import until  # noqa: E402


@pytest.fixture
def sim():
    runner = SimThread(alpaca_port=0, parked=False, time_factor=1.0)
    runner.start()
    yield runner
    runner.stop()


def test_discovery_and_management_find_every_device(sim):
    fake = sim.fake
    found = asyncio.run(discover("127.0.0.1", fake.alpaca_discovery_port, timeout_s=2.0))
    assert found == [("127.0.0.1", fake.alpaca_port)]
    address = f"127.0.0.1:{found[0][1]}"
    assert management.apiversions(address) == [1]
    assert management.description(address)["ManufacturerVersion"] == "1.2.0-3"
    types = sorted(d["DeviceType"] for d in management.configureddevices(address))
    assert types == ["Camera", "FilterWheel", "Focuser", "Switch", "Telescope"]


def test_each_device_basic_calls(sim):
    fake = sim.fake
    address = f"127.0.0.1:{fake.alpaca_port}"
    tel, cam = Telescope(address, 0), Camera(address, 0)
    foc, wheel, sw = Focuser(address, 0), FilterWheel(address, 0), Switch(address, 0)
    for dev in (tel, cam, foc, wheel, sw):
        dev.Connected = True
        assert dev.Connected and dev.InterfaceVersion == 3 and dev.SupportedActions == []
    # Telescope: the same mount as the private protocol
    sim.call(fake.point_at, 5.5, 20.0)
    assert tel.RightAscension == pytest.approx(5.5, abs=1e-4)
    assert tel.Declination == pytest.approx(20.0, abs=1e-3)
    assert tel.Tracking and not tel.AtPark and tel.CanPulseGuide
    with pytest.raises(NotImplementedException):
        tel.SideOfPier  # noqa: B018
    # Camera: a 0.2 s exposure of a 32x32 region, timed on the fake's clock
    assert (cam.CameraXSize, cam.CameraYSize) == (1080, 1920)
    assert (cam.BayerOffsetX, cam.BayerOffsetY) == (1, 0)
    cam.StartX, cam.StartY, cam.NumX, cam.NumY = 100, 200, 32, 32
    t0 = time.monotonic()
    cam.StartExposure(0.2, True)
    assert not cam.ImageReady
    until(lambda: cam.ImageReady, 10, what="ImageReady")
    assert time.monotonic() - t0 >= 0.2
    image = np.array(cam.ImageArray)  # alpyca's ImageBytes decoding: [x][y]
    assert image.shape == (32, 32)
    with pytest.raises(InvalidValueException):
        cam.BinX = 2
    with pytest.raises(InvalidValueException):
        cam.StartExposure(3000.0, True)
    # Focuser: absolute only; a position off 0..2600 (a relative step count) is 1025
    assert foc.Absolute and foc.MaxStep == 2600
    foc.Move(1500)
    until(lambda: foc.Position == 1500 and not foc.IsMoving, 15, what="focuser at 1500")
    with pytest.raises(InvalidValueException):
        foc.Move(-50)
    # FilterWheel: Dark/IR/LP; the slot it is on is 1279
    assert wheel.Names == ["Dark", "IR", "LP"]
    with pytest.raises(DriverException) as info:
        wheel.Position = wheel.Position
    assert info.value.number == 1279
    # Switch: the dew heater the private protocol sets too
    assert sw.MaxSwitch == 1 and sw.GetSwitchName(0) == "Dew Heater"
    sw.SetSwitchValue(0, 35)
    assert sw.GetSwitchValue(0) == 35 and fake.state.heater_value == 35
    with pytest.raises(InvalidValueException):
        sw.SetSwitchValue(0, 150)
    assert "PUT camera/startexposure" in fake.alpaca.calls


def test_parked_or_not_tracking_is_1279():
    with SimThread(alpaca_port=0, parked=True) as fake:
        tel = Telescope(f"127.0.0.1:{fake.alpaca_port}", 0)
        assert tel.AtPark
        for call in (lambda: tel.PulseGuide(GuideDirections.guideNorth, 100),
                     lambda: setattr(tel, "Tracking", True),
                     lambda: tel.SlewToCoordinatesAsync(5.0, 20.0)):
            with pytest.raises(DriverException) as info:
                call()
            assert info.value.number == 1279


def test_pulse_guide_needs_server_1_1_2_1():
    with SimThread(alpaca_port=0, parked=False, alpaca_version="1.0.9") as fake:
        tel = Telescope(f"127.0.0.1:{fake.alpaca_port}", 0)
        assert not tel.CanPulseGuide
        with pytest.raises(NotImplementedException):
            tel.PulseGuide(GuideDirections.guideNorth, 100)


def test_gone_knob_closes_and_silences_the_server(sim):
    fake = sim.fake
    cam = Camera(f"127.0.0.1:{fake.alpaca_port}", 0)
    assert cam.CameraXSize == 1080
    sim.call(fake.alpaca.set_gone, True)
    with pytest.raises(OSError):
        cam.CameraXSize  # noqa: B018
    assert asyncio.run(discover("127.0.0.1", fake.alpaca_discovery_port, timeout_s=0.5)) == []


def test_cli_ready_line_names_the_alpaca_port():
    proc = subprocess.Popen(
        [sys.executable, "-m", "indi_seestar.sim", "--control-port", "0", "--image-port", "0",
         "--discovery-port", "0", "--alpaca-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.fullmatch(r"ready control=(\d+) image=(\d+) discovery=(\d+) alpaca=(\d+)\n",
                             line)
        assert match, line
        assert management.apiversions(f"127.0.0.1:{match.group(4)}") == [1]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
