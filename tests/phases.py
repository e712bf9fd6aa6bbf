"""`make test`: the rest of the suite beside three lanes: two realtime ones, one for waiting tests.

Tests marked `realtime` (guide pulses to ~5 ms, timer lateness) need a CPU that answers at once;
the rest mostly waits, but its bursts (a worker starting a rig, rendering frames) would land
inside a 100 ms pulse. So they run at the same time as the rest, one at a time (two pulse tests
at once skewed pulses), ten nice levels above it, so the kernel runs them first whenever they
wake: as root (CI) at nice -10 and real-time round robin (SCHED_RR, see ROUND_ROBIN_PRIORITY)
with the rest at 0, which then still competes evenly with any other load; otherwise at 0 with
the rest at +10. Tests marked `realtime_busy` (guiding on frames, frame timing, the
getProperties flood) also have wall-time claims but render frames in bursts themselves: they
run in a third lane, one at a time, five levels above the rest and five below the pulses, so
neither lane's bursts land in the other's pulses and the pulse lane no longer waits for them
(~2 min of the ~3.7 min it took with them). Tests marked `waiting` (the
tiny benchmark runs, the client-lifetime cases, the outcome and firmware tests: long, mostly
asleep on child processes or on the fake's timings) run in a fourth lane of WAITING_WORKERS,
at the rest's priority, so that they do not hold the rest's workers.

Usage: python -m tests.phases [--workers N] [--nice N] [--realtime-nice N] [pytest args...]
Exit status: 0 when all four runs pass, else the first non-zero one (130 after Ctrl-C).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence

REALTIME = "realtime"  # the markers tests/conftest.py declares
REALTIME_BUSY = "realtime_busy"
WAITING = "waiting"
NO_TESTS = 5  # pytest's exit status when no test was selected
BUSY_NICE_ABOVE_REST = 5  # the busy lane's nice level: this many above the rest's
#: Workers of the lane for tests marked `waiting` (tiny benchmark runs: ~160 s of a worker's
#: time, ~30 s of CPU, 2026-12-02; with the outcome, firmware and client-lifetime modules
#: ~330 s, ~40 s of CPU, 2026-12-03), at the rest's priority: two more tests at a time, both
#: mostly asleep, where the rest's six workers had the box ~17 % (later ~36 %) idle.
WAITING_WORKERS = 2
#: The pulse lane's SCHED_RR priority (1, the lowest real-time one), inherited by its worker,
#: indiserver, driver and fake. A nice level only weighs its share: beside a hog and the rest
#: (at nice 0, 2026-12-01/02) the kernel still let others finish their slice first and 100-220
#: ms pulses came 11-22 % long; a real-time task runs as soon as it wakes. The lane mostly
#: sleeps, and the kernel keeps 5 % of each second for the others (sched_rt_runtime_us).
ROUND_ROBIN_PRIORITY = 1


def _niced(increment: int, *, round_robin: bool = False) -> Callable[[], None]:
    """A child's pre-exec step: change its priority by `increment` (a raise may be refused);
    with `round_robin`, also the real-time policy SCHED_RR (root only; else nice alone)."""
    def step() -> None:
        try:
            os.nice(increment)
        except PermissionError:  # raising priority needs root (CAP_SYS_NICE): stay as we are
            pass
        if round_robin:
            try:
                os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(ROUND_ROBIN_PRIORITY))
            except PermissionError:
                pass
    return step


def commands(workers: int, extra: Sequence[str]) -> dict[str, list[str]]:
    """The pytest command lines by lane: the rest, the pulses, the busy realtime tests, the
    waiting ones."""
    base = [sys.executable, "-m", "pytest", "-q", *extra]
    return {
        "rest": [*base, "-n", str(workers), "--dist", "load",
                 "-m", f"not {REALTIME} and not {REALTIME_BUSY} and not {WAITING}"],
        REALTIME: [*base, "-n", "1", "-m", REALTIME],
        REALTIME_BUSY: [*base, "-n", "1", "-m", REALTIME_BUSY],
        WAITING: [*base, "-n", str(WAITING_WORKERS), "--dist", "load", "-m", WAITING],
    }


def run(workers: int, nice: int, realtime_nice: int, extra: Sequence[str]) -> int:
    """Run the four at once; print the other lanes' output after the rest's; the status."""
    cmds = commands(workers, extra)
    nices = {"rest": nice, REALTIME: realtime_nice, REALTIME_BUSY: nice - BUSY_NICE_ABOVE_REST,
             WAITING: nice}
    held = {lane: tempfile.TemporaryFile(mode="w+") for lane in (REALTIME, REALTIME_BUSY, WAITING)}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        try:
            def start(lane: str) -> None:  # its output waits: progress lines would interleave
                procs[lane] = subprocess.Popen(
                    cmds[lane], stdout=held[lane], stderr=subprocess.STDOUT,
                    preexec_fn=_niced(nices[lane], round_robin=lane == REALTIME))
            start(REALTIME)
            start(REALTIME_BUSY)
            # One collection first fills the bytecode and assertion-rewrite caches, which the
            # rest's workers would otherwise each fill at once on a fresh clone (~3 s of CPU each).
            subprocess.run([*cmds["rest"][:3], "--collect-only", "-q", *extra], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           preexec_fn=_niced(nice))
            procs["rest"] = subprocess.Popen(cmds["rest"], preexec_fn=_niced(nice))
            start(WAITING)
            codes = {lane: procs[lane].wait() for lane in ("rest", *held)}
            # a side lane that selects nothing (pytest's 5: e.g. a run of tests/protocol) is fine
            codes = {lane: 0 if code == NO_TESTS and lane != "rest" else code
                     for lane, code in codes.items()}
        except KeyboardInterrupt:  # Ctrl-C reached the pytest runs too: let them clean up
            for proc in procs.values():
                proc.wait()
            return 130
        return next((code for code in codes.values() if code), 0)
    finally:
        for lane, out in held.items():
            out.seek(0)
            priority = "the same" if nices[lane] == nice else "a higher"
            print(f"\n--- the {lane} tests (run beside the rest, at {priority} priority):",
                  flush=True)
            sys.stdout.write(out.read())
            sys.stdout.flush()
            out.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=6)
    root = os.geteuid() == 0  # only root may raise a priority (below nice 0)
    parser.add_argument("--nice", type=int, default=0 if root else 10,
                        help="the rest's nice increment")
    parser.add_argument("--realtime-nice", type=int, default=-10 if root else 0,
                        help="the realtime tests' nice increment (below 0: root only)")
    args, extra = parser.parse_known_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # make may start us with it ignored
    return run(args.workers, args.nice, args.realtime_nice, extra)


if __name__ == "__main__":
    sys.exit(main())
