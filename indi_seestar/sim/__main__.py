"""`indi_seestar_sim`: run the fake Seestar on loopback until SIGINT/SIGTERM.

Layer: sim (command line). Prints one line `ready control=<port> image=<port> discovery=<port>`
(then ` alpaca=<port>` with `--alpaca-port`, ` wide=<port>` on an S30P) per fake on stdout
once all serve, and logs to stderr. `--count N` runs N fakes side by side
(several Seestars on one indiserver): fake i (from 0) listens on each given port + i (0 stays
"any free port"), has seed + i and its own serial number, so each answers discovery as itself.
`--trace FILE` records timing for the benchmarks (sim/trace.py; fake i > 0 writes FILE.i);
`--fast-frames` makes frames cheap to produce (render.py).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from ..errors import ConfigError
from .fake import FakeSeestar
from .profile import MODEL_NAMES
from .trace import Trace


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="indi_seestar_sim", description="Fake ZWO Seestar on loopback.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--control-port", type=int, default=4700)
    p.add_argument("--image-port", type=int, default=4800)
    p.add_argument("--discovery-port", type=int, default=4720)
    p.add_argument("--wide-image-port", type=int, default=4804,
                   help="the S30P's wide camera image channel")
    p.add_argument("--model", default="S50", choices=list(MODEL_NAMES),
                   help="hardware (sensor, optics, wide camera); separate from --firmware")
    p.add_argument("--firmware", default="6.70", help="e.g. 6.70, 7.06, 7.32, 7.75, 8.46")
    p.add_argument("--idle-drop-s", type=float, default=None,
                   help="close a control connection silent this many scope seconds "
                        "(default: the firmware's, 16 from 7.75 on; 0 = never)")
    p.add_argument("--public-key", type=Path, default=None, help="PEM public key checked by verify_client")
    p.add_argument("--time-factor", type=float, default=1.0, help="scope seconds per real second")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--unparked", action="store_true", help="boot with the arm open")
    p.add_argument("--equ-mode", action="store_true", help="boot in EQ mode")
    p.add_argument("--pa-error", default=None, metavar="ALT,AZ",
                   help="polar misalignment of the wedge in arcmin (EQ mode), e.g. 18,-27")
    p.add_argument("--trace", type=Path, default=None,
                   help="append request/event/frame timing records (JSON lines) to this file")
    p.add_argument("--fast-frames", action="store_true",
                   help="benchmarks: cheap noise on a cached frame (sim/render.py fast_noise)")
    p.add_argument("--sky-catalogue", type=Path, default=None,
                   help="compact Tycho-2 star file (default: <venv>/share/indi_seestar/tycho2-sky.npy, "
                        "written by `make sky`; without it a seeded random star field)")
    p.add_argument("--alpaca-port", type=int, default=None,
                   help="run ZWO's Alpaca server on this HTTP port (0 = a free port; 32323 on a "
                        "scope); the ready line then names it")
    p.add_argument("--alpaca-discovery-port", type=int, default=0,
                   help="UDP port of Alpaca discovery (32227 on a scope; default a free port)")
    p.add_argument("--alpaca-version", default=None,
                   help="the Alpaca server build, e.g. 1.0.9, 1.1.2-1, 1.2.0-3 (the newest; "
                        "older builds send the ImageBytes header mistakes)")
    p.add_argument("--count", type=int, default=1, help="how many fakes side by side (default 1)")
    p.add_argument("--log-level", default="WARNING")
    return p


def serial_of(index: int, seed: int) -> str:
    """The serial number of fake `index`: distinct per fake, 8 hex digits like the scope's."""
    return f"{0x5E570000 + seed * 64 + index:08x}"


def _port(base: int, index: int) -> int:
    return base + index if base else 0


async def _serve(args: argparse.Namespace) -> None:
    pem = args.public_key.read_bytes() if args.public_key else None
    fakes = []
    for i in range(args.count):
        fake = FakeSeestar(model=args.model, firmware=args.firmware, time_factor=args.time_factor,
                           public_key_pem=pem, host=args.host,
                           control_port=_port(args.control_port, i),
                           image_port=_port(args.image_port, i),
                           discovery_port=_port(args.discovery_port, i), seed=args.seed + i,
                           wide_image_port=_port(args.wide_image_port, i),
                           parked=not args.unparked, equ_mode=args.equ_mode,
                           sky_catalogue=args.sky_catalogue or "default",
                           serial=serial_of(i, args.seed),
                           idle_drop_s=("profile" if args.idle_drop_s is None
                                        else (args.idle_drop_s or None)),
                           alpaca_port=(None if args.alpaca_port is None
                                        else _port(args.alpaca_port, i)),
                           alpaca_discovery_port=_port(args.alpaca_discovery_port, i),
                           **({"alpaca_version": args.alpaca_version}
                              if args.alpaca_version else {}))
        if args.trace is not None:
            trace = args.trace if i == 0 else args.trace.with_name(f"{args.trace.name}.{i}")
            fake.enable_trace(Trace(trace))
        fake.renderer.fast_noise = args.fast_frames
        if args.pa_error:
            alt, az = (float(v) for v in args.pa_error.split(","))
            fake.state.polar_error_arcmin = (alt, az)
        fakes.append(fake)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    started = []
    try:
        for fake in fakes:
            await fake.start()
            started.append(fake)
        for fake in fakes:
            logging.getLogger("indi_seestar_sim").info("fake serial %s on control port %d",
                                                       fake.state.serial, fake.control_port)
            wide = f" wide={fake.wide_image_port}" if fake.wide_image_port is not None else ""
            alpaca = f" alpaca={fake.alpaca_port}" if fake.alpaca_port is not None else ""
            sys.stdout.write(f"ready control={fake.control_port} image={fake.image_port} "
                             f"discovery={fake.discovery_port}{alpaca}{wide}\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        for fake in started:
            await fake.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not 1 <= args.count <= 64:
        parser.error("--count must be 1..64")
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(_serve(args))
    except (ConfigError, OSError) as exc:
        print(f"indi_seestar_sim: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
