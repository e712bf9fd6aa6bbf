"""`make run`: indiserver with indi_seestar (the fake Seestar unless configured), until Ctrl-C.

Imports only config; starts processes, prints how to connect KStars/Ekos or PHD2.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

from .. import config as configuration
from ..errors import ConfigError


def _describe_target() -> str:
    try:
        cfg = configuration.load()
    except ConfigError as exc:
        return f"(configuration problem: {exc})"
    if cfg.uses_simulator:
        return (f"the built-in fake Seestar ({cfg.simulator.model}, firmware {cfg.simulator.firmware})")
    return f"the Seestar at {cfg.seestar.host}:{cfg.seestar.control_port}"


def main(argv: list[str] | None = None) -> int:
    """Run indiserver with the driver in the foreground; return its exit status."""
    parser = argparse.ArgumentParser(prog="make run")
    parser.add_argument("--port", type=int, default=7624)
    parser.add_argument("--verbose", action="store_true", help="indiserver -v")
    args = parser.parse_args(argv)
    indiserver = shutil.which("indiserver")
    driver = shutil.which("indi_seestar")
    if not indiserver or not driver:
        print("indiserver or indi_seestar not found on PATH; run `make run` from the checkout",
              file=sys.stderr)
        return 2
    cmd = [indiserver, "-p", str(args.port), "-r", "0"] + (["-v"] if args.verbose else []) + ["indi_seestar"]
    proc = subprocess.Popen(cmd, start_new_session=True)
    print(
        f"\nindiserver (pid {proc.pid}) listens on port {args.port} with indi_seestar driving "
        f"{_describe_target()}.\n"
        "Devices: \"Seestar Mount\", \"Seestar Camera\", \"Seestar Focuser\", \"Seestar Filter Wheel\".\n\n"
        "Connect:\n"
        f"  KStars/Ekos: Profile Editor -> Mode Remote, Host localhost (or this machine's address), Port {args.port};\n"
        "               Mount \"Seestar Mount\", Camera \"Seestar Camera\", Focuser \"Seestar Focuser\",\n"
        "               Filter \"Seestar Filter Wheel\" (all served by one indi_seestar process).\n"
        f"  PHD2:        Camera \"INDI Camera\" and Mount \"INDI Mount\", server localhost:{args.port},\n"
        "               devices \"Seestar Camera\" and \"Seestar Mount\".\n"
        f"  Shell:       indi_getprop -p {args.port} 'Seestar*.*.*'\n\n"
        "Ctrl-C stops everything.\n",
        flush=True,
    )
    try:
        while proc.poll() is None:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    return proc.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
