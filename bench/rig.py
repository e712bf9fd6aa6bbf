"""Our driver under indiserver against the fake in its own process, with a benchmark client.

`OursRig.start(...)` (a context manager) brings up: a Stage (scratch dir, isolated HOME),
`indi_seestar_sim` (optionally with `--trace`), indiserver running `indi_seestar` configured for
that fake, and a BenchClient on indiserver's unix socket (or 127.0.0.1). `expose()` drives the
camera as hard as a client can: CCD_EXPOSURE at its minimum, each new exposure sent when the
previous BLOB has arrived and the exposure has ended.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .client import BlobSeen, bench_client_class
from .procs import CAMERA, DEVICES, DRIVER, SimProcess, Stage, find_driver, pin

BLOB_TIMEOUT_S = 60.0
#: The driver's seestar.readout_margin_s against the fake on loopback: a bound on the time from
#: the end of an exposure to the first byte of its frame (with --fast-frames the fake renders a
#: frame in ~1 ms and sends it at once, behind at most the frame it is sending, ~2-5 ms; a
#: real Seestar needs the default 0.5 s). Each
#: exposure waits for a frame whose first byte comes at least exposure + margin after the
#: request, so this bounds the request-response frame rate: it is not part of the frame path.
READOUT_MARGIN_S = 0.01


def cpu_split() -> tuple[list[int], list[int]] | None:
    """(CPUs for the measured process, CPUs for everything else), or None with one CPU."""
    cpus = sorted(os.sched_getaffinity(0))
    return ([cpus[-1]], cpus[:-1]) if len(cpus) >= 2 else None


def client_host(server: Any, transport: str) -> str:
    """The pyindi-client host string for a transport: "unix" or "tcp" (127.0.0.1)."""
    return f"localhost:{server.workdir / 'indiserver.sock'}" if transport == "unix" else "127.0.0.1"


def exposure_done(client: Any, device: str, since: int) -> bool:
    """Whether CCD_EXPOSURE of `device` ended (Ok, Idle or Alert) after index `since`."""
    return any(s.device == device and s.name == "CCD_EXPOSURE" and s.event == "set"
               and s.state in ("Ok", "Idle", "Alert") for s in client.seen[since:])


def expose_once(client: Any, device: str, exposure_s: float) -> tuple[float, BlobSeen]:
    """One exposure: (request time, the BLOB), returning once the exposure has ended."""
    mark, seen = client.blob_mark(), client.mark()
    t_req = client.send_number(device, "CCD_EXPOSURE", {"CCD_EXPOSURE_VALUE": exposure_s})
    blob = client.wait_for(
        lambda: next((b for b in client.blobs[mark:] if b.device == device), None),
        BLOB_TIMEOUT_S, f"a BLOB from {device}")
    # libindi CCDs send the BLOB, then CCD_EXPOSURE Ok: a request sent in between can be lost
    # (seen with indi_simulator_ccd), so the next exposure waits for this one's end.
    client.wait_for(lambda: exposure_done(client, device, seen), BLOB_TIMEOUT_S,
                    f"{device} CCD_EXPOSURE done")
    return t_req, blob


def min_exposure(client: Any, device: str) -> float:
    """The minimum of CCD_EXPOSURE_VALUE as the device defines it."""
    import PyIndi

    prop = client._prop(device, "CCD_EXPOSURE", "getNumber")
    return float(PyIndi.PropertyNumber(prop)[0].getMin())


def defines(client: Any, device: str, name: str, timeout_s: float = 5.0) -> bool:
    """Whether `device` defines `name` within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if client.has(device, name):
            return True
        time.sleep(0.05)
    return False


@dataclass
class OursRig:
    """See the module docstring."""

    stage: Stage
    sim: SimProcess
    server: Any
    client: Any
    driver_pid: int
    cpus: tuple[list[int], list[int]] | None = None  # (driver's, everything else's)

    def pin(self) -> None:
        """Re-pin every driver thread (threads started since inherit from their creator)."""
        if self.cpus is not None:
            pin(self.driver_pid, self.cpus[0])

    @classmethod
    @contextlib.contextmanager
    def start(cls, *, transport: str = "unix", trace: bool = False, time_factor: float = 1.0,
              env: Mapping[str, str] | None = None, fingerprint_blobs: bool = False,
              seestar: Mapping[str, Any] | None = None,
              pin_driver: bool = False, realistic_frames: bool = False,
              client_port: Callable[[int], int] | None = None) -> Iterator[OursRig]:
        """`pin_driver`: the driver alone on the last CPU, everything else on the others (as B1).

        `realistic_frames`: the fake renders every frame with its full noise model (not
        `--fast-frames`); `client_port(port)`: the port the client dials instead of
        indiserver's (a relay in front of it, B7).
        """
        split = cpu_split() if pin_driver else None
        if split is not None:
            os.sched_setaffinity(0, split[1])  # the harness and its client threads
        with Stage.make() as stage:
            path = stage.root / "trace.jsonl" if trace else None
            with SimProcess(time_factor=time_factor, trace=path, fast_frames=not realistic_frames,
                            cpus=split[1] if split else None) as sim:
                config = stage.driver_config(
                    sim, **{"readout_margin_s": READOUT_MARGIN_S, **(seestar or {})})
                server = stage.server(stage.env(config, **(env or {})))
                server.start([DRIVER])
                client = None
                try:
                    port = client_port(server.port) if client_port else server.port
                    client = bench_client_class().connect_to(
                        port, host=client_host(server, transport),
                        fingerprint_blobs=fingerprint_blobs)
                    for device in DEVICES:
                        client.device(device)
                    rig = cls(stage, sim, server, client, find_driver(server, DRIVER).pid, split)
                    if split is not None:
                        os.sched_setaffinity(server.process.pid, split[1])
                        rig.pin()
                    yield rig
                finally:
                    try:
                        if client is not None:  # waits for libindi's thread (ClientLifetime)
                            client.close()
                    finally:
                        server.stop()

    def connect_all(self, timeout_s: float = 60) -> None:
        """CONNECT the four devices and wait for each to be Ok."""
        for device in DEVICES:
            self.client.connect_device_and_wait(device, timeout_s=timeout_s)
        self.pin()

    def has_camera(self) -> bool:
        """Whether the camera can expose (CCD_EXPOSURE defined once connected)."""
        return defines(self.client, CAMERA, "CCD_EXPOSURE")

    def enable_blobs(self) -> float:
        """BLOBs of the camera to our client; returns the camera's minimum exposure."""
        self.client.enable_blobs(CAMERA, "CCD1")
        return min_exposure(self.client, CAMERA)

    def expose(self, frames: int, exposure_s: float,
               on_frame: Callable[[int], None] | None = None) -> list[tuple[float, BlobSeen]]:
        """`frames` exposures back to back; on_frame(i) after each."""
        out = []
        for i in range(frames):
            out.append(expose_once(self.client, CAMERA, exposure_s))
            if on_frame is not None:
                on_frame(i + 1)
        return out

    def stderr_lines(self) -> list[str]:
        """indiserver's stderr (the driver's log comes through it), decoded."""
        return [line.decode(errors="replace") for line in self.server.stderr_lines()]
