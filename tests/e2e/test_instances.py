"""Several Seestars on one indiserver (issue 17) and one scope, one session (issue 9 item 4).

Real indiserver started with a FIFO, instances started through it with `-n` as INDI web
managers and scripts do, two fakes (their own ports, seeds and serial numbers), the libindi
client. Every instance is a `Rig` view (its fake, its four device names) over one server.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import PyIndi
import pytest
import yaml

from indi_seestar.sim import SimThread
from tests.e2e.camera_helpers import FakeFrames, expose, open_fits, point_high
from tests.e2e.mount_support import radec_of_altaz, separation_deg, switch, true_radec, wait_end
from tests.support.indi_harness import IndiServer, free_port, recording_client_class, until
from tests.support.rig import DRIVER, Rig, driver_env, venv_bin

pytestmark = pytest.mark.e2e

WEST, EAST, NORTH = "Seestar West", "Seestar East", "Seestar North"
#: Scope seconds per real second: slews go faster, nothing else changes.
TF = 4.0
INTERFACES = {"Mount": "5", "Camera": "2", "Focuser": "8", "Filter Wheel": "16", "Power": "32768"}


def _scope(fake: Any) -> dict[str, Any]:
    return {"seestar": {"host": "127.0.0.1", "control_port": fake.control_port,
                        "image_port": fake.image_port, "discovery_port": fake.discovery_port}}


def _write_config(path: Path, scopes: dict[str, Any], time_factor: float = TF) -> Path:
    data = {"seestar": {"discovery_address": "127.0.0.1", "time_factor": time_factor,
                        "readout_margin_s": 1.5},
            "scopes": {name: _scope(fake) for name, fake in scopes.items()}}
    path.write_text(yaml.safe_dump(data))
    return path


def _start(server: IndiServer, name: str) -> None:
    server.command(f'start {DRIVER} -n "{name}"')


@contextlib.contextmanager
def _server(workdir: Path, env: dict[str, str]) -> Iterator[IndiServer]:
    server = IndiServer(free_port(), workdir=workdir, path_dirs=[venv_bin()], env=env)
    try:
        server.start([])
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def _client(port: int) -> Iterator[Any]:
    client = recording_client_class().connected(port)
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.disconnectServer()
            until(lambda: not client.server_connected.is_set(), 5,
                  what="the client's disconnection")


def _view(base: dict[str, Any], name: str, sim: SimThread | None, fake: Any) -> Rig:
    return Rig(base["tmp_path"], sim, fake, base["server"], base["client"], base["config_path"],
               base["env"], mount=f"{name} Mount", camera=f"{name} Camera",
               focuser=f"{name} Focuser", wheel=f"{name} Filter Wheel", power=f"{name} Power")


@contextlib.contextmanager
def two_scopes(tmp_path: Path, extra: dict[str, int] | None = None,
               time_factor: float = TF) -> Iterator[dict[str, Rig]]:
    """West and East, each on its own fake, started with `-n`; `extra` names -> fake index."""
    sims = [SimThread(time_factor=time_factor, parked=False, seed=1 + i, serial=f"5e57{i:04d}")
            for i in range(2)]
    fakes = [sim.start() for sim in sims]
    try:
        names = {WEST: 0, EAST: 1, **(extra or {})}
        config = _write_config(tmp_path / "config.yaml", {n: fakes[i] for n, i in names.items()},
                               time_factor)
        env = driver_env(tmp_path, config)
        with _server(tmp_path / "indiserver", env) as server:
            for name in (WEST, EAST):
                _start(server, name)
            with _client(server.port) as client:
                base = {"tmp_path": tmp_path, "server": server, "client": client,
                        "config_path": config, "env": env}
                rigs = {n: _view(base, n, sims[i], fakes[i]) for n, i in names.items()}
                for name in (WEST, EAST):
                    rigs[name].wait_defined(timeout_s=20)
                yield rigs
    finally:
        for sim in sims:
            sim.stop()


def _driver_pid(server: IndiServer, indidev: str) -> int:
    """The pid of the driver process indiserver started with INDIDEV=`indidev`."""
    for proc in server.driver_processes():
        with contextlib.suppress(Exception):
            if proc.environ().get("INDIDEV") == indidev:
                return int(proc.pid)
    raise AssertionError(f"no driver runs with INDIDEV={indidev!r}")


def _connect_refused(rig: Rig, device: str) -> str:
    """CONNECT `device`; the Alert's message (asserted Alert)."""
    since = rig.client.mark()
    rig.client.connectDevice(device)
    rig.client.wait(lambda u: (u.device == device and u.name == "CONNECTION" and u.event == "set"
                               and u.state == "Alert"), timeout_s=30, since=since)
    return "\n".join(rig.messages(device, since))


