"""Processes the benchmarks run: the fake Seestar, indiserver with drivers, wrappers, CPU pinning.

- `SimProcess`: `indi_seestar_sim` as a separate process on 127.0.0.1 (ports 0, ready line), so
  its CPU is never charged to the driver; optionally with `--trace FILE` (send/receive times).
- `Stage`: a temporary directory with a bin/ of wrappers that indiserver can `execlp`, the
  driver's YAML configuration and an isolated HOME; `Stage.server()` is an `IndiServer`
  (tests/support) on a free loopback port.
- `cpu_times(pid)`: user+sys seconds of a process (all threads); `rss_mb(pid)`.
- `pin(pid, cpus)`: set the CPU affinity of every thread of a process.

Only 127.0.0.1 is used.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import yaml

from tests.support.indi_harness import IndiServer, free_port

from .waiting import waiting

DRIVER = "indi_seestar"
PREFIX = "Seestar"
DEVICES = (f"{PREFIX} Mount", f"{PREFIX} Camera", f"{PREFIX} Focuser", f"{PREFIX} Filter Wheel")
MOUNT, CAMERA, FOCUSER, WHEEL = DEVICES
LIBINDI_CCD = "indi_simulator_ccd"
LIBINDI_DEVICE = "CCD Simulator"
#: How long indi_seestar_sim may take to print its ready line(s).
SIM_READY_TIMEOUT_S = 30.0


def venv_bin() -> Path:
    """Directory of this interpreter (the venv's bin, with `indi_seestar` and `indi_seestar_sim`)."""
    return Path(sys.executable).parent


def write_wrapper(bin_dir: Path, name: str, argv: Sequence[str],
                  env: Mapping[str, str] | None = None, *, taskset: str | None = None) -> Path:
    """An executable `bin_dir/name` that execs `argv` (with `env`, optionally under taskset)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
    pinned = f"taskset -c {taskset} " if taskset else ""
    path = bin_dir / name
    path.write_text("#!/bin/sh\n"
                    f"exec env {assignments} {pinned}{shlex.join(argv)}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def cpu_times(pid: int) -> float:
    """user + system CPU seconds of the whole process so far."""
    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


def rss_mb(pid: int) -> float:
    """Resident set size in MiB."""
    return psutil.Process(pid).memory_info().rss / 2**20


def pin(pid: int, cpus: Sequence[int]) -> None:
    """Pin every thread of `pid` to `cpus` (threads created later inherit from their creator)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            os.sched_setaffinity(int(tid), cpus)


def mapped_packages(pid: int, names: Sequence[str]) -> list[str]:
    """Which of the Python packages `names` have a compiled module mapped into `pid`."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return []
    return [n for n in names if f"/site-packages/{n}/" in maps or f"/site-packages/_{n}" in maps]


@dataclass
class SimProcess:
    """The fake Seestar in its own process; use as a context manager."""

    time_factor: float = 1.0
    trace: Path | None = None
    extra_args: Sequence[str] = ()
    cpus: Sequence[int] | None = None
    #: `--fast-frames`: cheap noise on a cached frame, so the fake never limits the frame rate.
    fast_frames: bool = True
    process: subprocess.Popen[str] | None = None
    control_port: int = 0
    image_port: int = 0
    discovery_port: int = 0
    #: `--count N`: N fakes side by side; `fakes` holds each one's (control, image, discovery).
    count: int = 1
    fakes: list[tuple[int, int, int]] = field(default_factory=list)

    def __enter__(self) -> SimProcess:
        args = [str(venv_bin() / "indi_seestar_sim"), "--control-port", "0", "--image-port", "0",
                "--discovery-port", "0", "--time-factor", repr(self.time_factor), "--unparked",
                "--count", str(self.count), *self.extra_args]
        if self.trace is not None:
            args += ["--trace", str(self.trace)]
        if self.fast_frames:
            args.append("--fast-frames")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        stdin=subprocess.DEVNULL, text=True)
        if self.cpus is not None:
            os.sched_setaffinity(self.process.pid, self.cpus)
        with waiting("indi_seestar_sim's ready line(s)"):
            lines = self._ready_lines(SIM_READY_TIMEOUT_S)
        for line in lines:
            ports = dict(part.split("=") for part in line.split()[1:])
            self.fakes.append((int(ports["control"]), int(ports["image"]), int(ports["discovery"])))
        self.control_port, self.image_port, self.discovery_port = self.fakes[0]
        return self

    def _ready_lines(self, timeout_s: float) -> list[str]:
        """The `count` ready lines, or RuntimeError (the fake died or stayed silent)."""
        assert self.process is not None and self.process.stdout is not None
        stdout, lines = self.process.stdout, []
        reader = threading.Thread(target=lambda: lines.extend(stdout.readline()
                                                              for _ in range(self.count)),
                                  daemon=True)
        reader.start()
        reader.join(timeout_s)
        if reader.is_alive() or not all(line.startswith("ready") for line in lines):
            self.process.kill()
            raise RuntimeError(f"indi_seestar_sim did not start {self.count} fake(s) within "
                               f"{timeout_s:g} s: {lines!r}")
        return lines

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def trace_records(self) -> list[dict[str, Any]]:
        """The trace file's records so far (see indi_seestar/sim/trace.py)."""
        if self.trace is None or not self.trace.exists():
            return []
        out = []
        for line in self.trace.read_text().splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out


@dataclass
class Stage:
    """A scratch directory for one benchmark run: bin/ wrappers, HOME, config, indiserver."""

    root: Path
    bin_dir: Path = field(init=False)
    home: Path = field(init=False)

    def __post_init__(self) -> None:
        self.bin_dir = self.root / "bin"
        self.home = self.root / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.bin_dir.mkdir(parents=True, exist_ok=True)

    @classmethod
    @contextlib.contextmanager
    def make(cls, prefix: str = "indi-seestar-bench-") -> Iterator[Stage]:
        root = Path(tempfile.mkdtemp(prefix=prefix))
        try:
            yield cls(root)
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def driver_config(self, sim: SimProcess | None, **seestar: Any) -> Path:
        """The driver's YAML: the fake process on loopback (or the built-in fake when None).

        `$BENCH_BLOB_TRANSPORT` (set by `python -m bench --blob-transport`) goes to
        indi.blob_transport, for before/after comparisons of the BLOB path.
        """
        data: dict[str, Any] = {"devices": {"prefix": PREFIX}, "log_level": "WARNING"}
        if os.environ.get("BENCH_BLOB_TRANSPORT"):
            data["indi"] = {"blob_transport": os.environ["BENCH_BLOB_TRANSPORT"]}
        if sim is not None:
            data["seestar"] = {
                "host": "127.0.0.1", "control_port": sim.control_port,
                "image_port": sim.image_port, "discovery_port": sim.discovery_port,
                "discovery_address": "127.0.0.1", "time_factor": sim.time_factor, **seestar,
            }
        path = self.root / "config.yaml"
        path.write_text(yaml.safe_dump(data))
        return path

    def env(self, config: Path | None = None, **extra: str) -> dict[str, str]:
        """Environment for indiserver and its drivers (isolated HOME, lock dir, config)."""
        env = {"HOME": str(self.home), "INDI_SEESTAR_LOCK_DIR": str(self.root), **extra}
        if config is not None:
            env["INDI_SEESTAR_CONFIG"] = str(config)
        return env

    def server(self, env: Mapping[str, str], *, path_dirs: Sequence[Path] = ()) -> IndiServer:
        """An IndiServer (not started) on a free port, drivers looked up in bin/ then the venv."""
        return IndiServer(free_port(), workdir=self.root / "indiserver",
                          path_dirs=[self.bin_dir, *path_dirs, venv_bin()], env=env)

    def rawdriver(self, mode: str, name: str = "bench_raw_driver") -> str:
        """A wrapper running bench.rawdriver in `mode`; returns its exec name."""
        write_wrapper(self.bin_dir, name,
                      [sys.executable, "-m", "bench.rawdriver", "--mode", mode],
                      {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
        return name


def find_driver(server: IndiServer, exe: str, timeout_s: float = 10) -> psutil.Process:
    """The process indiserver started for `exe` (by executable or command line)."""
    deadline = time.monotonic() + timeout_s
    with waiting(f"indiserver to run the driver {exe}"):
        while time.monotonic() < deadline:
            for proc in server.driver_processes():
                with contextlib.suppress(psutil.Error):
                    cmd = " ".join(proc.cmdline())
                    if exe in cmd or proc.name() == exe[:15]:
                        return proc
            time.sleep(0.02)
    raise RuntimeError(f"driver {exe} not running")


def indiserver_version() -> str:
    """Debian's package version of indiserver, or ''."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "indi-bin"],
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip()
    return ""


def free_loopback_port() -> int:
    """A free TCP port on 127.0.0.1."""
    return free_port()
