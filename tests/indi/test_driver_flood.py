"""A flood of input on the driver's socketpair while indiserver is slow to read its output
(issue 9, item 9): identical getProperties are answered once while an answer is still queued,
the output queue stays under its stated bound, and reading stops (backpressure) instead."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest

from indi_seestar.indi import standard as std
from indi_seestar.indi.device import Device
from indi_seestar.indi.driver import (
    ANSWER_BURST,
    ANSWER_WINDOW_S,
    MAX_BACKLOG_BYTES, READ_BYTES,
    Driver,
)
from indi_seestar.indi.standard._build import texts
from indi_seestar.indi.wire import PingReply, Snooped, XmlStreamDecoder
from tests.support.indi_harness import driver_socketpair, until_async

FLOOD = 2000
TEXT_CHARS = 60_000


class Gadget(Device):
    interface = std.Interface.AUX

    def init_properties(self) -> None:
        self.note = self.add(texts(self.name, "NOTE", "Note", "Main", [("TEXT", "Text", "")]))


class SlowPeer:
    """indiserver's side: sends freely, reads only while `reading` is set."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reading = threading.Event()
        self.messages: list[object] = []
        self._decoder = XmlStreamDecoder()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while self.reading.wait() and (data := self._recv()):
            self.messages.extend(self._decoder.feed(data))

    def _recv(self) -> bytes:
        try:
            return self.sock.recv(1 << 16)
        except OSError:
            return b""

    def count(self, tag: str, name: str) -> int:
        return sum(1 for m in list(self.messages)
                   if isinstance(m, Snooped) and m.tag == tag and m.name == name)


@pytest.fixture
def wire() -> Iterator[tuple[socket.socket, int]]:
    with driver_socketpair(send_buffer_bytes=4096) as pair:  # little room in the kernel
        yield pair


def _send_in_thread(sock: socket.socket, data: bytes) -> threading.Thread:
    thread = threading.Thread(target=sock.sendall, args=(data,), daemon=True)
    thread.start()
    return thread


async def test_identical_get_properties_are_answered_once_while_an_answer_waits(wire) -> None:
    sock, fd = wire
    devices = [Gadget("A"), Gadget("B")]
    driver = Driver(devices, input_fd=fd, output_fd=fd)
    run = asyncio.create_task(driver.run())
    peer = SlowPeer(sock)  # not reading yet: the writer is stuck on the first answer
    requests = FLOOD * len(devices)
    _send_in_thread(sock, b'<getProperties version="1.7"/>\n' * FLOOD + b'<pingRequest uid="end"/>')
    await until_async(lambda: driver.get_properties_answered + driver.get_properties_coalesced
                      >= requests, 10, what="every request dispatched")
    assert driver.get_properties_answered <= 2 * len(devices)  # one being written, one queued
    assert driver.writer.backlog_bytes < 4096
    peer.reading.set()
    await until_async(lambda: PingReply("end") in peer.messages, 10, what="the ping after all")
    answers = peer.count("defTextVector", "DRIVER_INFO")
    assert answers == driver.get_properties_answered
    assert peer.count("defTextVector", "NOTE") == answers  # every answer is a whole definition
    sock.shutdown(socket.SHUT_WR)
    await asyncio.wait_for(run, 2)


async def test_reading_stops_while_the_output_queue_is_over_its_bound(wire) -> None:
    sock, fd = wire
    gadget = Gadget("A")
    driver = Driver([gadget], input_fd=fd, output_fd=fd)
    run = asyncio.create_task(driver.run())
    peer = SlowPeer(sock)
    new = (f'<newTextVector device="A" name="NOTE"><oneText name="TEXT">{"n" * TEXT_CHARS}'
           "</oneText></newTextVector>\n").encode()
    count = 3 * MAX_BACKLOG_BYTES // TEXT_CHARS  # answers worth 3 MiB
    sender = _send_in_thread(sock, b'<getProperties version="1.7"/>' + new * count
                             + b'<pingRequest uid="end"/>')
    await until_async(lambda: driver.writer.backlog_bytes >= MAX_BACKLOG_BYTES, 10,
                      what="the backlog to reach its bound")
    peak = 0
    for _ in range(50):  # a window in which an unbounded reader would run away
        peak = max(peak, driver.writer.backlog_bytes)
        await asyncio.sleep(0.01)
    bound = MAX_BACKLOG_BYTES + 2 * READ_BYTES  # + what one read of input produces
    assert peak < bound and sender.is_alive(), (peak, bound)  # input not read meanwhile
    peer.reading.set()
    await until_async(lambda: PingReply("end") in peer.messages, 20, what="everything")
    assert peer.count("setTextVector", "NOTE") == count
    sock.shutdown(socket.SHUT_WR)
    await asyncio.wait_for(run, 2)


