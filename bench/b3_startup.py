"""B3, start-up: from exec of `indi_seestar` to all four devices defined at a client; import time.

* startup_s (headline): a fresh indiserver with no driver and a pyindi-client client connected
  over 127.0.0.1; the clock starts when `start indi_seestar` is written to indiserver's FIFO
  (indiserver forks and execs at once) and stops when the client has seen DRIVER_INFO and
  CONNECTION defined for all four devices.
* startup_direct_s: `indi_seestar` run directly with stdin/stdout pipes speaking INDI: from just
  before exec to the last of those eight def*Vector on its stdout (getProperties written at once).
* import_s: wall time of `import indi_seestar.cli` in a fresh interpreter, timed inside it
  (a difference of two interpreter runs came out negative on a loaded machine).
* startup_imports: `python -X importtime` of what the driver does before serving (configuration,
  the four devices, the INDI driver): the total and the heaviest imports, cumulative.
Each is repeated `runs` times; medians and p95s. The package is byte-compiled first, as an
installed one is (this machine sets PYTHONDONTWRITEBYTECODE=1).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from indi_seestar.indi.wire import Snooped, XmlStreamDecoder

from .client import bench_client_class
from .procs import DEVICES, DRIVER, Stage, venv_bin
from .stats import summary
from .waiting import waiting

NEEDED = frozenset((d, n) for d in DEVICES for n in ("DRIVER_INFO", "CONNECTION"))
STARTUP_SCRIPT = """
from indi_seestar import cli, config
from indi_seestar.indi.log import setup_logging
cfg = config.load()
session, devices = cli.build_devices(cfg, None)
from indi_seestar.indi.driver import Driver
Driver(devices, input_fd=-1, output_fd=-1)
"""
HEAVY = ("numpy", "astropy", "erfa", "yaml", "cryptography", "asyncio", "xml.etree.ElementTree")


def via_indiserver(stage: Stage) -> float:
    """Seconds from the FIFO `start` to the four devices' DRIVER_INFO and CONNECTION at a client."""
    server = stage.server(stage.env())
    server.start([])
    try:
        with bench_client_class().connect_to(server.port) as client:
            return _time_definitions(server, client)
    finally:
        server.stop()


def _time_definitions(server: Any, client: Any) -> float:
    """Start the driver through the FIFO; seconds until `client` has the NEEDED definitions."""
    t0 = time.monotonic()
    server.start_driver(DRIVER)

    def all_defined() -> float | None:
        seen = {(s.device, s.name): s.t for s in client.seen if s.event == "def"}
        if NEEDED <= seen.keys():
            return max(seen[k] for k in NEEDED)
        return None

    return float(client.wait_for(all_defined, 30, "the four devices")) - t0


def direct(stage: Stage) -> float:
    """Seconds from exec to the eight def*Vector on the driver's own stdout (pipes)."""
    env = {**os.environ, **stage.env()}
    t0 = time.monotonic()
    proc = subprocess.Popen([str(venv_bin() / DRIVER)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(b'<getProperties version="1.7"/>\n')
        proc.stdin.flush()
        decoder, seen = XmlStreamDecoder(), set()
        fd = proc.stdout.fileno()
        with waiting("the four devices' definitions on indi_seestar's own stdout"):
            while not NEEDED <= seen:
                data = os.read(fd, 65536)
                if not data:
                    raise RuntimeError("indi_seestar exited before defining its devices")
                for msg in decoder.feed(data):
                    if isinstance(msg, Snooped) and msg.tag.startswith("def"):
                        seen.add((msg.device, msg.name))
        return time.monotonic() - t0
    finally:
        proc.kill()
        proc.wait(5)


IMPORT_TIMER = ("import time; t0 = time.perf_counter(); import indi_seestar.cli; "
                "print(time.perf_counter() - t0)")


def import_time() -> float:
    """Wall seconds of `import indi_seestar.cli` in a fresh interpreter (timed inside it)."""
    out = subprocess.run([sys.executable, "-c", IMPORT_TIMER], check=True, capture_output=True,
                         text=True)
    return float(out.stdout.strip())


def startup_imports() -> dict[str, Any]:
    """-X importtime of the start-up path: total, heavy packages and the top imports (ms)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", STARTUP_SCRIPT],
                         capture_output=True, text=True, check=True)
    rows = []
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append((m.group(4), int(m.group(2)) / 1000.0, len(m.group(3))))
    total = sum(ms for _name, ms, depth in rows if depth == 1)
    cumulative = {name: ms for name, ms, _ in rows}
    top = sorted(((n, ms) for n, ms, depth in rows if depth <= 3), key=lambda x: -x[1])[:12]
    return {
        "total_ms": round(total, 1),
        "heavy_loaded": {name: round(cumulative[name], 1) for name in HEAVY if name in cumulative},
        "top_cumulative_ms": [[n, round(ms, 1)] for n, ms in top],
    }


def compile_bytecode() -> None:
    """Byte-compile the package into its __pycache__ (git-ignored), as an install does.

    This machine sets PYTHONDONTWRITEBYTECODE=1, so an editable checkout would otherwise
    compile its ~80 modules from source at every start (~+250 ms here).
    """
    package = Path(__file__).resolve().parent.parent / "indi_seestar"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True,
                   capture_output=True)


def run(*, runs: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    """The B3 section of results.json."""
    compile_bytecode()
    fifo, pipes, imports = [], [], []
    with Stage.make() as stage:
        for i in range(runs):
            fifo.append(via_indiserver(stage))
            pipes.append(direct(stage))
            imports.append(import_time())
            log(f"B3 run {i + 1}/{runs}: {fifo[-1] * 1000:.0f} ms via indiserver, "
                f"{pipes[-1] * 1000:.0f} ms direct, import {imports[-1] * 1000:.0f} ms")
    return {
        "startup_s": summary(fifo),
        "startup_direct_s": summary(pipes),
        "import_s": summary(imports),
        "startup_imports": startup_imports(),
        "bytecode": "compiled before measuring (python -m compileall)",
        "method": (__doc__ or "").split("\n\n")[0].strip(),
    }
