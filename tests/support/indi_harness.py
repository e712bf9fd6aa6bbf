"""Reusable INDI test support: deadlines, ports, indiserver, a recording libindi client, a probe.

- `until(pred, timeout_s)` / `until_async(...)`: poll a predicate against a deadline.
- `free_port()`: a free TCP port on 127.0.0.1.
- `write_driver_wrapper(...)`: an executable on a temporary PATH that indiserver can `execlp`.
- `IndiServer`: `indiserver` on a given port with a control FIFO (start/stop drivers), its
  stderr kept in a file, and its driver processes found with psutil.
- `RecordingClient`: a `PyIndi.BaseClient` (libindi's own parser, as KStars/PHD2 use) that records
  every def/set/del/message with state and values, in order, plus BLOB digests.
- `DeviceProbe`: devices attached to an in-memory outbox; feed INDI XML in, read parsed XML out,
  no threads or processes (for fast device tests on the asyncio loop).

Only 127.0.0.1 is used. Example:

    with IndiServer(free_port(), workdir=tmp_path, path_dirs=[bin_dir]) as server:
        server.start_driver("my_driver")
        client = RecordingClient.connected(server.port)
        client.wait(lambda u: u.name == "CONNECTION" and u.device == "Dev", timeout_s=5)
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import hashlib
import os
import shlex
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self, TypeVar

from indi_seestar.indi import encode
from indi_seestar.indi.device import Device
from indi_seestar.indi.driver import Driver
from indi_seestar.indi.model import Kind
from indi_seestar.indi.wire import Snooped, XmlStreamDecoder

from .client_lifetime import ClientLifetime

T = TypeVar("T")
LOOPBACK = "127.0.0.1"
#: BLOB payloads a RecordingClient keeps in memory (a 1080x1920 FITS is ~4 MB).
KEPT_BLOBS = 3


def _give_up_if_late(deadline: float, timeout_s: float, what: object) -> None:
    if time.monotonic() >= deadline:
        raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")


def until(
    predicate: Callable[[], T],
    timeout_s: float,
    *,
    interval_s: float = 0.005,
    what: str | None = None,
) -> T:
    """Poll `predicate` until it is truthy and return that; AssertionError at the deadline."""
    deadline = time.monotonic() + timeout_s
    while not (value := predicate()):
        _give_up_if_late(deadline, timeout_s, what or predicate)
        time.sleep(interval_s)
    return value


async def until_async(
    predicate: Callable[[], T],
    timeout_s: float,
    *,
    interval_s: float = 0.001,
    what: str | None = None,
) -> T:
    """until() for coroutines: yields to the loop between polls."""
    deadline = time.monotonic() + timeout_s
    while not (value := predicate()):
        _give_up_if_late(deadline, timeout_s, what or predicate)
        await asyncio.sleep(interval_s)
    return value


def exited(process: Any) -> bool:
    """True once a psutil.Process has ended (a zombie waiting for its parent counts)."""
    import psutil

    try:
        return bool(process.status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def recv_chunks(sock: socket.socket, size: int = 1 << 20) -> Iterator[bytes]:
    """What `sock` receives, chunk by chunk, until EOF or an error (the socket was closed)."""
    while True:
        try:
            data = sock.recv(size)
        except OSError:
            return
        if not data:
            return
        yield data


@contextlib.contextmanager
def driver_socketpair(send_buffer_bytes: int | None = None) -> Iterator[tuple[socket.socket, int]]:
    """(our socket, the driver's fd): one AF_UNIX socket as its stdin and stdout, as indiserver
    >= 1.9.7 gives it; `send_buffer_bytes` shrinks the driver's kernel send buffer."""
    ours, theirs = socket.socketpair()
    if send_buffer_bytes is not None:
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer_bytes)
    fd = os.dup(theirs.fileno())
    theirs.close()
    try:
        yield ours, fd
    finally:
        ours.close()
        with contextlib.suppress(OSError):
            os.close(fd)


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def write_driver_wrapper(
    bin_dir: Path, exec_name: str, script: Path, env: Mapping[str, str] | None = None
) -> Path:
    """Write `bin_dir/exec_name`, a shell wrapper running `script` with this Python and `env`."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
    path = bin_dir / exec_name
    path.write_text(
        "#!/bin/sh\n"
        f'exec env {assignments} {shlex.quote(sys.executable)} {shlex.quote(str(script))} "$@"\n'
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


class IndiServer:
    """A real `indiserver` on 127.0.0.1:<port>; drivers started and stopped through its FIFO."""

    def __init__(
        self,
        port: int,
        *,
        workdir: Path,
        path_dirs: Sequence[Path] = (),
        env: Mapping[str, str] | None = None,
        verbose: bool = False,
    ) -> None:
        self.port = port
        self.workdir = workdir
        self.fifo = workdir / "indiserver.fifo"
        self.stderr_path = workdir / "indiserver.stderr"
        self._path_dirs = list(path_dirs)
        self._env = dict(env or {})
        self._verbose = verbose
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, drivers: Sequence[str] = (), *, timeout_s: float = 10) -> None:
        """Start indiserver (no driver restarts) and wait until it accepts connections."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.fifo.exists():
            os.mkfifo(self.fifo)
        env = {**os.environ, **self._env}
        env["PATH"] = os.pathsep.join([*map(str, self._path_dirs), env.get("PATH", "")])
        args = [
            "indiserver",
            "-p",
            str(self.port),
            "-r",
            "0",
            "-m",
            "1000",
            "-u",
            str(self.workdir / "indiserver.sock"),
            "-f",
            str(self.fifo),
        ]
        args += ["-vv"] if self._verbose else []
        with open(self.stderr_path, "ab") as err:
            self.process = subprocess.Popen(
                [*args, *drivers],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=env,
            )
        until(self._accepts, timeout_s, interval_s=0.02, what=f"indiserver on port {self.port}")

    def command(self, line: str) -> None:
        """Write one FIFO command, e.g. `start indi_x` or `stop indi_x`."""
        with open(self.fifo, "w") as f:
            f.write(line.rstrip("\n") + "\n")

    def start_driver(self, exec_name: str) -> None:
        """Ask indiserver to start a driver found on its PATH."""
        self.command(f"start {exec_name}")

    def stop_driver(self, exec_name: str) -> None:
        """Ask indiserver to stop (SIGKILL) a driver it started."""
        self.command(f"stop {exec_name}")

    def driver_processes(self) -> list[Any]:
        """psutil.Process objects of the drivers indiserver is running now."""
        import psutil

        if self.process is None or self.process.poll() is not None:
            return []
        return psutil.Process(self.process.pid).children(recursive=True)

    def stderr_lines(self) -> list[bytes]:
        """Everything indiserver (and its drivers, through it) wrote to stderr, by line."""
        return self.stderr_path.read_bytes().splitlines() if self.stderr_path.exists() else []

    def kill(self) -> None:
        """SIGKILL indiserver (its drivers see EOF on stdin)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def stop(self) -> None:
        """Kill indiserver and any driver still running."""
        import psutil

        children = self.driver_processes()
        self.kill()
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()

    def _accepts(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(
                f"indiserver exited: {self.stderr_path.read_text(errors='replace')}"
            )
        return accepts(self.port)


def accepts(port: int) -> bool:
    """True when something accepts TCP connections on the loopback `port`."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class BlobInfo:
    """What a libindi client made of one BLOB element."""

    name: str
    format: str
    size: int  # the `size` attribute as the client reports it (getSize)
    bloblen: int  # libindi's decoded length (getBlobLen)
    data_len: int  # bytes actually handed to Python
    sha256: str


