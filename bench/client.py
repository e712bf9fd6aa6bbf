"""The benchmark's INDI client: libindi's own parser (pyindi-client), timestamps and little else.

Unlike tests/support's RecordingClient (which hashes every BLOB before it stamps the time), this
client stamps `time.monotonic()` first thing in each callback and keeps only what the
benchmarks read: when each property was defined or set (state and numbers), and for each BLOB
its size, the length libindi decoded and a small fingerprint of its pixels (see
`fits_fingerprint`). Waiting uses threading.Condition, not polling, so the harness thread costs
nothing while frames stream. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.client_lifetime import ClientLifetime

from .waiting import waiting

LOOPBACK = "127.0.0.1"
#: Pixels compared between the fake's record of a frame and the FITS a client received.
FINGERPRINT_PIXELS = 32


@dataclass(frozen=True, slots=True)
class Seen:
    """One def/set of a property, as the client saw it."""

    t: float
    event: str  # "def" or "set"
    device: str
    name: str
    state: str
    numbers: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MessageSeen:
    """One message a device sent (a property's `message` or a bare <message>)."""

    t: float
    device: str
    text: str


class DeviceRefused(RuntimeError):
    """A device answered CONNECT with CONNECTION Alert; the text carries the driver's message."""


#: After CONNECTION Alert: how long to wait for the message libindi hands over separately.
ALERT_MESSAGE_WAIT_S = 2.0


@dataclass(frozen=True, slots=True)
class BlobSeen:
    """One BLOB at the client: arrival time, sizes and the pixel fingerprint (or "")."""

    t: float
    device: str
    name: str
    size: int
    bloblen: int
    fmt: str
    fingerprint: str


def fingerprint_row(width: int, height: int) -> tuple[int, int]:
    """(row, first column) of the fingerprint pixels in a width x height frame."""
    return height // 2, max(0, width // 2 - FINGERPRINT_PIXELS // 2)


def fits_fingerprint(data: bytes | memoryview) -> str:
    """Hex of the fingerprint pixels (as little-endian uint16) of a 16-bit 2-D FITS, or ""."""
    view = memoryview(data)
    end = bytes(view[: 2880 * 16]).find(b"END" + b" " * 77)
    if end < 0 or end % 80:
        return ""
    header = bytes(view[:end]).decode("ascii", "replace")
    cards = {header[i : i + 8].strip(): header[i + 10 : i + 80] for i in range(0, end, 80)}
    try:
        naxis1 = int(cards["NAXIS1"].split("/")[0])
        naxis2 = int(cards["NAXIS2"].split("/")[0])
        bitpix = int(cards["BITPIX"].split("/")[0])
    except (KeyError, ValueError):
        return ""
    if bitpix != 16 or cards.get("NAXIS", "").split("/")[0].strip() != "2":
        return ""
    start = (end // 2880 + 1) * 2880
    row, col = fingerprint_row(naxis1, naxis2)
    offset = start + 2 * (row * naxis1 + col)
    raw = bytes(view[offset : offset + 2 * FINGERPRINT_PIXELS])
    if len(raw) != 2 * FINGERPRINT_PIXELS:
        return ""
    # FITS: big-endian int16 = uint16 - 32768; back to the camera's little-endian uint16.
    out = bytearray(len(raw))
    for i in range(0, len(raw), 2):
        value = ((raw[i] << 8) | raw[i + 1]) ^ 0x8000
        out[i], out[i + 1] = value & 0xFF, value >> 8
    return out.hex()


def _make_class() -> type:
    import PyIndi

    class BenchClient(ClientLifetime, PyIndi.BaseClient):
        """Records defs, sets and BLOBs with their arrival times; see the module docstring.

        Ends with close() (or `with`): it waits for libindi's thread, see ClientLifetime."""

        def __init__(self, *, fingerprint_blobs: bool = True) -> None:
            super().__init__()
            self._lifetime_start()
            self._cond = threading.Condition()
            self.seen: list[Seen] = []
            self.blobs: list[BlobSeen] = []
            self.fingerprint_blobs = fingerprint_blobs
            self.connected = threading.Event()
            self.pings: dict[str, float] = {}
            self.messages: list[MessageSeen] = []

        @classmethod
        def connect_to(cls, port: int, *, timeout_s: float = 5, host: str = LOOPBACK,
                       **kw: Any) -> BenchClient:
            """Connect over TCP to 127.0.0.1:port, or to indiserver's unix socket with
            host="localhost:<path>" (libindi's spelling; BLOBs then arrive as shared memory)."""
            client = cls(**kw)
            client.setServer(host, port)
            if not client.connectServer():
                raise RuntimeError(f"cannot connect to indiserver on port {port}")
            if not client.connected.wait(timeout_s):
                client.close()
                raise RuntimeError("no serverConnected callback")
            return client

        def __enter__(self) -> BenchClient:
            return self

        def __exit__(self, *exc: object) -> None:
            self.close()

        # --- libindi thread -------------------------------------------------------------
        def _note(self, event: str, prop: Any) -> None:
            t = time.monotonic()
            if not self._callback():
                return
            kind = prop.getType()
            if kind == PyIndi.INDI_BLOB:
                if event == "set":
                    self._note_blob(t, prop)
                return
            numbers: dict[str, float] = {}
            if kind == PyIndi.INDI_NUMBER:
                numbers = {w.getName(): w.getValue() for w in PyIndi.PropertyNumber(prop)}
            item = Seen(t, event, prop.getDeviceName(), prop.getName(), prop.getStateAsString(),
                        numbers)
            with self._cond:
                self.seen.append(item)
                self._cond.notify_all()

        def _note_blob(self, t: float, prop: Any) -> None:
            for w in PyIndi.PropertyBlob(prop):
                if w.getSize() <= 0:
                    continue
                fp = ""
                if self.fingerprint_blobs and w.getBlobLen() > 0:
                    fp = fits_fingerprint(w.getblobdata())
                item = BlobSeen(t, prop.getDeviceName(), w.getName(), w.getSize(),
                                w.getBlobLen(), w.getFormat(), fp)
                with self._cond:
                    self.blobs.append(item)
                    self._cond.notify_all()

        def newProperty(self, prop: Any) -> None:
            self._note("def", prop)

        def updateProperty(self, prop: Any) -> None:
            self._note("set", prop)

        def newMessage(self, device: Any, message_id: int) -> None:
            t = time.monotonic()
            if not self._callback():
                return
            item = MessageSeen(t, device.getDeviceName(), device.messageQueue(message_id))
            with self._cond:
                self.messages.append(item)
                self._cond.notify_all()

        def newPingReply(self, uid: str) -> None:
            t = time.monotonic()
            if not self._callback():
                return
            with self._cond:
                self.pings[uid] = t
                self._cond.notify_all()

        def serverConnected(self) -> None:
            self.connected.set()

        def serverDisconnected(self, code: int) -> None:
            self.connected.clear()

        # --- harness thread -------------------------------------------------------------
        def wait_for(self, predicate: Callable[[], Any], timeout_s: float, what: str) -> Any:
            """Block until predicate() (called under the lock) is truthy; RuntimeError at the deadline."""
            deadline = time.monotonic() + timeout_s
            with waiting(what), self._cond:
                while not (value := predicate()):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise RuntimeError(f"timed out after {timeout_s:g} s waiting for {what}")
                    self._cond.wait(left)
                return value

        def find(self, device: str, name: str, *, event: str | None = None,
                 state: str | None = None, since: int = 0) -> Seen | None:
            """First matching def/set from index `since` (call under wait_for or accept a race)."""
            for item in self.seen[since:]:
                if (item.device == device and item.name == name
                        and (event is None or item.event == event)
                        and (state is None or item.state == state)):
                    return item
            return None

        def wait_seen(self, device: str, name: str, *, event: str | None = None,
                      state: str | None = None, since: int = 0, timeout_s: float = 10) -> Seen:
            return self.wait_for(lambda: self.find(device, name, event=event, state=state,
                                                   since=since),
                                 timeout_s, f"{device}.{name} {event or ''} {state or ''}")

        def mark(self) -> int:
            with self._cond:
                return len(self.seen)

        def blob_mark(self) -> int:
            with self._cond:
                return len(self.blobs)

        def wait_blob(self, since: int, timeout_s: float) -> BlobSeen:
            """The first BLOB recorded at index >= since."""
            return self.wait_for(lambda: self.blobs[since] if len(self.blobs) > since else None,
                                 timeout_s, "a BLOB")

        def device(self, name: str, timeout_s: float = 10) -> Any:
            deadline = time.monotonic() + timeout_s
            with waiting(f"device {name} at the client"):
                while not (dev := self.getDevice(name)):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"device {name} never appeared")
                    time.sleep(0.01)
            return dev

        def send_number(self, device: str, name: str, values: Mapping[str, float]) -> float:
            """Send newNumberVector; returns the monotonic time just before the send."""
            prop = self._prop(device, name, "getNumber")
            for w in PyIndi.PropertyNumber(prop):
                if w.getName() in values:
                    w.setValue(float(values[w.getName()]))
            t = time.monotonic()
            self.sendNewNumber(prop)
            return t

        def send_switch(self, device: str, name: str, on: set[str] | list[str]) -> float:
            """Send newSwitchVector with members in `on` On, the others Off."""
            prop = self._prop(device, name, "getSwitch")
            for w in PyIndi.PropertySwitch(prop):
                w.setState(PyIndi.ISS_ON if w.getName() in on else PyIndi.ISS_OFF)
            t = time.monotonic()
            self.sendNewSwitch(prop)
            return t

        def send_text(self, device: str, name: str, values: Mapping[str, str]) -> float:
            prop = self._prop(device, name, "getText")
            for w in PyIndi.PropertyText(prop):
                if w.getName() in values:
                    w.setText(values[w.getName()])
            t = time.monotonic()
            self.sendNewText(prop)
            return t

        def has(self, device: str, name: str) -> bool:
            dev = self.getDevice(device)
            return bool(dev) and bool(dev.getProperty(name))

        def _prop(self, device: str, name: str, getter: str, timeout_s: float = 10) -> Any:
            dev = self.device(device, timeout_s)
            deadline = time.monotonic() + timeout_s
            with waiting(f"{device}.{name} to be defined"):
                while not (prop := getattr(dev, getter)(name)):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{device}.{name} never defined")
                    time.sleep(0.01)
            return prop

        def ping(self, uid: str, timeout_s: float = 5) -> float:
            """Round trip of a pingRequest answered by indiserver itself (no driver involved)."""
            t0 = time.monotonic()
            self.sendPingRequest(uid)
            return self.wait_for(lambda: self.pings.get(uid), timeout_s, f"pingReply {uid}") - t0

        def enable_blobs(self, device: str, name: str | None = None) -> None:
            self.setBLOBMode(PyIndi.B_ALSO, device, name)

        def set_blobs(self, device: str, name: str | None, on: bool) -> None:
            """enableBLOB Also (on) or Never (off) for `device`/`name`."""
            self.setBLOBMode(PyIndi.B_ALSO if on else PyIndi.B_NEVER, device, name)

        def connection_defined(self, device: str, timeout_s: float) -> Any:
            """The device once its CONNECTION vector is defined here (its def callback came).

            Not getDevice() alone: libindi lists a device before it has built the vector of
            the def that created it, and its connectDevice() silently sends nothing while the
            device has no CONNECTION (B9 timed out that way under load, waiting for an answer
            to a CONNECT that was never sent)."""
            self.wait_seen(device, "CONNECTION", event="def", timeout_s=timeout_s)
            return self.device(device, timeout_s)

        def disconnect_device_and_wait(self, device: str, timeout_s: float = 30) -> None:
            """DISCONNECT and wait for CONNECTION to say so (any state but Busy)."""
            dev = self.connection_defined(device, timeout_s)
            if not dev.isConnected():
                return
            since = self.mark()
            self.send_switch(device, "CONNECTION", {"DISCONNECT"})
            self.wait_for(lambda: any(
                s.device == device and s.name == "CONNECTION" and s.event == "set"
                and s.state != "Busy" for s in self.seen[since:]), timeout_s,
                f"{device} disconnected")

        def connect_device_and_wait(self, device: str, timeout_s: float = 30) -> None:
            """CONNECT and wait for CONNECTION Ok (or return at once if already connected).

            CONNECTION Alert ends the wait at once: DeviceRefused with the driver's message."""
            dev = self.connection_defined(device, timeout_s)
            if dev.isConnected():
                return
            since, said = self.mark(), len(self.messages)
            self.send_switch(device, "CONNECTION", {"CONNECT"})
            try:
                answer = self.wait_for(lambda: next(
                    (s for s in self.seen[since:] if s.device == device and s.name == "CONNECTION"
                     and s.event == "set" and s.state in ("Ok", "Alert")), None),
                    timeout_s, f"{device}.CONNECTION set Ok")
            except RuntimeError as exc:  # say whether the driver answered at all
                with self._cond:
                    states = [s.state for s in self.seen[since:]
                              if s.device == device and s.name == "CONNECTION"]
                raise RuntimeError(f"{exc} (CONNECTION since the CONNECT: "
                                   f"{', '.join(states) or 'no answer'})") from None
            if answer.state == "Alert":
                raise DeviceRefused(f"{device} refused CONNECT (CONNECTION Alert): "
                                    f"{self.message_after(device, said)}")

        def message_after(self, device: str, since: int) -> str:
            """The first message `device` sent from index `since` (waiting briefly), or a note."""
            deadline = time.monotonic() + ALERT_MESSAGE_WAIT_S
            with self._cond:
                while True:
                    found = [m.text for m in self.messages[since:] if m.device == device]
                    left = deadline - time.monotonic()
                    if found or left <= 0:
                        return found[0] if found else "the driver sent no message with it"
                    self._cond.wait(left)

    return BenchClient


_classes: list[type] = []


def bench_client_class() -> type:
    """BenchClient, built on first use so that importing this module needs no PyIndi."""
    if not _classes:
        _classes.append(_make_class())
    return _classes[0]
