"""`python -m bench [--tiny] [--only B1,B3] [--out bench/results.json]`: run the benchmarks.

`make bench` runs the full set and writes bench/results.json; `--tiny` runs each benchmark for a
few iterations only (what tests/bench/test_bench_tiny.py does: shape, not speed). Progress goes
to stderr, the table to stdout.

Each section runs in a child process of its own (`--section NAME --section-out FILE`) with a
deadline (DEADLINES_S): one still running then is ended, with every process it started, and its
section says what it was waiting for (bench/waiting.py); one that dies says how. Either way the
other sections still run and `python -m bench` exits 1.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from . import (b1_frames, b2_control, b3_startup, b4_memory, b5_responsive, b6_alpaca,
               b6_exposure, b7_remote, b8_stack, b9_instances, waiting)
from .report import table
from .stats import clean, load_now, machine

#: Iteration counts: (full, tiny).
SIZES: dict[str, tuple[Any, Any]] = {
    "b1_rounds": (5, 1),
    "b1_frames": (60, 3),
    "b1_libindi_frames": (20, 2),
    "b1_tcp_frames": (12, 2),
    "b1_large_rounds": (3, 1),
    "b1_large_frames": (30, 3),
    "b2_samples": (40, 3),
    "b3_runs": (10, 1),
    "b4_frames": ((100, 500), (3, 6)),
    "b4_runs": (3, 1),
    "b5_getprops": (20, 2),
    "b5_stream_s": (10.0, 2.0),
    "b6_samples": (4, 1),
    "b6_exposures": (b6_exposure.EXPOSURES_S, (0.05, 1.0)),
    "b6a_samples": (4, 1),
    "b6a_exposures": (b6_alpaca.EXPOSURES_S, (0.05, 0.5)),
    "b8_images": (20, 1),
    "b8_drizzle_images": (8, 1),
    "b8_rss_images": (100, 1),
    "b9_rounds": (3, 1),
    "b9_stream_s": (10.0, 1.5),
    "b7_rounds": (3, 1),
    "b7_frames": (10, 1),
}


#: Wall-time deadline of each section (s), full and tiny: several times what a full run took on
#: a loaded 2-core machine (see the README's development section), so only a hang reaches it.
DEADLINES_S: dict[str, tuple[float, float]] = {
    "B1": (1500.0, 300.0),
    "B2": (600.0, 300.0),
    "B3": (600.0, 300.0),
    "B4": (900.0, 300.0),
    "B5": (600.0, 300.0),
    "B6": (900.0, 300.0),
    "B6A": (900.0, 300.0),  # ~160 s measured (two driver runs, each bounded to 240 s)
    "B7": (900.0, 300.0),
    "B8": (900.0, 300.0),
    "B9": (900.0, 300.0),
}
#: After the deadline: time for the child to print its threads' stacks before it is killed.
STACKS_S = 2.0


def _log(text: str) -> None:
    waiting.step(text)
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def benchmarks(tiny: bool, pin: bool) -> dict[str, Callable[[], dict[str, Any]]]:
    """Name -> thunk for each benchmark at the chosen size."""
    k = 1 if tiny else 0
    s = {name: sizes[k] for name, sizes in SIZES.items()}
    return {
        "B1": lambda: {
            **b1_frames.run(rounds=s["b1_rounds"], frames=s["b1_frames"],
                            libindi_frames=s["b1_libindi_frames"],
                            tcp_frames=s["b1_tcp_frames"], pin_cpus=pin, log=_log),
            # The Pro models' 2180x3856 frame (4x the bytes), unix transport only.
            "large": b1_frames.run(rounds=s["b1_large_rounds"], frames=s["b1_large_frames"],
                                   libindi_frames=s["b1_libindi_frames"], tcp_frames=0,
                                   transports=("unix",), model="S50P", pin_cpus=pin, log=_log),
        },
        "B2": lambda: b2_control.run(samples=s["b2_samples"], log=_log),
        "B3": lambda: b3_startup.run(runs=s["b3_runs"], log=_log),
        "B4": lambda: b4_memory.run(checkpoints=s["b4_frames"], runs=s["b4_runs"], log=_log),
        "B5": lambda: b5_responsive.run_both(getprops=s["b5_getprops"],
                                             stream_s=s["b5_stream_s"], pin=pin, log=_log),
        "B6": lambda: b6_exposure.run(samples=s["b6_samples"], exposures_s=s["b6_exposures"],
                                      log=_log),
        # Issue 14: the Alpaca camera path beside the private one (B6 latency, B1 CPU/frame).
        "B6A": lambda: b6_alpaca.run(samples=s["b6a_samples"], exposures_s=s["b6a_exposures"],
                                     log=_log),
        "B8": lambda: b8_stack.run(images=s["b8_images"], drizzle_images=s["b8_drizzle_images"],
                                   rss_images=s["b8_rss_images"], log=_log),
        "B9": lambda: b9_instances.run(rounds=s["b9_rounds"], stream_s=s["b9_stream_s"], log=_log),
        "B7": lambda: b7_remote.run(rounds=s["b7_rounds"], frames=s["b7_frames"], log=_log),
    }


def run_section(name: str, thunk: Callable[[], dict[str, Any]], out: Path) -> int:
    """The child's side: run one section in this process and write its JSON to `out`."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # the parent asks before a kill
    try:
        section = thunk()
    except Exception as exc:  # reported in the section; the parent carries on
        traceback.print_exc()
        section = {"error": f"{type(exc).__name__}: {exc}"}
    out.write_text(json.dumps(section, default=_jsonable))
    return 0


