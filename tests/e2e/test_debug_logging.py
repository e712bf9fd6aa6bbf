"""DEBUG.ENABLE (issue 9, item 7) as libindi's DEBUG: On turns on debug logging for the device
and the Seestar protocol lines its commands cause, seen in the driver's stderr through the real
indiserver; Off restores the configured level (INFO here), so the lines stop."""

from __future__ import annotations

import itertools
import socket

import pytest

from tests.support.indi_harness import until
from tests.support.rig import Rig

pytestmark = pytest.mark.e2e

ABS = "ABS_FOCUS_POSITION"
_markers = itertools.count()


def _log_of(rig: Rig, action) -> list[str]:
    """The driver's stderr lines written while `action` ran (up to a marker logged after it)."""
    start = len(rig.server.stderr_lines())
    action()
    marker = f"LOG_MARKER_{next(_markers)}"
    unknown = (f'<newSwitchVector device="{rig.focuser}" name="{marker}">'  # logged: no such
               '<oneSwitch name="A">On</oneSwitch></newSwitchVector>\n')     # property
    with socket.create_connection(("127.0.0.1", rig.server.port)) as raw:
        raw.sendall(unknown.encode())
        until(lambda: any(marker.encode() in line for line in rig.server.stderr_lines()[start:]),
              20, what="the marker in the driver's log")
    return [line.decode(errors="replace") for line in rig.server.stderr_lines()[start:]]


def _move(rig: Rig, steps: int) -> None:
    since = rig.client.mark()
    rig.client.send_number(rig.focuser, ABS, {"FOCUS_ABSOLUTE_POSITION": steps})
    rig.wait_state(rig.focuser, ABS, "Ok", since=since)


def _debug(rig: Rig, on: bool) -> None:
    since = rig.client.mark()
    rig.client.send_switch(rig.focuser, "DEBUG", ["ENABLE" if on else "DISABLE"])
    done = rig.wait_state(rig.focuser, "DEBUG", "Ok", since=since)
    assert done.values == {"ENABLE": on, "DISABLE": not on}


def _protocol_lines(lines: list[str]) -> list[str]:
    return [line for line in lines
            if "DEBUG indi_seestar.seestar" in line and "move_focuser" in line]


def test_debug_on_logs_the_protocol_lines_and_off_restores_the_configured_level(tmp_path):
    with Rig.start(tmp_path) as rig:  # the configuration's log_level is the default, INFO
        rig.client.connect_device(rig.focuser)
        before = _log_of(rig, lambda: _move(rig, 1200))
        assert not [line for line in before if "DEBUG " in line]

        _debug(rig, True)
        during = _log_of(rig, lambda: _move(rig, 1300))
        sent = [line for line in _protocol_lines(during) if " >> " in line]
        answered = [line for line in _protocol_lines(during) if " << " in line]
        assert sent and answered, during
        assert all(len(line) < 1024 for line in during)

        _debug(rig, False)
        after = _log_of(rig, lambda: _move(rig, 1400))
        assert not [line for line in after if "DEBUG " in line], after