def test_two_named_instances_define_eight_devices_and_each_drives_its_own_scope(tmp_path):
    with two_scopes(tmp_path) as rigs:
        west, east = rigs[WEST], rigs[EAST]
        for rig in (west, east):
            for device in rig.devices:
                info = rig.client.updates(device=device, name="DRIVER_INFO")[-1].values
                assert info["DRIVER_INTERFACE"] == INTERFACES[device.split(" ", 2)[2]]
                assert len(rig.client.updates(device=device, name="DRIVER_INFO", event="def")) == 1
        assert len(west.server.driver_processes()) == 2
        for rig in (west, east):
            rig.connect_all()
        assert [r.fake.faults.counters.connections["control"] for r in (west, east)] == [1, 1]
        # a goto on West moves West's fake only
        east_before = east.fake_call(east.fake.state.mount.state)
        target = radec_of_altaz(west, 50.0, 120.0)
        switch(west, "ON_COORD_SET", "TRACK")
        since = west.client.mark()
        west.client.send_number(west.mount, "EQUATORIAL_EOD_COORD",
                                {"RA": target[0], "DEC": target[1]})
        assert wait_end(west, "EQUATORIAL_EOD_COORD", since).state == "Ok"
        assert separation_deg(true_radec(west), target) < 0.01
        # East's mount is as it was: same anchor, no slew, no move (its RA/Dec drifts with the sky
        # while it does not track, so comparing RA/Dec made this a bound on the goto's duration).
        assert east.fake_call(east.fake.state.mount.state) == east_before
        assert not [u for u in east.client.updates(east.mount, "EQUATORIAL_EOD_COORD", since=since)
                    if u.state == "Busy"]


def test_an_exposure_on_east_comes_from_easts_sky_with_easts_pointing(tmp_path):
    # time factor 1: the fake keeps its last few rendered frames, which must outlive the BLOB
    with two_scopes(tmp_path, time_factor=1.0) as rigs:
        west, east = rigs[WEST], rigs[EAST]
        for rig in (west, east):
            rig.connect_all()
        point_high(west, alt_deg=60.0, az_deg=90.0)
        east_radec = point_high(east, alt_deg=45.0, az_deg=250.0)
        until(lambda: separation_deg(_shown(east), east_radec) < 0.05, 20,
              what="East's mount to show East's pointing")
        east.client.setBLOBMode(PyIndi.B_ALSO, east.camera, "CCD1")
        east_frames = FakeFrames(east)
        try:
            shot = expose(east, 1.0)
            image = open_fits(shot.data)[0]
            east_frames.source_of(image.data)  # one of East's rendered frames, exactly
        finally:
            east_frames.close()
        # the FITS header carries East's pointing (West points at alt 60, az 90)
        assert image.header["OBJCTALT"] == pytest.approx(45.0, abs=0.5)
        assert image.header["OBJCTAZ"] == pytest.approx(250.0, abs=0.5)


def _shown(rig: Rig) -> tuple[float, float]:
    u = rig.client.updates(rig.mount, "EQUATORIAL_EOD_COORD")[-1]
    return u.values["RA"], u.values["DEC"]


def test_saved_addresses_are_kept_per_instance_across_a_restart(tmp_path):
    with two_scopes(tmp_path) as rigs:
        west, east = rigs[WEST], rigs[EAST]
        chosen = {WEST: "47001", EAST: "47002"}
        for name, rig in rigs.items():
            since = rig.client.mark()
            rig.client.send_text(rig.focuser, "DEVICE_ADDRESS", {"ADDRESS": "127.0.0.1",
                                                                 "PORT": chosen[name]})
            rig.client.wait(lambda u, r=rig: (u.device == r.mount and u.name == "DEVICE_ADDRESS"
                                              and u.event == "set"), timeout_s=10, since=since)
            since = rig.client.mark()
            rig.client.send_switch(rig.focuser, "CONFIG_PROCESS", ["CONFIG_SAVE"])
            rig.wait_state(rig.focuser, "CONFIG_PROCESS", "Ok", since=since)
        server = west.server
        for name in (WEST, EAST):
            since = west.client.mark()
            server.command(f'stop {DRIVER} -n "{name} Mount"')
            until(lambda n=name, s=since: west.client.updates(device=f"{n} Mount", event="del",
                                                               since=s), 20, what=f"{name} gone")
        since = west.client.mark()
        for name in (WEST, EAST):
            _start(server, name)
        for name, rig in rigs.items():
            for device in rig.devices:
                shown = rig.client.wait(lambda u, d=device: (u.device == d and u.event == "def"
                                                              and u.name == "DEVICE_ADDRESS"),
                                        timeout_s=20, since=since)
                shown_address = (shown.values["ADDRESS"], shown.values["PORT"])
                assert shown_address == ("127.0.0.1", chosen[name])
        assert east.devices[0] == f"{EAST} Mount"


