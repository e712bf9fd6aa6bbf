"""B5, responsiveness while frames stream: the driver loop's timer lateness; getProperties.

The driver runs with INDI_SEESTAR_LOOP_PROBE_MS=10 (indi_seestar/loop_probe.py): a 10 ms
periodic asyncio timer inside its event loop logs, once a second, the largest lateness of its
ticks in that second; the lines reach indiserver's stderr, which we read.

While a client streams frames as in B1 (exposures back to back, in a thread), another client, a
plain socket on indiserver's unix socket with no BLOBs enabled, sends `getProperties` (all
devices) now and then on a fresh connection, and we time until every def*Vector the driver
defines at idle (counted beforehand) has arrived.

* max_stall_ms: the per-second worst lateness over the streaming window (median, p95, max; the
  goal is on the max, "the largest delay");
* getproperties_ms: the getProperties times while streaming (goal on the p95);
* idle_*: the same without frames, for comparison.
With pinning (the default, as in B1) the driver runs alone on the last CPU and the fake,
indiserver and the clients on the others; "shared" repeats the run with no pinning, everything
competing for the two CPUs.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from indi_seestar.indi.wire import Snooped, XmlStreamDecoder

from .rig import OursRig
from .stats import summary

PROBE_ENV = {"INDI_SEESTAR_LOOP_PROBE_MS": "10"}
PROBE_LINE = re.compile(r"loop-probe t=(\S+) ticks=(\d+) worst_ms=(\S+)")
QUIET_S = 0.5


def getproperties(path: str, expected: int | None, timeout_s: float = 10.0) -> tuple[float, int]:
    """(seconds until `expected` def*Vector arrived, count); expected None: count until quiet."""
    decoder = XmlStreamDecoder()
    count = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect("\0" + path)  # indiserver 1.9.9 listens in the abstract namespace
        sock.settimeout(QUIET_S if expected is None else timeout_s)
        t0 = time.monotonic()
        sock.sendall(b'<getProperties version="1.7"/>\n')
        t_last = t0
        while expected is None or count < expected:
            try:
                data = sock.recv(1 << 16)
            except TimeoutError:
                if expected is None:
                    break
                raise
            if not data:
                break
            for msg in decoder.feed(data):
                if isinstance(msg, Snooped) and msg.tag.startswith("def"):
                    count += 1
                    t_last = time.monotonic()
    return t_last - t0, count


def probe_windows(lines: list[str], t0: float, t1: float) -> list[float]:
    """Worst lateness (ms) of the probe windows that ended within [t0, t1]."""
    out = []
    for line in lines:
        m = PROBE_LINE.search(line)
        if m and t0 <= float(m.group(1)) <= t1:
            out.append(float(m.group(3)))
    return out


def _extra_env() -> dict[str, str]:
    import os
    return {k: v for k, v in os.environ.items() if k.startswith("INDI_SEESTAR_")}


def _stats(samples: list[float]) -> dict[str, Any]:
    s = summary(samples)
    s["max"] = round(max(samples), 3) if samples else None
    return s


def run(*, getprops: int, stream_s: float, pin: bool = True,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    """The B5 section of results.json."""
    notes: list[str] = []
    with OursRig.start(env={**PROBE_ENV, **_extra_env()}, pin_driver=pin) as rig:
        rig.connect_all()
        path = str(rig.server.workdir / "indiserver.sock")
        time.sleep(1.0)
        _, expected = getproperties(path, None)
        t_idle = time.monotonic()
        idle_gp = [getproperties(path, expected)[0] for _ in range(getprops)]
        time.sleep(max(0.0, 2.2 - (time.monotonic() - t_idle)))
        idle_stall = probe_windows(rig.stderr_lines(), t_idle, time.monotonic())
        streaming_gp: list[float] = []
        frames = 0
        stall: list[float] = []
        if rig.has_camera():
            exposure_s = rig.enable_blobs()
            stop = threading.Event()
            errors: list[BaseException] = []

            def pump() -> None:
                nonlocal frames
                try:
                    while not stop.is_set():
                        rig.expose(1, exposure_s)
                        frames += 1
                except BaseException as exc:  # reported below
                    errors.append(exc)

            thread = threading.Thread(target=pump, name="b5-frames", daemon=True)
            thread.start()
            time.sleep(1.0)  # into steady streaming
            t0 = time.monotonic()
            gap = stream_s / max(1, getprops)
            for _ in range(getprops):
                t_next = time.monotonic() + gap
                streaming_gp.append(getproperties(path, expected)[0])
                time.sleep(max(0.0, t_next - time.monotonic()))
            t1 = time.monotonic()
            stop.set()
            thread.join(30)
            if errors:
                raise errors[0]
            time.sleep(1.2)  # the last probe window is logged
            stall = probe_windows(rig.stderr_lines(), t0 + 1.0, t1)
            if not stall:  # the driver's loop probe logs one window a second
                notes.append(f"no loop-probe window fell inside the {t1 - t0 - 1.0:.1f} s of "
                             "streaming measured: max_stall_ms has no samples")
            fps = frames / (t1 - t0 + 1.0)
            log(f"B5: {frames} frames ({fps:.1f}/s), worst stall {max(stall, default=0):.1f} ms, "
                f"getProperties {summary(streaming_gp, 1000.0)} ms")
        else:
            notes.append("the camera defines no CCD_EXPOSURE yet: measured idle only")
            log("B5: no camera; idle figures only")
    return {
        "max_stall_ms": _stats(stall),
        "getproperties_ms": _stats([x * 1000.0 for x in streaming_gp]),
        "idle_max_stall_ms": _stats(idle_stall),
        "idle_getproperties_ms": _stats([x * 1000.0 for x in idle_gp]),
        "defs_per_getproperties": expected,
        "frames_streamed": frames,
        "notes": notes,
        "method": (__doc__ or "").split("\n\n")[0].strip(),
    }


def run_both(*, getprops: int, stream_s: float, pin: bool,
             log: Callable[[str], None] = print) -> dict[str, Any]:
    """Headline with the driver alone on a CPU (as B1); also "shared": no pinning at all."""
    out = run(getprops=getprops, stream_s=stream_s, pin=pin, log=log)
    out["pinned"] = pin
    if pin:
        out["shared"] = run(getprops=getprops, stream_s=stream_s, pin=False, log=log)
    return out
