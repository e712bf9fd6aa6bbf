"""The opt-in loop probe (indi_seestar/loop_probe.py): off by default, reports a stall."""

from __future__ import annotations

import asyncio
import logging
import re
import time

import pytest

from indi_seestar.loop_probe import ENV_VAR, period_from_env, run_probe


def test_period_from_env():
    assert period_from_env({}) is None
    assert period_from_env({ENV_VAR: ""}) is None
    assert period_from_env({ENV_VAR: "x"}) is None
    assert period_from_env({ENV_VAR: "0"}) is None
    assert period_from_env({ENV_VAR: "10"}) == 0.01


@pytest.mark.realtime  # timer lateness under 40 ms after the stall: a quiet CPU (tests/conftest.py)
async def test_reports_the_worst_lateness_of_each_window(caplog):
    caplog.set_level(logging.INFO, logger="indi_seestar.loop_probe")
    task = asyncio.get_running_loop().create_task(run_probe(0.01, report_s=0.1))
    await asyncio.sleep(0.05)
    time.sleep(0.06)  # noqa: ASYNC251 - a 60 ms stall of the loop is the point
    await asyncio.sleep(0.3)
    task.cancel()
    worst = [float(m.group(1)) for r in caplog.records
             if (m := re.search(r"loop-probe t=\S+ ticks=\d+ worst_ms=(\S+)", r.getMessage()))]
    assert len(worst) >= 2
    assert max(worst) >= 40.0
    assert min(worst) < 40.0  # later windows start afresh
