"""`make test`: the realtime tests beside the rest of the suite, the rest at a lower CPU priority.

Tests marked `realtime` (guide pulses to ~5 ms, frame timing, guiding on frames) need a CPU
that answers at once; the rest mostly waits, but its bursts (a worker starting a rig, rendering
frames) would land inside a 100 ms pulse. So both run at the same time, the realtime tests (their
fake, indiserver and driver too) ten nice levels above the rest, so the kernel runs them first
whenever they wake: as root (CI) at nice -10 with the rest at 0, which then still competes
evenly with any other load; otherwise at 0 with the rest at +10. Their claims are the driver's
timing, not the scheduler's under contention. Running them after the rest cost their whole wall
time (~1 min).

Usage: python -m tests.phases [--workers N] [--realtime-workers N] [--nice N]
                              [--realtime-nice N] [pytest args...]
Exit status: 0 when both runs pass, else the first non-zero one (130 after Ctrl-C).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence

REALTIME = "realtime"  # the marker tests/conftest.py declares


def _niced(increment: int) -> Callable[[], None]:
    """A child's pre-exec step: change its priority by `increment` (a raise may be refused)."""
    def step() -> None:
        try:
            os.nice(increment)
        except PermissionError:  # raising priority needs root (CAP_SYS_NICE): stay as we are
            pass
    return step


def commands(workers: int, realtime_workers: int, extra: Sequence[str]) -> tuple[list[str], list[str]]:
    """(the rest, the realtime tests) as pytest command lines."""
    base = [sys.executable, "-m", "pytest", "-q", *extra]
    rest = [*base, "-n", str(workers), "--dist", "load", "-m", f"not {REALTIME}"]
    realtime = [*base, "-n", str(realtime_workers), "--dist", "load", "-m", REALTIME]
    return rest, realtime


def run(workers: int, realtime_workers: int, nice: int, realtime_nice: int,
        extra: Sequence[str]) -> int:
    """Run both at once; print the realtime run's output after the rest's; the combined status."""
    rest_cmd, realtime_cmd = commands(workers, realtime_workers, extra)
    with tempfile.TemporaryFile(mode="w+") as realtime_out:
        # Its output is held back so that the two progress lines do not interleave.
        realtime = subprocess.Popen(realtime_cmd, stdout=realtime_out, stderr=subprocess.STDOUT,
                                    preexec_fn=_niced(realtime_nice))
        rest = subprocess.Popen(rest_cmd, preexec_fn=_niced(nice))
        try:
            rest_rc = rest.wait()
            realtime_rc = realtime.wait()
        except KeyboardInterrupt:  # Ctrl-C reached both pytest runs too: let them clean up
            for proc in (rest, realtime):
                proc.wait()
            return 130
        finally:
            realtime_out.seek(0)
            print(f"\n--- the {REALTIME} tests (run beside the rest, at a higher priority):",
                  flush=True)
            sys.stdout.write(realtime_out.read())
            sys.stdout.flush()
    return rest_rc or realtime_rc


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--realtime-workers", type=int, default=1)
    root = os.geteuid() == 0  # only root may raise a priority (below nice 0)
    parser.add_argument("--nice", type=int, default=0 if root else 10,
                        help="the rest's nice increment")
    parser.add_argument("--realtime-nice", type=int, default=-10 if root else 0,
                        help="the realtime tests' nice increment (below 0: root only)")
    args, extra = parser.parse_known_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # make may start us with it ignored
    return run(args.workers, args.realtime_workers, args.nice, args.realtime_nice, extra)


if __name__ == "__main__":
    sys.exit(main())
