"""B9, several Seestars on one indiserver: per-instance cost of 1, 2 and 4 instances.

One `indi_seestar_sim --count 4 --fast-frames` process serves four fakes (own ports, own
serial numbers). For each size n (in a rotating order per round) a fresh indiserver runs n
instances started through its FIFO as `start indi_seestar -n "Seestar B<i>"`, each configured
(YAML `scopes:`) for its own fake, with INDI_SEESTAR_LOOP_PROBE_MS=10. Each instance has its
own libindi client on indiserver's unix socket, connects its camera and streams previews:
CCD_EXPOSURE of EXPOSURE_S back to back, every BLOB received, for `stream_s` seconds, all
instances at once.

* cpu_per_frame_ms: driver CPU (user+sys, psutil) over the window / BLOBs it delivered, per
  instance; rss_mb: each driver's RSS at the end of the window;
* max_stall_ms: the largest lateness of the drivers' 10 ms loop timers in the window;
* ratio_*: per round, the mean per-instance figure at n over the one at n = 1 (measured one
  after the other in that round), summarised over rounds. Goal: <= 1.10 (flat within 10 %);
* pi4: the 4-instance total against an assumed Raspberry Pi 4 budget (BUDGET below).
Every wait has a deadline (`deadline_s` for the whole section): past it, TimeoutError naming
what was awaited.
"""

from __future__ import annotations

import contextlib
import os
import re
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import yaml

from .client import bench_client_class
from .procs import DRIVER, SimProcess, Stage, cpu_times, rss_mb
from .rig import READOUT_MARGIN_S, client_host, expose_once
from .stats import summary

SIZES = (1, 2, 4)
#: A preview cadence a live view or a focus loop uses; the frame rate is then set by the
#: scope, not by how fast a client can ask.
EXPOSURE_S = 0.2
PROBE_ENV = {"INDI_SEESTAR_LOOP_PROBE_MS": "10"}
PROBE_LINE = re.compile(r"loop-probe t=(\S+) ticks=(\d+) worst_ms=(\S+)")
#: Assumed Raspberry Pi 4 (4 x Cortex-A72 1.5 GHz, 2 GB): the drivers of 4 scopes may take one
#: of its four cores and a quarter of its memory. A Pi 4 core is taken as 1/PI4_SLOWER of this
#: machine's (an assumption from published single-thread scores, not measured here).
BUDGET = {"pi4_cores": 1.0, "pi4_rss_mb": 512.0, "pi4_slower": 3.0}


def _name(i: int) -> str:
    return f"Seestar B{i + 1}"


