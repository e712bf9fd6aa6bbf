"""The printed table of bench/results.json: each headline figure, its p95, the goal and a verdict."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Goal:
    """One headline figure: where it is in the JSON and what issue 6 asks of it."""

    section: str
    path: tuple[str, ...]  # keys under the section; the value is a number or {"median","p95"}
    label: str
    unit: str
    limit: float | None  # None: reported, no goal
    stat: str = "median"  # which statistic the goal applies to
    below: bool = True  # the goal is `value < limit` (else `value >= limit`)


GOALS = (
    Goal("B1", ("cpu_per_frame_ratio_to_floor",), "driver CPU per frame / floor", "x", 1.5),
    Goal("B1", ("latency_ratio_to_floor",), "latency / floor", "x", 2.0),
    Goal("B1", ("latency_ratio_to_libindi",), "latency / libindi simulator", "x", 1.0),
    Goal("B1", ("frames_per_s",), "frames per second sustained", "/s", 20.0, below=False),
    Goal("B1", ("ours", "latency_ms"), "latency, fake's last byte -> BLOB", "ms", None),
    Goal("B1", ("ours", "cpu_per_frame_ms"), "driver CPU per frame", "ms", None),
    Goal("B1", ("floor", "latency_ms"), "floor latency", "ms", None),
    Goal("B1", ("floor", "cpu_per_frame_ms"), "floor CPU per frame", "ms", None),
    Goal("B1", ("libindi", "latency_ms"), "libindi simulator, request -> BLOB", "ms", None),
    Goal("B1", ("tcp", "latency_ratio_to_libindi"), "tcp client: latency / libindi", "x", None),
    Goal("B1", ("tcp", "ours", "latency_ms"), "tcp client: latency", "ms", None),
    Goal("B1", ("tcp", "frames_per_s"), "tcp client: frames per second", "/s", None),
    Goal("B1", ("large", "cpu_per_frame_ratio_to_floor"), "2180x3856: CPU per frame / floor",
         "x", 1.5),
    Goal("B1", ("large", "latency_ratio_to_floor"), "2180x3856: latency / floor", "x", None),
    Goal("B1", ("large", "ours", "cpu_per_frame_ms"), "2180x3856: driver CPU per frame", "ms",
         None),
    Goal("B1", ("large", "frames_per_s"), "2180x3856: frames per second", "/s", None,
         below=False),
    Goal("B2", ("median_ms",), "command/event -> wire, median", "ms", 2.0),
    Goal("B2", ("p95_ms",), "command/event -> wire, p95", "ms", 10.0),
    Goal("B3", ("startup_s",), "exec -> four devices at a client", "s", 0.5),
    Goal("B3", ("import_s",), "import indi_seestar.cli", "s", None),
    Goal("B4", ("idle_rss_mb",), "idle RSS", "MB", 60.0),
    Goal("B4", ("rss_after_frames_mb",), "RSS after the last frame", "MB", None),
    Goal("B4", ("growth_pct",), "RSS growth between frame checkpoints", "%", 5.0),
    Goal("B5", ("max_stall_ms",), "largest 10 ms timer delay while streaming", "ms", 20.0,
         stat="max"),
    Goal("B5", ("getproperties_ms",), "getProperties answered while streaming", "ms", 50.0,
         stat="p95"),
    Goal("B5", ("idle_max_stall_ms",), "largest 10 ms timer delay at idle", "ms", None,
         stat="max"),
    Goal("B5", ("shared", "max_stall_ms"), "unpinned: largest timer delay streaming", "ms", None,
         stat="max"),
    Goal("B5", ("shared", "getproperties_ms"), "unpinned: getProperties streaming", "ms", None,
         stat="p95"),
    *(Goal("B6", ("exposures", f"{e:g}", mode, "request_to_blob_s"),
           f"{e:g} s exposure, request -> BLOB ({mode.replace('_', ' ')})", "s", None)
      for e in (0.05, 0.5, 1.0, 2.0, 5.0) for mode in ("back_to_back", "random_phase")),
    *(Goal("B9", (f"ratio_{key}_n{n}",), f"{label} per instance, {n} / 1 instance", "x", 1.10)
      for n in (2, 4) for key, label in (("cpu_per_frame", "CPU per frame"), ("rss", "RSS"))),
    *(Goal("B9", (f"n{n}", "cpu_per_frame_ms"), f"{n} instance(s): driver CPU per frame", "ms",
           None) for n in (1, 2, 4)),
    *(Goal("B9", (f"n{n}", "rss_mb"), f"{n} instance(s): RSS per instance", "MB", None)
      for n in (1, 2, 4)),
    *(Goal("B9", (f"n{n}", "max_stall_ms"), f"{n} instance(s): largest 10 ms timer delay", "ms",
           None, stat="max") for n in (1, 2, 4)),
    Goal("B9", ("pi4", "est_cores_for_4"), "4 instances on a Pi 4 (est., cores)", "cores", 1.0),
    Goal("B9", ("pi4", "rss_mb_for_4"), "4 instances, RSS in all", "MB", 512.0),
    Goal("B7", ("wire_bytes_ratio",), "remote: wire bytes .fits.fz / raw", "x", 0.6),
    Goal("B7", ("compression_cpu_ms",), "remote: driver CPU to compress a frame", "ms", 40.0),
    Goal("B7", ("raw", "wire_bytes"), "remote: wire bytes per raw frame", "B", None),
    Goal("B7", ("compressed", "wire_bytes"), "remote: wire bytes per .fits.fz frame", "B", None),
    Goal("B7", ("raw", "request_to_blob_s"), "remote: raw request -> BLOB (loopback)", "s", None),
    Goal("B7", ("compressed", "request_to_blob_s"), "remote: .fits.fz request -> BLOB", "s",
         None),
    Goal("B7", ("link_50mbit", "saved_s"), "remote: transfer saved per frame, 50 Mbit/s", "s",
         None),
)


def _lookup(results: dict[str, Any], goal: Goal) -> Any:
    node: Any = results.get(goal.section)
    for key in goal.path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _num(value: Any, stat: str) -> float | None:
    if isinstance(value, dict):
        value = value.get(stat)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"


def verdicts(results: dict[str, Any]) -> list[tuple[Goal, float | None, float | None, str]]:
    """(goal, median, p95, "met" / "MISSED" / "" / "n/a") for every headline figure."""
    out = []
    for goal in GOALS:
        value = _lookup(results, goal)
        if goal.section not in results:
            continue
        median = _num(value, "median")
        p95 = _num(value, "p95") if isinstance(value, dict) else None
        judged = _num(value, goal.stat)
        if goal.limit is None:
            verdict = ""
        elif judged is None:
            verdict = "n/a"
        else:
            ok = judged < goal.limit if goal.below else judged >= goal.limit
            verdict = "met" if ok else "MISSED"
        out.append((goal, median, p95, verdict))
    return out


def table(results: dict[str, Any]) -> str:
    """The table printed by `make bench`."""
    m = results.get("machine", {})
    lines = [f"machine: {m.get('nproc')} x {m.get('cpu_model')}, load {m.get('loadavg')} -> "
             f"{m.get('loadavg_end')}" + ("  (tiny run)" if results.get("tiny") else "")]
    header = f"{'':4}{'figure':46}{'median':>10}{'p95':>10}  {'goal':>10}  verdict"
    lines += [header, "-" * len(header)]
    for goal, median, p95, verdict in verdicts(results):
        if goal.limit is None:
            target = ""
        else:
            target = f"{'<' if goal.below else '>='} {goal.limit:g} {goal.unit}"
        lines.append(f"{goal.section:4}{goal.label + ' (' + goal.unit + ')':46}"
                     f"{_fmt(median):>10}{_fmt(p95):>10}  {target:>10}  {verdict}")
    for name in ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B9"):
        error = results.get(name, {}).get("error") if isinstance(results.get(name), dict) else None
        if error:
            lines.append(f"{name}: ERROR {error}")
    return "\n".join(lines)
