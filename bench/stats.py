"""Summaries the benchmarks report: median and p95 of samples, ratios taken side by side.

Every figure is `{"median": m, "p95": p, "n": count}` over its samples. A ratio between two
figures is computed per round (both measured in the same round, one after the other) and the
per-round ratios are summarised the same way, so that a slow moment of a noisy machine hits
both sides of a ratio rather than one.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
from collections.abc import Iterable, Sequence
from typing import Any


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    data = sorted(samples)
    if not data:
        return math.nan
    if len(data) == 1:
        return float(data[0])
    pos = (len(data) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return float(data[lo] + (data[hi] - data[lo]) * (pos - lo))


def summary(samples: Iterable[float], scale: float = 1.0, digits: int = 3) -> dict[str, Any]:
    """{"median", "p95", "n"} of the finite samples, each multiplied by `scale`."""
    data = [float(s) * scale for s in samples if s is not None and math.isfinite(s)]
    if not data:
        return {"median": None, "p95": None, "n": 0}
    return {"median": round(statistics.median(data), digits),
            "p95": round(percentile(data, 95), digits), "n": len(data)}


def ratio(a: float | None, b: float | None) -> float:
    """a / b, NaN when either is missing or b is zero."""
    if a is None or b is None or not b or not math.isfinite(a) or not math.isfinite(b):
        return math.nan
    return a / b


def med(samples: Sequence[float]) -> float:
    """Median of the finite samples (NaN if none)."""
    data = [s for s in samples if s is not None and math.isfinite(s)]
    return statistics.median(data) if data else math.nan


def machine() -> dict[str, Any]:
    """What machine and how busy it was (load averages now)."""
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f
                          if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model or platform.processor(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def load_now() -> list[float]:
    """1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def clean(value: Any) -> Any:
    """A copy fit for strict JSON: NaN and infinities become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value