def section_in_child(name: str, argv: list[str], deadline_s: float) -> dict[str, Any]:
    """Run section `name` as `python -m bench ... --section name`; end it at the deadline."""
    return with_deadline(name, lambda out: [sys.executable, "-m", "bench", *argv, "--section",
                                            name, "--section-out", str(out)], deadline_s)


def with_deadline(name: str, command: Callable[[Path], list[str]],
                  deadline_s: float) -> dict[str, Any]:
    """Run `command(out)`, which writes a section's JSON to `out`, in a session of its own;
    past `deadline_s` end it and everything it started. Returns the section or an error."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        out, notes = Path(tmp) / "section.json", Path(tmp) / "waiting"
        child = subprocess.Popen(command(out), env={**os.environ, waiting.ENV: str(notes)},
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            code = child.wait(deadline_s)
        except subprocess.TimeoutExpired:
            step, what = waiting.read(str(notes))
            _end(child)
            return {"error": f"TimeoutError: {name} passed its {deadline_s:g} s deadline while "
                             f"waiting for {what or 'nothing it had named'} "
                             f"(last step: {step or 'none'})"}
        finally:
            _kill_group(child.pid)  # whatever a crashed child left running (indiserver, drivers)
        if out.exists():
            return dict(json.loads(out.read_text()))
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        step, what = waiting.read(str(notes))
        return {"error": f"ChildProcessError: {name} ended with {how} and no results, waiting "
                         f"for {what or 'nothing it had named'} (last step: {step or 'none'})"}


def _end(child: subprocess.Popen[bytes]) -> None:
    """Stacks of the child's threads to stderr, then kill it and every process it started."""
    try:
        family = [child.pid, *(p.pid for p in psutil.Process(child.pid).children(recursive=True))]
    except psutil.Error:
        family = [child.pid]
    try:
        child.send_signal(signal.SIGUSR1)
        child.wait(STACKS_S)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        pass
    for pid in family:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _kill_group(child.pid)  # anything started since, in the child's session
    child.wait()


def _kill_group(pgid: int) -> None:
    """SIGKILL the process group `pgid` (a section child's session), if anything is left in it."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--out", type=Path, default=Path("bench/results.json"))
    p.add_argument("--tiny", "--quick", action="store_true", help="a few iterations each")
    p.add_argument("--only", default="", help="comma-separated subset, e.g. B1,B3")
    p.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs in B1")
    p.add_argument("--blob-transport", choices=["auto", "inline"], default=None,
                   help="the driver's indi.blob_transport (default: the driver's default)")
    p.add_argument("--deadline-s", type=float, default=None,
                   help="end any section still running after this many seconds "
                        "(default: its own, see DEADLINES_S)")
    p.add_argument("--section", help=argparse.SUPPRESS)  # the child's side (one section)
    p.add_argument("--section-out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.blob_transport:
        os.environ["BENCH_BLOB_TRANSPORT"] = args.blob_transport
    thunks = benchmarks(args.tiny, not args.no_pin)
    if args.section:
        return run_section(args.section, thunks[args.section], args.section_out)
    passed_on = [*(["--tiny"] if args.tiny else []), *(["--no-pin"] if args.no_pin else []),
                 *(["--blob-transport", args.blob_transport] if args.blob_transport else [])]
    selected = {x.strip().upper() for x in args.only.split(",") if x.strip()}
    results: dict[str, Any] = {"machine": machine(), "tiny": args.tiny,
                               "blob_transport": args.blob_transport or "driver default",
                               "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    failed = []
    for name in thunks:
        if selected and name not in selected:
            continue
        deadline_s = args.deadline_s or DEADLINES_S[name][1 if args.tiny else 0]
        _log(f"{name}: start (load {load_now()}; deadline {deadline_s:g} s)")
        t0 = time.monotonic()
        load_before = load_now()
        section = section_in_child(name, passed_on, deadline_s)
        if "error" in section:
            _log(f"{name}: {section['error']}")
            failed.append(name)
        section["wall_s"] = round(time.monotonic() - t0, 1)
        section["load_before"] = load_before
        section["load_after"] = load_now()
        results[name] = section
        _log(f"{name}: done in {section['wall_s']} s")
    results["machine"]["loadavg_end"] = load_now()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results = clean(results)
    args.out.write_text(json.dumps(results, indent=2, allow_nan=False, default=_jsonable) + "\n")
    print(table(results))
    print(f"\nwritten to {args.out}" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def _jsonable(value: Any) -> Any:
    return str(value)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
