"""Driver transport on a real socketpair (what indiserver >= 1.9.7 gives a driver) and on pipes."""

from __future__ import annotations

import array
import asyncio
import base64
import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from indi_seestar.indi import standard as std
from indi_seestar.indi.device import Device
from indi_seestar.indi.driver import Driver
from indi_seestar.indi.model import State
from indi_seestar.indi.wire import Malformed, PingReply, Snooped, XmlStreamDecoder
from indi_seestar.indi.writer import can_attach_blobs
from tests.support.indi_harness import driver_socketpair, recv_chunks, until_async


class Cam(Device):
    interface = std.Interface.CCD

    def init_properties(self) -> None:
        self.image = self.add(std.ccd1(self.name))
        self.exposure = self.add(std.ccd_exposure(self.name))


class Peer:
    """indiserver's side of the driver's stdin/stdout: send bytes, collect parsed messages."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.messages: list[object] = []
        self.raw_bytes = 0
        self._decoder = XmlStreamDecoder(max_element_bytes=64 * 1024 * 1024)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for data in recv_chunks(self.sock):
            self.raw_bytes += len(data)
            self.messages.extend(self._decoder.feed(data))

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def named(self, name: str) -> list[Snooped]:
        return [m for m in list(self.messages) if isinstance(m, Snooped) and m.name == name]


def serve(device: Device, input_fd: int, output_fd: int) -> tuple[Driver, asyncio.Task[None]]:
    """A Driver for `device` running on the test's loop."""
    driver = Driver([device], input_fd=input_fd, output_fd=output_fd)
    return driver, asyncio.create_task(driver.run())


@pytest.fixture
def wire() -> Iterator[tuple[socket.socket, int]]:
    with driver_socketpair() as pair:  # the driver gets one socket as both stdin and stdout
        yield pair


async def test_serves_a_socketpair_and_exits_promptly_at_eof(
    wire: tuple[socket.socket, int],
) -> None:
    sock, fd = wire
    cam = Cam("Cam")
    _driver, run = serve(cam, fd, fd)
    peer = Peer(sock)
    peer.send(b'<getProperties version="1.7"/><pingRequest uid="p1"/>')
    await until_async(lambda: PingReply("p1") in peer.messages and peer.named("CCD_EXPOSURE"), 5)
    assert os.get_blocking(fd), "the shared stdin/stdout socket must stay blocking"
    sock.shutdown(socket.SHUT_WR)  # indiserver gone: EOF on the driver's stdin
    started = time.monotonic()
    await asyncio.wait_for(run, 2)
    assert time.monotonic() - started < 1.0


async def test_blobs_and_messages_are_never_interleaved(wire: tuple[socket.socket, int]) -> None:
    sock, fd = wire
    cam = Cam("Cam")
    _driver, run = serve(cam, fd, fd)
    peer = Peer(sock)
    payloads = [os.urandom(n) for n in (6_000_001, 5, 3_000_002)]
    done = []
    for i, payload in enumerate(payloads):
        third = len(payload) // 3 + 1
        parts = [
            memoryview(payload)[:third],
            payload[third : 2 * third - 1],
            payload[2 * third - 1 :],
        ]
        done.append(cam.publish_blob(cam.image, "CCD1", parts))
        for j in range(50):
            cam.exposure["CCD_EXPOSURE_VALUE"] = i * 100 + j
            cam.publish(cam.exposure, state=State.BUSY)
    await asyncio.wait_for(asyncio.gather(*done), 10)
    await until_async(
        lambda: len(peer.named("CCD1")) == 3 and len(peer.named("CCD_EXPOSURE")) == 150, 10
    )
    assert not [m for m in peer.messages if isinstance(m, Malformed)]
    for blob, payload in zip(peer.named("CCD1"), payloads):
        ((_tag, attrs, text),) = blob.children
        decoded = base64.b64decode(text, validate=True)
        assert int(attrs["size"]) == len(payload) == len(decoded)
        assert hashlib.sha256(decoded).digest() == hashlib.sha256(payload).digest()
    values = [float(m.values()["CCD_EXPOSURE_VALUE"]) for m in peer.named("CCD_EXPOSURE")]
    assert values == sorted(values)
    sock.shutdown(socket.SHUT_WR)
    await asyncio.wait_for(run, 2)


