"""`make run`: indiserver with indi_seestar (the fake Seestar unless configured), until Ctrl-C.

Layer: tools (developer entry point, not imported by the driver). Imports only config; starts
indiserver in its own process group, prints how to connect KStars/Ekos or PHD2, and stops
indiserver and the driver on Ctrl-C (SIGINT) or SIGTERM. `--scopes N` (`make run SCOPES=2`)
starts N instances through indiserver's FIFO with `-n "<name>"`, as a service would: the names
of the configuration's `scopes:` entries, else "Seestar 1".."Seestar N" (each with its own
built-in fake when its configuration says `simulator`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from .. import config as configuration
from ..errors import ConfigError

#: How long indiserver may take to accept connections before we report a problem.
LISTEN_TIMEOUT_S = 10.0
#: Polling period of the foreground loop (indiserver exit, port check).
POLL_S = 0.1
#: `make run SCOPES=N` passes N here (the Makefile exports it).
SCOPES_ENV = "INDI_SEESTAR_RUN_SCOPES"
#: SIGTERM -> SIGKILL grace for indiserver and the driver at the end.
STOP_TIMEOUT_S = 5.0


def _configuration() -> tuple[configuration.Config, str]:
    """The configuration the driver will read, and a sentence saying what it drives."""
    path = configuration.default_path()
    try:
        cfg = configuration.load()
    except ConfigError as exc:
        return configuration.Config(), (f"nothing yet: the configuration has a problem ({exc}); "
                                        "the devices come up, CONNECT explains it")
    if cfg.uses_simulator:
        where = "no configuration file" if not path.exists() else f"seestar.host: simulator in {path}"
        return cfg, (f"the built-in fake Seestar ({cfg.simulator.model}, firmware "
                     f"{cfg.simulator.firmware}; {where})")
    return cfg, f"the Seestar at {cfg.seestar.host}:{cfg.seestar.control_port} (from {path})"


def scope_names(cfg: configuration.Config, count: int) -> list[str]:
    """The names of `count` instances: the configured `scopes:` first, then "Seestar <n>"."""
    names = list(cfg.scopes)[:count]
    n = 1
    while len(names) < count:
        if f"Seestar {n}" not in names:
            names.append(f"Seestar {n}")
        n += 1
    return names


def _target(cfg: configuration.Config) -> str:
    if cfg.uses_simulator:
        return f"its built-in fake Seestar ({cfg.simulator.model})"
    return f"the Seestar at {cfg.seestar.host}:{cfg.seestar.control_port}"


def scopes_instructions(port: int, cfg: configuration.Config, names: list[str]) -> str:
    """What to tell the user once indiserver listens with several instances."""
    lines = [f"\nindiserver listens on port {port} with {len(names)} indi_seestar instances:"]
    for name in names:
        lines.append(f"  \"{name}\": \"{name} Mount\", \"{name} Camera\", \"{name} Focuser\", "
                     f"\"{name} Filter Wheel\"; drives {_target(cfg.for_scope(name))}")
    lines += ["", "Connect KStars/Ekos (Mode: Remote, Port: %d) or PHD2 as for one scope, and pick"
              % port, "each scope's devices by their names.",
              f"  Shell:       indi_getprop -p {port} '*.CONNECTION.*'", "",
              "Ctrl-C stops everything.", ""]
    return "\n".join(lines)


def instructions(port: int, prefix: str, target: str) -> str:
    """What to tell the user once indiserver listens."""
    mount, camera = f"{prefix} Mount", f"{prefix} Camera"
    focuser, wheel = f"{prefix} Focuser", f"{prefix} Filter Wheel"
    return (
        f"\nindiserver listens on port {port}; indi_seestar drives {target}.\n"
        f"Devices: \"{mount}\", \"{camera}\", \"{focuser}\", \"{wheel}\".\n\n"
        "Connect:\n"
        "  KStars/Ekos: Ekos -> Profile Editor -> new profile, Mode: Remote,\n"
        f"               Host: localhost (or this machine's address), Port: {port};\n"
        "               pick any drivers for the slots (at least a CCD), or the Seestar entries\n"
        "               if `make install` was run. Start INDI: the four Seestar devices appear and\n"
        "               Ekos uses them by what they are (mount, camera, focuser, filter wheel).\n"
        f"  PHD2:        Camera \"INDI Camera\", Mount \"INDI Mount\"; in each setup dialog\n"
        f"               Host localhost, Port {port}, then pick \"{camera}\" and \"{mount}\".\n"
        f"  Shell:       indi_getprop -p {port} '{prefix}*.CONNECTION.*'\n"
        f"               indi_setprop -p {port} '{focuser}.CONNECTION.CONNECT=On'\n\n"
        "Ctrl-C stops everything.\n"
    )


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM indiserver's process group (it and the driver), SIGKILL after a grace period."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()


def main(argv: list[str] | None = None) -> int:
    """Run indiserver with the driver in the foreground; 0 after Ctrl-C, else indiserver's status."""
    parser = argparse.ArgumentParser(prog="make run")
    parser.add_argument("--port", type=int, default=7624, help="indiserver port (default 7624)")
    parser.add_argument("--verbose", action="store_true", help="indiserver -v")
    parser.add_argument("--scopes", type=int,
                        default=int(os.environ.get(SCOPES_ENV, "1") or "1"),
                        help=f"instances of indi_seestar, each its own Seestar (default "
                             f"${SCOPES_ENV} or 1; `make run SCOPES=2`)")
    parser.add_argument("--unix-socket", metavar="PATH",
                        help="indiserver's local socket (default: its own, /tmp/indiserver; "
                             "two indiservers need two paths)")
    args = parser.parse_args(argv)
    indiserver, driver = shutil.which("indiserver"), shutil.which("indi_seestar")
    if not indiserver or not driver:
        print("indiserver or indi_seestar not found on PATH; run `make run` from the checkout",
              file=sys.stderr)
        return 2
    cfg, target = _configuration()
    if _listening(args.port):
        print(f"port {args.port} is already in use (another indiserver?); stop it or use "
              f"`make run INDI_PORT=<port>`", file=sys.stderr)
        return 3
    if not 1 <= args.scopes <= 16:
        parser.error("--scopes must be 1..16")
    names = scope_names(cfg, args.scopes) if args.scopes > 1 else []
    workdir = Path(tempfile.mkdtemp(prefix="indi_seestar-run-"))
    fifo = workdir / "indiserver.fifo"
    cmd = [indiserver, "-p", str(args.port), "-r", "0", *(["-v"] if args.verbose else []),
           *(["-u", args.unix_socket] if args.unix_socket else [])]
    if names:
        os.mkfifo(fifo)
        cmd += ["-f", str(fifo)]
    else:
        cmd.append("indi_seestar")

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    # Ctrl-C stops everything even when our parent ignored SIGINT (a shell starting us in the
    # background without job control does, and the ignored disposition is inherited).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    proc = subprocess.Popen(cmd, start_new_session=True)
    try:
        deadline = time.monotonic() + LISTEN_TIMEOUT_S
        while not _listening(args.port):
            if proc.poll() is not None or time.monotonic() > deadline:
                print(f"indiserver did not start on port {args.port} (see its messages above; "
                      "\"bind: Address already in use\" means another indiserver runs)",
                      file=sys.stderr)
                return proc.returncode or 1
            time.sleep(POLL_S)  # polling indiserver's start-up, bounded by the deadline above
        if names:
            with open(fifo, "w") as commands:  # indiserver holds the FIFO open: no blocking
                for name in names:
                    commands.write(f'start indi_seestar -n "{name}"\n')
            print(scopes_instructions(args.port, cfg, names), flush=True)
        else:
            print(instructions(args.port, cfg.devices.prefix, target), flush=True)
        while proc.poll() is None:
            time.sleep(POLL_S)  # foreground until Ctrl-C or indiserver's exit
        return proc.returncode or 0
    except KeyboardInterrupt:
        print("\nstopping indiserver and indi_seestar", flush=True)
        return 0
    finally:
        _stop(proc)
        fifo.unlink(missing_ok=True)
        workdir.rmdir()


if __name__ == "__main__":
    sys.exit(main())
