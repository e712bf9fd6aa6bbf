"""Stack settings, Stack events and the scope's files as typed values (protocol/stacking, scope_files)."""

from __future__ import annotations

import numpy as np
import pytest

from indi_seestar.errors import RemoteProtocolError
from indi_seestar.protocol.methods import Method
from indi_seestar.protocol.scope_files import index_html, index_names, read_fits, write_fits
from indi_seestar.protocol.stacking import (StackSettings, failure_text, parse_stack_event,
                                            parse_stack_settings, settings_calls)


def test_settings_are_read_with_firmware_defaults_for_missing_keys():
    s = parse_stack_settings({"exp_ms": {"stack_l": 20000}, "stack_dither": {"pix": 50, "interval": 3,
                                                                              "enable": False},
                              "stack_lenhance": True, "expert_mode": True,
                              "stack": {"dbe": True, "drizzle2x": True, "save_discrete_frame": True}})
    assert s == StackSettings(sub_s=20, expert_mode=True, dither_enabled=False, dither_pix=50, dither_every=3,
                              lp_filter=True, dbe=True, star_correction=True, drizzle2x=True, save_subs=True)
    assert parse_stack_settings({}) == StackSettings()
    assert StackSettings().allowed_subs_s() == (10, 20, 30, 60)
    assert StackSettings(expert_mode=True).allowed_subs_s() == (2, 5, 10, 20, 30, 60)


def test_only_what_changed_is_sent_and_the_lp_filter_alone():
    old = StackSettings()
    assert settings_calls(old, old) == []
    calls = settings_calls(old, old.replace(sub_s=30, dither_pix=40, drizzle2x=True, lp_filter=True))
    assert [c.method for c in calls] == [Method.SET_SETTING, Method.SET_SETTING]
    assert calls[0].params == {"exp_ms": {"stack_l": 30000}, "stack_dither": {"pix": 40},
                               "stack": {"drizzle2x": True}}
    assert calls[1].params == {"stack_lenhance": True}


def test_stack_events_and_failures():
    p = parse_stack_event({"state": "fail", "frame_errcode": 264, "stacked_frame": 3, "error": ""})
    assert (p.state, p.code, p.stacked) == ("fail", 264, 3)
    assert failure_text(263, "") == "code 263: stack error: too few stars"
    assert failure_text(530, "star trails") == "code 530: star trails"


def test_scope_fits_round_trip_and_a_cut_short_file():
    rgb = np.arange(3 * 4 * 5, dtype=np.uint16).reshape(3, 4, 5) * 1000
    data = write_fits(rgb, {"OBJECT": "M 42", "STACKCNT": 10, "EXPTIME": 10.0})
    header, pixels = read_fits(data)
    assert header["OBJECT"] == "M 42" and header["STACKCNT"] == 10 and header["EXPTIME"] == 10.0
    assert np.array_equal(pixels, rgb)
    with pytest.raises(RemoteProtocolError):
        read_fits(data[: len(data) // 2])


def test_folder_index_names():
    names = ["Light_M 42_10.0s_IRCUT_20260101-000000.fit", "sub/"]
    assert index_names(index_html(names)) == names


def test_batch_selection():
    from indi_seestar.devices.stack_batch import parse_selection
    from indi_seestar.errors import ValueRejected

    assert parse_selection("all", 3) == [0, 1, 2]
    assert parse_selection("2-3, 1", 5) == [1, 2, 0]
    for bad in ("0-2", "4", "a"):
        with pytest.raises(ValueRejected):
            parse_selection(bad, 3)