class Crowded(Device):
    """A device with as many vectors as a real CCD, so one answer takes several GIL slices."""

    interface = std.Interface.AUX

    def init_properties(self) -> None:
        for i in range(300):
            self.add(texts(self.name, f"NOTE{i}", "Note", "Main", [("TEXT", "Text", "x" * 40)]))


def _crowded(wire: tuple[socket.socket, int]) -> tuple[
        socket.socket, Driver, asyncio.Task[None], SlowPeer]:
    """A driver of two Crowded devices running on `wire`, its peer reading at once."""
    sock, fd = wire
    driver = Driver([Crowded("A"), Crowded("B")], input_fd=fd, output_fd=fd)
    run = asyncio.create_task(driver.run())
    peer = SlowPeer(sock)
    peer.reading.set()
    return sock, driver, run, peer


async def test_identical_get_properties_in_one_read_are_answered_once_however_fast_the_writer(
        wire) -> None:
    """indiserver reading at once (the writer never stuck): the requests of one read of input
    get one answer per device, whatever the writer thread started meanwhile. Before, an answer
    the writer had begun no longer covered the next request, and with answers long enough for
    the writer thread to get the GIL during dispatch, a flood was answered many times over."""
    sock, driver, run, peer = _crowded(wire)
    devices = list(driver.devices.values())
    batch = b'<getProperties version="1.7"/>\n' * 200  # one read of input
    sock.sendall(batch + b'<pingRequest uid="end"/>')
    await until_async(lambda: PingReply("end") in peer.messages, 30, what="the ping after all")
    assert driver.get_properties_answered == len(devices)
    assert peer.count("defTextVector", "NOTE0") == len(devices)
    sock.shutdown(socket.SHUT_WR)
    await asyncio.wait_for(run, 5)


async def test_a_device_is_defined_whole_at_most_a_burst_per_window_and_after_the_last_request(
        wire) -> None:
    """Requests for everything arriving one per read, as indiserver 1.9.9 passes on a flood (it
    reads a client 8 bytes at a time), with the peer reading at once: each device's whole
    definition begins at most ANSWER_BURST times per ANSWER_WINDOW_S (before: about once per
    request), yet the requests put off are answered after the last of them came."""
    sock, driver, run, peer = _crowded(wire)
    devices = list(driver.devices.values())
    loop = asyncio.get_running_loop()
    started = loop.time()
    requests = 60
    for _ in range(requests):  # one request per read: the driver dispatches each before the next
        before = driver.get_properties_answered + driver.get_properties_coalesced
        sock.sendall(b'<getProperties version="1.7"/>\n')
        await until_async(lambda: driver.get_properties_answered + driver.get_properties_coalesced
                          >= before + len(devices), 5, what="the request dispatched")
    last_read = loop.time()
    await until_async(lambda: not driver._whole_deferred, 5, what="the answers put off")
    sock.sendall(b'<pingRequest uid="end"/>')
    await until_async(lambda: PingReply("end") in peer.messages, 30, what="the ping after all")
    whole = peer.count("defTextVector", "NOTE0")
    elapsed = last_read - started
    assert whole < requests  # far fewer answers than requests (about one each before)
    windows = elapsed / ANSWER_WINDOW_S + 2
    assert whole <= len(devices) * ANSWER_BURST * windows, (whole, elapsed)
    assert whole == driver.get_properties_answered and driver.get_properties_deferred > 0
    # the requests put off were answered (their timers ran) no earlier than the last one came
    assert min(times[-1] for times in driver._whole_answered_at.values()) >= last_read - ANSWER_WINDOW_S
    sock.shutdown(socket.SHUT_WR)
    await asyncio.wait_for(run, 5)
