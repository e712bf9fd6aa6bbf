"""The bench client's CONNECT (bench/client.py): never a silent no-op, and an Alert ends the wait.

B9 in `make bench` under load timed out after 60 s waiting for "Seestar B1 Camera.CONNECTION
set Ok" while the driver never saw a CONNECT (no line in its log): the client polled
getDevice(), which libindi fills before it has built the vector of the def that created the
device, and libindi's connectDevice() sends nothing while the device has no CONNECTION.
late_connection_driver.py widens that window to seconds. A driver that answers CONNECT with
Alert (a held scope, a refused address) ended the wait only at its timeout, without the reason.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bench.client import DeviceRefused, bench_client_class
from bench.procs import DRIVER, Stage
from tests.support.indi_harness import IndiServer, free_port, write_driver_wrapper

HERE = Path(__file__).resolve().parent
LATE = "late_connection_driver"


@contextlib.contextmanager
def _late_server(tmp_path: Path, delay_s: float, mode: str) -> Iterator[IndiServer]:
    """indiserver running late_connection_driver.py with `delay_s` and `mode`."""
    wrapper = write_driver_wrapper(tmp_path / "bin", LATE, HERE / f"{LATE}.py")
    wrapper.write_text(wrapper.read_text().replace('"$@"', f"{delay_s} {mode}"))
    server = IndiServer(free_port(), workdir=tmp_path / "indiserver", path_dirs=[tmp_path / "bin"])
    server.start([LATE])
    try:
        yield server
    finally:
        server.stop()


def test_connect_waits_for_the_connection_vector_of_a_device_already_listed(tmp_path):
    with _late_server(tmp_path, 1.5, "accept") as server, \
            bench_client_class().connect_to(server.port) as client:
        client.device("Late Dev", timeout_s=10)  # listed: its first vector is defined
        client.connect_device_and_wait("Late Dev", timeout_s=10)  # old code: timed out here
        assert client.getDevice("Late Dev").isConnected()


def test_a_refused_connect_fails_at_once_with_the_drivers_message(tmp_path):
    with _late_server(tmp_path, 0.0, "refuse") as server, \
            bench_client_class().connect_to(server.port) as client:
        t0 = time.monotonic()
        with pytest.raises(DeviceRefused, match="held by indi_seestar pid 1"):
            client.connect_device_and_wait("Late Dev", timeout_s=30)
        assert time.monotonic() - t0 < 10  # old code: RuntimeError after the whole 30 s


def test_the_real_driver_refused_by_a_closed_port_says_why_at_once(tmp_path):
    """indi_seestar pointed at a loopback port nobody listens on: its Alert text, not a timeout."""
    stage = Stage(tmp_path)
    closed = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"devices": {"prefix": "Seestar Z"}, "log_level": "WARNING",
                                      "seestar": {"host": "127.0.0.1", "control_port": closed,
                                                  "alpaca": "off"}}))
    server = stage.server(stage.env(config))
    server.start([DRIVER])
    try:
        with bench_client_class().connect_to(server.port) as client:
            t0 = time.monotonic()
            with pytest.raises(DeviceRefused, match=str(closed)):
                client.connect_device_and_wait("Seestar Z Camera", timeout_s=60)
            assert time.monotonic() - t0 < 40
    finally:
        server.stop()
