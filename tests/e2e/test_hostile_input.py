"""Hostile input: malformed XML, unknown devices, properties and elements, wrong types,
out-of-range numbers and multi-megabyte texts. The driver answers with Alert and a message
where a property was named, ignores the rest, stays up, and its memory stays bounded.

Through indiserver (what any client can send) and straight into the driver's stdin (what
indiserver itself would never pass on, such as broken XML)."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time

import psutil
import pytest

from indi_seestar.indi.wire import Snooped, XmlStreamDecoder
from tests.support.indi_harness import until
from tests.support.rig import Rig, venv_bin

pytestmark = pytest.mark.e2e

MB = 1024 * 1024
#: Memory the driver may gain while being flooded (its decoder holds at most one 16 MB element).
RSS_GROWTH_LIMIT_MB = 80


def _rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / MB


def _new(kind: str, device: str, name: str, members: dict[str, str], one: str | None = None) -> bytes:
    one = one or f"one{kind}"
    body = "".join(f'<{one} name="{k}">{v}</{one}>' for k, v in members.items())
    return f'<new{kind}Vector device="{device}" name="{name}">{body}</new{kind}Vector>\n'.encode()


def test_hostile_client_gets_alerts_and_the_driver_stays_up(tmp_path, record_property):
    with Rig.start(tmp_path) as rig:
        rig.client.connect_device(rig.focuser)
        (driver,) = rig.server.driver_processes()
        before = _rss_mb(driver.pid)
        focuser, wheel = rig.focuser, rig.wheel
        since = rig.client.mark()
        with socket.create_connection(("127.0.0.1", rig.server.port)) as raw:
            raw.sendall(b'<getProperties version="1.7"/>\n')
            raw.sendall(_new("Number", "No Such Device", "ABS_FOCUS_POSITION",
                             {"FOCUS_ABSOLUTE_POSITION": "1"}))
            raw.sendall(_new("Number", focuser, "NO_SUCH_PROPERTY_" + "X" * 3000, {"A": "1"}))
            raw.sendall(_new("Switch", focuser, "NO_SUCH_SWITCH", {"ON": "On"}))
            raw.sendall(_new("Number", focuser, "ABS_FOCUS_POSITION", {"NO_SUCH_ELEMENT": "1"}))
            raw.sendall(_new("Text", focuser, "ABS_FOCUS_POSITION", {"FOCUS_ABSOLUTE_POSITION": "1"}))
            raw.sendall(_new("Number", focuser, "FOCUS_MOTION", {"FOCUS_INWARD": "On"},
                             one="oneNumber"))
            raw.sendall(_new("Number", focuser, "ABS_FOCUS_POSITION",
                             {"FOCUS_ABSOLUTE_POSITION": "twelve hundred"}))
            raw.sendall(_new("Number", focuser, "ABS_FOCUS_POSITION",
                             {"FOCUS_ABSOLUTE_POSITION": "-5"}))
            raw.sendall(_new("Switch", focuser, "FOCUS_MOTION", {"FOCUS_INWARD": "Maybe"}))
            for _ in range(12):  # 60 MB of text in all
                raw.sendall(_new("Text", wheel, "DEVICE_ADDRESS", {"ADDRESS": "a" * (5 * MB)}))
            raw.sendall(_new("Text", focuser, "DEVICE_ADDRESS", {"ADDRESS": "after.the.flood"}))
            rig.client.wait(lambda u: u.name == "DEVICE_ADDRESS" and u.device == focuser
                            and u.values.get("ADDRESS") == "after.the.flood", timeout_s=60,
                            since=since)

        alerts = {(u.name, u.device) for u in rig.client.updates(event="set", since=since)
                  if u.state == "Alert"}
        assert {("ABS_FOCUS_POSITION", focuser), ("FOCUS_MOTION", focuser),
                ("DEVICE_ADDRESS", wheel)} <= alerts
        texts = rig.messages(since=since)
        for expected in ("NO_SUCH_ELEMENT: not an element of this property",
                         "expected newNumberVector", "'twelve hundred' is not a number",
                         "valid range is from 0 to 2600, requested value is -5",
                         "switch value must be On or Off", "exceeds 65536",
                         "NO_SUCH_SWITCH: no such property"):
            assert any(expected in t for t in texts), expected
        assert not rig.client.updates(device="No Such Device", since=since)
        assert rig.fake_call(lambda: rig.fake.state.focuser.is_moving()) is False

        # malformed XML: indiserver drops that client; the driver never sees it and goes on
        with socket.create_connection(("127.0.0.1", rig.server.port)) as raw:
            raw.sendall(b"<newNumberVector device=<<<&&& garbage \x00\xff></oops>\n")
        since = rig.client.mark()
        rig.client.send_number(focuser, "ABS_FOCUS_POSITION", {"FOCUS_ABSOLUTE_POSITION": 1500})
        assert rig.wait_state(focuser, "ABS_FOCUS_POSITION", "Ok", since=since).values == {
            "FOCUS_ABSOLUTE_POSITION": 1500}

        growth = _rss_mb(driver.pid) - before
        record_property("driver_rss_growth_mb_via_indiserver", round(growth, 1))
        print(f"\ndriver RSS {before:.0f} MB -> +{growth:.1f} MB after 60 MB of hostile text")
        assert driver.is_running() and growth < RSS_GROWTH_LIMIT_MB

        # the long property name was logged in capped lines: indiserver still reads our stderr
        lines = rig.server.stderr_lines()
        assert max(len(line) for line in lines) < 1024
        assert not any(b"stderr EOF" in line for line in lines)
        assert any(b"NO_SUCH_PROPERTY_XXX" in line for line in lines)


class _PipedDriver:
    """`indi_seestar` on pipes (as an old indiserver runs it), its output decoded in a thread."""

    def __init__(self, tmp_path) -> None:
        home = tmp_path / "home"
        home.mkdir()
        env = {**os.environ, "HOME": str(home), "INDI_SEESTAR_CONFIG": "",
               "INDI_SEESTAR_LOCK_DIR": str(tmp_path)}
        self.proc = subprocess.Popen([str(venv_bin() / "indi_seestar")], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self.messages: list = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        decoder = XmlStreamDecoder()
        while data := os.read(self.proc.stdout.fileno(), 65536):
            with self._lock:
                self.messages += decoder.feed(data)

    def send(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def count(self, tag: str, name: str) -> int:
        with self._lock:
            return sum(1 for m in self.messages
                       if isinstance(m, Snooped) and m.tag == tag and m.name == name)


def test_broken_xml_on_stdin_is_skipped_and_memory_stays_bounded(tmp_path, record_property):
    driver = _PipedDriver(tmp_path)
    try:
        driver.send(b'<getProperties version="1.7"/>\n')
        until(lambda: driver.count("defTextVector", "DRIVER_INFO") == 6, 20,
              what="six devices (four, the live stack, Seestar Power)")
        before = _rss_mb(driver.proc.pid)
        driver.send(b"<<<>>> &nonsense; </stray> <newTextVector device='Seestar Focuser'\n")
        driver.send(b"\x00\xff\xfe binary junk <?xml version='1.0'?> <!-- comment -->\n")
        driver.send(b"<newTextVector device='Seestar Focuser' name='DEVICE_ADDRESS'>"
                    b"<oneText name='ADDRESS'>" + b"z" * (40 * MB))  # never closed, over the cap
        driver.send(b"</oneText></newTextVector>\n")
        for _ in range(3):  # a well-formed element of 10 MB, three times
            driver.send(_new("Text", "Seestar Focuser", "DEVICE_ADDRESS", {"ADDRESS": "y" * (10 * MB)}))
        driver.send(b'<getProperties version="1.7" device="Seestar Focuser" name="DRIVER_INFO"/>\n')
        until(lambda: driver.count("defTextVector", "DRIVER_INFO") == 7, 60,
              what="the driver to answer after the junk")  # six devices, then the answer
        assert driver.count("setTextVector", "DEVICE_ADDRESS") == 3  # each 10 MB text: Alert
        growth = _rss_mb(driver.proc.pid) - before
        record_property("driver_rss_growth_mb_on_stdin", round(growth, 1))
        print(f"\ndriver RSS {before:.0f} MB -> +{growth:.1f} MB after 70 MB of junk on stdin")
        assert driver.proc.poll() is None and growth < RSS_GROWTH_LIMIT_MB
        driver.proc.stdin.close()
        started = time.monotonic()
        driver.proc.wait(timeout=5)
        assert time.monotonic() - started < 1.0
    finally:
        if driver.proc.poll() is None:
            driver.proc.kill()
