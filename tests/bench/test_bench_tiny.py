"""Each benchmark runs (`python -m bench --tiny --only Bn`) and writes the documented JSON shape.

Nothing here is timed and no speed is asserted: the numbers only have to be finite and
positive. A headline figure may be null only when its section says why in `notes` (e.g. the
camera is not built yet). The real measurement is `make bench`.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import table

ROOT = Path(__file__).resolve().parents[2]
HEADLINES = {
    "B1": ("cpu_per_frame_ratio_to_floor", "latency_ratio_to_floor", "latency_ratio_to_libindi",
           "frames_per_s"),
    "B2": ("median_ms", "p95_ms"),
    "B3": ("startup_s",),
    "B4": ("idle_rss_mb", "growth_pct"),
    "B5": ("max_stall_ms", "getproperties_ms"),
    "B6": (),
    "B6A": (),
    "B8": (),
    "B9": ("ratio_cpu_per_frame_n2", "ratio_cpu_per_frame_n4", "ratio_rss_n2", "ratio_rss_n4"),
    "B7": ("wire_bytes_ratio",),
}
#: Raw figures behind the ratios, always measured (they need no camera).
ALWAYS = {
    "B1": (("floor", "latency_ms"), ("floor", "cpu_per_frame_ms"), ("libindi", "latency_ms"),
           ("libindi", "cpu_per_frame_ms"), ("large", "floor", "cpu_per_frame_ms"),
           ("large", "cpu_per_frame_ratio_to_floor"), ("large", "ours", "cpu_per_frame_ms")),
    "B3": (("startup_direct_s",), ("import_s",)),
    "B4": (("idle_rss_mb",),),
    "B5": (("idle_getproperties_ms",), ("idle_max_stall_ms",)),
    "B6": tuple(("exposures", e, mode, "request_to_blob_s") for e in ("0.05", "1")
                for mode in ("back_to_back", "random_phase")),
    "B6A": tuple((path, "full/0.05", "request_to_blob_s") for path in ("private", "alpaca")),
    "B8": tuple((size, key) for size in ("1080x1920x3", "2160x3840x3")
                for key in ("latency_ratio", "cpu_ratio", "ours_cpu_per_image_s", "floor_cpu_per_image_s")),
    "B9": tuple((f"n{n}", key) for n in (1, 2, 4) for key in ("cpu_per_frame_ms", "rss_mb")),
    # (not the CPU per frame: one frame is within psutil's 10 ms tick, it can read 0)
    "B7": tuple((mode, key) for mode in ("raw", "compressed")
                for key in ("wire_bytes", "blob_bytes", "request_to_blob_s")),
}


def _numbers(value):
    """The numbers of a figure: a plain number, or the median/p95 of a summary."""
    if isinstance(value, dict):
        return [value[k] for k in ("median", "p95") if value.get(k) is not None]
    return [] if value is None else [value]


def _check_positive(value, where):
    numbers = _numbers(value)
    assert numbers, f"{where}: no number"
    for x in numbers:
        assert isinstance(x, (int, float)) and math.isfinite(x) and x > 0, f"{where}: {x!r}"


@pytest.mark.bench
@pytest.mark.waiting  # ~16 s each, ~3 s of CPU: a lane of their own (tests/phases.py)
@pytest.mark.parametrize("name", sorted(HEADLINES))
def test_tiny_run_writes_the_documented_shape(name, tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "bench", "--tiny", "--only", name,
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())  # strict JSON: NaN would not load back as a number
    assert results["machine"]["nproc"] >= 1 and results["tiny"] is True
    section = results[name]
    assert "error" not in section
    for key in HEADLINES[name]:
        assert key in section, f"{name}.{key} missing"
        if not _numbers(section[key]):
            assert section.get("notes"), f"{name}.{key} is null with no reason given"
        elif name == "B4" and key == "growth_pct":
            assert all(math.isfinite(x) for x in _numbers(section[key]))  # may shrink: any sign
        else:
            _check_positive(section[key], f"{name}.{key}")
    for path in ALWAYS.get(name, ()):
        node = section
        for key in path:
            node = node[key]
        _check_positive(node, f"{name}.{'.'.join(path)}")
    assert name in table(results)
