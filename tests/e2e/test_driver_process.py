"""The driver process under a real indiserver: devices at start-up, one shared session, exit on
EOF, a single instance per device prefix, and the built-in fake with no configuration at all."""

from __future__ import annotations

import socket
import time

import psutil
import pytest

from indi_seestar.indi.wire import Snooped, XmlStreamDecoder
from indi_seestar.protocol.methods import Method
from tests.support.indi_harness import exited, until
from tests.support.rig import DRIVER, PREFIX, Rig, serve_driver

pytestmark = pytest.mark.e2e

INTERFACES = {"Mount": "5", "Camera": "2", "Focuser": "8", "Filter Wheel": "16", "Power": "32768"}
QUIET_S = 0.5


def _defs_for_one_device(port: int, device: str, timeout_s: float = 10) -> set[str]:
    """Property names a raw client gets after `getProperties device=...` (as PHD2 asks).

    Reads until DRIVER_INFO has come and then QUIET_S passes without data (the definitions
    after it, DEVICE_ADDRESS among them, may come in a later read).
    """
    decoder, names = XmlStreamDecoder(), set()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(f'<getProperties version="1.7" device="{device}"/>\n'.encode())
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if "DRIVER_INFO" in names:
                sock.settimeout(QUIET_S)
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            for message in decoder.feed(data):
                if isinstance(message, Snooped) and message.tag.startswith("def"):
                    assert message.device == device
                    names.add(message.name)
    return names


def _fake_clients(rig: Rig) -> int:
    return rig.fake_call(lambda: len(rig.fake.state.clients))


def test_devices_are_defined_at_start_and_share_one_session(tmp_path):
    with Rig.start(tmp_path) as rig:
        # what every client sees: four devices, their interfaces, before anything is connected
        infos = {d: rig.client.updates(device=d, name="DRIVER_INFO")[-1].values for d in rig.devices}
        assert {d: infos[d]["DRIVER_INTERFACE"] for d in rig.devices} == {
            f"{PREFIX} {role}": bits for role, bits in INTERFACES.items()}
        assert all(infos[d]["DRIVER_EXEC"] == DRIVER for d in rig.devices)
        # indiserver routes a one-device getProperties to us: it learned all four at start-up
        assert {"CONNECTION", "DRIVER_INFO", "DEVICE_ADDRESS"} <= _defs_for_one_device(
            rig.server.port, rig.focuser)

        rig.connect_all()
        assert rig.fake.faults.counters.connections["control"] == 1
        assert _fake_clients(rig) == 1

        # one device leaves: the others stay connected on the same session
        since = rig.client.mark()
        rig.client.disconnectDevice(rig.focuser)
        rig.wait_state(rig.focuser, "CONNECTION", "Idle", since=since)
        for device in (rig.mount, rig.camera, rig.wheel):
            last = rig.client.updates(device, "CONNECTION")[-1]
            assert (last.state, last.values["CONNECT"]) == ("Ok", True)
        assert _fake_clients(rig) == 1
        rig.client.connect_device(rig.focuser)
        assert rig.fake.faults.counters.connections["control"] == 1

        # the last one out closes the session: the fake sees the socket close
        for device in rig.devices:
            since = rig.client.mark()
            rig.client.disconnectDevice(device)
            rig.wait_state(device, "CONNECTION", "Idle", since=since)
        until(lambda: _fake_clients(rig) == 0, 10, what="the fake to see the session close")
        rig.client.connect_device(rig.wheel)
        assert rig.fake.faults.counters.connections["control"] == 2


def test_disconnect_while_connecting_leaves_no_session_open(tmp_path):
    with Rig.start(tmp_path) as rig:
        rig.fake.faults.delay_next_reply(Method.GET_DEVICE_STATE, 3.0)  # a slow login
        since = rig.client.mark()
        rig.client.connectDevice(rig.focuser)
        rig.wait_state(rig.focuser, "CONNECTION", "Busy", since=since)
        until(lambda: _fake_clients(rig) == 1, 10, what="the session to be opening")
        rig.client.disconnectDevice(rig.focuser)
        idle = rig.wait_state(rig.focuser, "CONNECTION", "Idle", since=since)
        assert idle.values == {"CONNECT": False, "DISCONNECT": True}
        until(lambda: _fake_clients(rig) == 0, 10, what="the half-open session to be closed")
        rig.client.connect_device(rig.focuser)
        assert _fake_clients(rig) == 1


