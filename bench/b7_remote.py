"""B7, a frame to a remote client (Ekos on a laptop, indiserver on a Pi): raw vs `.fits.fz`.

Set-up: the fake in its own process rendering realistic frames (not `--fast-frames`: the
renderer's full model, read and shot noise drawn per pixel as a real sensor's, which is what
decides how well a frame compresses), time factor TIME_FACTOR so that a 10 s sub (the
Seestar's own sub length) takes 10 / TIME_FACTOR s of wall time with a 10 s sky in it;
indiserver's TCP port, reached through a byte-counting loopback relay (so the bytes are the
ones on the wire: base64 plus the XML around it, as a remote client gets them); the client is
pyindi-client. Each round takes `frames` exposures with CCD_COMPRESSION Disabled and `frames`
with it Enabled, in alternating order from round to round.

Per mode: wire bytes per frame (indiserver -> client), request -> BLOB latency on loopback,
driver CPU per frame (user+sys, psutil, all threads) and indiserver CPU per frame. The
compression's own CPU is the per-round difference of driver CPU per frame, Enabled minus
Disabled. `link_50mbit` turns the measured bytes into transfer times on a 50 Mbit/s link
(a good home WiFi for one client), the time saved per frame, and the saving net of the
driver's extra CPU time (a Pi 4 is about 4x slower than this machine: its figure is also given).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .procs import CAMERA, cpu_times
from .rig import OursRig, expose_once
from .stats import summary

#: The Seestar's own sub length (s) and the fake's time factor (a 10 s sky in 0.5 s).
EXPOSURE_S = 10.0
TIME_FACTOR = 20.0
LINK_BITS_PER_S = 50e6
#: How much slower a Raspberry Pi 4 runs the driver than this machine (issue 13's estimate).
PI4_SLOWDOWN = 4.0
MODES = ("raw", "compressed")


class CountingRelay:
    """A loopback TCP relay to `port` counting the bytes sent towards the client."""

    def __init__(self, port: int) -> None:
        self._target = port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._to_client = 0
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = [self._listener]
        self._start(self._accept)

    @property
    def to_client_bytes(self) -> int:
        """Bytes relayed from the server to the client so far."""
        with self._lock:
            return self._to_client

    def close(self) -> None:
        """Close every socket (the pump threads then end)."""
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _start(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self._listener.accept()
                server = socket.create_connection(("127.0.0.1", self._target))
                self._sockets += [client, server]
                self._start(self._pump, client, server, False)
                self._start(self._pump, server, client, True)

    def _pump(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        with contextlib.suppress(OSError):
            while (n := src.recv_into(buf)) > 0:
                dst.sendall(view[:n])
                if count:
                    with self._lock:
                        self._to_client += n
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def relayed_rig() -> Iterator[tuple[OursRig, CountingRelay]]:
    """OursRig with realistic frames and its client on the TCP port through a CountingRelay."""
    relay: CountingRelay | None = None

    def via_relay(port: int) -> int:
        nonlocal relay
        relay = CountingRelay(port)
        return relay.port

    try:
        with OursRig.start(transport="tcp", time_factor=TIME_FACTOR, realistic_frames=True,
                           client_port=via_relay) as rig:
            assert relay is not None
            yield rig, relay
    finally:
        if relay is not None:
            relay.close()


def _set_compression(rig: OursRig, enabled: bool) -> None:
    client = rig.client
    mark = client.mark()
    client.send_switch(CAMERA, "CCD_COMPRESSION", ["INDI_ENABLED" if enabled else "INDI_DISABLED"])
    client.wait_seen(CAMERA, "CCD_COMPRESSION", event="set", since=mark)


def _measure(rig: OursRig, relay: CountingRelay, frames: int,
             indiserver_pid: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"bytes": [], "latency_s": [], "blob_bytes": []}
    cpu0, srv0 = cpu_times(rig.driver_pid), cpu_times(indiserver_pid)
    for _ in range(frames):
        sent = relay.to_client_bytes
        t_req, blob = expose_once(rig.client, CAMERA, EXPOSURE_S)
        out["latency_s"].append(blob.t - t_req)
        out["bytes"].append(relay.to_client_bytes - sent)
        out["blob_bytes"].append(blob.bloblen)
    out["cpu_s"] = [(cpu_times(rig.driver_pid) - cpu0) / frames]
    out["server_cpu_s"] = [(cpu_times(indiserver_pid) - srv0) / frames]
    return out


def run(*, rounds: int, frames: int, log: Callable[[str], None]) -> dict[str, Any]:
    """B7 section: per mode wire bytes, latency and CPU per frame; ratios; the 50 Mbit/s link."""
    per: dict[str, dict[str, list[float]]] = {m: {} for m in MODES}
    cpu_extra: list[float] = []
    with relayed_rig() as (rig, relay):
        rig.connect_all()
        rig.enable_blobs()
        server_pid = rig.server.process.pid
        for enabled in (False, True):  # warm-up: the preview length, astropy's first import
            _set_compression(rig, enabled)
            expose_once(rig.client, CAMERA, EXPOSURE_S)
        for r in range(rounds):
            order = MODES if r % 2 == 0 else MODES[::-1]
            cpu_round = {}
            for mode in order:
                _set_compression(rig, mode == "compressed")
                expose_once(rig.client, CAMERA, EXPOSURE_S)  # the mode's first frame uncounted
                got = _measure(rig, relay, frames, server_pid)
                for key, values in got.items():
                    per[mode].setdefault(key, []).extend(values)
                cpu_round[mode] = got["cpu_s"][0]
            cpu_extra.append(cpu_round["compressed"] - cpu_round["raw"])
            log(f"B7: round {r + 1}/{rounds}: raw {cpu_round['raw'] * 1e3:.1f} ms, "
                f"compressed {cpu_round['compressed'] * 1e3:.1f} ms driver CPU per frame")
    return _summarise(per, cpu_extra)


def _median(values: list[float]) -> float:
    return float(summary(values, digits=6)["median"])


def _summarise(per: dict[str, dict[str, list[float]]], cpu_extra: list[float]) -> dict[str, Any]:
    out: dict[str, Any] = {"exposure_s": EXPOSURE_S, "time_factor": TIME_FACTOR}
    for mode in MODES:
        m = per[mode]
        out[mode] = {"wire_bytes": summary(m["bytes"], digits=0),
                     "blob_bytes": summary(m["blob_bytes"], digits=0),
                     "request_to_blob_s": summary(m["latency_s"]),
                     "driver_cpu_per_frame_ms": summary(m["cpu_s"], scale=1e3, digits=1),
                     "indiserver_cpu_per_frame_ms": summary(m["server_cpu_s"], scale=1e3,
                                                            digits=1)}
    raw_b, fz_b = _median(per["raw"]["bytes"]), _median(per["compressed"]["bytes"])
    extra_s = _median(cpu_extra)
    raw_s, fz_s = raw_b * 8 / LINK_BITS_PER_S, fz_b * 8 / LINK_BITS_PER_S
    out["wire_bytes_ratio"] = round(fz_b / raw_b, 3)
    out["compression_cpu_ms"] = summary(cpu_extra, scale=1e3, digits=1)
    out["link_50mbit"] = {
        "raw_transfer_s": round(raw_s, 3), "compressed_transfer_s": round(fz_s, 3),
        "saved_s": round(raw_s - fz_s, 3), "saved_ratio": round(1 - fz_s / raw_s, 3),
        "saved_net_of_cpu_s": round(raw_s - fz_s - extra_s, 3),
        "saved_net_of_cpu_pi4_s": round(raw_s - fz_s - PI4_SLOWDOWN * extra_s, 3)}
    return out
