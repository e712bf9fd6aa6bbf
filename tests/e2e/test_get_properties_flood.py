"""A getProperties flood from one client (issue 9, item 9), through the real indiserver: the
driver's memory stays bounded and another client's getProperties is answered within a few times
what a full definition of the devices takes when nothing else happens (measured in the same
test), not after the flood's answers.

The driver answers a getProperties by broadcast and coalesces identical requests while an answer
is still queued, begins a device's whole definition at most 3 times in 0.3 s (indiserver
1.9.9 passes a flood on one request at a time and, answered each time, spent seconds of CPU on its
client queues: probes waited 0.2-11 s, median up to 0.89 s, in about one run in three on
2026-12-02), and stops reading input while over 1 MiB of XML waits (indi/driver.py)."""

from __future__ import annotations

import socket
import statistics
import threading
import time

import pytest

from indi_seestar.indi.driver import ANSWER_WINDOW_S
from tests.support.indi_harness import recv_chunks, until
from tests.support.rig import Rig

#: realtime: its claim is another client's wait in wall time during the flood, which a burst of
#: the suite's other work stretches (median 0.89 s against 0.32 s once, beside guiding on frames).
pytestmark = [pytest.mark.e2e, pytest.mark.realtime_busy]

MB = 1024 * 1024
FLOOD = 2000
#: Stated bound on the driver's growth: 1 MiB of queued XML plus one read's worth of answers
#: (at most one full definition set per device and property) and allocator slack.
RSS_GROWTH_LIMIT_MB = 8
GET_ALL = b'<getProperties version="1.7"/>\n'
#: No probe may wait this long: the previous code made one wait 21 s for the flood's answers.
MAX_WAIT_S = 8.0


class Listener:
    """A raw client of indiserver counting the bytes and the def* it receives."""

    def __init__(self, port: int, request: bytes) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * MB)
        self.bytes = 0
        self.tail = b""
        self.defs = 0
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        self.sock.sendall(request)

    def _read(self) -> None:
        for data in recv_chunks(self.sock):
            text = self.tail + data
            self.defs += text.count(b"<def")
            self.tail = text[-8:]
            self.bytes += len(data)

    def close(self) -> None:
        self.sock.close()


def _answer_s(port: int, request: bytes, until_defs: int, timeout_s: float = 120) -> float:
    """Seconds from connecting and sending `request` to receiving `until_defs` def*."""
    started = time.monotonic()
    client = Listener(port, request)
    try:
        until(lambda: client.defs >= until_defs, timeout_s, what=f"{until_defs} definitions")
    finally:
        client.close()
    return time.monotonic() - started


def test_a_get_properties_flood_neither_grows_the_driver_nor_starves_another_client(
        tmp_path, record_property):
    with Rig.start(tmp_path) as rig:
        rig.connect_all()
        (driver,) = rig.server.driver_processes()
        port = rig.server.port
        total = len({(u.device, u.name) for u in rig.client.updates(event="def")}
                    - {(u.device, u.name) for u in rig.client.updates(event="del")})
        one = f'<getProperties version="1.7" device="{rig.focuser}" name="DRIVER_INFO"/>\n'.encode()
        full_s = max(_reference_s(port, total) for _ in range(3))
        before = driver.memory_info().rss / MB

        flooder = Listener(port, GET_ALL * FLOOD)
        peak, waits = before, []
        try:
            while True:  # probe with a second client until the flood has been answered
                waits.append(_answer_s(port, one, 1))
                peak = max(peak, driver.memory_info().rss / MB)
                quiet = flooder.bytes
                if len(waits) >= 3 and _settled(flooder, quiet):
                    break
        finally:
            flooder.close()
        growth = peak - before
        record_property("driver_rss_growth_mb", round(growth, 1))
        record_property("full_answer_s", round(full_s, 3))
        record_property("second_client_worst_s", round(max(waits), 3))
        print(f"\nfull answer {full_s:.3f} s; during the flood {len(waits)} probes, worst "
              f"{max(waits):.3f} s, median {statistics.median(waits):.3f} s; driver RSS "
              f"{before:.1f} MB +{growth:.1f} MB; flooder got {flooder.bytes / 1024:.0f} KiB")
        assert growth < RSS_GROWTH_LIMIT_MB
        # Behind at most the answer being written and one queued answer (each a full definition,
        # copied by indiserver to ~3 clients during the flood), not behind the flood: the typical
        # probe stays within a few full answers (was 90 of them here: median 1.7 s for 0.019 s),
        # and none waits for the flood (was 21 s). The median: one probe can meet a load spike.
        assert statistics.median(waits) < 20 * full_s + 0.2, (waits, full_s)
        assert max(waits) < MAX_WAIT_S, (waits, full_s)
        assert flooder.defs >= total  # the flooding client was answered too


def _reference_s(port: int, total: int) -> float:
    """A full answer when nothing else happens: one window after the last, so that it is never
    one put off (indi/driver.py ANSWER_BURST)."""
    time.sleep(ANSWER_WINDOW_S)
    return _answer_s(port, GET_ALL, total)


def _settled(flooder: Listener, seen: int, quiet_s: float = 1.0) -> bool:
    """True when the flooding client received nothing new for quiet_s."""
    deadline = time.monotonic() + quiet_s
    while time.monotonic() < deadline:
        if flooder.bytes != seen:
            return False
        time.sleep(0.05)
    return True