@dataclass(frozen=True)
class Update:
    """One thing the client saw: event is "def", "set", "del" or "message"."""

    event: str
    device: str
    name: str = ""
    state: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    t_monotonic: float = 0.0


def _snapshot(prop: Any, keep: Callable[[bytes], None] | None = None) -> tuple[str, dict[str, Any]]:
    """(kind, values) of a property; BLOB payloads are digested, and handed to `keep` if given."""
    import PyIndi

    kind = prop.getType()
    if kind == PyIndi.INDI_NUMBER:
        return "number", {w.getName(): w.getValue() for w in PyIndi.PropertyNumber(prop)}
    if kind == PyIndi.INDI_SWITCH:
        return "switch", {
            w.getName(): w.getState() == PyIndi.ISS_ON for w in PyIndi.PropertySwitch(prop)
        }
    if kind == PyIndi.INDI_TEXT:
        return "text", {w.getName(): w.getText() for w in PyIndi.PropertyText(prop)}
    if kind == PyIndi.INDI_LIGHT:
        return "light", {w.getName(): w.getStateAsString() for w in PyIndi.PropertyLight(prop)}
    values: dict[str, Any] = {}
    for w in PyIndi.PropertyBlob(prop):
        data = bytes(w.getblobdata()) if w.getBlobLen() > 0 else b""
        if keep is not None and data:
            keep(data)
        values[w.getName()] = BlobInfo(
            w.getName(),
            w.getFormat(),
            w.getSize(),
            w.getBlobLen(),
            len(data),
            hashlib.sha256(data).hexdigest(),
        )
    return "blob", values


