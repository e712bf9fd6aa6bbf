"""The INDI layer under a real indiserver (Debian indi-bin) with libindi's client (pyindi-client).

tests/indi/fixture_driver.py serves two devices through indi_seestar.indi.Driver; indiserver starts
it from a wrapper on its PATH through the control FIFO, exactly as KStars' local mode does.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.indi.fixture_driver import CAMERA, FOCUSER, blob_sha256
from tests.support.indi_harness import (
    IndiServer,
    Update,
    free_port,
    recording_client_class,
    until,
    write_driver_wrapper,
)

PyIndi = pytest.importorskip("PyIndi")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("indiserver") is None, reason="indiserver (indi-bin) not installed"
    ),
]

EXEC = "indi_fixture_driver"
FIXTURE = Path(__file__).with_name("fixture_driver.py")
SPECIAL = "a & b < c > d \" e ' f"


@dataclass
class Rig:
    server: IndiServer
    client: Any
    home: Path


def start_rig(tmp: Path, blob_transport: str = "inline") -> Rig:
    bin_dir, home = tmp / "bin", tmp / "home"
    write_driver_wrapper(bin_dir, EXEC, FIXTURE,
                         env={"HOME": str(home), "FIXTURE_BLOB_TRANSPORT": blob_transport})
    server = IndiServer(free_port(), workdir=tmp / "srv", path_dirs=[bin_dir])
    server.start()
    server.start_driver(EXEC)
    client = recording_client_class().connected(server.port)
    return Rig(server, client, home)


def stop_rig(rig: Rig) -> None:
    try:
        rig.client.close()
    finally:
        rig.server.stop()


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    rig = start_rig(tmp_path_factory.mktemp("indiserver"))
    yield rig
    stop_rig(rig)


@pytest.fixture
def own_rig(tmp_path: Path) -> Iterator[Rig]:
    rig = start_rig(tmp_path)
    yield rig
    stop_rig(rig)


def states(updates: list[Update]) -> list[str]:
    return [u.state for u in updates]


def test_both_devices_are_announced_with_their_interfaces(rig: Rig) -> None:
    for device, interface in ((CAMERA, "2"), (FOCUSER, "8")):
        info = rig.client.wait(
            lambda u, d=device: u.device == d and u.name == "DRIVER_INFO", timeout_s=10
        )
        assert info.values["DRIVER_INTERFACE"] == interface
        assert rig.client.updates(device, "CONNECTION", "def")[0].values == {
            "CONNECT": False,
            "DISCONNECT": True,
        }
    assert rig.client.getDevice(FOCUSER).getDriverInterface() == 8


def test_connect_goes_busy_then_ok_and_defines_the_device_properties(rig: Rig) -> None:
    mark = rig.client.mark()
    rig.client.connect_device(FOCUSER)
    assert states(rig.client.updates(FOCUSER, "CONNECTION", "set", since=mark)) == ["Busy", "Ok"]
    rig.client.wait(
        lambda u: u.device == FOCUSER and u.name == "ABS_FOCUS_POSITION" and u.event == "def",
        timeout_s=5,
        since=mark,
    )


def test_a_number_round_trips_busy_then_ok(rig: Rig) -> None:
    rig.client.connect_device(FOCUSER)
    mark = rig.client.mark()
    rig.client.send_number(FOCUSER, "ABS_FOCUS_POSITION", {"FOCUS_ABSOLUTE_POSITION": 1234})
    ok = rig.client.wait(
        lambda u: u.name == "ABS_FOCUS_POSITION" and u.state == "Ok", timeout_s=5, since=mark
    )
    assert ok.values == {"FOCUS_ABSOLUTE_POSITION": 1234.0}
    assert states(rig.client.updates(FOCUSER, "ABS_FOCUS_POSITION", "set", since=mark)) == [
        "Busy",
        "Ok",
    ]


def test_out_of_range_gets_alert_and_a_message(rig: Rig) -> None:
    rig.client.connect_device(FOCUSER)
    mark = rig.client.mark()
    rig.client.send_number(FOCUSER, "ABS_FOCUS_POSITION", {"FOCUS_ABSOLUTE_POSITION": 99999})
    alert = rig.client.wait(
        lambda u: u.name == "ABS_FOCUS_POSITION" and u.event == "set", timeout_s=5, since=mark
    )
    assert alert.state == "Alert" and alert.values["FOCUS_ABSOLUTE_POSITION"] != 99999
    message = rig.client.wait(
        lambda u: u.event == "message" and u.device == FOCUSER, timeout_s=5, since=mark
    )
    assert "[ERROR] ABS_FOCUS_POSITION: invalid range" in message.message
    assert "valid range is from 0 to 2600, requested value is 99999" in message.message


def test_a_message_with_markup_characters_arrives_intact(rig: Rig) -> None:
    mark = rig.client.mark()
    rig.client.send_text(CAMERA, "FIXTURE_ECHO", {"TEXT": SPECIAL})
    message = rig.client.wait(
        lambda u: u.event == "message" and u.device == CAMERA, timeout_s=5, since=mark
    )
    assert message.message.rstrip().endswith("[INFO] " + SPECIAL)
    echo = rig.client.wait(
        lambda u: u.name == "FIXTURE_ECHO" and u.event == "set", timeout_s=5, since=mark
    )
    assert (echo.state, echo.values) == ("Ok", {"TEXT": SPECIAL})


def _send_blobs(rig: Rig, size: int, count: int, seed: int) -> tuple[list[Any], float]:
    mark = rig.client.mark()
    started = time.monotonic()
    rig.client.send_number(CAMERA, "FIXTURE_BLOB", {"SIZE": size, "COUNT": count, "SEED": seed})
    until(
        lambda: len(rig.client.updates(CAMERA, "CCD1", "set", since=mark)) >= count,
        60,
        what=f"{count} BLOBs of {size} bytes",
    )
    elapsed = time.monotonic() - started
    return [
        u.values["CCD1"] for u in rig.client.updates(CAMERA, "CCD1", "set", since=mark)
    ], elapsed


@pytest.mark.parametrize(("size", "count"), [(6_000_000, 3), (20_000_000, 1), (1, 2), (4, 1)])
def test_blobs_arrive_intact(rig: Rig, size: int, count: int, record_property: Any) -> None:
    rig.client.connect_device(CAMERA)
    rig.client.setBLOBMode(PyIndi.B_ALSO, CAMERA, "CCD1")
    seed = size + count
    blobs, elapsed = _send_blobs(rig, size, count, seed)
    record_property("seconds", round(elapsed, 3))
    print(f"\n{count} x {size} byte BLOB(s) through indiserver in {elapsed:.3f} s")
    assert len(blobs) == count
    for i, blob in enumerate(blobs):
        assert (blob.format, blob.size) == (".fits", size)
        if size:
            assert blob.bloblen == blob.data_len == size
            assert blob.sha256 == blob_sha256(seed + i, size)


@pytest.fixture(scope="module")
def attached_rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    rig = start_rig(tmp_path_factory.mktemp("indiserver-attached"), blob_transport="auto")
    yield rig
    stop_rig(rig)


@pytest.mark.parametrize("over", ["tcp", "unix"])
@pytest.mark.parametrize(("size", "count"), [(6_000_000, 3), (1, 2), (4, 1)])
def test_attached_blobs_arrive_intact(attached_rig: Rig, size: int, count: int, over: str) -> None:
    """BLOBs passed to indiserver as shared memory reach a TCP client as base64 (indiserver
    encodes them) and a unix-socket client as shared memory, byte for byte, with size exact."""
    client = attached_rig.client
    shared_mark = client.mark()
    if over == "unix":  # libindi's spelling of indiserver's unix socket
        client = recording_client_class()()
        client.setServer(f"localhost:{attached_rig.server.workdir / 'indiserver.sock'}",
                         attached_rig.server.port)
        assert client.connectServer()
        until(client.server_connected.is_set, 5)
    try:
        client.connect_device(CAMERA)
        client.setBLOBMode(PyIndi.B_ALSO, CAMERA, "CCD1")
        seed = size * 7 + count
        mark = client.mark()
        client.send_number(CAMERA, "FIXTURE_BLOB", {"SIZE": size, "COUNT": count, "SEED": seed})

        def ours() -> list[Any]:  # BLOBs of the other client's tests may still be on their way
            return [b for u in client.updates(CAMERA, "CCD1", "set", since=mark)
                    if (b := u.values["CCD1"]).size == size]

        until(lambda: len(ours()) >= count, 60, what=f"{count} BLOBs of {size} bytes")
        blobs = ours()
        assert len(blobs) == count
        for i, blob in enumerate(blobs):
            assert (blob.format, blob.size) == (".fits", size)
            assert blob.bloblen == blob.data_len == size
            assert blob.sha256 == blob_sha256(seed + i, size)
    finally:
        if client is not attached_rig.client:
            client.close()
            # The TCP client's copy of FIXTURE_BLOB is updated by this run's replies, late over
            # TCP; let them land before its own next send (which starts from its copy).
            until(lambda: attached_rig.client.updates(CAMERA, "FIXTURE_BLOB", "set",
                                                      since=shared_mark)[-1:]
                  and attached_rig.client.updates(CAMERA, "FIXTURE_BLOB", "set",
                                                  since=shared_mark)[-1].state == "Ok", 10)


def test_config_save_survives_a_driver_restart(own_rig: Rig) -> None:
    client, server = own_rig.client, own_rig.server
    client.wait(lambda u: u.device == CAMERA and u.name == "UPLOAD_SETTINGS", timeout_s=10)
    mark = client.mark()
    client.send_text(CAMERA, "UPLOAD_SETTINGS", {"UPLOAD_DIR": "/data/" + SPECIAL})
    client.wait(lambda u: u.name == "UPLOAD_SETTINGS" and u.state == "Ok", timeout_s=5, since=mark)
    client.send_switch(CAMERA, "CONFIG_PROCESS", ["CONFIG_SAVE"])
    saved = client.wait(
        lambda u: u.device == CAMERA and u.name == "CONFIG_PROCESS" and u.event == "set",
        timeout_s=5,
        since=mark,
    )
    assert saved.state == "Ok" and not any(saved.values.values())
    assert (own_rig.home / ".indi" / f"{CAMERA}_config.xml").exists()

    server.stop_driver(EXEC)
    client.wait(lambda u: u.device == CAMERA and u.event == "del", timeout_s=10, since=mark)
    mark = client.mark()
    server.start_driver(EXEC)
    fresh = client.wait(
        lambda u: u.device == CAMERA and u.name == "UPLOAD_SETTINGS" and u.event == "def",
        timeout_s=10,
        since=mark,
    )
    assert fresh.values["UPLOAD_DIR"] == ""
    client.send_switch(CAMERA, "CONFIG_PROCESS", ["CONFIG_LOAD"])
    loaded = client.wait(
        lambda u: u.name == "UPLOAD_SETTINGS" and u.event == "set", timeout_s=5, since=mark
    )
    assert (loaded.state, loaded.values["UPLOAD_DIR"]) == ("Ok", "/data/" + SPECIAL)


def test_driver_exits_within_a_second_when_indiserver_dies(own_rig: Rig) -> None:
    import psutil

    own_rig.client.wait(lambda u: u.device == FOCUSER and u.name == "DRIVER_INFO", timeout_s=10)
    (driver,) = own_rig.server.driver_processes()
    own_rig.server.kill()
    killed = time.monotonic()

    def gone() -> bool:
        try:
            return driver.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    until(gone, 5, interval_s=0.01, what="the driver to exit")
    elapsed = time.monotonic() - killed
    print(f"\ndriver exited {elapsed:.3f} s after indiserver was killed")
    assert elapsed < 1.0


def test_stderr_lines_stay_under_one_kibibyte(own_rig: Rig) -> None:
    client, server = own_rig.client, own_rig.server
    client.wait(lambda u: u.device == CAMERA and u.name == "FIXTURE_ECHO", timeout_s=10)
    mark = client.mark()
    client.send_text(
        CAMERA, "FIXTURE_ECHO", {"TEXT": "long " * 1000}
    )  # the driver logs it to stderr
    until(lambda: client.updates(CAMERA, "FIXTURE_ECHO", "set", since=mark), 5)
    client.send_text(CAMERA, "FIXTURE_ECHO", {"TEXT": "still logging"})
    until(
        lambda: any(b"still logging" in line for line in server.stderr_lines()),
        5,
        what="indiserver to keep reading the driver's stderr",
    )
    lines = server.stderr_lines()
    assert max(len(line) for line in lines) < 1024
    assert not any(b"stderr EOF" in line for line in lines)
