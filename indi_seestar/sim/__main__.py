"""`indi_seestar_sim`: run the fake Seestar on loopback until SIGINT/SIGTERM.

Layer: sim (command line). Prints exactly one line `ready control=<port> image=<port>
discovery=<port>` on stdout when it serves, and logs to stderr. `--trace FILE` records timing
for the benchmarks (sim/trace.py); `--fast-frames` makes frames cheap to produce (render.py).
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
from .trace import Trace


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="indi_seestar_sim", description="Fake ZWO Seestar on loopback.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--control-port", type=int, default=4700)
    p.add_argument("--image-port", type=int, default=4800)
    p.add_argument("--discovery-port", type=int, default=4720)
    p.add_argument("--model", default="S50", choices=["S50", "S30"])
    p.add_argument("--firmware", default="6.70", help="e.g. 6.70, 7.06, 7.32")
    p.add_argument("--public-key", type=Path, default=None, help="PEM public key checked by verify_client")
    p.add_argument("--time-factor", type=float, default=1.0, help="scope seconds per real second")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--unparked", action="store_true", help="boot with the arm open")
    p.add_argument("--equ-mode", action="store_true", help="boot in EQ mode")
    p.add_argument("--trace", type=Path, default=None,
                   help="append request/event/frame timing records (JSON lines) to this file")
    p.add_argument("--fast-frames", action="store_true",
                   help="benchmarks: cheap noise on a cached frame (sim/render.py fast_noise)")
    p.add_argument("--sky-catalogue", type=Path, default=None,
                   help="compact Tycho-2 star file (default: <venv>/share/indi_seestar/tycho2-sky.npy, "
                        "written by `make sky`; without it a seeded random star field)")
    p.add_argument("--log-level", default="WARNING")
    return p


async def _serve(args: argparse.Namespace) -> None:
    pem = args.public_key.read_bytes() if args.public_key else None
    fake = FakeSeestar(model=args.model, firmware=args.firmware, time_factor=args.time_factor,
                       public_key_pem=pem, host=args.host, control_port=args.control_port,
                       image_port=args.image_port, discovery_port=args.discovery_port, seed=args.seed,
                       parked=not args.unparked, equ_mode=args.equ_mode,
                       sky_catalogue=args.sky_catalogue or "default")
    if args.trace is not None:
        fake.enable_trace(Trace(args.trace))
    fake.renderer.fast_noise = args.fast_frames
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await fake.start()
    try:
        sys.stdout.write(f"ready control={fake.control_port} image={fake.image_port} "
                         f"discovery={fake.discovery_port}\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
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