def _make_recording_client_class() -> type:
    import PyIndi

    class RecordingClient(ClientLifetime, PyIndi.BaseClient):
        """A libindi client that records every update; callbacks run on libindi's thread.

        Ends with close(): it waits for libindi's thread (see ClientLifetime)."""

        def __init__(self) -> None:
            super().__init__()
            self._lifetime_start()
            self._lock = threading.Lock()
            self._updates: list[Update] = []
            self.server_connected = threading.Event()
            #: Raw payloads of the last few BLOBs, oldest first (tests open them with astropy).
            self.kept_blobs: collections.deque[bytes] = collections.deque(maxlen=KEPT_BLOBS)

        @classmethod
        def connected(cls, port: int, *, timeout_s: float = 5) -> RecordingClient:
            """A client connected to indiserver on 127.0.0.1:port."""
            client = cls()
            client.setServer(LOOPBACK, port)
            if not client.connectServer():
                raise AssertionError(f"cannot connect to indiserver on port {port}")
            until(client.server_connected.is_set, timeout_s, what="serverConnected")
            return client

        # --- recording (libindi thread) ---
        def _record(self, event: str, prop: Any = None, **kw: Any) -> None:
            if not self._callback():
                return
            if prop is not None:
                _kind, values = (_snapshot(prop, self._keep_blob) if event != "del"
                                 else ("", {}))
                kw.update(
                    device=prop.getDeviceName(),
                    name=prop.getName(),
                    state=prop.getStateAsString(),
                    values=values,
                )
            with self._lock:
                self._updates.append(Update(event, t_monotonic=time.monotonic(), **kw))

        def _keep_blob(self, data: bytes) -> None:
            with self._lock:
                self.kept_blobs.append(data)

        def last_blobs(self, count: int = 1) -> list[bytes]:
            """The raw payloads of the last `count` BLOBs received (at most KEPT_BLOBS)."""
            with self._lock:
                return list(self.kept_blobs)[-count:]

        def newProperty(self, prop: Any) -> None:
            self._record("def", prop)

        def updateProperty(self, prop: Any) -> None:
            self._record("set", prop)

        def removeProperty(self, prop: Any) -> None:
            self._record("del", prop)

        def newMessage(self, device: Any, message_id: int) -> None:
            self._record(
                "message", device=device.getDeviceName(), message=device.messageQueue(message_id)
            )

        def removeDevice(self, device: Any) -> None:
            self._record("del", device=device.getDeviceName())

        def serverConnected(self) -> None:
            self.server_connected.set()

        def serverDisconnected(self, code: int) -> None:
            self.server_connected.clear()

        # --- reading (test thread) ---
        def updates(
            self,
            device: str | None = None,
            name: str | None = None,
            event: str | None = None,
            since: int = 0,
        ) -> list[Update]:
            """Recorded updates from index `since`, filtered."""
            with self._lock:
                items = self._updates[since:]
            return [
                u
                for u in items
                if (device is None or u.device == device)
                and (name is None or u.name == name)
                and (event is None or u.event == event)
            ]

        def mark(self) -> int:
            """Index to pass as `since` to see only what comes after now."""
            with self._lock:
                return len(self._updates)

        def wait(
            self, predicate: Callable[[Update], bool], *, timeout_s: float, since: int = 0
        ) -> Update:
            """The first update from `since` on that satisfies `predicate`, waiting for it."""

            def found() -> Update | None:
                return next((u for u in self.updates(since=since) if predicate(u)), None)

            return until(found, timeout_s, what="a matching INDI update")

        def until(self, predicate: Callable[[], T], timeout_s: float) -> T:
            """Module until(), for symmetry."""
            return until(predicate, timeout_s)

        # --- sending (test thread) ---
        # These change libindi's own copy of the property, which its thread also updates from
        # the driver's replies: wait for the reply to one send before sending that property again.
        def _device(self, device: str) -> Any:
            return until(lambda: self.getDevice(device), 5, what=f"device {device}")

        def connect_device(self, device: str, *, timeout_s: float = 10) -> Update:
            """Wait for `device`, send CONNECT unless connected, wait for Ok with CONNECT On.

            (libindi's connectDevice sends nothing when its copy already shows CONNECT On.)
            """
            since = self.mark()
            self.wait(lambda u: u.device == device and u.name == "CONNECTION", timeout_s=timeout_s)
            current = self.updates(device, "CONNECTION")[-1]
            if current.state == "Ok" and current.values.get("CONNECT"):
                return current
            self.connectDevice(device)
            return self.wait(
                lambda u: (
                    u.device == device
                    and u.name == "CONNECTION"
                    and u.event == "set"
                    and u.state == "Ok"
                    and u.values["CONNECT"]
                ),
                timeout_s=timeout_s,
                since=since,
            )

        def send_switch(self, device: str, name: str, on: Iterable[str]) -> None:
            """Send switch `name` with the members in `on` On and the others Off."""
            import PyIndi

            prop = until(lambda: self._device(device).getSwitch(name), 5, what=name)
            wanted = set(on)
            for w in PyIndi.PropertySwitch(prop):
                w.setState(PyIndi.ISS_ON if w.getName() in wanted else PyIndi.ISS_OFF)
            self.sendNewSwitch(prop)

        def send_number(self, device: str, name: str, values: Mapping[str, float]) -> None:
            """Send number `name` with `values` changed (other members as the client has them)."""
            import PyIndi

            prop = until(lambda: self._device(device).getNumber(name), 5, what=name)
            for w in PyIndi.PropertyNumber(prop):
                if w.getName() in values:
                    w.setValue(float(values[w.getName()]))
            self.sendNewNumber(prop)

        def send_text(self, device: str, name: str, values: Mapping[str, str]) -> None:
            """Send text `name` with `values` changed."""
            import PyIndi

            prop = until(lambda: self._device(device).getText(name), 5, what=name)
            for w in PyIndi.PropertyText(prop):
                if w.getName() in values:
                    w.setText(values[w.getName()])
            self.sendNewText(prop)

    return RecordingClient


