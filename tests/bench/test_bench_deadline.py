"""Every benchmark section runs in a child process with a deadline (issue 10: `make bench` hung).

A section stuck past its deadline is ended with every process it started, and its error names
what it was waiting for; a section whose process dies says how. Real child processes, no mocks.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from bench.__main__ import with_deadline
from tests.support.indi_harness import until

ROOT = Path(__file__).resolve().parents[2]

#: A "section" that starts a helper process, then waits in a named wait for what never comes.
STUCK = textwrap.dedent("""
    import subprocess, sys, time
    from bench import waiting
    helper = subprocess.Popen(["sleep", "600"])
    print(helper.pid, flush=True)
    waiting.step("B9 round 1/1: warming up")
    with waiting.waiting("a BLOB that never comes"):
        time.sleep(600)
""")


def _child(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_stuck_section_ends_at_its_deadline_naming_its_wait_and_leaves_no_process(capfd):
    t0 = time.monotonic()
    section = with_deadline("B9", lambda out: _child(STUCK), deadline_s=3.0)
    took = time.monotonic() - t0
    helper_pid = int(capfd.readouterr().out.split()[0])
    assert section["error"].startswith("TimeoutError: B9 passed its 3 s deadline while waiting "
                                       "for a BLOB that never comes")
    assert "last step: B9 round 1/1: warming up" in section["error"]
    assert 3.0 <= took < 3.0 + 10.0
    assert until(lambda: not psutil.pid_exists(helper_pid)
                 or psutil.Process(helper_pid).status() == psutil.STATUS_ZOMBIE, 5)


def test_a_section_that_dies_says_how_and_leaves_no_process(capfd):
    code = ("import os, subprocess; helper = subprocess.Popen(['sleep', '600']); "
            "print(helper.pid, flush=True); os.abort()")
    section = with_deadline("B9", lambda out: _child(code), deadline_s=60.0)
    helper_pid = int(capfd.readouterr().out.split()[0])
    assert section["error"].startswith("ChildProcessError: B9 ended with signal 6 and no results")
    assert until(lambda: not psutil.pid_exists(helper_pid)
                 or psutil.Process(helper_pid).status() == psutil.STATUS_ZOMBIE, 5)


def test_a_finished_section_is_returned_as_written(tmp_path):
    code = "import json, sys; open(sys.argv[1], 'w').write(json.dumps({'x_ms': 1.5}))"
    section = with_deadline("B9", lambda out: [sys.executable, "-c", code, str(out)], 60.0)
    assert section == {"x_ms": 1.5}


@pytest.mark.bench
def test_make_bench_reports_a_section_past_its_deadline_and_goes_on(tmp_path):
    """`--deadline-s 0.5`: B3 cannot finish; the run still writes results.json and exits 1."""
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "bench", "--tiny", "--only", "B3,B4",
                           "--deadline-s", "0.5", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1
    results = json.loads(out.read_text())
    for name in ("B3", "B4"):
        assert results[name]["error"].startswith(f"TimeoutError: {name} passed its 0.5 s deadline")
    assert "FAILED: B3, B4" in proc.stdout
