"""A libindi client let go while libindi's thread still calls it back (issue 10's B3 hang).

Each case runs in a child process (tests/bench/lifetime_child.py), since the bug ended the
process: std::terminate when the last reference went on libindi's thread, AttributeErrors from
callbacks into the half-freed wrapper otherwise.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

#: Asleep on child processes (~36 s of a worker, no CPU): the waiting lane (tests/phases.py).
pytestmark = pytest.mark.waiting

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("how", ["close", "disconnect", "drop"])
@pytest.mark.parametrize("kind", ["bench", "recording"])
def test_a_client_let_go_mid_stream_never_sees_a_callback_after_it_is_freed(kind, how):
    proc = subprocess.run([sys.executable, "-m", "tests.bench.lifetime_child", kind, how],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "survived" in proc.stdout
    for sign in ("AttributeError", "Exception ignored", "terminate called", "Traceback"):
        assert sign not in proc.stderr, proc.stderr[-3000:]