async def test_pipes_malformed_input_and_unknown_devices_are_survived() -> None:
    to_driver_r, to_driver_w = os.pipe()
    from_driver_r, from_driver_w = os.pipe()
    _driver, run = serve(Cam("Cam"), to_driver_r, from_driver_w)
    os.write(
        to_driver_w,
        b'<newNumberVector device="Nobody" name="X"><oneNumber name="A">1</oneNumber>'
        b'</newNumberVector><a & b><getProperties version="1.7" device="Cam" name="CCD1"/>',
    )
    out = bytearray()
    os.set_blocking(from_driver_r, False)  # the test's end only; never the driver's

    def has_definition() -> bool:
        try:
            out.extend(os.read(from_driver_r, 65536))
        except BlockingIOError:
            pass
        return b'<defBLOBVector device="Cam" name="CCD1"' in out

    await until_async(has_definition, 5)
    os.close(to_driver_w)
    await asyncio.wait_for(run, 2)
    for fd in (to_driver_r, from_driver_r, from_driver_w):
        os.close(fd)


async def test_a_broken_output_ends_the_driver_even_with_input_open() -> None:
    to_driver_r, to_driver_w = os.pipe()
    from_driver_r, from_driver_w = os.pipe()
    cam = Cam("Cam")
    _driver, run = serve(cam, to_driver_r, from_driver_w)
    os.close(from_driver_r)  # nobody reads our output any more: the next write gets EPIPE
    cam.message("anyone there?")
    await asyncio.wait_for(run, 2)
    for fd in (to_driver_w, to_driver_r, from_driver_w):
        os.close(fd)


def test_duplicate_device_names_are_refused() -> None:
    with pytest.raises(ValueError):
        Driver([Cam("Same"), Cam("Same")])


class FdPeer:
    """indiserver's side for attached BLOBs: recvmsg, keeping the descriptors passed with data."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.messages: list[object] = []
        self.fds: list[int] = []
        self._decoder = XmlStreamDecoder()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            try:
                data, ancdata, _flags, _addr = self.sock.recvmsg(1 << 16, socket.CMSG_SPACE(64))
            except OSError:
                return
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    self.fds.extend(array.array("i", payload[: len(payload) - len(payload) % 4]))
            if not data:
                return
            self.messages.extend(self._decoder.feed(data))

    def named(self, name: str) -> list[Snooped]:
        return [m for m in list(self.messages) if isinstance(m, Snooped) and m.name == name]


def _read_fd(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    return os.pread(fd, size, 0)


async def test_attached_blobs_travel_as_shared_memory(wire: tuple[socket.socket, int]) -> None:
    sock, fd = wire
    cam = Cam("Cam")
    driver = Driver([cam], input_fd=fd, output_fd=fd, blob_transport="auto")
    assert driver.writer.attaches_blobs  # a socketpair, as indiserver >= 1.9.7 gives
    run = asyncio.create_task(driver.run())
    peer = FdPeer(sock)
    payloads = [os.urandom(n) for n in (4_147_201, 7, 2)]
    for payload in payloads:
        cut = len(payload) // 2 + 1
        await cam.publish_blob(cam.image, "CCD1", [memoryview(payload)[:cut], payload[cut:]])
        cam.publish(cam.exposure, state=State.OK)
    await cam.publish_blob(cam.image, "CCD1", [])  # size 0: a state change, inline as libindi
    await until_async(lambda: len(peer.named("CCD1")) == 4 and len(peer.fds) == 3, 10)
    for blob, payload, memfd in zip(peer.named("CCD1"), payloads, peer.fds):
        ((_tag, attrs, text),) = blob.children
        assert attrs["attached"] == "true" and text == ""
        assert int(attrs["size"]) == int(attrs["len"]) == len(payload)
        assert _read_fd(memfd) == payload
        os.close(memfd)
    ((_tag, attrs, text),) = peer.named("CCD1")[3].children
    assert attrs["size"] == "0" and "attached" not in attrs
    assert len(peer.named("CCD_EXPOSURE")) == 3
    assert os.get_blocking(fd)
    sock.shutdown(socket.SHUT_WR)
    await asyncio.wait_for(run, 2)


def test_blobs_are_attached_only_on_a_unix_stream_socket() -> None:
    a, b = socket.socketpair()
    r, w = os.pipe()
    tcp = socket.socket()
    dgram_a, dgram_b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        assert can_attach_blobs(a.fileno())
        assert not can_attach_blobs(w) and not can_attach_blobs(r)
        assert not can_attach_blobs(tcp.fileno())
        assert not can_attach_blobs(dgram_a.fileno())
        assert Driver([Cam("C")], input_fd=r, output_fd=w, blob_transport="auto").writer \
            .attaches_blobs is False
        with pytest.raises(ValueError):
            Driver([Cam("D")], input_fd=r, output_fd=w, blob_transport="shm")
    finally:
        for s in (a, b, tcp, dgram_a, dgram_b):
            s.close()
        os.close(r)
        os.close(w)