class Deadline:
    """The section's time bound: `check(what)` raises TimeoutError naming `what` once past it."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def check(self, what: str) -> None:
        if self.left() <= 0:
            raise TimeoutError(f"B9: the {self.seconds:g} s deadline passed waiting for {what}")

    def until(self, predicate: Callable[[], Any], what: str, limit_s: float = 30.0) -> Any:
        stop = min(self.end, time.monotonic() + limit_s)
        while time.monotonic() < stop:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise TimeoutError(f"B9: timed out waiting for {what}")


def _config(stage: Stage, sim: SimProcess) -> Path:
    scopes = {_name(i): {"seestar": {"host": "127.0.0.1", "control_port": c, "image_port": im,
                                     "discovery_port": d}}
              for i, (c, im, d) in enumerate(sim.fakes)}
    data = {"log_level": "WARNING", "scopes": scopes,
            "seestar": {"discovery_address": "127.0.0.1", "time_factor": sim.time_factor,
                        "readout_margin_s": READOUT_MARGIN_S}}
    if os.environ.get("BENCH_BLOB_TRANSPORT"):
        data["indi"] = {"blob_transport": os.environ["BENCH_BLOB_TRANSPORT"]}
    path = stage.root / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _drivers(server: Any, names: list[str], deadline: Deadline) -> dict[str, int]:
    """INDIDEV name -> pid of the instances indiserver runs."""
    def found() -> dict[str, int] | None:
        out = {}
        for proc in server.driver_processes():
            with contextlib.suppress(psutil.Error):
                name = proc.environ().get("INDIDEV")
                if name in names:
                    out[name] = proc.pid
        return out if len(out) == len(names) else None

    return deadline.until(found, f"{len(names)} driver processes")


@contextlib.contextmanager
def _instances(n: int, sim: SimProcess, deadline: Deadline,
               log: Callable[[str], None] = print) -> Iterator[tuple[Any, dict, dict]]:
    """indiserver with n instances, a client per instance with its camera connected; logs
    how long each step took (from the start command: each Camera defined at its client; each
    CONNECT to CONNECTION Ok)."""
    names = [_name(i) for i in range(n)]
    with Stage.make("indi-seestar-b9-") as stage:
        env = stage.env(_config(stage, sim), **PROBE_ENV,
                        INDI_SEESTAR_SYSTEM_LOCK_DIR=str(stage.root / "system-locks"))
        server = stage.server(env)
        server.start([])
        clients: dict[str, Any] = {}
        steps: dict[str, float] = {}
        try:
            t0 = time.monotonic()
            for name in names:
                server.command(f'start {DRIVER} -n "{name}"')
            pids = _drivers(server, names, deadline)
            for name in names:
                deadline.check(f"{name}'s client")
                clients[name] = bench_client_class().connect_to(
                    server.port, host=client_host(server, "unix"), fingerprint_blobs=False)
            for name, client in clients.items():
                deadline.check(f"{name} Camera to connect")
                client.connection_defined(f"{name} Camera", min(60, deadline.left()))
                t1 = time.monotonic()
                steps[f"{name} defined"] = t1 - t0
                client.connect_device_and_wait(f"{name} Camera", timeout_s=min(60, deadline.left()))
                steps[f"{name} connect"] = time.monotonic() - t1
                client.enable_blobs(f"{name} Camera", "CCD1")
            log(f"B9: {n} instance(s) up in {time.monotonic() - t0:.1f} s: " + ", ".join(
                f"{k} {v:.1f} s" for k, v in steps.items()))
            yield server, pids, clients
        finally:
            for client in clients.values():
                with contextlib.suppress(Exception):
                    client.disconnectServer()
            server.stop()


def _stream(clients: dict[str, Any], stream_s: float, deadline: Deadline) -> dict[str, int]:
    """Every instance exposing back to back for stream_s; BLOBs received per instance."""
    frames = dict.fromkeys(clients, 0)
    errors: list[BaseException] = []
    stop_at = time.monotonic() + stream_s

    def pump(name: str, client: Any) -> None:
        try:
            while time.monotonic() < stop_at and not errors:
                expose_once(client, f"{name} Camera", EXPOSURE_S)
                frames[name] += 1
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=pump, args=item, daemon=True, name=f"b9-{item[0]}")
               for item in clients.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, min(deadline.left(), stream_s + 60.0)))
        if thread.is_alive():
            raise TimeoutError(f"B9: {thread.name} still waiting for a BLOB past its deadline")
    if errors:
        raise errors[0]
    return frames


def _stalls(lines: list[bytes], t0: float, t1: float) -> list[float]:
    out = []
    for raw in lines:
        m = PROBE_LINE.search(raw.decode(errors="replace"))
        if m and t0 <= float(m.group(1)) <= t1:
            out.append(float(m.group(3)))
    return out


def measure(n: int, sim: SimProcess, stream_s: float, deadline: Deadline,
            log: Callable[[str], None] = print) -> dict[str, Any]:
    """One size: per-instance CPU per frame and RSS, and the largest loop stall."""
    with _instances(n, sim, deadline, log) as (server, pids, clients):
        for name, client in clients.items():  # warm: the preview is running
            deadline.check(f"{name}'s first frame")
            expose_once(client, f"{name} Camera", EXPOSURE_S)
        cpu0 = {name: cpu_times(pid) for name, pid in pids.items()}
        t0 = time.monotonic()
        frames = _stream(clients, stream_s, deadline)
        t1 = time.monotonic()
        cpu = {name: cpu_times(pid) - cpu0[name] for name, pid in pids.items()}
        rss = {name: rss_mb(pid) for name, pid in pids.items()}
        deadline.until(lambda: _stalls(server.stderr_lines(), t1, t1 + 5.0),
                       "the drivers' last loop-probe window", limit_s=3.0)
        stalls = _stalls(server.stderr_lines(), t0 + 1.0, t1)
    per_frame = [1000.0 * cpu[k] / frames[k] for k in pids if frames[k]]
    return {"n": n, "cpu_per_frame_ms": per_frame, "rss_mb": list(rss.values()),
            "frames_per_s": [frames[k] / (t1 - t0) for k in pids],
            "total_cpu_cores": sum(cpu.values()) / (t1 - t0),
            "total_rss_mb": sum(rss.values()), "stall_ms": stalls}


def run(*, rounds: int, stream_s: float, deadline_s: float = 600.0,
        log: Callable[[str], None] = print) -> dict[str, Any]:
    """The B9 section of results.json."""
    deadline = Deadline(deadline_s)
    by_size: dict[int, list[dict[str, Any]]] = {n: [] for n in SIZES}
    with SimProcess(count=max(SIZES)) as sim:
        for r in range(rounds):
            order = SIZES if r % 2 == 0 else tuple(reversed(SIZES))
            for n in order:
                deadline.check(f"round {r + 1}, {n} instance(s)")
                got = measure(n, sim, stream_s, deadline, log)
                by_size[n].append(got)
                log(f"B9: round {r + 1}, {n} instance(s): CPU/frame "
                    f"{[round(x, 2) for x in got['cpu_per_frame_ms']]} ms, RSS "
                    f"{[round(x) for x in got['rss_mb']]} MB, "
                    f"stall {max(got['stall_ms'], default=0):.1f} ms")
    out: dict[str, Any] = {"exposure_s": EXPOSURE_S, "stream_s": stream_s, "rounds": rounds}
    for n, runs in by_size.items():
        stalls = [s for got in runs for s in got["stall_ms"]]
        section = {
            "cpu_per_frame_ms": summary([x for got in runs for x in got["cpu_per_frame_ms"]]),
            "rss_mb": summary([x for got in runs for x in got["rss_mb"]]),
            "frames_per_s": summary([x for got in runs for x in got["frames_per_s"]]),
            "total_cpu_cores": summary([got["total_cpu_cores"] for got in runs]),
            "total_rss_mb": summary([got["total_rss_mb"] for got in runs]),
            "max_stall_ms": {**summary(stalls), "max": round(max(stalls), 3) if stalls else None},
        }
        out[f"n{n}"] = section
        if n != 1:
            for key in ("cpu_per_frame_ms", "rss_mb"):
                ratios = [statistics.mean(got[key]) / statistics.mean(base[key])
                          for got, base in zip(runs, by_size[1], strict=True)
                          if got[key] and base[key]]
                out[f"ratio_{key.removesuffix('_ms').removesuffix('_mb')}_n{n}"] = summary(ratios)
    four = by_size[max(SIZES)]
    pi_cores = [got["total_cpu_cores"] * BUDGET["pi4_slower"] for got in four]
    out["pi4"] = {"budget": BUDGET, "est_cores_for_4": summary(pi_cores),
                  "rss_mb_for_4": summary([got["total_rss_mb"] for got in four])}
    out["method"] = (__doc__ or "").split("\n\n")[0].strip()
    return out
