"""Opt-in event-loop responsiveness probe for the benchmarks (off unless asked for).

Layer: diagnostics, started only by cli.py when `INDI_SEESTAR_LOOP_PROBE_MS` is set (e.g. `10`).
A periodic asyncio timer with that period runs on the driver's loop and measures how late each
tick wakes up; every `report_s` it logs one line to stderr,

    loop-probe t=<monotonic s> ticks=<n> worst_ms=<largest lateness in the window>

and starts a new window. Nothing of this runs, or is imported, when the variable is unset.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

ENV_VAR = "INDI_SEESTAR_LOOP_PROBE_MS"
REPORT_S = 1.0

log = logging.getLogger("indi_seestar.loop_probe")


def period_from_env(env: Mapping[str, str]) -> float | None:
    """The probe period in seconds from the environment, or None when off (or not a number > 0)."""
    try:
        period_ms = float(env.get(ENV_VAR, "").strip())
    except ValueError:
        return None
    return period_ms / 1000.0 if period_ms > 0 else None


async def run_probe(period_s: float, report_s: float = REPORT_S) -> None:
    """Tick every `period_s` until cancelled; log the worst lateness once per `report_s`."""
    log.setLevel(logging.INFO)  # the report is the point, whatever the driver's log level
    loop = asyncio.get_running_loop()
    expected = loop.time() + period_s
    window_end = loop.time() + report_s
    worst, ticks = 0.0, 0
    while True:
        await asyncio.sleep(max(0.0, expected - loop.time()))
        now = loop.time()
        worst = max(worst, now - expected)
        ticks += 1
        expected = now + period_s
        if now >= window_end:
            log.info("loop-probe t=%.3f ticks=%d worst_ms=%.2f", time.monotonic(), ticks,
                     worst * 1000.0)
            worst, ticks, window_end = 0.0, 0, now + report_s