def test_a_third_instance_naming_wests_scope_is_refused_naming_west(tmp_path):
    with two_scopes(tmp_path, extra={NORTH: 0}) as rigs:
        west, north = rigs[WEST], rigs[NORTH]
        west.connect_all()
        _start(west.server, NORTH)
        north.wait_defined(timeout_s=20)
        text = _connect_refused(north, north.mount)
        holder = _driver_pid(west.server, WEST)
        assert f"is already driven by indi_seestar pid {holder}" in text
        assert f"on port {west.server.port}" in text and f'"{WEST} Mount"' in text
        assert "disconnect those devices or stop that driver" in text
        assert west.fake.faults.counters.connections["control"] == 1  # North never reached it
        # West lets go: North can connect now
        since = west.client.mark()
        for device in west.devices:
            west.client.disconnectDevice(device)
        for device in west.devices:
            west.wait_state(device, "CONNECTION", "Idle", since=since)
        north.client.connect_device(north.mount, timeout_s=30)


def test_a_second_indiserver_defines_its_devices_names_the_holder_and_connects_once_it_is_gone(
        tmp_path):
    """Issue 9 item 4: another indiserver, another lock and runtime directory, one scope."""
    sim = SimThread(time_factor=TF, parked=False)
    fake = sim.start()
    try:
        config = _write_config(tmp_path / "config.yaml", {})
        data = yaml.safe_load(config.read_text())
        data["seestar"].update(_scope(fake)["seestar"])
        config.write_text(yaml.safe_dump(data))
        first_env = driver_env(tmp_path / "first", config)
        second_env = {**driver_env(tmp_path / "second", config),
                      "XDG_RUNTIME_DIR": str(tmp_path / "second"),
                      # the shared place both copies find whatever their own directories
                      "INDI_SEESTAR_SYSTEM_LOCK_DIR": first_env["INDI_SEESTAR_SYSTEM_LOCK_DIR"]}
        assert first_env["INDI_SEESTAR_LOCK_DIR"] != second_env["INDI_SEESTAR_LOCK_DIR"]
        with _server(tmp_path / "server1", first_env) as first, \
                _server(tmp_path / "server2", second_env) as second:
            first.command(f"start {DRIVER}")
            second.command(f"start {DRIVER}")
            with _client(first.port) as c1, _client(second.port) as c2:
                base1 = {"tmp_path": tmp_path, "server": first, "client": c1,
                         "config_path": config, "env": first_env}
                base2 = {**base1, "server": second, "client": c2, "env": second_env}
                one, two = _view(base1, "Seestar", sim, fake), _view(base2, "Seestar", sim, fake)
                one.wait_defined(20)
                two.wait_defined(20)  # the copy defines its devices
                one.connect_all()
                text = _connect_refused(two, two.focuser)
                holder = first.driver_processes()[0].pid
                assert f"indi_seestar pid {holder}" in text
                assert f"indiserver pid {first.process.pid} on port {first.port}" in text
                assert fake.faults.counters.connections["control"] == 1
                # the holder goes away (its indiserver stops): the copy connects
                first.stop()
                until(lambda: not psutil.pid_exists(holder), 10, what="the first driver to exit")
                two.client.connect_device(two.focuser, timeout_s=30)
                assert fake.faults.counters.connections["control"] == 2
    finally:
        sim.stop()


def test_several_starts_by_one_indiserver_give_one_set_of_devices_per_name(tmp_path):
    with two_scopes(tmp_path) as rigs:
        west = rigs[WEST]
        mark = west.client.mark()
        # a web manager starting each selected entry; KStars names a non-mdpd entry by label
        for name in (WEST, f"{WEST} Camera", EAST):
            _start(west.server, name)
        until(lambda: len(re.findall(r"this copy stays idle", west.stderr_text())) == 3, 20,
              what="the three duplicates to stand aside")
        assert len(west.server.driver_processes()) == 5
        assert not west.client.updates(event="def", name="DRIVER_INFO", since=mark)
        for rig in rigs.values():
            rig.connect_all()
        assert [r.fake.faults.counters.connections["control"] for r in rigs.values()] == [1, 1]


class _Forward:
    """A loopback TCP forwarder (a proxy in front of a fake's control port)."""

    def __init__(self, target_port: int) -> None:
        self._target = target_port
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._socks: list[socket.socket] = [self._server]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                near, _ = self._server.accept()
                far = socket.create_connection(("127.0.0.1", self._target))
                self._socks += [near, far]
                for a, b in ((near, far), (far, near)):
                    threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        for sock in self._socks:
            sock.close()


def test_the_same_scope_through_another_address_is_refused_by_its_serial_number(tmp_path):
    with two_scopes(tmp_path, extra={NORTH: 0}) as rigs:
        west, north = rigs[WEST], rigs[NORTH]
        west.connect_all()
        proxy = _Forward(west.fake.control_port)  # another address for West's scope
        try:
            data = yaml.safe_load(west.config_path.read_text())
            data["scopes"][NORTH]["seestar"]["control_port"] = proxy.port
            west.config_path.write_text(yaml.safe_dump(data))
            _start(west.server, NORTH)
            north.wait_defined(timeout_s=20)
            text = _connect_refused(north, north.focuser)
        finally:
            proxy.close()
        assert f"127.0.0.1:{proxy.port} (the same Seestar by its serial number)" in text
        assert f"indi_seestar pid {_driver_pid(west.server, WEST)}" in text
        assert west.client.updates(west.mount, "CONNECTION")[-1].state == "Ok"