_client_class: list[type] = []


def recording_client_class() -> type:
    """The RecordingClient class (built on first use: importing this module needs no PyIndi)."""
    if not _client_class:
        _client_class.append(_make_recording_client_class())
    return _client_class[0]


class MemoryOutbox:
    """An Outbox keeping everything in memory; BLOBs encoded at once (same code as the writer)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def send(self, data: bytes) -> None:
        self.data += data

    def send_blob(
        self, prefix: bytes, parts: Sequence[Any], suffix: bytes
    ) -> concurrent.futures.Future[None]:
        self.data += prefix + b"".join(encode.iter_base64(parts)) + suffix
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        done.set_result(None)
        return done


class DeviceProbe:
    """Devices wired to a MemoryOutbox: send client XML in, read the driver's XML back parsed."""

    def __init__(self, *devices: Device) -> None:
        self.outbox = MemoryOutbox()
        self.driver = Driver(devices, input_fd=-1, output_fd=-1)  # never run: used for routing only
        for device in devices:
            device.attach(self.outbox)
        self._in = XmlStreamDecoder()
        self._out = XmlStreamDecoder()
        self._read = 0
        self.output: list[Any] = []

    def send(self, xml: str | bytes) -> None:
        """Decode `xml` as indiserver would deliver it and dispatch it to the devices."""
        for message in self._in.feed(xml.encode() if isinstance(xml, str) else xml):
            self.driver.dispatch(message)

    def new(self, kind: Kind, device: str, name: str, values: Mapping[str, str]) -> None:
        """Send a client newXVector."""
        self.send(encode.new_vector(kind, device, name, values))

    def messages(self) -> list[Any]:
        """Everything the devices sent so far, parsed (Snooped items for def/set/del/message)."""
        new = bytes(self.outbox.data[self._read :])
        self._read = len(self.outbox.data)
        self.output += self._out.feed(new)
        return self.output

    def of(self, name: str, tag_prefix: str = "set", device: str | None = None) -> list[Snooped]:
        """Messages about property `name` whose tag starts with `tag_prefix` (set, def, del)."""
        return [
            m
            for m in self.messages()
            if isinstance(m, Snooped)
            and m.tag.startswith(tag_prefix)
            and m.name == name
            and (device is None or m.device == device)
        ]

    def texts(self, device: str | None = None) -> list[str]:
        """The `message` texts sent (from <message> elements and set* message attributes)."""
        return [
            m.attrs["message"]
            for m in self.messages()
            if isinstance(m, Snooped)
            and "message" in m.attrs
            and (device is None or m.device == device)
        ]