def test_time_to_define_the_four_devices(tmp_path, record_property):
    env = {"HOME": str(tmp_path / "home"), "INDI_SEESTAR_CONFIG": "",
           "INDI_SEESTAR_LOCK_DIR": str(tmp_path)}
    (tmp_path / "home").mkdir()
    started = time.monotonic()
    with serve_driver(tmp_path, env) as (_server, client):
        devices = [f"{PREFIX} {role}" for role in INTERFACES]
        until(lambda: all(client.updates(device=d, name="DRIVER_INFO") for d in devices), 20,
              what="the four devices")
        defined = max(client.updates(device=d, name="DRIVER_INFO")[0].t_monotonic for d in devices)
    elapsed = defined - started
    record_property("time_to_define_s", round(elapsed, 3))
    print(f"\nfour devices defined {elapsed:.3f} s after indiserver was started")
    assert elapsed < 10


def test_driver_exits_within_one_second_when_indiserver_dies(tmp_path, record_property):
    with Rig.start(tmp_path) as rig:
        rig.connect_all()
        (driver,) = rig.server.driver_processes()
        rig.server.kill()
        killed = time.monotonic()
        until(lambda: exited(driver), 5, interval_s=0.005, what="the driver to exit")
        elapsed = time.monotonic() - killed
        record_property("driver_exit_s", round(elapsed, 3))
        print(f"\ndriver (session open) exited {elapsed:.3f} s after indiserver was killed")
        assert elapsed < 1.0
        # the fake sees our session end with the process
        until(lambda: _fake_clients(rig) == 0, 5, what="the session socket to close")


def test_a_second_copy_defines_nothing_and_opens_no_session(tmp_path):
    with Rig.start(tmp_path) as rig:
        first = {p.pid for p in rig.server.driver_processes()}
        rig.server.start_driver(DRIVER)  # what indiwebmanager does for each selected label
        until(lambda: "this copy stays idle" in rig.stderr_text(), 15,
              what="the second copy to notice the first")
        second = {p.pid for p in rig.server.driver_processes()} - first
        assert len(second) == 1
        rig.connect_all()
        assert rig.fake.faults.counters.connections["control"] == 1
        assert _fake_clients(rig) == 1
        assert all(len(rig.client.updates(device=d, name="DRIVER_INFO", event="def")) == 1
                   for d in rig.devices)
        (copy,) = [psutil.Process(pid) for pid in second]
        rig.server.kill()
        until(lambda: exited(copy), 5, what="the idle copy to exit with indiserver")


def test_no_configuration_runs_the_built_in_fake(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "INDI_SEESTAR_CONFIG": "", "INDI_SEESTAR_LOCK_DIR": str(tmp_path)}
    with serve_driver(tmp_path, env) as (server, client):
        devices = [f"{PREFIX} {role}" for role in INTERFACES]
        for device in devices:
            client.connect_device(device, timeout_s=30)
        focuser = f"{PREFIX} Focuser"
        since = client.mark()
        client.send_number(focuser, "ABS_FOCUS_POSITION", {"FOCUS_ABSOLUTE_POSITION": 1500})
        done = client.wait(lambda u: u.name == "ABS_FOCUS_POSITION" and u.state == "Ok",
                           timeout_s=20, since=since)
        assert done.values["FOCUS_ABSOLUTE_POSITION"] == 1500
        log = b"\n".join(server.stderr_lines()).decode(errors="replace")
        assert "built-in fake Seestar S50" in log
        address = client.updates(focuser, "DEVICE_ADDRESS")[-1].values
        assert address["ADDRESS"] == "simulator"
